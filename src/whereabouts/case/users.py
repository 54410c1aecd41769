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
MIN_PASSWORD = 8
MAX_PASSWORD = 1000  # the web sign-in accepts no longer
PASSWORD_POLICY = (
    f"at least {MIN_PASSWORD} and at most {MAX_PASSWORD} characters, not only spaces, "
    "and not the user name; a passphrase of several words is best"
)


def check_username(name: str) -> str:
    """Return `name` if it is a usable user name, else raise ParameterError."""
    if not _NAME.match(name):
        raise ParameterError(
            "user names are 1–64 letters, digits and . _ @ -",
            hint="choose a name like j.smith or 4521",
        )
    return name


def check_password(password: str, username: str | None = None) -> str:
    """Return `password` if it meets PASSWORD_POLICY, else raise ParameterError (the message
    never contains the password)."""
    if len(password) < MIN_PASSWORD:
        raise ParameterError(
            f"password too short (fewer than {MIN_PASSWORD} characters)",
            hint=f"choose a password of {PASSWORD_POLICY}",
        )
    if len(password) > MAX_PASSWORD:
        raise ParameterError(
            f"password too long (more than {MAX_PASSWORD} characters)",
            hint=f"choose a password of {PASSWORD_POLICY}",
        )
    if not password.strip():
        raise ParameterError(
            "password is only spaces", hint=f"choose a password of {PASSWORD_POLICY}"
        )
    if username is not None and password.strip().casefold() == username.casefold():
        raise ParameterError(
            "password is the user name", hint=f"choose a password of {PASSWORD_POLICY}"
        )
    return password


def hash_password(password: str, username: str | None = None) -> str:
    """An argon2id hash of `password` after `check_password` (never store or log the password)."""
    return _hasher.hash(check_password(password, username))


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

    Returns the name and whether it is the operating-system user (naming yourself is the
    same as naming no one).
    """
    if explicit:
        return check_username(explicit), explicit == os_username()
    env = os.environ.get(ENV_USER, "").strip()
    if env:
        return check_username(env), env == os_username()
    return os_username(), True


def os_username() -> str:
    """The operating-system user running this process (its effective user id, as `whoami`
    says; never $USER or $LOGNAME, which anyone can set), as a valid user name."""
    try:
        import pwd

        name = pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, OSError):  # no passwd entry (containers) or no pwd module
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = "local"
    return check_username(re.sub(r"[^A-Za-z0-9_.@-]", "_", name)[:64] or "local")
