"""What "the same result" means across batch sizes, engines and processes.

Float sums depend on batch composition and thread scheduling, so risks may differ in the last
digits: they are compared within `RISK_TOLERANCE` (the README's parity promise). Decisions (label,
flagged, urgent) must agree exactly, except where the risk lies within the tolerance of a threshold,
where either side of it is a correct answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from grooming_risk.contract.assessment import Assessment

RISK_TOLERANCE = 1e-5


def _near(value: float, thresholds: Mapping[str, float]) -> bool:
    return any(abs(value - t) <= RISK_TOLERANCE for t in thresholds.values())


def assert_same_assessment(
    got: Assessment | dict[str, Any], expected: Assessment, thresholds: Mapping[str, float]
) -> None:
    a = got if isinstance(got, Assessment) else Assessment.model_validate(got)
    assert a.conversation_id == expected.conversation_id
    assert a.model_version == expected.model_version
    assert a.risk == pytest.approx(expected.risk, abs=RISK_TOLERANCE)
    assert a.risk_by_message == pytest.approx(expected.risk_by_message, abs=RISK_TOLERANCE)
    assert a.categories == pytest.approx(expected.categories, abs=RISK_TOLERANCE)
    if not _near(expected.risk, thresholds):
        assert (a.label, a.flagged, a.urgent) == (expected.label, expected.flagged, expected.urgent)
    if not any(_near(r, thresholds) for r in expected.risk_by_message):
        assert a.first_alert_index == expected.first_alert_index
    assert_same_senders(a, expected)


def assert_same_senders(got: Assessment, expected: Assessment) -> None:
    """The same participants, roles and message counts, risks within the tolerance (compared by
    sender, since two equal risks may come out in either order)."""
    by_sender = {s.sender: s for s in got.senders}
    assert by_sender.keys() == {s.sender for s in expected.senders}
    for want in expected.senders:
        have = by_sender[want.sender]
        assert (have.role, have.messages) == (want.role, want.messages)
        assert have.risk == pytest.approx(want.risk, abs=RISK_TOLERANCE)


def assert_same_assessments(
    got: Sequence[Assessment | dict[str, Any]],
    expected: Sequence[Assessment],
    thresholds: Mapping[str, float],
) -> None:
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        assert_same_assessment(a, b, thresholds)


def assert_same_output_row(
    row: Mapping[str, Any], expected: Assessment, thresholds: Mapping[str, float]
) -> None:
    """A pyfunc / Spark output row: its assessment JSON matches, and its flat columns repeat it."""
    assessment = Assessment.model_validate_json(row["assessment"])
    assert_same_assessment(assessment, expected, thresholds)
    assert row["risk"] == pytest.approx(expected.risk, abs=RISK_TOLERANCE)
    flat = (row["label"], row["flagged"], row["urgent"], row["model_version"])
    assert flat == (assessment.label.value, assessment.flagged, assessment.urgent, assessment.model_version)
