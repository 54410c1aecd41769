"""Users: argon2id password hashes (argon2-cffi) and who the command line acts as."""

from __future__ import annotations

import getpass
import os
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from whereabouts.errors import ParameterError

ENV_USER = "WHEREABOUTS_USER"
ENV_PASSWORD = "WHEREABOUTS_PASSWORD"
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def check_username(name: str) -> str:
    """Return `name` if it is a usable user name, else raise ParameterError."""
    if not _NAME.match(name):
        raise ParameterError(
            "user names are 1–64 letters, digits and . _ @ -",
            hint="choose a name like j.smith or 4521",
        )
    return name


def hash_password(password: str) -> str:
    """An argon2id hash of `password` (never store or log the password itself)."""
    if len(password) < 8:
        raise ParameterError(
            "password too short (fewer than 8 characters)",
            hint="choose a password of at least 8 characters, ideally a passphrase",
        )
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when `password` matches the stored hash (False when none is stored)."""
    if not stored:
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored)


def acting_name(explicit: str | None = None) -> tuple[str, bool]:
    """Who the command line acts as: --user, else WHEREABOUTS_USER, else the OS user.

    Returns the name and whether it came from the operating system (not named).
    """
    if explicit:
        return check_username(explicit), False
    env = os.environ.get(ENV_USER, "").strip()
    if env:
        return check_username(env), False
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "local"
    return check_username(re.sub(r"[^A-Za-z0-9_.@-]", "_", name)[:64] or "local"), True
