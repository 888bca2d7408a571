"""The HTTP service's sender profiles (`GET /v1/senders/{id}`) and recommended actions (`?actions=true`)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from grooming_risk.inference.scorer import RiskScorer
from grooming_risk.service.app import create_app
from grooming_risk.service.senders import InMemorySenderStore, RedisSenderStore
from grooming_risk.service.settings import ServiceSettings
from tests.conftest import skip_or_fail_without, toy_conversations

REPO = Path(__file__).resolve().parents[2]
SENDERS_SECRET = "senders-secret-0123456789"
SCORE_SECRET = "score-secret-0123456789"


@pytest.fixture(scope="module")
def scorer(tiny_artifact: Path) -> RiskScorer:
    return RiskScorer.load(tiny_artifact)


def _settings(**overrides: Any) -> ServiceSettings:
    return ServiceSettings(
        **{"auth": False, "policy_file": REPO / "configs/policy/default.yaml", **overrides}
    )


def _conv(cid: str, senders: tuple[str, str]) -> dict[str, Any]:
    a, b = senders
    lines = [(a, "hey how old are you"), (b, "13"), (a, "keep this between us ok")]
    return {"conversation_id": cid, "messages": [{"sender": s, "text": t} for s, t in lines]}


def test_profiles_follow_scored_and_streamed_conversations(scorer: RiskScorer) -> None:
    with TestClient(create_app(_settings(), scorer)) as client:
        body = {"conversations": [_conv("c1", ("u_rex", "u_mia")), _conv("c2", ("u_rex", "u_kai"))]}
        scored = client.post("/v1/score", json=body).json()["assessments"]
        for k, message in enumerate(_conv("c3", ("u_rex", "u_ana"))["messages"]):
            r = client.post("/v1/conversations/c3/messages", json={"messages": [message], "start_index": k})
            assert r.status_code == 200
        # A retry (answered from state) does not count twice.
        client.post("/v1/conversations/c3/messages", json={"messages": [message], "start_index": 2})
        profile = client.get("/v1/senders/u_rex").json()
        assert profile["sender"] == "u_rex"
        assert profile["conversations"] == 3
        assert sorted(profile["conversation_ids"]) == ["c1", "c2", "c3"]
        rex = [next(s for s in a["senders"] if s["sender"] == "u_rex") for a in scored]
        assert profile["max_risk"] >= max(s["risk"] for s in rex)
        assert client.get("/v1/senders/u_mia").json()["conversations"] == 1
        missing = client.get("/v1/senders/nobody")
        assert missing.status_code == 404
        assert client.get("/v1/senders/" + "x" * 300).status_code == 422


def test_actions_are_added_when_asked_for(scorer: RiskScorer) -> None:
    body = {"conversations": [_conv("c1", ("u_rex", "u_mia"))]}
    with TestClient(create_app(_settings(policy_country="GB"), scorer)) as client:
        plain = client.post("/v1/score", json=body).json()["assessments"][0]
        assert plain["actions"] is None
        asked = client.post("/v1/score?actions=true", json=body).json()["assessments"][0]
        assert isinstance(asked["actions"], list)
        if asked["flagged"]:
            assert {a["audience"] for a in asked["actions"]} >= {"platform", "child"}
        else:
            assert asked["actions"] == []
        append = client.post(
            "/v1/conversations/s1/messages?actions=true",
            json={"messages": body["conversations"][0]["messages"]},
        ).json()
        assert isinstance(append["assessment"]["actions"], list)
        got = client.get("/v1/conversations/s1?actions=true").json()
        assert got["assessment"]["actions"] == append["assessment"]["actions"]


def test_a_flagged_conversation_gets_the_policy_s_actions(scorer: RiskScorer) -> None:
    # Thresholds are the scorer's: lower them so the tiny model flags, and check what comes back is
    # exactly what the policy says for that assessment.
    from grooming_risk.policy import load_policy

    flagging = RiskScorer(scorer.meta.model_copy(deep=True), scorer.backend)
    flagging.builder.review = flagging.builder.urgent = 0.0
    body = {"conversations": [_conv("c1", ("u_rex", "u_mia"))]}
    with TestClient(create_app(_settings(policy_country="GB"), flagging)) as client:
        asked = client.post("/v1/score?actions=true", json=body).json()["assessments"][0]
    assert asked["flagged"]
    assert asked["urgent"]
    policy = load_policy(REPO / "configs/policy/default.yaml", country="GB")
    [expected] = flagging.score([_as_conversation(body["conversations"][0])])
    assert asked["actions"] == [a.model_dump(mode="json") for a in policy.actions_for(expected)]
    assert any(a["id"] == "platform.preserve_evidence" for a in asked["actions"])


def _as_conversation(data: dict[str, Any]) -> Any:
    from grooming_risk.contract.conversation import Conversation

    return Conversation.model_validate(data)


def test_actions_without_a_policy_are_501(
    scorer: RiskScorer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no configs/policy/default.yaml here
    with TestClient(create_app(ServiceSettings(auth=False), scorer)) as client:
        body = {"conversations": [_conv("c1", ("a", "b"))]}
        assert client.post("/v1/score", json=body).status_code == 200
        refused = client.post("/v1/score?actions=true", json=body)
        assert refused.status_code == 501
        assert "policy" in refused.json()["detail"]


def test_a_bad_policy_file_stops_the_service(scorer: RiskScorer, tmp_path: Path) -> None:
    from grooming_risk.policy import PolicyError

    bad = tmp_path / "policy.yaml"
    bad.write_text("version: 1\nrules:\n  - {id: x, audience: nobody, title: T}\n")
    with pytest.raises(PolicyError, match="audience"):
        create_app(ServiceSettings(auth=False, policy_file=bad), scorer)


def test_sender_profiles_need_the_senders_scope(
    scorer: RiskScorer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GROOMING_RISK_API_KEYS", raising=False)
    keys = tmp_path / "keys.txt"
    digest = hashlib.sha256(SENDERS_SECRET.encode()).hexdigest()
    keys.write_text(f"scorer:{SCORE_SECRET}:score\nlead:sha256={digest}:senders\n")
    keys.chmod(0o600)
    with TestClient(create_app(ServiceSettings(api_keys_file=keys), scorer)) as client:
        body = {"conversations": [_conv("c1", ("u_rex", "u_mia"))]}
        assert client.post("/v1/score", json=body, headers={"X-API-Key": SCORE_SECRET}).status_code == 200
        assert client.get("/v1/senders/u_rex").status_code == 401
        assert client.get("/v1/senders/u_rex", headers={"X-API-Key": SCORE_SECRET}).status_code == 403
        ok = client.get("/v1/senders/u_rex", headers={"X-API-Key": SENDERS_SECRET})
        assert ok.status_code == 200
        assert ok.json()["conversations"] == 1


def _assessment(cid: str, sender: str, risk: float) -> Any:
    from tests.inference.test_senders import _assessment as build

    return build(cid, [(sender, risk), (f"kid-{cid}", 0.0)])


def test_the_memory_store_keeps_the_latest_per_conversation_and_forgets_idle_senders() -> None:
    now = [0.0]
    store = InMemorySenderStore(ttl_s=10, max_senders=3, clock=lambda: now[0])

    async def run() -> None:
        await store.record(_assessment("c1", "rex", 0.2))
        await store.record(_assessment("c1", "rex", 0.8))
        profile = await store.profile("rex")
        assert profile is not None
        assert (profile.conversations, profile.max_risk) == (1, 0.8)
        await store.record(_assessment("c2", "vex", 0.5))  # 4 senders now: the oldest goes
        assert await store.profile("rex") is None  # least recently updated
        assert await store.profile("kid-c1") is not None
        now[0] = 11.0
        assert await store.profile("vex") is None

    asyncio.run(run())


def _check_redis_store(store: RedisSenderStore) -> None:
    async def run() -> None:
        await store.record(_assessment("c1", "rex", 0.3))
        await store.record(_assessment("c2", "rex", 0.6))
        await store.record(_assessment("c1", "rex", 0.4))
        profile = await store.profile("rex")
        assert profile is not None
        assert profile.conversations == 2
        assert profile.conversation_ids == ["c2", "c1"]
        assert profile.combined_risk == pytest.approx(1 - 0.4 * 0.6, abs=1e-6)
        assert await store.profile("nobody") is None
        assert 0 < await store.client.pttl(store.prefix + "rex") <= 60_000

    asyncio.run(run())


def test_the_redis_store_keeps_one_field_per_conversation() -> None:
    fakeredis = pytest.importorskip("fakeredis")
    _check_redis_store(RedisSenderStore(fakeredis.FakeAsyncRedis(), ttl_s=60, prefix="t:"))


def test_the_redis_store_against_a_real_server() -> None:
    redis = pytest.importorskip("redis.asyncio")
    url = os.environ.get("GROOMING_RISK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    client = redis.Redis.from_url(url)

    async def ping() -> None:
        try:
            await client.ping()
        except Exception as exc:
            skip_or_fail_without("Redis", f"no Redis server at {url}: {type(exc).__name__}")

    asyncio.run(ping())
    _check_redis_store(RedisSenderStore(redis.Redis.from_url(url), ttl_s=60, prefix=f"t-{uuid.uuid4().hex}:"))


def test_toy_conversations_profile_every_participant(scorer: RiskScorer) -> None:
    convs = toy_conversations(1)[:4]
    with TestClient(create_app(_settings(), scorer)) as client:
        client.post("/v1/score", json={"conversations": [c.model_dump(mode="json") for c in convs]})
        for sender in {s for c in convs for s in c.senders()}:
            assert client.get(f"/v1/senders/{sender}").status_code == 200
