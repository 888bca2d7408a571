"""Fair service: appends never wait behind bulk work, backpressure is 429, retries are exactly-once.

The probe's repros: a 10,000-message /v1/score beside a one-message append, and an append whose
answer is lost after its state was stored (what kill -9 does; the real kill -9 with Redis is in
test_service_kill.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.conversation import Conversation, Message
from grooming_risk.inference.scorer import RiskScorer, StreamState
from grooming_risk.service.app import create_app
from grooming_risk.service.scheduler import Lane, ModelThread
from grooming_risk.service.settings import ServiceSettings
from grooming_risk.service.state import ConversationEntry, InMemoryStateStore
from tests.parity import assert_same_assessments

SECONDS_PER_MESSAGE = 0.0003  # 10,000 messages: 3 s of "model" time


class SlowScorer(RiskScorer):
    """The tiny model, slowed per message and recording which conversations each call held."""

    calls: list[tuple[str, int]]

    def _record(self, ids: Sequence[str], n_messages: int) -> None:
        kind = "stream" if all(i.startswith("live") for i in ids) else "bulk"
        self.calls.append((kind, n_messages))
        time.sleep(SECONDS_PER_MESSAGE * n_messages)

    def score(self, conversations: Sequence[Conversation]) -> list[Assessment]:
        self._record([c.conversation_id for c in conversations], sum(len(c.messages) for c in conversations))
        return super().score(conversations)

    def advance(
        self, items: Sequence[tuple[StreamState, Sequence[Message]]]
    ) -> list[tuple[StreamState, Assessment]]:
        self._record([s.conversation_id for s, _ in items], sum(len(m) for _, m in items))
        return super().advance(items)


@pytest.fixture
def slow(tiny_artifact: Path) -> SlowScorer:
    base = RiskScorer.load(tiny_artifact)
    scorer = SlowScorer(base.meta, base.backend, base.artifact_dir)
    scorer.calls = []
    return scorer


def _bulk(shape: str) -> list[dict[str, Any]]:
    """10,000 messages: one long conversation, or 40 of 250."""
    n_convs, length = (1, 10_000) if shape == "one long" else (40, 250)
    return [
        {
            "conversation_id": f"bulk-{c}",
            "messages": [{"sender": "ab"[i % 2], "text": f"line {i} of chat {c}"} for i in range(length)],
        }
        for c in range(n_convs)
    ]


@pytest.mark.parametrize("shape", ["one long", "many"])
def test_a_stream_append_does_not_wait_behind_a_10000_message_bulk_request(
    slow: SlowScorer, shape: str
) -> None:
    conversations = _bulk(shape)
    bulk_answer: dict[str, Any] = {}
    with TestClient(create_app(ServiceSettings(auth=False), slow)) as client:

        def run_bulk() -> None:
            bulk_answer["response"] = client.post("/v1/score", json={"conversations": conversations})

        bulk = threading.Thread(target=run_bulk)
        bulk.start()
        deadline = time.monotonic() + 30
        while not slow.calls and time.monotonic() < deadline:  # the bulk work has started
            time.sleep(0.005)
        append = client.post(
            "/v1/conversations/live-1/messages",
            json={"messages": [{"sender": "a", "text": "hi there"}], "start_index": 0},
        )
        bulk_still_running = bulk.is_alive()
        bulk.join(timeout=120)
    assert append.status_code == 200, append.text
    assert bulk_answer["response"].status_code == 200
    stream_at = slow.calls.index(("stream", 1))
    # The append ran between bulk calls, with bulk work still to do after it.
    assert any(kind == "bulk" for kind, _ in slow.calls[stream_at + 1 :]), slow.calls
    assert bulk_still_running
    # Every bulk call stayed within the budget, so an append waits at most one of them.
    assert max(n for kind, n in slow.calls if kind == "bulk") <= ServiceSettings().bulk_call_messages
    # Chunked bulk scoring equals scoring each conversation whole.
    got = [Assessment.model_validate(a) for a in bulk_answer["response"].json()["assessments"]]
    want = RiskScorer.score(slow, [Conversation.model_validate(c) for c in conversations])
    assert_same_assessments(got, want, slow.thresholds)
    assert all(len(a.risk_by_message) == len(c["messages"]) for a, c in zip(got, conversations, strict=True))


def test_the_model_thread_runs_stream_calls_before_queued_bulk_calls() -> None:
    thread = ModelThread()
    order: list[str] = []
    gate = threading.Event()
    try:
        first = thread.submit(Lane.BULK, gate.wait, 10)
        while not first.running():
            time.sleep(0.001)
        queued = [thread.submit(Lane.BULK, order.append, f"bulk-{i}") for i in range(3)]
        streams = [thread.submit(Lane.STREAM, order.append, f"stream-{i}") for i in range(2)]
        assert thread.queued(Lane.BULK) == 3
        assert thread.queued(Lane.STREAM) == 2
        gate.set()
        for future in [first, *queued, *streams]:
            future.result(timeout=10)
    finally:
        thread.shutdown()
    assert order == ["stream-0", "stream-1", "bulk-0", "bulk-1", "bulk-2"]


def test_an_error_in_a_model_call_reaches_its_caller_and_the_thread_goes_on() -> None:
    thread = ModelThread()
    try:
        failing = thread.submit(Lane.STREAM, int, "not a number")
        with pytest.raises(ValueError, match="invalid literal"):
            failing.result(timeout=10)
        assert thread.submit(Lane.BULK, int, "7").result(timeout=10) == 7
    finally:
        thread.shutdown()


def test_a_full_lane_answers_429_with_retry_after(slow: SlowScorer) -> None:
    settings = ServiceSettings(auth=False, max_queued_bulk_messages=1_000, max_queued_stream_messages=1)
    with TestClient(create_app(settings, slow)) as client:
        held: dict[str, Any] = {}

        def run_bulk() -> None:
            held["response"] = client.post("/v1/score", json={"conversations": _bulk("many")[:8]})

        bulk = threading.Thread(target=run_bulk)
        bulk.start()
        while not slow.calls:
            time.sleep(0.005)
        # An empty lane admits one request of any size; behind it, the queue is full.
        refused = client.post("/v1/score", json={"conversations": _bulk("many")[:1]})
        bulk.join(timeout=60)
        metrics = client.get("/metrics").text
    assert held["response"].status_code == 200
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["Retry-After"]) >= 1
    assert "retry after" in refused.json()["detail"]
    assert 'grooming_risk_rejected_total{lane="bulk"} 1.0' in metrics


def test_too_many_messages_in_one_score_request_is_422_naming_the_limit(slow: SlowScorer) -> None:
    settings = ServiceSettings(auth=False, max_messages_per_score_request=300)
    with TestClient(create_app(settings, slow)) as client:
        response = client.post("/v1/score", json={"conversations": _bulk("many")[:2]})
    assert response.status_code == 422
    assert "500 messages in all, more than the limit of 300" in response.text
    assert slow.calls == []


@pytest.fixture
def client(tiny_artifact: Path) -> Iterator[TestClient]:
    with TestClient(create_app(ServiceSettings(auth=False), RiskScorer.load(tiny_artifact))) as c:
        yield c


MESSAGES = [{"sender": "a", "text": "hey"}, {"sender": "b", "text": "hello"}, {"sender": "a", "text": "gg"}]


def test_a_retried_append_is_answered_from_state_not_applied_twice(client: TestClient) -> None:
    first = client.post("/v1/conversations/r1/messages", json={"messages": MESSAGES[:2], "start_index": 0})
    retry = client.post("/v1/conversations/r1/messages", json={"messages": MESSAGES[:2], "start_index": 0})
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert client.get("/v1/conversations/r1").json()["message_count"] == 2
    # Different messages at the same index are not a retry: the client is out of step.
    other = client.post("/v1/conversations/r1/messages", json={"messages": MESSAGES[2:], "start_index": 0})
    assert other.status_code == 409
    # Only the latest append can be replayed; an older one is out of step too.
    client.post("/v1/conversations/r1/messages", json={"messages": MESSAGES[2:], "start_index": 2})
    stale = client.post("/v1/conversations/r1/messages", json={"messages": MESSAGES[:2], "start_index": 0})
    assert stale.status_code == 409
    assert "grooming_risk_append_replays_total 1.0" in client.get("/metrics").text


class DiesAfterWriting(InMemoryStateStore):
    """Stores the append, then fails as a process killed before answering would."""

    armed = False

    async def put(self, conversation_id: str, entry: ConversationEntry, expected_count: int) -> bool:
        written = await super().put(conversation_id, entry, expected_count)
        if self.armed:
            self.armed = False
            raise ConnectionError("killed after the write, before the answer")
        return written


def test_an_append_whose_answer_was_lost_is_exactly_once_on_retry(tiny_artifact: Path) -> None:
    scorer = RiskScorer.load(tiny_artifact)
    store = DiesAfterWriting(ttl_s=60, max_count=10)
    app = create_app(ServiceSettings(auth=False), scorer, state_store=store)
    with TestClient(app, raise_server_exceptions=False) as c:
        c.post("/v1/conversations/k1/messages", json={"messages": MESSAGES[:1], "start_index": 0})
        store.armed = True
        lost = c.post("/v1/conversations/k1/messages", json={"messages": MESSAGES[1:], "start_index": 1})
        assert lost.status_code == 500
        retry = c.post("/v1/conversations/k1/messages", json={"messages": MESSAGES[1:], "start_index": 1})
        assert retry.status_code == 200, retry.text
        assert retry.json()["message_count"] == 3
        whole = c.post("/v1/score", json={"conversations": [{"conversation_id": "k1", "messages": MESSAGES}]})
    assert retry.json()["assessment"]["risk"] == pytest.approx(
        whole.json()["assessments"][0]["risk"], abs=1e-5
    )
