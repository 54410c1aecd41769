"""The signed statement of a bundle: an in-toto Statement (v1) in a DSSE envelope.

The Statement's subjects are the outputs with their SHA-256; its predicate names the inputs,
the parameters, the software and the audit head, each with digests. The envelope signs the
Pre-Authentication Encoding of the payload (DSSE v1) with the force's Ed25519 key, so the
other side can check it with the public key alone, offline.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from whereabouts.errors import WhereaboutsError
from whereabouts.evidence.keys import key_id

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
PREDICATE_TYPE = "urn:whereabouts:evidence-bundle:v1"


class StatementError(WhereaboutsError):
    """The signed statement is missing, malformed or does not verify."""


def statement(subjects: dict[str, str], predicate: dict[str, Any]) -> dict[str, Any]:
    """An in-toto Statement: `subjects` maps a bundled path to its SHA-256."""
    return {
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": name, "digest": {"sha256": digest}}
            for name, digest in sorted(subjects.items())
        ],
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate,
    }


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 Pre-Authentication Encoding."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def sign(body: dict[str, Any], key: Ed25519PrivateKey) -> bytes:
    """The DSSE envelope (JSON bytes) holding `body` signed with `key`."""
    payload = json.dumps(body, indent=1, sort_keys=True, ensure_ascii=False).encode()
    signature = key.sign(pae(PAYLOAD_TYPE, payload))
    envelope = {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [
            {"keyid": key_id(key.public_key()), "sig": base64.b64encode(signature).decode()}
        ],
    }
    return (json.dumps(envelope, indent=1, sort_keys=True) + "\n").encode()


def open_envelope(data: bytes, where: str) -> tuple[dict[str, Any], bytes, list[dict[str, str]]]:
    """(statement, payload bytes, signatures) of an envelope; raises StatementError."""
    try:
        envelope = json.loads(data)
        payload = base64.b64decode(envelope["payload"], validate=True)
        body = json.loads(payload)
        signatures = list(envelope["signatures"])
        kind = envelope["payloadType"]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise StatementError(
            f"{where}: the signed statement cannot be read ({type(exc).__name__})",
            hint="the file was changed or cut short; ask the force for a fresh copy of the bundle",
        ) from exc
    if kind != PAYLOAD_TYPE or not isinstance(body, dict) or body.get("_type") != STATEMENT_TYPE:
        raise StatementError(
            f"{where}: not an in-toto Statement in a DSSE envelope",
            hint="give a bundle made by `whereabouts bundle`",
        )
    return body, payload, signatures


def verify(data: bytes, public: Ed25519PublicKey, where: str) -> dict[str, Any]:
    """The statement in envelope `data` if a signature by `public` holds; else StatementError."""
    body, payload, signatures = open_envelope(data, where)
    wanted = key_id(public)
    for s in signatures:
        if not isinstance(s, dict) or s.get("keyid") != wanted:
            continue
        try:
            public.verify(base64.b64decode(str(s.get("sig", ""))), pae(PAYLOAD_TYPE, payload))
            return body
        except (InvalidSignature, binascii.Error, ValueError):
            raise StatementError(
                f"{where}: the signature by key {wanted[:16]} does not verify: the statement "
                "was changed after signing",
                hint="do not rely on this bundle; ask the force for the original",
            ) from None
    ids = ", ".join(str(s.get("keyid", "?"))[:16] for s in signatures if isinstance(s, dict))
    raise StatementError(
        f"{where}: not signed by the key given (key id {wanted[:16]}; the "
        f"statement is signed by {ids or 'no key'})",
        hint="check you were given the force's right public key",
    )


__all__ = [
    "PAYLOAD_TYPE",
    "PREDICATE_TYPE",
    "STATEMENT_TYPE",
    "StatementError",
    "open_envelope",
    "pae",
    "sign",
    "statement",
    "verify",
]
