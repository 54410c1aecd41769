"""RFC 3161 trusted timestamps over a bundle's tag manifest: asked for from a timestamp
authority (TSA) over HTTP when the bundle is made, checked offline when it is verified.

    token = request_timestamp("http://tsa.example/", data)      # DER TimeStampResp
    info = verify_timestamp(token, data, roots=[ca_pem_bytes])  # -> TimestampInfo

Verification needs no network: the token carries the TSA's certificate (it is asked for),
and the verifier checks the signature, the hash of the data and the chain to a root
certificate: the one the verifier trusts (`--tsa-cert`), or the copy the bundle carries
(which shows integrity since stamping, not who the authority is).
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from whereabouts.errors import WhereaboutsError

TIMEOUT_S = 30


class TimestampError(WhereaboutsError):
    """A timestamp cannot be obtained or does not verify."""


@dataclass(frozen=True)
class TimestampInfo:
    """What a verified token says."""

    time: datetime
    authority: str
    serial: int


def request_timestamp(url: str, data: bytes) -> bytes:
    """A timestamp response (DER) from the TSA at `url` over SHA-256 of `data`."""
    import rfc3161_client as tsp

    if not url.startswith(("http://", "https://")):
        raise TimestampError(
            f"{url!r} is not an http(s) URL",
            hint="give the timestamp authority's URL, e.g. https://tsa.example/",
        )
    req = (
        tsp.TimestampRequestBuilder()
        .data(data)
        .hash_algorithm(tsp.HashAlgorithm.SHA256)
        .cert_request(cert_request=True)
        .build()
    )
    http = urllib.request.Request(
        url,
        data=req.as_bytes(),
        method="POST",
        headers={"Content-Type": "application/timestamp-query"},
    )
    try:
        with urllib.request.urlopen(http, timeout=TIMEOUT_S) as resp:
            body: bytes = resp.read()
    except (urllib.error.URLError, OSError) as exc:
        raise TimestampError(
            f"the timestamp authority at {url} did not answer ({getattr(exc, 'reason', exc)})",
            hint="check the URL and the network, or bundle without --tsa",
        ) from exc
    try:
        response = tsp.decode_timestamp_response(body)
    except ValueError as exc:
        raise TimestampError(
            f"the answer from {url} is not a timestamp response",
            hint="check the URL is the authority's RFC 3161 endpoint",
        ) from exc
    if response.status not in (0, 1):  # granted, granted with modifications
        raise TimestampError(
            f"the timestamp authority at {url} refused the request "
            f"(status {response.status}: {'; '.join(response.status_string)})",
            hint="ask the authority's operator why",
        )
    if response.tst_info.message_imprint.message != _digest(response, data):
        raise TimestampError(
            f"the token from {url} is not over the data sent", hint="do not use this authority"
        )
    return body


def verify_timestamp(token: bytes, data: bytes, roots: list[bytes] | None = None) -> TimestampInfo:
    """Check a timestamp response over `data` offline; TimestampError when it fails."""
    import rfc3161_client as tsp

    try:
        response = tsp.decode_timestamp_response(token)
    except ValueError as exc:
        raise TimestampError(
            "the timestamp token cannot be read (changed or damaged)",
            hint="ask the force for a fresh copy of the bundle",
        ) from exc
    info = response.tst_info
    if info.message_imprint.message != _digest(response, data):
        raise TimestampError(
            "the timestamp is not over this tag manifest: the manifest was "
            "changed after it was timestamped",
            hint="do not rely on this bundle; ask the force for the original",
        )
    carried = [x509.load_der_x509_certificate(c) for c in response.signed_data.certificates]
    if not carried:
        raise TimestampError(
            "the token carries no certificate of the authority",
            hint="ask the authority for tokens that include its certificate",
        )
    try:
        root_certs = [c for r in roots or [] for c in x509.load_pem_x509_certificates(r)]
    except ValueError as exc:
        raise TimestampError(
            "the authority's root certificate is not PEM",
            hint="give the root certificate as PEM text",
        ) from exc
    if not root_certs:
        raise TimestampError(
            "there is no root certificate to check the authority against",
            hint="give the authority's root certificate with --tsa-cert",
        )
    leaf = _leaf(carried)
    builder = tsp.VerifierBuilder().tsa_certificate(leaf)
    for cert in root_certs:
        builder = builder.add_root_certificate(cert)
    for cert in carried:
        if cert is not leaf and cert.issuer != cert.subject:
            builder = builder.add_intermediate_certificate(cert)
    try:
        builder.build().verify_message(response, data)
    except tsp.VerificationError as exc:
        raise TimestampError(
            f"the timestamp's signature does not verify ({exc})",
            hint="check --tsa-cert is the authority's root certificate; "
            "otherwise the token was changed",
        ) from exc
    return TimestampInfo(info.gen_time, leaf.subject.rfc4514_string(), info.serial_number)


_HASHES = {
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}


def _digest(response: object, data: bytes) -> bytes:
    """`data` hashed with the algorithm the token's message imprint names."""
    oid = response.tst_info.message_imprint.hash_algorithm.dotted_string  # type: ignore[attr-defined]
    name = _HASHES.get(oid)
    if name is None:
        raise TimestampError(
            f"the token uses a hash this verifier does not know ({oid})",
            hint="ask for a token over SHA-256",
        )
    return hashlib.new(name, data).digest()


def _leaf(certs: list[x509.Certificate]) -> x509.Certificate:
    """The certificate that issued no other (the TSA's own), preferring one for timestamping."""
    issuers = {c.issuer for c in certs}
    for cert in certs:
        try:
            usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            if ExtendedKeyUsageOID.TIME_STAMPING in usage:
                return cert
        except x509.ExtensionNotFound:
            pass
    return next((c for c in certs if c.subject not in issuers), certs[0])


__all__ = ["TimestampError", "TimestampInfo", "request_timestamp", "verify_timestamp"]
