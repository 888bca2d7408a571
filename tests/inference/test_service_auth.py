"""API keys: parsing, constant-time lookup, scopes on routes, and auth on by default."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from grooming_risk.inference.scorer import RiskScorer
from grooming_risk.service.app import create_app
from grooming_risk.service.auth import KeyFileError, KeyRing, Scope, parse_keys
from grooming_risk.service.settings import ServiceSettings

SCORE_SECRET = "score-secret-0123456789"
STREAM_SECRET = "stream-secret-0123456789"
ADMIN_SECRET = "admin-secret-0123456789"
KEYS = f"""
# comment line
scorer:{SCORE_SECRET}:score
streamer:{STREAM_SECRET}:stream
ops:sha256={hashlib.sha256(ADMIN_SECRET.encode()).hexdigest()}:admin
"""
BODY = {"conversations": [{"conversation_id": "c", "messages": [{"sender": "a", "text": "hello"}]}]}
APPEND = {"messages": [{"sender": "a", "text": "hello"}]}


def test_parse_keys_reads_ids_scopes_and_hashed_secrets() -> None:
    keys = parse_keys(KEYS, "keys.txt")
    assert [k.key_id for k in keys] == ["scorer", "streamer", "ops"]
    assert keys[0].scopes == {Scope.SCORE}
    assert keys[0].secret_sha256 == hashlib.sha256(SCORE_SECRET.encode()).digest()
    ring = KeyRing(keys)
    assert ring.authenticate(ADMIN_SECRET) is keys[2]
    assert ring.authenticate(SCORE_SECRET) is keys[0]
    assert ring.authenticate("wrong-secret-0123456789") is None
    assert ring.authenticate("") is None
    assert ring.authenticate(None) is None


def test_semicolons_separate_keys_in_the_environment_variable() -> None:
    keys = parse_keys(f"a:{SCORE_SECRET}:score;b:{STREAM_SECRET}:stream,admin", "$GROOMING_RISK_API_KEYS")
    assert [k.key_id for k in keys] == ["a", "b"]
    assert keys[1].scopes == {Scope.STREAM, Scope.ADMIN}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (f"only-two:{SCORE_SECRET}", "3 fields"),
        ("k:short:score", "at least 16 characters"),
        (f"k:{SCORE_SECRET}:score,write", "unknown scope"),
        (f"k:{SCORE_SECRET}:", "no scopes"),
        (f"bad id:{SCORE_SECRET}:score", "key_id"),
    ],
)
def test_bad_key_entries_name_the_entry_but_never_the_secret(text: str, problem: str) -> None:
    with pytest.raises(KeyFileError, match=problem) as info:
        parse_keys(f"# header\n{text}", "keys.txt")
    assert "keys.txt: entry 2" in str(info.value)
    assert SCORE_SECRET not in str(info.value)


def test_duplicate_ids_and_secrets_are_refused() -> None:
    with pytest.raises(KeyFileError, match="defined twice"):
        KeyRing(parse_keys(f"a:{SCORE_SECRET}:score\na:{STREAM_SECRET}:stream", "k"))
    with pytest.raises(KeyFileError, match="reuses the secret"):
        KeyRing(parse_keys(f"a:{SCORE_SECRET}:score\nb:{SCORE_SECRET}:stream", "k"))


def test_auth_is_required_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GROOMING_RISK_API_KEYS", raising=False)
    with pytest.raises(KeyFileError, match="API keys are required"):
        create_app(ServiceSettings())


def test_missing_key_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="not found"):
        create_app(ServiceSettings(api_keys_file=tmp_path / "nope.txt"))


@pytest.fixture(scope="module")
def scorer(tiny_artifact: Path) -> RiskScorer:
    return RiskScorer.load(tiny_artifact)


@pytest.fixture
def client(scorer: RiskScorer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.delenv("GROOMING_RISK_API_KEYS", raising=False)
    path = tmp_path / "keys.txt"
    path.write_text(KEYS, encoding="utf-8")
    path.chmod(0o600)
    with TestClient(create_app(ServiceSettings(api_keys_file=path), scorer)) as c:
        yield c


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_requests_without_or_with_a_wrong_key_are_401(client: TestClient) -> None:
    for headers in ({}, _bearer("not-a-real-key-000000"), {"X-API-Key": "not-a-real-key-000000"}):
        r = client.post("/v1/score", json=BODY, headers=headers)
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
    assert client.get("/metrics").status_code == 401
    assert client.get("/v1/conversations/c").status_code == 401


def test_each_scope_opens_its_routes_only(client: TestClient) -> None:
    assert client.post("/v1/score", json=BODY, headers=_bearer(SCORE_SECRET)).status_code == 200
    assert client.post("/v1/score", json=BODY, headers={"X-API-Key": SCORE_SECRET}).status_code == 200
    forbidden = client.post("/v1/conversations/c/messages", json=APPEND, headers=_bearer(SCORE_SECRET))
    assert forbidden.status_code == 403
    assert "'stream' scope" in forbidden.json()["detail"]
    assert client.get("/metrics", headers=_bearer(SCORE_SECRET)).status_code == 403

    assert (
        client.post("/v1/conversations/c/messages", json=APPEND, headers=_bearer(STREAM_SECRET)).status_code
        == 200
    )
    assert client.get("/v1/conversations/c", headers=_bearer(STREAM_SECRET)).status_code == 200
    assert client.post("/v1/score", json=BODY, headers=_bearer(STREAM_SECRET)).status_code == 403
    assert client.delete("/v1/conversations/c", headers=_bearer(STREAM_SECRET)).status_code == 204

    # The admin key is configured by hash only.
    metrics = client.get("/metrics", headers=_bearer(ADMIN_SECRET))
    assert metrics.status_code == 200
    assert "grooming_risk_http_requests_total" in metrics.text
    assert client.post("/v1/score", json=BODY, headers=_bearer(ADMIN_SECRET)).status_code == 403


def test_probes_and_docs_need_no_key(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/openapi.json").status_code == 200


def test_keys_can_come_from_the_environment(scorer: RiskScorer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROOMING_RISK_API_KEYS", f"env-key:{SCORE_SECRET}:score")
    with TestClient(create_app(ServiceSettings(), scorer)) as c:
        assert c.post("/v1/score", json=BODY, headers=_bearer(SCORE_SECRET)).status_code == 200
        assert c.post("/v1/score", json=BODY).status_code == 401


def test_no_auth_must_be_asked_for(scorer: RiskScorer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GROOMING_RISK_API_KEYS", raising=False)
    with TestClient(create_app(ServiceSettings(auth=False), scorer)) as c:
        assert c.post("/v1/score", json=BODY).status_code == 200
        assert c.get("/metrics").status_code == 200
