"""The report's PDF signed with the force's key (PAdES, through pyHanko).

The signature is added as an incremental update, so the signed file begins with the unsigned
PDF byte for byte: a verifier checks that prefix against the re-run's PDF, and the signature
(covering the whole file) against a certificate for the same Ed25519 key that signed the
bundle's statement. The certificate is self-issued by the force's key: it says which key
signed, not who holds it — that is what the force's published public key is for.
"""

from __future__ import annotations

import datetime as dt
import io
import warnings
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import NameOID

from whereabouts.errors import WhereaboutsError

if TYPE_CHECKING:
    from types import ModuleType

FIELD = "Exhibit"


class PadesError(WhereaboutsError):
    """The PDF cannot be signed, or its signature does not hold."""


def _pyhanko() -> ModuleType:
    try:
        with warnings.catch_warnings():  # pyHanko imports cryptography's deprecated DSA
            warnings.simplefilter("ignore")
            import pyhanko.sign
            import pyhanko.sign.validation  # noqa: F401
            from pyhanko.sign import signers
    except ImportError as exc:
        raise PadesError(
            "PDF signing (pyHanko) is not installed",
            hint="pip install 'whereabouts[verify]' (or pyhanko)",
        ) from exc
    return signers


def certificate(key: Ed25519PrivateKey) -> x509.Certificate:
    """A certificate for the force's key, issued by itself, for PDF signatures."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "whereabouts evidence signer")])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(key, None)
    )


def sign_pdf(pdf: bytes, key: Ed25519PrivateKey) -> tuple[bytes, bytes]:
    """(signed PDF, the certificate as PEM)."""
    signers = _pyhanko()
    from asn1crypto import keys as akeys
    from asn1crypto import x509 as ax509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.fields import SigSeedSubFilter

    cert = certificate(key)
    signer = signers.SimpleSigner(
        signing_cert=ax509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        signing_key=akeys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=None,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = signers.sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(pdf)),
            signers.PdfSignatureMetadata(
                field_name=FIELD, subfilter=SigSeedSubFilter.PADES, md_algorithm="sha512"
            ),
            signer=signer,
        )
    return out.getvalue(), cert.public_bytes(serialization.Encoding.PEM)


def verify_pdf(signed: bytes, unsigned: bytes, cert_pem: bytes, public: Ed25519PublicKey) -> str:
    """Words saying the signature holds; PadesError when it does not."""
    _pyhanko()
    from asn1crypto import x509 as ax509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    if not signed.startswith(unsigned):
        raise PadesError(
            "the signed PDF does not begin with the bundled report PDF: its content differs",
            hint="do not rely on the signed PDF",
        )
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError as exc:
        raise PadesError(
            "the PDF signer's certificate cannot be read",
            hint="ask the force for a fresh copy of the bundle",
        ) from exc
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    if cert.public_key().public_bytes(*raw) != public.public_bytes(*raw):
        raise PadesError(
            "the PDF was signed with another key than the bundle's statement",
            hint="do not rely on the signed PDF",
        )
    root = ax509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            sigs = PdfFileReader(io.BytesIO(signed)).embedded_signatures
            if len(sigs) != 1:
                raise PadesError(
                    f"the signed PDF holds {len(sigs)} signatures, not one",
                    hint="do not rely on the signed PDF",
                )
            status = validate_pdf_signature(sigs[0], ValidationContext(trust_roots=[root]))
        except PadesError:
            raise
        except Exception as exc:  # pyHanko's many parse errors: a damaged file
            raise PadesError(
                f"the signed PDF cannot be read ({type(exc).__name__})",
                hint="do not rely on the signed PDF",
            ) from exc
    if not (status.intact and status.valid and status.bottom_line):
        raise PadesError(
            "the PDF's signature does not hold: the file was changed after signing",
            hint="do not rely on the signed PDF",
        )
    if "ENTIRE_FILE" not in str(status.coverage):
        raise PadesError(
            "the PDF's signature does not cover the whole file",
            hint="do not rely on anything added after the signature",
        )
    return (
        f"PAdES signature intact and covering the whole file, by the bundle's key, over "
        f"the bundled report PDF (signed at {status.signer_reported_dt})"
    )


__all__ = ["PadesError", "certificate", "sign_pdf", "verify_pdf"]
