"""Sender profiles: ingest fills per-thread participants, the store aggregates them per sender."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from grooming_risk.review.auth import AccountInfo
from grooming_risk.review.errors import NotFoundError
from grooming_risk.review.ingest import ingest_pairs
from grooming_risk.review.models import ThreadSender
from grooming_risk.review.store import QueueFilters, ReviewStore, sender_key
from grooming_risk.review.store.senders import combined_risk
from tests.review.factories import (
    GROOMING_LINES,
    T0,
    assessment,
    benign_pair,
    conversation,
    grooming_pair,
    sextortion_pair,
    with_child,
)

People = dict[str, AccountInfo]
EVIDENCE = [(2, 0.2, ["age_probing"]), (5, 0.25, ["secrecy", "isolation"]), (8, 0.15, ["platform_migration"])]


def rex_pairs(risks: tuple[float, ...] = (0.9, 0.8, 0.6)) -> list:
    """u_rex in one conversation per risk, each with another child, a day apart."""
    pairs = []
    for k, risk in enumerate(risks):
        conv = conversation(
            f"rex-{k + 1}",
            with_child(GROOMING_LINES, f"u_child{k + 1}"),
            start=T0 + timedelta(days=k),
        )
        evidence = EVIDENCE if k != 1 else [(8, 0.3, ["platform_migration"])]
        pairs.append((conv, assessment(conv, risk=risk, evidence=evidence, senders=True, actions=True)))
    return pairs


def _rows(store: ReviewStore, thread_id: int) -> list[ThreadSender]:
    with store.reading() as session:
        return list(
            session.execute(
                select(ThreadSender).where(ThreadSender.thread_id == thread_id).order_by(ThreadSender.rank)
            ).scalars()
        )


def test_ingest_stores_each_participant_with_role_risk_and_suspicion(store: ReviewStore) -> None:
    ingest_pairs(store, [grooming_pair(senders=True), benign_pair(senders=True)])
    groom, benign = store.find_thread("conv-groom-1"), store.find_thread("conv-benign-1")
    assert groom is not None
    assert benign is not None
    rows = _rows(store, groom)
    assert [(r.sender, r.role, r.rank, r.is_suspected) for r in rows] == [
        ("u_rex", "initiator", 0, True),
        ("u_mia", "second", 1, False),
    ]
    assert rows[0].risk == pytest.approx(0.9)
    assert rows[0].messages == 7
    assert rows[0].first_sent_at == T0
    assert rows[0].last_sent_at == T0 + timedelta(minutes=9)
    assert rows[0].sender_sha256 == sender_key("u_rex")
    # Not flagged: nobody is the suspected party, though the riskiest one still ranks first.
    assert not any(r.is_suspected for r in _rows(store, benign))


def test_a_newer_assessment_replaces_the_participants(store: ReviewStore) -> None:
    ingest_pairs(store, [grooming_pair(senders=True)])
    thread_id = store.find_thread("conv-groom-1")
    assert thread_id is not None
    conv, _ = grooming_pair()
    ingest_pairs(
        store, [(conv, assessment(conv, risk=0.7, model_version="m-2", senders=True, suspected="u_mia"))]
    )
    rows = _rows(store, thread_id)
    assert [(r.sender, r.risk) for r in rows] == [("u_mia", 0.7), ("u_rex", pytest.approx(0.02))]
    # An assessment from a scorer without per-sender output leaves no participants.
    ingest_pairs(store, [grooming_pair(model_version="m-3")])
    assert _rows(store, thread_id) == []
    assert store.thread(thread_id).sender_conversations == {}


def test_old_records_without_senders_ingest_and_have_empty_sender_features(store: ReviewStore) -> None:
    result = ingest_pairs(store, [grooming_pair(), sextortion_pair()])
    assert (result.created, result.errors) == (2, [])
    thread_id = store.find_thread("conv-groom-1")
    assert thread_id is not None
    detail = store.thread(thread_id)
    assert detail.assessment.senders == []
    assert detail.sender_conversations == {}
    row = store.queue(QueueFilters()).rows[1]
    assert (row.top_sender, row.top_sender_risk) == (None, None)
    assert row.leading_categories == ["secrecy", "isolation", "age_probing"]
    assert store.senders().total == 0
    with pytest.raises(NotFoundError):
        store.sender_profile("u_rex")


def test_repeated_sender_keeps_the_first_and_bad_sender_evidence_is_reported(store: ReviewStore) -> None:
    conv, base = grooming_pair(senders=True)
    doubled = base.model_copy(update={"senders": [base.senders[0], base.senders[0], base.senders[1]]})
    assert ingest_pairs(store, [(conv, doubled)]).errors == []
    thread_id = store.find_thread("conv-groom-1")
    assert thread_id is not None
    assert [r.sender for r in _rows(store, thread_id)] == ["u_rex", "u_mia"]

    conv2, good = sextortion_pair(senders=True)
    broken_evidence = good.senders[0].evidence[0].model_copy(update={"index": 50})
    bad = good.model_copy(
        update={
            "senders": [good.senders[0].model_copy(update={"evidence": [broken_evidence]}), good.senders[1]]
        }
    )
    result = ingest_pairs(store, [(conv2, bad)])
    assert result.created == 0
    assert "senders[0].evidence[0].index" in result.errors[0]


def test_queue_rows_name_the_top_sender_and_leading_signs(store: ReviewStore) -> None:
    ingest_pairs(store, [grooming_pair(senders=True), sextortion_pair(senders=True)])
    rows = {r.conversation_id: r for r in store.queue(QueueFilters()).rows}
    assert (rows["conv-sext-1"].top_sender, rows["conv-sext-1"].top_sender_risk) == ("u_vex", 0.97)
    assert rows["conv-sext-1"].leading_categories == ["threat_coercion", "financial_demand", "image_request"]
    assert rows["conv-groom-1"].top_sender == "u_rex"
    assert len(rows["conv-groom-1"].leading_categories) == 3


def test_sender_profile_aggregates_threads_risk_categories_and_decisions(
    store: ReviewStore, people: People
) -> None:
    ingest_pairs(store, [*rex_pairs((0.9, 0.6, 0.03)), sextortion_pair(senders=True)])
    ids = {cid: store.find_thread(cid) for cid in ("rex-1", "rex-2", "rex-3")}
    store.decide(ids["rex-1"], people["alice"], "confirmed_grooming", ["age_probing"])  # type: ignore[arg-type]
    store.decide(ids["rex-2"], people["alice"], "needs_second_review")  # type: ignore[arg-type]
    store.decide(ids["rex-2"], people["bob"], "escalate")  # type: ignore[arg-type]

    profile = store.sender_profile("u_rex")
    assert profile.sender == "u_rex"
    assert profile.conversations == 3
    assert [t.conversation_id for t in profile.threads] == ["rex-1", "rex-2", "rex-3"]  # oldest first
    assert [t.risk for t in profile.threads] == [0.9, 0.6, 0.03]
    assert profile.max_risk == 0.9
    # 0.03 is under the floor: 1 - (1 - 0.9) * (1 - 0.6)
    assert profile.combined_risk == pytest.approx(1 - 0.1 * 0.4)
    assert profile.suspected_in == 3
    assert profile.first_seen == T0
    assert profile.last_seen == T0 + timedelta(days=2, minutes=9)
    assert profile.categories == {
        "platform_migration": 3,
        "age_probing": 2,
        "secrecy": 2,
        "isolation": 2,
    }
    assert [(d.conversation_id, d.decision.decision.value) for d in profile.decisions] == [
        ("rex-2", "escalate"),
        ("rex-2", "needs_second_review"),
        ("rex-1", "confirmed_grooming"),
    ]
    latest = {t.conversation_id: t.latest_decision for t in profile.threads}
    assert {k: v.value if v else None for k, v in latest.items()} == {
        "rex-1": "confirmed_grooming",
        "rex-2": "escalate",
        "rex-3": None,
    }
    # A child's profile holds their one thread, at low risk and never suspected.
    child = store.sender_profile("u_child2")
    assert (child.conversations, child.suspected_in, child.combined_risk) == (1, 0, 0.0)
    # Each thread view counts the sender's conversations.
    assert store.thread(ids["rex-3"]).sender_conversations == {"u_rex": 3, "u_child3": 1}  # type: ignore[arg-type]


def test_unknown_and_oversized_sender_ids_are_not_found(store: ReviewStore) -> None:
    ingest_pairs(store, rex_pairs())
    for unknown in ("u_nobody", "", "x" * 4096, "u_rex/../u_rex"):
        with pytest.raises(NotFoundError) as caught:
            store.sender_profile(unknown)
        assert "x" * 100 not in str(caught.value)


def test_senders_are_ranked_by_combined_then_max_risk_then_id_and_paged(store: ReviewStore) -> None:
    pairs = [*rex_pairs((0.9, 0.8)), sextortion_pair(senders=True)]
    # Two senders with the same combined and max risk: the id decides.
    for name, child in (("u_bb", "u_k1"), ("u_aa", "u_k2")):
        conv = conversation(f"t-{name}", [(name, "hi"), (child, "hey")])
        pairs.append((conv, assessment(conv, risk=0.9, evidence=[(0, 0.3, ["age_probing"])], senders=True)))
    ingest_pairs(store, pairs)
    page = store.senders(limit=4)
    assert page.total == 9  # u_rex, 2 children, u_vex, u_kai, u_aa, u_bb, u_k1, u_k2
    assert [r.sender for r in page.rows] == ["u_rex", "u_vex", "u_aa", "u_bb"]
    rex = page.rows[0]
    assert rex.combined_risk == pytest.approx(combined_risk([0.9, 0.8])) == pytest.approx(0.98)
    assert (rex.conversations, rex.suspected_in, rex.max_risk) == (2, 2, 0.9)
    assert rex.last_seen == T0 + timedelta(days=1, minutes=9)
    rest = store.senders(limit=4, offset=4)
    assert len(rest.rows) == 4
    assert store.senders(limit=4, offset=8).rows[-1].combined_risk == 0.0
    assert not {r.sender for r in rest.rows} & {r.sender for r in page.rows}
    assert store.senders(offset=1000).rows == []


def test_combined_risk_ignores_low_risks_and_saturates_below_one() -> None:
    assert combined_risk([]) == 0.0
    assert combined_risk([0.04, 0.01]) == 0.0
    assert combined_risk([0.5, 0.5]) == pytest.approx(0.75)
    assert 0.99 < combined_risk([1.0, 1.0]) <= 1.0
