"""RiskScorer: batch and streaming agree, assessments are well formed, state survives serialisation."""

import json
from pathlib import Path

import pytest

from grooming_risk.contract.assessment import Assessment
from grooming_risk.inference.scorer import RiskScorer, StreamState
from tests.conftest import toy_conversations
from tests.parity import assert_same_assessments


@pytest.fixture(scope="module")
def scorer(tiny_artifact: Path) -> RiskScorer:
    return RiskScorer.load(tiny_artifact)


def test_one_assessment_per_conversation_in_order(scorer: RiskScorer) -> None:
    convs = toy_conversations(2)
    out = scorer.score(convs)
    assert [a.conversation_id for a in out] == [c.conversation_id for c in convs]
    for conv, a in zip(convs, out, strict=True):
        assert len(a.risk_by_message) == len(conv.messages)
        assert a.risk == a.risk_by_message[-1]
        assert a.flagged == (a.risk >= scorer.thresholds["review"])
        assert a.urgent == (a.risk >= scorer.thresholds["urgent"])
        assert (a.label.value == "benign") == (not a.flagged)
        assert len(a.evidence) <= 5
        assert all(0 <= e.index < len(conv.messages) and e.score > 0 for e in a.evidence)
        if a.first_alert_index is not None:
            assert a.risk_by_message[a.first_alert_index] >= scorer.thresholds["review"]
            assert all(r < scorer.thresholds["review"] for r in a.risk_by_message[: a.first_alert_index])
        assert set(a.categories) == set(scorer.meta.categories)
        # The decision is made once, in the scorer, in taxonomy order; evidence names only those.
        assert a.categories_present == [c for c in scorer.meta.categories if a.categories[c] >= 0.5]
        assert all(set(e.categories) <= set(a.categories_present) for e in a.evidence)


def test_batch_size_does_not_change_results(scorer: RiskScorer) -> None:
    convs = toy_conversations(2)
    one = list(scorer.score_iter(convs, batch_size=1))
    many = list(scorer.score_iter(convs, batch_size=64))
    assert_same_assessments(one, many, scorer.thresholds)


def test_streaming_equals_batch(scorer: RiskScorer) -> None:
    for conv in toy_conversations(1):
        whole = scorer.score([conv])[0]
        session = scorer.stream(conv.conversation_id)
        for message in conv.messages:
            streamed = session.add(message)
        assert streamed.risk == pytest.approx(whole.risk, abs=1e-6)
        assert streamed.flagged == whole.flagged
        assert streamed.first_alert_index == whole.first_alert_index
        assert [e.index for e in streamed.evidence] == [e.index for e in whole.evidence]


def test_stream_state_survives_json(scorer: RiskScorer) -> None:
    conv = toy_conversations(1)[3]
    state = scorer.new_state(conv.conversation_id)
    for message in conv.messages:
        state = StreamState.from_dict(json.loads(json.dumps(state.to_dict())))
        [(state, assessment)] = scorer.advance([(state, [message])])
    assert assessment.risk == pytest.approx(scorer.score([conv])[0].risk, abs=1e-6)
    assert state.n_messages == len(conv.messages)


def test_advance_many_conversations_at_once(scorer: RiskScorer) -> None:
    convs = toy_conversations(1)
    states = [scorer.new_state(c.conversation_id) for c in convs]
    results = scorer.advance([(s, c.messages) for s, c in zip(states, convs, strict=True)])
    batch = scorer.score(convs)
    for (_, streamed), whole in zip(results, batch, strict=True):
        assert streamed.risk == pytest.approx(whole.risk, abs=1e-6)


def test_assessment_json_round_trip(scorer: RiskScorer) -> None:
    a = scorer.score(toy_conversations(1)[:1])[0]
    assert Assessment.model_validate_json(a.model_dump_json()) == a
