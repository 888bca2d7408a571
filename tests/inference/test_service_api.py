"""The HTTP service end to end on the tiny untrained model: routes, streaming, limits, metrics."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("prometheus_client")

from fastapi import FastAPI
from fastapi.testclient import TestClient

from grooming_risk.contract.conversation import Conversation
from grooming_risk.inference.scorer import RiskScorer
from grooming_risk.service.app import create_app
from grooming_risk.service.settings import ServiceSettings
from tests.conftest import toy_conversations


@pytest.fixture(scope="module")
def scorer(tiny_artifact: Path) -> RiskScorer:
    return RiskScorer.load(tiny_artifact)


def _settings(**overrides: Any) -> ServiceSettings:
    return ServiceSettings(**{"auth": False, **overrides})


@pytest.fixture
def client(scorer: RiskScorer) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(), scorer)) as c:
        yield c


def _payload(conversations: Sequence[Conversation]) -> dict[str, Any]:
    return {"conversations": [c.model_dump(mode="json") for c in conversations]}


def _messages(conversation: Conversation, start: int, stop: int) -> list[dict[str, Any]]:
    return [m.model_dump(mode="json") for m in conversation.messages[start:stop]]


def test_score_returns_one_assessment_per_conversation_in_order(
    client: TestClient, scorer: RiskScorer
) -> None:
    convs = toy_conversations(1)
    response = client.post("/v1/score", json=_payload(convs[::-1]))
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == scorer.model_version
    assert [a["conversation_id"] for a in body["assessments"]] == [c.conversation_id for c in convs[::-1]]
    expected = {a.conversation_id: a for a in scorer.score(convs)}
    for got in body["assessments"]:
        want = expected[got["conversation_id"]]
        assert got["risk"] == pytest.approx(want.risk, abs=1e-6)
        assert got["flagged"] == want.flagged
        assert got["urgent"] == want.urgent


def test_streaming_equals_scoring_the_whole_conversation(client: TestClient) -> None:
    for conv in toy_conversations(1):
        cid = conv.conversation_id
        n = len(conv.messages)
        # Uneven chunks: one message, then two, then the rest.
        cuts = [0, 1, min(3, n), n]
        status: dict[str, Any] = {}
        risks: list[float] = []
        for start, stop in itertools.pairwise(cuts):
            if start == stop:
                continue
            r = client.post(
                f"/v1/conversations/{cid}/messages",
                json={"messages": _messages(conv, start, stop), "start_index": start},
            )
            assert r.status_code == 200, r.text
            status = r.json()
            assert status["message_count"] == stop
            # Each answer carries the risks of its own messages only (constant-size state).
            assert status["assessment"]["risk_by_message_start"] == start
            assert len(status["assessment"]["risk_by_message"]) == stop - start
            risks += status["assessment"]["risk_by_message"]
        whole = client.post("/v1/score", json=_payload([conv])).json()["assessments"][0]
        streamed = status["assessment"]
        assert whole["risk_by_message_start"] == 0
        assert streamed["risk"] == pytest.approx(whole["risk"], abs=1e-6)
        assert risks == pytest.approx(whole["risk_by_message"], abs=1e-6)
        assert streamed["flagged"] == whole["flagged"]
        assert streamed["urgent"] == whole["urgent"]
        assert streamed["first_alert_index"] == whole["first_alert_index"]
        assert [e["index"] for e in streamed["evidence"]] == [e["index"] for e in whole["evidence"]]


def test_get_and_delete_a_conversation(client: TestClient) -> None:
    conv = toy_conversations(1)[3]
    assert client.get("/v1/conversations/c1").status_code == 404
    posted = client.post("/v1/conversations/c1/messages", json={"messages": _messages(conv, 0, 2)}).json()
    got = client.get("/v1/conversations/c1")
    assert got.status_code == 200
    assert got.json() == posted
    assert got.json()["message_count"] == 2
    assert client.delete("/v1/conversations/c1").status_code == 204
    assert client.get("/v1/conversations/c1").status_code == 404
    assert client.delete("/v1/conversations/c1").status_code == 404
    # After a delete the conversation starts over.
    again = client.post("/v1/conversations/c1/messages", json={"messages": _messages(conv, 0, 1)}).json()
    assert again["message_count"] == 1


def test_start_index_mismatch_is_a_409_not_a_silent_restart(client: TestClient) -> None:
    conv = toy_conversations(1)[0]
    r = client.post(
        "/v1/conversations/c2/messages", json={"messages": _messages(conv, 1, 2), "start_index": 1}
    )
    assert r.status_code == 409
    assert "holds 0 message" in r.json()["detail"]
    assert client.get("/v1/conversations/c2").status_code == 404


def test_health_and_readiness(client: TestClient, scorer: RiskScorer) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["model_version"] == scorer.model_version


def _wait_for_loader(client: TestClient, app: FastAPI) -> None:
    async def wait() -> None:
        loader = app.state.runtime._loader
        assert loader is not None
        await loader

    assert client.portal is not None
    client.portal.call(wait)


def test_model_loads_in_the_background_when_no_scorer_is_given(tiny_artifact: Path) -> None:
    app = create_app(_settings(model=str(tiny_artifact)))
    with TestClient(app) as c:
        _wait_for_loader(c, app)
        assert c.get("/readyz").json()["status"] == "ready"
        conv = toy_conversations(1)[0]
        assert c.post("/v1/score", json=_payload([conv])).status_code == 200


def test_a_model_that_fails_to_load_is_reported_not_ready(tmp_path: Path) -> None:
    app = create_app(_settings(model=str(tmp_path / "missing")))
    with TestClient(app) as c:
        _wait_for_loader(c, app)
        ready = c.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "failed"
        assert c.get("/healthz").status_code == 200
        r = c.post("/v1/score", json=_payload(toy_conversations(1)[:1]))
        assert r.status_code == 503
        assert "failed to load" in r.json()["detail"]


# Limits --------------------------------------------------------------------------------------


def test_body_over_the_limit_is_413_from_content_length(scorer: RiskScorer) -> None:
    with TestClient(create_app(_settings(max_body_bytes=500), scorer)) as c:
        r = c.post("/v1/score", json=_payload(toy_conversations(1)))
        assert r.status_code == 413
        assert "500 bytes" in r.json()["detail"]


def test_body_over_the_limit_is_413_when_streamed_without_content_length(scorer: RiskScorer) -> None:
    payload = Conversation.model_validate(toy_conversations(1)[0]).model_dump_json().encode()
    body = b'{"conversations": [' + b",".join([payload] * 10) + b"]}"

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(body), 100):
            yield body[i : i + 100]

    with TestClient(create_app(_settings(max_body_bytes=500), scorer)) as c:
        r = c.post("/v1/score", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413
        # A body under the limit still goes through when streamed.
        small = b'{"conversations": [' + payload + b"]}"
        with TestClient(create_app(_settings(max_body_bytes=len(small)), scorer)) as c2:
            ok = c2.post("/v1/score", content=iter([small[:50], small[50:]]))
            assert ok.status_code == 200, ok.text


def test_invalid_records_are_422_naming_the_field_without_echoing_input(client: TestClient) -> None:
    marker = "zebra-umbrella-quartz"
    bad = {
        "conversations": [
            {"conversation_id": "ok", "messages": [{"sender": "a", "text": "hello"}]},
            {
                "conversation_id": "bad",
                "messages": [
                    {"sender": "a", "text": marker},
                    {"sender": "b", "text": marker, "sent_at": marker},
                ],
                "label": marker,
            },
        ]
    }
    r = client.post("/v1/score", json=bad)
    assert r.status_code == 422
    assert marker not in r.text
    locs = [e["loc"] for e in r.json()["detail"]]
    assert ["body", "conversations", 1, "messages", 1, "sent_at"] in locs
    assert ["body", "conversations", 1, "label"] in locs
    assert all(set(e) == {"loc", "msg", "type"} for e in r.json()["detail"])


def test_missing_fields_and_bad_json_are_422(client: TestClient) -> None:
    r = client.post("/v1/score", json={"conversations": [{"messages": [{"text": "x"}]}]})
    assert r.status_code == 422
    locs = [e["loc"] for e in r.json()["detail"]]
    assert ["body", "conversations", 0, "conversation_id"] in locs
    assert ["body", "conversations", 0, "messages", 0, "sender"] in locs
    broken = client.post(
        "/v1/score", content=b'{"conversations": [', headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422
    empty = client.post("/v1/score", json={"conversations": []})
    assert empty.status_code == 422
    assert empty.json()["detail"][0]["loc"] == ["body", "conversations"]
    unknown = client.post("/v1/score", json={"conversation": []})
    assert unknown.status_code == 422


def test_message_character_limit_is_configurable(scorer: RiskScorer) -> None:
    text = "a" * 30
    with TestClient(create_app(_settings(max_message_chars=20), scorer)) as c:
        r = c.post(
            "/v1/conversations/c/messages",
            json={"messages": [{"sender": "a", "text": "ok"}, {"sender": "a", "text": text}]},
        )
        assert r.status_code == 422
        [err] = r.json()["detail"]
        assert err["loc"] == ["body", "messages", 1, "text"]
        assert "more than the limit of 20" in err["msg"]
        assert text not in r.text
        s = c.post(
            "/v1/score",
            json={"conversations": [{"conversation_id": "x", "messages": [{"sender": "a", "text": text}]}]},
        )
        assert s.json()["detail"][0]["loc"] == ["body", "conversations", 0, "messages", 0, "text"]
    # Above the contract's default of 4000 when the service allows it.
    with TestClient(create_app(_settings(max_message_chars=5000), scorer)) as c:
        long = c.post(
            "/v1/conversations/c/messages", json={"messages": [{"sender": "a", "text": "b" * 4500}]}
        )
        assert long.status_code == 200


def test_messages_per_request_and_per_conversation_limits(scorer: RiskScorer) -> None:
    msgs = [{"sender": "a", "text": f"m{i}"} for i in range(3)]
    with TestClient(
        create_app(_settings(max_messages_per_request=2, max_messages_per_conversation=4), scorer)
    ) as c:
        r = c.post("/v1/conversations/c/messages", json={"messages": msgs})
        assert r.status_code == 422
        assert r.json()["detail"][0]["loc"] == ["body", "messages"]
        assert "limit of 2 per request" in r.json()["detail"][0]["msg"]
        for _ in range(2):
            assert c.post("/v1/conversations/c/messages", json={"messages": msgs[:2]}).status_code == 200
        over = c.post("/v1/conversations/c/messages", json={"messages": msgs[:1]})
        assert over.status_code == 422
        assert "would have 5 messages" in over.json()["detail"][0]["msg"]
        assert c.get("/v1/conversations/c").json()["message_count"] == 4
        whole = {"conversation_id": "w", "messages": [*msgs, *msgs]}
        too_long = c.post("/v1/score", json={"conversations": [whole]})
        assert too_long.status_code == 422
        assert too_long.json()["detail"][0]["loc"] == ["body", "conversations", 0, "messages"]


def test_conversations_per_request_limit(scorer: RiskScorer) -> None:
    with TestClient(create_app(_settings(max_conversations_per_request=2), scorer)) as c:
        r = c.post("/v1/score", json=_payload(toy_conversations(1)[:3]))
        assert r.status_code == 422
        assert r.json()["detail"][0]["loc"] == ["body", "conversations"]
        assert "limit of 2" in r.json()["detail"][0]["msg"]
        assert c.post("/v1/score", json=_payload(toy_conversations(1)[:2])).status_code == 200


def test_conversation_id_length_is_bounded(client: TestClient) -> None:
    r = client.post(
        f"/v1/conversations/{'x' * 300}/messages", json={"messages": [{"sender": "a", "text": "hi"}]}
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["path", "conversation_id"]


# Metrics and docs ----------------------------------------------------------------------------


def _metric(text: str, line_start: str) -> float:
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(line_start)]
    assert values, f"no metric line starts with {line_start}"
    return sum(values)


def test_metrics_count_requests_flags_model_and_evictions(scorer: RiskScorer) -> None:
    with TestClient(create_app(_settings(max_conversations=2), scorer)) as c:
        convs = toy_conversations(1)
        scored = c.post("/v1/score", json=_payload(convs)).json()["assessments"]
        for i in range(3):
            c.post(f"/v1/conversations/s{i}/messages", json={"messages": _messages(convs[3], 0, 2)})
        c.post("/v1/score", json={"nope": 1})
        assert c.get("/v1/unknown-route-4471").status_code == 404
        assert c.get("/docs").status_code == 200
        text = c.get("/metrics").text
    n_flagged = sum(a["flagged"] for a in scored)
    assert (
        _metric(text, 'grooming_risk_http_requests_total{method="POST",route="/v1/score",status="200"}') == 1
    )
    assert (
        _metric(text, 'grooming_risk_http_requests_total{method="POST",route="/v1/score",status="422"}') == 1
    )
    route = "/v1/conversations/{conversation_id}/messages"
    assert (
        _metric(text, f'grooming_risk_http_requests_total{{method="POST",route="{route}",status="200"}}') == 3
    )
    assert "s0" not in text  # ids never become labels
    assert "unknown-route-4471" not in text
    assert (
        _metric(text, 'grooming_risk_http_requests_total{method="GET",route="unmatched",status="404"}') == 1
    )
    assert _metric(text, 'grooming_risk_http_requests_total{method="GET",route="/docs",status="200"}') == 1
    assert _metric(text, 'grooming_risk_assessments_total{path="score"}') == len(convs)
    assert _metric(text, 'grooming_risk_flagged_total{path="score"}') == n_flagged
    assert _metric(text, 'grooming_risk_state_evictions_total{reason="lru"}') == 1
    assert _metric(text, "grooming_risk_active_conversations") == 2
    assert _metric(text, f'grooming_risk_model_info{{model_version="{scorer.model_version}"}}') == 1
    assert (
        _metric(text, 'grooming_risk_http_request_duration_seconds_count{method="POST",route="/v1/score"}')
        == 2
    )
    assert _metric(text, 'grooming_risk_batch_size_count{batcher="score"}') >= 1


def test_openapi_documents_bodies_and_errors(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    score = spec["paths"]["/v1/score"]["post"]
    body = score["requestBody"]["content"]["application/json"]
    assert (
        body["schema"]["properties"]["conversations"]["items"]["$ref"] == "#/components/schemas/Conversation"
    )
    assert body["example"]["conversations"][0]["conversation_id"] == "chat-123"
    for ref in ("Conversation", "Message", "Assessment", "Evidence"):
        assert ref in spec["components"]["schemas"]
    assert {"401", "403", "413", "422"} <= set(score["responses"])
    assert "requestBody" in spec["paths"]["/v1/conversations/{conversation_id}/messages"]["post"]
    assert client.get("/docs").status_code == 200


def test_docs_work_offline(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    # Every script and stylesheet the page loads is served by the service itself.
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets
    assert all(a.startswith("/") for a in assets), assets
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.content) > 100
    assert client.get("/redoc").status_code == 404


def test_concurrent_appends_to_one_conversation_apply_in_order(scorer: RiskScorer) -> None:
    import httpx

    conv = toy_conversations(1)[3]

    async def run() -> list[httpx.Response]:
        app = create_app(_settings(), scorer)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
                posts = [
                    c.post(
                        "/v1/conversations/order/messages",
                        json={"messages": _messages(conv, i, i + 1), "start_index": i},
                    )
                    for i in range(len(conv.messages))
                ]
                responses = await asyncio.gather(*posts)
                responses.append(await c.post("/v1/score", json=_payload([conv])))
                return responses

    *appends, whole = asyncio.run(run())
    assert [r.status_code for r in appends] == [200] * len(conv.messages), [r.text for r in appends]
    assert [r.json()["message_count"] for r in appends] == list(range(1, len(conv.messages) + 1))
    assert appends[-1].json()["assessment"]["risk"] == pytest.approx(
        whole.json()["assessments"][0]["risk"], abs=1e-6
    )


def test_concurrent_requests_share_one_encoder_call(scorer: RiskScorer) -> None:
    import httpx

    sizes: list[int] = []

    class Recording(RiskScorer):
        def advance(self, items: Any) -> Any:
            sizes.append(len(items))
            return super().advance(items)

    recording = Recording(scorer.meta, scorer.backend, scorer.artifact_dir)
    conv = toy_conversations(1)[0]

    async def run() -> list[int]:
        # A long window: the batch is sent as soon as it holds max_batch_items, so nobody waits for it.
        app = create_app(_settings(batch_window_ms=10_000, max_batch_items=4), recording)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
                posts = [
                    c.post(f"/v1/conversations/b{i}/messages", json={"messages": _messages(conv, 0, 2)})
                    for i in range(4)
                ]
                return [r.status_code for r in await asyncio.gather(*posts)]

    assert asyncio.run(run()) == [200] * 4
    assert sizes == [4]
