"""Sign-in hardening: failed logins in the audit chain, the per-account and per-address limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from grooming_risk.review.auth import RateLimit
from grooming_risk.review.store import ReviewStore
from grooming_risk.review.web import ReviewSettings, create_app
from tests.review.conftest import PASSWORD

TTL = timedelta(hours=1)


@pytest.fixture
def clock(store: ReviewStore) -> dict[str, datetime]:
    now = {"t": datetime(2025, 1, 1, tzinfo=UTC)}
    store.clock = lambda: now["t"]
    return now


def test_failed_logins_are_audited_without_the_password(
    store: ReviewStore, clock: dict[str, datetime]
) -> None:
    store.add_account("carol", "reviewer", PASSWORD)
    long_name = "Carol " + "x" * 300
    assert store.login("carol", "wrong password 123", "10.1.2.3", RateLimit(), TTL).status == "bad"
    assert store.login(long_name, "hunter2 secret", "10.1.2.3", RateLimit(), TTL).status == "bad"
    assert store.login("carol", PASSWORD, "10.1.2.3", RateLimit(), TTL).status == "ok"
    entries = store.audit_log(newest_first=False)
    failed = [e for e in entries if e.action == "login_failed"]
    assert len(failed) == 2
    assert failed[0].details["username"] == "carol"
    assert failed[0].details["ip"] == "10.1.2.3"
    assert failed[0].actor_id is None
    assert failed[0].details["locked_now"] is False
    assert failed[1].details["username"] == long_name[:64]
    assert len(failed[1].details["username_sha256"]) == 64
    assert entries[-1].action == "login"
    assert entries[-1].actor_id is not None
    dumped = repr([e.details for e in entries])
    for secret in ("wrong password 123", "hunter2 secret", PASSWORD):
        assert secret not in dumped
    assert store.verify_audit().ok


def test_per_address_limit_spans_user_names(store: ReviewStore, clock: dict[str, datetime]) -> None:
    store.add_account("carol", "reviewer", PASSWORD)
    account_limit = RateLimit(max_failures=5, window=timedelta(minutes=5))
    ip_limit = RateLimit(max_failures=3, window=timedelta(minutes=10))
    for name in ("dave", "erin", "frank"):
        result = store.login(name, "wrong password", "1.2.3.4", account_limit, TTL, ip_limit=ip_limit)
        assert result.status == "bad"
    # The address is locked for every account, even with the right password...
    locked = store.login("carol", PASSWORD, "1.2.3.4", account_limit, TTL, ip_limit=ip_limit)
    assert locked.status == "locked"
    assert locked.retry_after_s == 600
    # ...the limited try is neither checked nor audited...
    assert [e.details["locked_now"] for e in store.audit_log() if e.action == "login_failed"] == [
        True,
        False,
        False,
    ]
    # ...another address is not affected, and the lock ends with the window.
    assert store.login("carol", PASSWORD, "5.6.7.8", account_limit, TTL, ip_limit=ip_limit).status == "ok"
    clock["t"] += timedelta(minutes=4)
    assert (
        store.login("carol", PASSWORD, "1.2.3.4", account_limit, TTL, ip_limit=ip_limit).retry_after_s == 360
    )
    clock["t"] += timedelta(minutes=6, seconds=1)
    assert store.login("carol", PASSWORD, "1.2.3.4", account_limit, TTL, ip_limit=ip_limit).status == "ok"


def test_per_account_limit_reports_when_to_retry(store: ReviewStore, clock: dict[str, datetime]) -> None:
    store.add_account("carol", "reviewer", PASSWORD)
    limit = RateLimit(max_failures=2, window=timedelta(minutes=5))
    generous = RateLimit(max_failures=100, window=timedelta(minutes=5))
    store.login("carol", "wrong password", "1.2.3.4", limit, TTL, ip_limit=generous)
    clock["t"] += timedelta(minutes=1)
    store.login("carol", "wrong password", "1.2.3.4", limit, TTL, ip_limit=generous)
    locked = store.login("carol", PASSWORD, "1.2.3.4", limit, TTL, ip_limit=generous)
    assert (locked.status, locked.retry_after_s) == ("locked", 240)
    assert store.login("dave", "x", "1.2.3.4", limit, TTL, ip_limit=generous).status == "bad"


def _try(client: TestClient, username: str, password: str) -> object:
    page = client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text)
    assert token is not None
    return client.post(
        "/login",
        data={"username": username, "password": password, "login_token": token.group(1)},
        follow_redirects=False,
    )


def test_web_login_limits_answer_429_with_retry_after(store: ReviewStore) -> None:
    store.add_account("carol", "reviewer", PASSWORD)
    settings = ReviewSettings(
        rate_limit=RateLimit(max_failures=2, window=timedelta(minutes=5)),
        ip_rate_limit=RateLimit(max_failures=4, window=timedelta(minutes=15)),
    )
    client = TestClient(create_app(settings, store=store))
    # Per account: two failures for carol lock carol (from this address).
    for _ in range(2):
        assert _try(client, "carol", "wrong password").status_code == 401  # type: ignore[attr-defined]
    locked = _try(client, "carol", PASSWORD)
    assert locked.status_code == 429  # type: ignore[attr-defined]
    assert 0 < int(locked.headers["retry-after"]) <= 300  # type: ignore[attr-defined]
    assert "Too many failed sign-ins" in locked.text  # type: ignore[attr-defined]
    # Per address: two more failures on other names reach four from this address: all names locked.
    for name in ("dave", "erin"):
        assert _try(client, name, "wrong password").status_code == 401  # type: ignore[attr-defined]
    other = _try(client, "frank", "wrong password")
    assert other.status_code == 429  # type: ignore[attr-defined]
    assert 300 < int(other.headers["retry-after"]) <= 900  # type: ignore[attr-defined]
    assert [e.details["username"] for e in store.audit_log() if e.action == "login_failed"] == [
        "erin",
        "dave",
        "carol",
        "carol",
    ]
    assert all(e.details["ip"] == "testclient" for e in store.audit_log() if e.action == "login_failed")


def test_settings_refuse_a_limit_of_zero() -> None:
    with pytest.raises(ValueError, match=r"ip_rate_limit\.max_failures"):
        ReviewSettings(ip_rate_limit=RateLimit(max_failures=0))
    assert ReviewSettings().ip_rate_limit.max_failures >= ReviewSettings().rate_limit.max_failures
