"""Ingest: idempotent, keeps history, queues only flagged threads, loses nothing acknowledged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.conversation import Conversation
from grooming_risk.review import ingest as ingest_module
from grooming_risk.review.ingest import ingest_files, ingest_pairs
from grooming_risk.review.models import AssessmentRecord, Thread, ThreadCategory
from grooming_risk.review.store import QueueFilters, ReviewStore
from tests.review.factories import GROOMING_LINES, benign_pair, conversation, grooming_pair, sextortion_pair


def _count(store: ReviewStore, model: type) -> int:
    with store.reading() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_stores_all_and_queues_only_flagged(store: ReviewStore) -> None:
    result = ingest_pairs(store, [grooming_pair(), sextortion_pair(), benign_pair()])
    assert (result.created, result.queued, result.errors) == (3, 2, [])
    assert _count(store, Thread) == 3
    queue = store.queue(QueueFilters())
    assert [r.conversation_id for r in queue.rows] == ["conv-sext-1", "conv-groom-1"]  # urgent first


def test_same_pairs_twice_create_no_duplicates(store: ReviewStore) -> None:
    pairs = [grooming_pair(), sextortion_pair(), benign_pair()]
    ingest_pairs(store, pairs)
    again = ingest_pairs(store, pairs)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert _count(store, Thread) == 3
    assert _count(store, AssessmentRecord) == 3


def test_newer_assessment_updates_the_thread_and_keeps_history(store: ReviewStore) -> None:
    ingest_pairs(store, [grooming_pair(model_version="m-1", risk=0.7)])
    result = ingest_pairs(store, [grooming_pair(model_version="m-2", risk=0.95)])
    assert result.updated == 1
    thread_id = store.find_thread("conv-groom-1")
    assert thread_id is not None
    detail = store.thread(thread_id)
    assert detail.assessment.model_version == "m-2"
    assert [h.model_version for h in detail.history] == ["m-2", "m-1"]
    assert detail.history[0].superseded_at is None
    assert detail.history[1].superseded_at is not None
    assert store.queue(QueueFilters()).rows[0].risk == pytest.approx(0.95)


def test_decided_thread_is_requeued_only_when_the_conversation_grew(store: ReviewStore, people: dict) -> None:
    ingest_pairs(store, [grooming_pair()])
    thread_id = store.find_thread("conv-groom-1")
    assert thread_id is not None
    store.decide(thread_id, people["alice"], "not_risky")
    ingest_pairs(store, [grooming_pair(model_version="m-2")])  # rescored, same messages
    assert store.thread(thread_id).status == "decided"
    longer = conversation("conv-groom-1", [*GROOMING_LINES, ("u_rex", "where do you live")])
    ingest_pairs(
        store, [(longer, grooming_pair(model_version="m-2")[1].model_copy(update={"risk_by_message": []}))]
    )
    assert store.thread(thread_id).status == "new"


def test_mismatched_pair_is_reported_and_skipped(store: ReviewStore) -> None:
    conv, assessment = grooming_pair()
    bad = assessment.model_copy(
        update={
            "evidence": [*assessment.evidence[:1], assessment.evidence[0].model_copy(update={"index": 99})]
        }
    )
    result = ingest_pairs(store, [(conv, bad), sextortion_pair()])
    assert result.created == 1
    assert len(result.errors) == 1
    assert "conv-groom-1" in result.errors[0]
    assert "evidence[1].index" in result.errors[0]
    assert "how old" not in result.errors[0]


def test_crash_mid_ingest_keeps_acknowledged_records(store: ReviewStore) -> None:
    acknowledged: list[str] = []

    def pairs() -> Iterator[tuple[Conversation, Assessment]]:
        yield grooming_pair("a-1")
        yield grooming_pair("a-2")
        raise RuntimeError("input stream broke")

    with pytest.raises(RuntimeError, match="input stream broke"):
        ingest_pairs(store, pairs(), on_commit=acknowledged.extend)
    assert acknowledged == ["a-1", "a-2"]
    assert store.find_thread("a-1") is not None
    assert store.find_thread("a-2") is not None


def test_failure_inside_a_record_leaves_no_partial_rows(
    store: ReviewStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = ingest_module.audit.append
    calls = {"n": 0}

    def failing_append(*args: object, **kwargs: object) -> object:
        # The third record fails after its thread and assessment rows were flushed.
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest_module.audit, "append", failing_append)
    acknowledged: list[str] = []
    with pytest.raises(OSError, match="disk full"):
        ingest_pairs(
            store,
            [grooming_pair("b-1"), grooming_pair("b-2"), grooming_pair("b-3")],
            on_commit=acknowledged.extend,
        )
    assert acknowledged == ["b-1", "b-2"]
    assert store.find_thread("b-3") is None
    assert _count(store, Thread) == 2
    assert _count(store, AssessmentRecord) == 2
    with store.reading() as session:
        orphans = session.execute(
            select(func.count())
            .select_from(ThreadCategory)
            .where(ThreadCategory.thread_id.not_in(select(Thread.id)))
        ).scalar_one()
    assert orphans == 0
    assert store.verify_audit().ok


def test_batched_commits_acknowledge_whole_batches(store: ReviewStore) -> None:
    batches: list[list[str]] = []
    result = ingest_pairs(
        store, [grooming_pair(f"c-{i}") for i in range(5)], batch_size=2, on_commit=batches.append
    )
    assert batches == [["c-0", "c-1"], ["c-2", "c-3"], ["c-4"]]
    assert result.acknowledged == [f"c-{i}" for i in range(5)]


def _write_jsonl(path: Path, rows: list[object]) -> None:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8"
    )


def test_ingest_files_joins_on_id_and_reports_bad_lines(store: ReviewStore, tmp_path: Path) -> None:
    pairs = [grooming_pair(), sextortion_pair(), benign_pair()]
    conversations = tmp_path / "conversations.jsonl"
    assessments = tmp_path / "assessments.jsonl"
    extra = conversation("conv-unscored", GROOMING_LINES[:2])
    _write_jsonl(
        conversations, [c.model_dump(mode="json") for c, _ in pairs] + [extra.model_dump(mode="json")]
    )
    _write_jsonl(
        assessments,
        [a.model_dump(mode="json") for _, a in pairs]
        + [
            "{not json",
            {"conversation_id": "conv-x", "risk": 2.0},
            {**pairs[0][1].model_dump(mode="json"), "conversation_id": "conv-missing"},
        ],
    )
    result = ingest_files(store, assessments, conversations)
    assert (result.created, result.queued) == (3, 2)
    assert result.conversations_without_assessment == 1
    joined = "\n".join(result.errors)
    assert f"{assessments}:4:" in joined
    assert "invalid JSON" in joined
    assert f"{assessments}:5:" in joined
    assert "risk" in joined
    assert "conv-missing" in joined
    assert "no conversation with this id" in joined
    again = ingest_files(store, assessments, conversations)
    assert (again.created, again.unchanged) == (0, 3)
