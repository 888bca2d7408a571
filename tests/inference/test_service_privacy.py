"""No conversation text in logs, errors or stored state; review forwarding stays off the request path."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.conversation import Conversation
from grooming_risk.inference.scorer import RiskScorer, StreamState
from grooming_risk.service.app import create_app
from grooming_risk.service.settings import ServiceSettings
from grooming_risk.service.state import InMemoryStateStore

MARKER = "periwinkle-otter-7731"


@pytest.fixture(scope="module")
def scorer(tiny_artifact: Path) -> RiskScorer:
    return RiskScorer.load(tiny_artifact)


def _conv(cid: str, text: str = f"see you at the {MARKER} later") -> dict[str, Any]:
    return {
        "conversation_id": cid,
        "messages": [{"sender": "a", "text": "hi"}, {"sender": "b", "text": text}],
    }


def test_conversation_text_never_reaches_logs_or_state(
    scorer: RiskScorer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = InMemoryStateStore(ttl_s=60, max_count=10)
    with TestClient(create_app(ServiceSettings(auth=False), scorer, state_store=store)) as c:
        assert c.post("/v1/score", json={"conversations": [_conv("p1")]}).status_code == 200
        r = c.post("/v1/conversations/p2/messages", json={"messages": _conv("p2")["messages"]})
        assert r.status_code == 200
        assert MARKER not in r.text
        bad = c.post("/v1/score", json={"conversations": [{"conversation_id": "p3", "messages": MARKER}]})
        assert bad.status_code == 422
        assert MARKER not in bad.text
        assert MARKER not in c.get("/metrics").text
        entry = store._entries["p2"][1]
        assert MARKER not in entry.to_json()
    assert "p2" in caplog.text  # ids are logged, so the capture did see the service's records
    assert MARKER not in caplog.text


class ExplodingScorer(RiskScorer):
    def score(self, conversations: Sequence[Conversation]) -> list[Assessment]:
        raise RuntimeError(f"could not encode {conversations[0].messages[-1].text!r}")


def test_an_unexpected_error_is_a_generic_500_without_text(
    scorer: RiskScorer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    exploding = ExplodingScorer(scorer.meta, scorer.backend, scorer.artifact_dir)
    app = create_app(ServiceSettings(auth=False), exploding)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post("/v1/score", json={"conversations": [_conv("e1")]})
        assert r.status_code == 500
        assert MARKER not in r.text
        metrics = c.get("/metrics").text
    assert 'route="/v1/score",status="500"' in metrics
    assert "RuntimeError" in caplog.text
    assert MARKER not in caplog.text


class FlagByIdScorer:
    """Flags conversations whose id starts with 'risky': enough to test forwarding without a model."""

    model_version = "fake-1"
    supports_streaming = False

    def score(self, conversations: Sequence[Conversation]) -> list[Assessment]:
        return [
            Assessment(
                conversation_id=c.conversation_id,
                risk=0.9 if c.conversation_id.startswith("risky") else 0.1,
                label="grooming" if c.conversation_id.startswith("risky") else "benign",
                flagged=c.conversation_id.startswith("risky"),
                urgent=False,
                categories={},
                model_version=self.model_version,
            )
            for c in conversations
        ]

    def new_state(self, conversation_id: str) -> StreamState:
        raise NotImplementedError("model kind 'fake' does not support streaming; use score()")


def test_only_flagged_conversations_are_forwarded_to_review() -> None:
    received: list[list[tuple[Conversation, Assessment]]] = []
    app = create_app(ServiceSettings(auth=False), FlagByIdScorer(), review_sink=received.append)  # type: ignore[arg-type]
    with TestClient(app) as c:
        body = {"conversations": [_conv("risky-1"), _conv("fine-1"), _conv("risky-2")]}
        r = c.post("/v1/score", json=body)
        assert r.status_code == 200
        assert [a["flagged"] for a in r.json()["assessments"]] == [True, False, True]
        assert c.post("/v1/score", json={"conversations": [_conv("fine-2")]}).status_code == 200
        metrics = c.get("/metrics").text
    assert len(received) == 1
    assert [(conv.conversation_id, a.conversation_id) for conv, a in received[0]] == [
        ("risky-1", "risky-1"),
        ("risky-2", "risky-2"),
    ]
    assert received[0][0][0].messages[1].text.endswith("later")  # the whole conversation goes to review
    assert 'grooming_risk_review_forwarded_total{outcome="ok"} 2.0' in metrics


def test_a_failing_review_store_does_not_fail_the_request(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    def broken_sink(pairs: list[tuple[Conversation, Assessment]]) -> None:
        raise ConnectionError(f"insert failed for {pairs[0][0].messages[1].text}")

    app = create_app(ServiceSettings(auth=False), FlagByIdScorer(), review_sink=broken_sink)  # type: ignore[arg-type]
    with TestClient(app) as c:
        r = c.post("/v1/score", json={"conversations": [_conv("risky-3")]})
        assert r.status_code == 200
        metrics = c.get("/metrics").text
    assert 'grooming_risk_review_forwarded_total{outcome="error"} 1.0' in metrics
    assert "ConnectionError" in caplog.text
    assert "risky-3" in caplog.text
    assert MARKER not in caplog.text


def test_review_db_without_the_review_package_fails_at_startup(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "grooming_risk.review.ingest", None)
    with pytest.raises(RuntimeError, match="review"):
        create_app(ServiceSettings(auth=False, review_db="sqlite:///x.db"), FlagByIdScorer())  # type: ignore[arg-type]


def test_a_model_that_cannot_stream_answers_501() -> None:
    with TestClient(create_app(ServiceSettings(auth=False), FlagByIdScorer())) as c:  # type: ignore[arg-type]
        r = c.post("/v1/conversations/n1/messages", json={"messages": [{"sender": "a", "text": "hi"}]})
        assert r.status_code == 501
        assert "use score()" in r.json()["detail"]
        assert c.get("/v1/conversations/n1").status_code == 404


def test_routes_answer_503_when_the_lifespan_did_not_run(scorer: RiskScorer) -> None:
    c = TestClient(create_app(ServiceSettings(auth=False), scorer))  # no `with`: no startup
    r = c.post("/v1/score", json={"conversations": [_conv("x")]})
    assert r.status_code == 503
    assert "lifespan" in r.json()["detail"]
