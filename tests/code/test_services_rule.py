"""CI runs what it claims: a missing service skips a test on a laptop and fails it in CI."""

from __future__ import annotations

import pytest

from tests.conftest import skip_or_fail_without


def test_a_missing_service_skips_on_a_users_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GROOMING_RISK_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Redis"):
        skip_or_fail_without("Redis", "no Redis server at redis://127.0.0.1:1/0")


def test_a_missing_service_fails_when_services_are_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROOMING_RISK_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="Redis must run here"):
        skip_or_fail_without("Redis", "no Redis server at redis://127.0.0.1:1/0")
