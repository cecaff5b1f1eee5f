"""argon2id password hashing: verify, salt, weak passwords, rehash of older parameters, unknown users."""

import pytest
from argon2 import PasswordHasher

from api.security.passwords import WeakPasswordError, hash_password, rehashed, verify_password


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_password("correct horse battery")


def test_hash_is_argon2id_and_verifies_only_the_right_password(stored: str) -> None:
    assert stored.startswith("$argon2id$")
    assert "correct horse battery" not in stored
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse batterY")
    assert not verify_password(stored, "")


def test_same_password_hashes_differently_each_time(stored: str) -> None:
    again = hash_password("correct horse battery")
    assert again != stored
    assert verify_password(again, "correct horse battery")


def test_short_password_is_refused() -> None:
    with pytest.raises(WeakPasswordError):
        hash_password("short")


def test_missing_or_broken_hash_never_verifies() -> None:
    assert not verify_password(None, "anything at all")
    assert not verify_password("not-a-hash", "anything at all")


def test_hash_with_weaker_parameters_is_redone_at_sign_in(stored: str) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("correct horse battery")
    fresh = rehashed(weak, "correct horse battery")
    assert fresh is not None and fresh != weak and verify_password(fresh, "correct horse battery")
    assert rehashed(stored, "correct horse battery") is None
