"""Password hashing with argon2id (argon2-cffi's recommended parameters) and constant-cost checks."""

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()


@cache
def _decoy_hash() -> str:
    """Checked when the username is unknown, so a wrong username costs as long as a wrong password."""
    return _hasher.hash("decoy password that no account has")


class WeakPasswordError(ValueError):
    """The password is too short to accept."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; a missing hash (service account, unknown user) still costs one check."""
    try:
        return _hasher.verify(password_hash or _decoy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def rehashed(password_hash: str, password: str) -> str | None:
    """A fresh hash of a just-verified password when the stored one uses older parameters, else None."""
    return _hasher.hash(password) if _hasher.check_needs_rehash(password_hash) else None
