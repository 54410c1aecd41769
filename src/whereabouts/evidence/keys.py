"""The force's signing key: Ed25519, private key in a file only its owner may read.

    private, public = new_key(Path("keys"), "psd-2026")
    signer = load_private(private)        # refuses a file others could read
    verifier = load_public(public)

Keys are PEM (PKCS#8 private, SubjectPublicKeyInfo public). A private key is encrypted
when a passphrase is given (`WHEREABOUTS_KEY_PASSPHRASE`). A key's id is the SHA-256 of
its raw 32 public bytes, in hex: what the signed statement names and a verifier prints.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from whereabouts.errors import WhereaboutsError

PASSPHRASE_ENV = "WHEREABOUTS_KEY_PASSPHRASE"


class SigningKeyError(WhereaboutsError):
    """A signing or public key cannot be used (missing, unreadable, too open, wrong kind)."""


def key_id(public: Ed25519PublicKey) -> str:
    """SHA-256 (hex) of the raw public key bytes."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_pem(public: Ed25519PublicKey) -> bytes:
    """The public key as PEM text."""
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _passphrase() -> bytes | None:
    value = os.environ.get(PASSPHRASE_ENV)
    return value.encode() if value else None


def new_key(folder: Path, name: str) -> tuple[Path, Path]:
    """Write NAME.key (private, mode 0600) and NAME.pub into `folder`; refuse to overwrite."""
    if not name or any(c in name for c in "/\\") or name.startswith("."):
        raise SigningKeyError(
            f"{name!r} is not a usable key name",
            hint="give a plain name such as psd-2026 (no slashes)",
        )
    folder.mkdir(parents=True, exist_ok=True)
    private, public = folder / f"{name}.key", folder / f"{name}.pub"
    for path in (private, public):
        if path.exists():
            raise SigningKeyError(
                f"{path} exists already; a key is never overwritten",
                hint="choose another --name, or move the old key away first",
            )
    key = Ed25519PrivateKey.generate()
    secret = _passphrase()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(secret) if secret else serialization.NoEncryption()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    # Created 0600 from the start: the key is never readable by others, not even briefly.
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    public.write_bytes(public_pem(key.public_key()))
    return private, public


def check_permissions(path: Path) -> None:
    """Refuse a private key file that anyone but its owner could read or change."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SigningKeyError(
            f"{path}: the private key can be read or changed by others (mode {mode:04o})",
            hint=f"make it private with `chmod 600 {path}`, and consider whether "
            "it must be replaced",
        )


def load_private(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key at `path`, after checking its permissions."""
    path = Path(path)
    if not path.is_file():
        raise SigningKeyError(
            f"{path}: no private key file there",
            hint="make one with `whereabouts key new --out FOLDER`",
        )
    check_permissions(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=_passphrase())
    except TypeError as exc:
        raise SigningKeyError(
            f"{path}: the key is encrypted and no passphrase was given "
            "(or one was given for a key that has none)",
            hint=f"set {PASSPHRASE_ENV} to the key's passphrase",
        ) from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SigningKeyError(
            f"{path}: not a PEM private key, or the passphrase is wrong",
            hint="give the .key file made by `whereabouts key new`",
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(
            f"{path}: not an Ed25519 key", hint="make one with `whereabouts key new --out FOLDER`"
        )
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key at `path` (PEM)."""
    path = Path(path)
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except FileNotFoundError as exc:
        raise SigningKeyError(
            f"{path}: no public key file there", hint="give the .pub file the force published"
        ) from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SigningKeyError(
            f"{path}: not a PEM public key", hint="give the .pub file made by `whereabouts key new`"
        ) from exc
    return public_from(key, str(path))


def public_from(key: object, where: str) -> Ed25519PublicKey:
    """`key` if it is an Ed25519 public key, else a SigningKeyError naming `where`."""
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(
            f"{where}: not an Ed25519 public key",
            hint="give the .pub file made by `whereabouts key new`",
        )
    return key


def parse_public(pem: bytes, where: str) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM bytes (e.g. the copy inside a bundle)."""
    try:
        return public_from(serialization.load_pem_public_key(pem), where)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SigningKeyError(
            f"{where}: not a PEM public key",
            hint="the bundle's copy of the key is damaged; give --key",
        ) from exc


__all__ = [
    "PASSPHRASE_ENV",
    "SigningKeyError",
    "check_permissions",
    "key_id",
    "load_private",
    "load_public",
    "new_key",
    "parse_public",
    "public_pem",
]
