"""Queue, claims, reveals and decisions: the workflow rules the store enforces."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from grooming_risk.review.auth import AccountInfo
from grooming_risk.review.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from grooming_risk.review.ingest import ingest_pairs
from grooming_risk.review.store import QueueFilters, ReviewStore
from tests.review.factories import grooming_pair

People = dict[str, AccountInfo]


def test_queue_sorted_by_urgency_then_risk_and_filterable(store: ReviewStore, people: People) -> None:
    ingest_pairs(
        store,
        [
            grooming_pair("g-low", risk=0.6, model_version="m-1"),
            grooming_pair("g-high", risk=0.95, model_version="m-2"),
            grooming_pair("g-urgent", risk=0.7, urgent=True, model_version="m-1"),
        ],
    )
    rows = store.queue(QueueFilters()).rows
    assert [r.conversation_id for r in rows] == ["g-urgent", "g-high", "g-low"]
    assert [r.conversation_id for r in store.queue(QueueFilters(model_version="m-2")).rows] == ["g-high"]
    assert store.queue(QueueFilters(category="secrecy")).total == 3
    assert store.queue(QueueFilters(category="financial_demand")).total == 0
    assert store.queue(QueueFilters(platform="social_dm")).total == 0
    thread_id = store.find_thread("g-low")
    assert thread_id is not None
    store.decide(thread_id, people["alice"], "not_risky")
    assert store.queue(QueueFilters()).total == 2
    assert [r.conversation_id for r in store.queue(QueueFilters(status="decided")).rows] == ["g-low"]
    with pytest.raises(InvalidInputError):
        QueueFilters(category="nonsense")


def test_claim_refused_when_held_unless_lead_takes_over(
    store: ReviewStore, people: People, seeded: dict[str, int]
) -> None:
    groom = seeded["groom"]
    store.claim(groom, people["alice"])
    store.claim(groom, people["alice"])  # claiming your own thread again is fine
    with pytest.raises(ConflictError, match="claimed by alice"):
        store.claim(groom, people["bob"])
    with pytest.raises(ConflictError):
        store.claim(groom, people["bob"], take_over=True)  # reviewers cannot take over
    with pytest.raises(ConflictError):
        store.decide(groom, people["bob"], "not_risky")
    store.claim(groom, people["lena"], take_over=True)
    assert store.thread(groom).assignee == "lena"
    store.assign(groom, people["lena"], "bob")
    assert store.thread(groom).assignee == "bob"
    with pytest.raises(PermissionDeniedError):
        store.assign(groom, people["alice"], "alice")
    with pytest.raises(PermissionDeniedError):
        store.release(groom, people["alice"])
    store.release(groom, people["bob"])
    assert store.thread(groom).assignee is None


def test_unflagged_threads_cannot_be_claimed(
    store: ReviewStore, people: People, seeded: dict[str, int]
) -> None:
    with pytest.raises(ConflictError, match="not flagged"):
        store.claim(seeded["benign"], people["alice"])
    with pytest.raises(NotFoundError):
        store.claim(9999, people["alice"])


def test_thread_detail_has_no_text_and_reveal_needs_the_claim(
    store: ReviewStore, people: People, seeded: dict[str, int]
) -> None:
    groom = seeded["groom"]
    detail = store.thread(groom)
    assert "how old" not in repr(detail)
    assert [m.index for m in detail.messages if m.is_evidence] == [2, 5, 8]
    assert detail.messages[5].is_first_alert
    with pytest.raises(PermissionDeniedError, match="claim"):
        store.reveal(groom, people["alice"], [2])
    store.claim(groom, people["alice"])
    assert [m.text for m in store.reveal(groom, people["alice"], [2])] == ["how old are you btw"]
    assert len(store.reveal(groom, people["alice"], None)) == 10
    with pytest.raises(InvalidInputError, match="messages 0-9"):
        store.reveal(groom, people["alice"], [10])
    with pytest.raises(PermissionDeniedError):
        store.reveal(groom, people["bob"], [2])
    assert store.reveal(groom, people["lena"], [3])[0].index == 3  # leads may look at any thread


def test_decide_releases_and_second_review_needs_other_eyes(
    store: ReviewStore, people: People, seeded: dict[str, int]
) -> None:
    groom = seeded["groom"]
    store.claim(groom, people["alice"])
    store.decide(groom, people["alice"], "needs_second_review", ["age_probing"], "unsure")
    detail = store.thread(groom)
    assert (detail.status, detail.assignee) == ("second_review", None)
    with pytest.raises(PermissionDeniedError, match="different reviewer"):
        store.decide(groom, people["alice"], "confirmed_grooming")
    decision = store.decide(groom, people["bob"], "confirmed_grooming", ["age_probing", "secrecy"])
    assert decision.categories == ["age_probing", "secrecy"]
    assert store.thread(groom).status == "decided"
    with pytest.raises(ConflictError, match="only a lead"):
        store.decide(groom, people["bob"], "not_risky")
    store.decide(groom, people["lena"], "escalate")
    assert store.thread(groom).status == "escalated"
    assert [d.decision.value for d in store.thread(groom).decisions] == [
        "needs_second_review",
        "confirmed_grooming",
        "escalate",
    ]


def test_decide_validates_its_input(store: ReviewStore, people: People, seeded: dict[str, int]) -> None:
    with pytest.raises(InvalidInputError, match="decision 'maybe'"):
        store.decide(seeded["groom"], people["alice"], "maybe")
    with pytest.raises(InvalidInputError, match="category 'lying'"):
        store.decide(seeded["groom"], people["alice"], "not_risky", ["lying"])
    with pytest.raises(InvalidInputError, match="note"):
        store.decide(seeded["groom"], people["alice"], "not_risky", [], "x" * 5000)


def test_lead_stats_per_model_version_and_category(store: ReviewStore, people: People) -> None:
    clock = {"now": datetime(2025, 5, 1, 9, 0, tzinfo=UTC)}
    store.clock = lambda: clock["now"]
    ingest_pairs(
        store,
        [
            grooming_pair("s-1", model_version="m-1"),
            grooming_pair("s-2", model_version="m-1"),
            grooming_pair("s-3", model_version="m-2"),
            grooming_pair("s-4", model_version="m-2"),
        ],
    )
    ids = {cid: store.find_thread(cid) for cid in ("s-1", "s-2", "s-3", "s-4")}
    clock["now"] += timedelta(minutes=10)
    store.decide(ids["s-1"], people["alice"], "confirmed_grooming", ["age_probing"])  # type: ignore[arg-type]
    clock["now"] += timedelta(minutes=20)
    store.decide(ids["s-2"], people["alice"], "not_risky")  # type: ignore[arg-type]
    clock["now"] += timedelta(minutes=30)
    store.decide(ids["s-3"], people["alice"], "escalate", ["secrecy"])  # type: ignore[arg-type]
    store.decide(ids["s-4"], people["alice"], "needs_second_review")  # type: ignore[arg-type]
    stats = store.lead_stats()
    assert (stats.queue_open, stats.queue_second_review, stats.decided, stats.escalated) == (1, 1, 2, 1)
    assert stats.median_time_to_decision == timedelta(minutes=30)  # 10, 30, 60 minutes
    by_version = {row.key: (row.decided, row.confirmed) for row in stats.by_model_version}
    assert by_version == {"m-1": (2, 1), "m-2": (1, 1)}
    assert stats.overall.share == pytest.approx(2 / 3)
    by_category = {row.category: row for row in stats.by_category}
    assert (by_category["age_probing"].decided, by_category["age_probing"].confirmed) == (3, 2)
    assert by_category["age_probing"].category_kept == 1
    assert by_category["secrecy"].category_kept == 1
    assert by_category["platform_migration"].category_kept == 0


def test_concurrent_claims_and_audit_appends_stay_consistent(
    store: ReviewStore, people: People, seeded: dict[str, int]
) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    groom, sext = seeded["groom"], seeded["sext"]
    barrier = threading.Barrier(6)
    reviewers = [people["alice"], people["bob"]] * 3

    def claim(actor: AccountInfo) -> str:
        barrier.wait()
        try:
            store.claim(groom, actor)
        except ConflictError:
            return "refused"
        return actor.username

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(claim, reviewers))
    holder = store.thread(groom).assignee
    assert holder in ("alice", "bob")
    assert outcomes.count("refused") == 3  # the other reviewer's three tries
    assert set(outcomes) == {holder, "refused"}

    def reveal_many(_: int) -> None:
        for _ in range(5):
            store.reveal(sext, people["lena"], [0])

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(reveal_many, range(4)))
    result = store.verify_audit()
    assert result.ok, str(result)
    assert sum(1 for e in store.audit_log(limit=500) if e.action == "reveal") == 20
