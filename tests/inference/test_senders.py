"""Per-participant risk (`Assessment.senders`) and sender profiles across conversations."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from grooming_risk.contract.assessment import Assessment, SenderRisk
from grooming_risk.contract.conversation import Message
from grooming_risk.contract.taxonomy import RISK_CATEGORIES
from grooming_risk.inference.assessment_builder import AssessmentBuilder, BuilderState
from grooming_risk.inference.backend import Trajectory
from grooming_risk.inference.scorer import RiskScorer
from grooming_risk.inference.sender_profiles import ProfileBook
from tests.conftest import toy_conversations
from tests.parity import RISK_TOLERANCE

C = len(RISK_CATEGORIES)


def _builder(tiny_artifact: Path) -> AssessmentBuilder:
    builder = RiskScorer.load(tiny_artifact).builder
    builder.temperature = 1.0
    return builder


def _messages(*senders: str) -> list[Message]:
    return [Message(sender=s, text="-") for s in senders]


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def test_model_evidence_is_credited_to_its_sender(tiny_artifact: Path) -> None:
    builder = _builder(tiny_artifact)
    evidence = np.array([0.6, 0.0, 0.5, 0.0], dtype=np.float32)
    # The conversation risk an evidence-tied model would give: the riskiest sender's noisy-OR.
    risk = [_logit(max(p, 1e-5)) for p in (0.6, 0.6, 0.8, 0.8)]
    cats = np.zeros((4, C), dtype=np.float32)
    cats[2, RISK_CATEGORIES.index("secrecy")] = 0.9
    traj = Trajectory(np.array(risk, dtype=np.float32), np.zeros(4, np.float32), cats, evidence)
    state = BuilderState()
    risks = builder.extend(state, traj, _messages("rex", "mia", "rex", "mia"))
    assessment = builder.assessment("c", state, risks)
    top, other = assessment.senders
    assert (top.sender, top.role, top.messages) == ("rex", "initiator", 2)
    assert top.risk == pytest.approx(0.8, abs=1e-5)
    assert top.risk == pytest.approx(assessment.risk, abs=1e-5)
    assert [e.index for e in top.evidence] == [0, 2]
    assert top.categories == ["secrecy"]
    assert (other.sender, other.role) == ("mia", "second")
    assert other.risk < 1e-4
    assert not other.evidence
    assert not other.categories


def test_without_evidence_the_sender_whose_messages_look_like_warning_signs_ranks_first(
    tiny_artifact: Path,
) -> None:
    builder = _builder(tiny_artifact)
    # Nobody crosses the evidence floor: every sender's risk is 0, a tie.
    evidence = np.zeros(4, dtype=np.float32)
    risk = np.full(4, _logit(1e-5), dtype=np.float32)
    cats = np.zeros((4, C), dtype=np.float32)
    cats[1, RISK_CATEGORIES.index("age_probing")] = 0.2  # below "present", still the strongest hint
    traj = Trajectory(risk, np.zeros(4, np.float32), cats, evidence)
    state = BuilderState()
    builder.extend(state, traj, _messages("kid", "stranger", "kid", "friend"))
    ranked = [s.sender for s in builder.assessment("c", state).senders]
    assert ranked[0] == "stranger"
    # With no hint at all, the first to appear still wins.
    assert ranked[1:] == ["kid", "friend"]


def test_platt_calibration_moves_conversation_and_sender_risk_alike(tiny_artifact: Path) -> None:
    builder = _builder(tiny_artifact)
    builder.temperature, builder.bias = 2.0, -1.5
    evidence = np.array([0.6, 0.0, 0.5, 0.0], dtype=np.float32)
    raw = [_logit(max(p, 1e-5)) for p in (0.6, 0.6, 0.8, 0.8)]
    traj = Trajectory(
        np.array(raw, dtype=np.float32), np.zeros(4, np.float32), np.zeros((4, C), np.float32), evidence
    )
    state = BuilderState()
    risks = builder.extend(state, traj, _messages("rex", "mia", "rex", "mia"))
    expected = 1 / (1 + math.exp(-(_logit(0.8) / 2.0 - 1.5)))
    assert risks[-1] == pytest.approx(expected, abs=1e-5)
    top = builder.assessment("c", state, risks).senders[0]
    # The suspected sender stays on the conversation's scale: the same map, the same risk.
    assert top.risk == pytest.approx(expected, abs=1e-5)


def test_without_model_evidence_each_rise_is_credited_to_its_sender(tiny_artifact: Path) -> None:
    builder = _builder(tiny_artifact)
    # The risk rises on the second participant's messages only (a model without an evidence head).
    risk = [0.1, 0.1, 0.1, 0.55, 0.55, 0.775]
    traj = Trajectory(
        np.array([_logit(p) for p in risk], dtype=np.float32),
        np.zeros(6, np.float32),
        np.zeros((6, C), np.float32),
    )
    state = BuilderState()
    risks = builder.extend(state, traj, _messages("a", "b", "a", "b", "a", "b"))
    assessment = builder.assessment("c", state, risks)
    assert [s.sender for s in assessment.senders] == ["b", "a"]
    # b raised 0.1 -> 0.55 (half of what was left) and 0.55 -> 0.775 (half again): 1 - 0.5 * 0.5.
    assert assessment.senders[0].risk == pytest.approx(0.75, abs=1e-5)
    # a sent the first message (0 -> 0.1) and nothing after.
    assert assessment.senders[1].risk == pytest.approx(0.1, abs=1e-5)
    assert all(s.risk <= assessment.risk for s in assessment.senders)


def test_no_messages_means_no_senders(tiny_artifact: Path) -> None:
    builder = _builder(tiny_artifact)
    traj = Trajectory(np.zeros(2, np.float32), np.zeros(2, np.float32), np.zeros((2, C), np.float32))
    state = BuilderState()
    assert builder.assessment("c", state, builder.extend(state, traj)).senders == []
    with pytest.raises(ValueError, match="1 messages for a trajectory of 2"):
        builder.extend(BuilderState(), traj, _messages("a"))


def test_streamed_and_whole_conversations_give_the_same_participants(tiny_artifact: Path) -> None:
    scorer = RiskScorer.load(tiny_artifact)
    for conversation in toy_conversations(1)[:6]:
        [whole] = scorer.score([conversation])
        session = scorer.stream(conversation.conversation_id)
        for message in conversation.messages:
            streamed = session.add(message)
        assert [s.sender for s in whole.senders] == [s.sender for s in streamed.senders] or all(
            a.risk == pytest.approx(b.risk, abs=RISK_TOLERANCE)
            for a, b in zip(whole.senders, streamed.senders, strict=True)
        )
        by_sender = {s.sender: s for s in streamed.senders}
        for s in whole.senders:
            assert by_sender[s.sender].risk == pytest.approx(s.risk, abs=RISK_TOLERANCE)
            assert by_sender[s.sender].messages == s.messages
            assert [e.index for e in by_sender[s.sender].evidence] == [e.index for e in s.evidence]
        assert sum(s.messages for s in whole.senders) == len(conversation.messages)
        assert {s.sender for s in whole.senders} == set(conversation.senders())


def _assessment(cid: str, senders: list[tuple[str, float]], *, risk: float | None = None) -> Assessment:
    top = max((r for _, r in senders), default=0.0) if risk is None else risk
    return Assessment(
        conversation_id=cid,
        risk=top,
        label="grooming" if top >= 0.5 else "benign",
        flagged=top >= 0.5,
        urgent=top >= 0.9,
        categories=dict.fromkeys(RISK_CATEGORIES, 0.0),
        model_version="m",
        senders=[
            SenderRisk(
                sender=s,
                role=("initiator", "second", "other")[min(i, 2)],
                risk=r,
                messages=3,
                categories=["age_probing"] if r >= 0.2 else [],
            )
            for i, (s, r) in enumerate(sorted(senders, key=lambda x: -x[1]))
        ],
    )


def test_many_small_signs_outrank_one_larger_one_and_chatter_does_not_add_up() -> None:
    book = ProfileBook()
    for k in range(3):  # a sender probing ages in three chats, none of them flagged
        book.add(_assessment(f"probe-{k}", [("prober", 0.35), (f"kid-{k}", 0.01)]))
    book.add(_assessment("one", [("once", 0.6), ("kid-x", 0.0)]))
    for k in range(200):  # an ordinary sender in many chats: each below the floor
        book.add(_assessment(f"chat-{k}", [("chatty", 0.04), (f"friend-{k}", 0.01)]))
    ranked = book.ranked()
    assert [p.sender for p in ranked[:2]] == ["prober", "once"]
    prober = ranked[0]
    assert prober.conversations == 3
    assert prober.suspected_in == 0
    assert prober.combined_risk == pytest.approx(1 - 0.65**3, abs=1e-6)
    assert prober.categories == ["age_probing"]
    chatty = book.profile("chatty")
    assert chatty is not None
    assert chatty.conversations == 200
    assert chatty.combined_risk == 0.0
    assert book.profile("nobody") is None


def test_a_later_assessment_of_a_conversation_replaces_the_earlier() -> None:
    book = ProfileBook()
    book.add(_assessment("c1", [("rex", 0.2), ("mia", 0.0)]))
    book.add(_assessment("c1", [("rex", 0.9), ("mia", 0.0)]))
    profile = book.profile("rex")
    assert profile is not None
    assert (profile.conversations, profile.max_risk, profile.suspected_in) == (1, 0.9, 1)
    assert profile.conversation_ids == ["c1"]


def test_senders_command_ranks_and_reports_bad_records(tmp_path: Path) -> None:
    from grooming_risk.cli.main import app

    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    rows = [_assessment(f"c{k}", [("repeat", 0.7), (f"kid{k}", 0.0)]) for k in range(3)]
    first.write_text("".join(r.model_dump_json() + "\n" for r in rows) + '{"conversation_id": "bad"}\n')
    second.write_text(_assessment("d", [("single", 0.95), ("kid9", 0.0)]).model_dump_json() + "\nnot json\n")
    out = tmp_path / "senders.jsonl"
    result = CliRunner().invoke(app, ["senders", str(first), str(second), "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert f"{first}:4: conversation 'bad': field risk:" in result.output
    assert f"{second}:2:" in result.output
    assert "invalid JSON" in result.output
    profiles = [json.loads(line) for line in out.read_text().splitlines()]
    assert [p["sender"] for p in profiles[:2]] == ["repeat", "single"]
    assert profiles[0]["conversations"] == 3
    assert profiles[0]["suspected_in"] == 3
    assert profiles[0]["conversation_ids"] == ["c0", "c1", "c2"]
    # Kids who sent nothing risky are still profiled, at the bottom.
    assert {p["sender"] for p in profiles} >= {"kid0", "kid9"}
    ok = CliRunner().invoke(
        app, ["senders", str(first), "-o", str(tmp_path / "top.parquet"), "--top", "1", "--skip-invalid"]
    )
    assert ok.exit_code == 0, ok.output
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "top.parquet").column("sender").to_pylist() == ["repeat"]


def test_participant_metrics_score_people() -> None:
    from grooming_risk.contract.conversation import Conversation
    from grooming_risk.evaluation.participants import participant_metrics

    def conv(cid: str, senders: list[str], first_risk: int | None) -> Conversation:
        return Conversation(
            conversation_id=cid,
            messages=[Message(sender=s, text="-") for s in senders],
            label="benign" if first_risk is None else "grooming",
            first_risk_index=first_risk,
        )

    pairs = [
        # The offender is found and flagged in both of his chats.
        (conv("a", ["rex", "mia", "rex"], 2), _assessment("a", [("rex", 0.8), ("mia", 0.0)])),
        (conv("b", ["kai", "rex"], 1), _assessment("b", [("rex", 0.7), ("kai", 0.01)])),
        # The wrong participant comes first here: the child is blamed, the offender missed.
        (conv("c", ["vex", "ana"], 0), _assessment("c", [("ana", 0.6), ("vex", 0.3)])),
        (conv("d", ["ben", "joe"], None), _assessment("d", [("ben", 0.01), ("joe", 0.0)])),
    ]
    m = participant_metrics(pairs, review_threshold=0.5)
    assert m["top_sender_accuracy"] == pytest.approx(2 / 3)
    assert (m["n_authors"], m["n_offenders"], m["authors_flagged"]) == (7, 2, 2)
    assert m["author_precision"] == pytest.approx(0.5)  # rex right, ana wrong
    assert m["author_recall"] == pytest.approx(0.5)  # vex missed
    assert m["author_f05"] == pytest.approx(0.5)


def test_the_demo_sample_includes_a_returning_offender() -> None:
    from grooming_risk.cli.demo_sample import pick
    from grooming_risk.data.synth import SynthConfig, generate

    split = list(generate(30, 7, SynthConfig(repeat_offender_share=0.0)))
    conversations = list(generate(200, 31, SynthConfig(repeat_offender_share=0.5)))
    chosen = pick(split, 10, conversations)
    assert [c.conversation_id for c in chosen[:10]] == [c.conversation_id for c in split[:10]]
    assert len(chosen) > 10
    offenders = [
        c.messages[c.first_risk_index].sender for c in chosen if c.is_risky and c.first_risk_index is not None
    ]
    assert max(offenders.count(o) for o in offenders) >= 2
