"""Accounts, password hashing, sessions and the login rate limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from grooming_risk.review import auth
from grooming_risk.review.auth import AuthError, RateLimit
from grooming_risk.review.store import ReviewStore
from tests.review.conftest import PASSWORD


def test_passwords_are_argon2_hashed_and_verified() -> None:
    stored = auth.hash_password("a long passphrase")
    assert stored.startswith("$argon2id$")
    assert auth.verify_password(stored, "a long passphrase")
    assert not auth.verify_password(stored, "a long passphrasE")
    assert not auth.verify_password("not a hash", "a long passphrase")


@pytest.mark.parametrize(
    ("name", "role", "password", "problem"),
    [
        ("Bad Name!", "reviewer", PASSWORD, "user name"),
        ("carol", "boss", PASSWORD, "role 'boss'"),
        ("carol", "reviewer", "short", "at least 10"),
    ],
)
def test_add_account_validates(sqlite_url: str, name: str, role: str, password: str, problem: str) -> None:
    from grooming_risk.review.migrations import upgrade

    upgrade(sqlite_url)
    store = ReviewStore.open(sqlite_url)
    try:
        with pytest.raises(AuthError, match=problem):
            store.add_account(name, role, password)
    finally:
        store.close()


def test_duplicate_user_needs_replace(store: ReviewStore) -> None:
    store.add_account("carol", "reviewer", PASSWORD)
    with pytest.raises(AuthError, match="already exists"):
        store.add_account("Carol", "lead", PASSWORD)
    assert store.add_account("carol", "lead", "another passphrase", replace=True).role.value == "lead"


def test_login_session_and_logout(store: ReviewStore) -> None:
    store.add_account("carol", "lead", PASSWORD)
    result = store.login("carol", PASSWORD, "10.0.0.1", RateLimit(), timedelta(hours=1))
    assert result.status == "ok"
    assert result.token
    assert result.csrf
    found = store.session_account(result.token)
    assert found is not None
    assert found[0].username == "carol"
    assert found[1] == result.csrf
    assert store.session_account("forged-token") is None
    store.logout(result.token)
    assert store.session_account(result.token) is None


def test_sessions_expire(store: ReviewStore) -> None:
    store.add_account("carol", "reviewer", PASSWORD)
    now = {"t": datetime(2025, 1, 1, tzinfo=UTC)}
    store.clock = lambda: now["t"]
    result = store.login("carol", PASSWORD, "ip", RateLimit(), timedelta(minutes=30))
    assert result.token
    assert store.session_account(result.token) is not None
    now["t"] += timedelta(minutes=31)
    assert store.session_account(result.token) is None


def test_rate_limit_per_user_and_address(store: ReviewStore) -> None:
    store.add_account("carol", "reviewer", PASSWORD)
    now = {"t": datetime(2025, 1, 1, tzinfo=UTC)}
    store.clock = lambda: now["t"]
    limit = RateLimit(max_failures=5, window=timedelta(minutes=5))
    ttl = timedelta(hours=1)
    for _ in range(5):
        assert store.login("carol", "wrong password", "1.2.3.4", limit, ttl).status == "bad"
    # Locked even with the right password, from that address; another address is not affected.
    assert store.login("carol", PASSWORD, "1.2.3.4", limit, ttl).status == "locked"
    assert store.login("carol", PASSWORD, "5.6.7.8", limit, ttl).status == "ok"
    now["t"] += timedelta(minutes=6)
    assert store.login("carol", PASSWORD, "1.2.3.4", limit, ttl).status == "ok"


def test_unknown_user_and_disabled_cannot_log_in(store: ReviewStore) -> None:
    assert store.login("nobody", PASSWORD, "ip", RateLimit(), timedelta(hours=1)).status == "bad"
