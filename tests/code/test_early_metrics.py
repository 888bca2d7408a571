"""Latency-weighted F1 and ERDE against hand-computed examples."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from grooming_risk.evaluation.early import LATENCY_P, erde, first_warning, latency_f1, latency_penalty
from grooming_risk.evaluation.predictions import ConversationPrediction


def pred(
    cid: str,
    label: str,
    risks: Sequence[float],
    *,
    first: int | None = None,
    nonempty: Sequence[bool] | None = None,
) -> ConversationPrediction:
    return ConversationPrediction(
        conversation_id=cid,
        label=label,
        hard_negative=False,
        first_risk_index=first,
        risk_by_message=list(risks),
        nonempty=list(nonempty) if nonempty is not None else [True] * len(risks),
        predicted_label=label,
        true_categories=frozenset(),
        category_probs={},
    )


def test_penalty_matches_the_paper() -> None:
    # p = ln 3 / 89 = 0.0123440; penalty(1) = -1 + 2/2 = 0; penalty(90) = -1 + 2/(1 + 1/3) = 0.5
    assert pytest.approx(0.012344, abs=1e-6) == LATENCY_P
    assert latency_penalty(1) == 0.0
    assert latency_penalty(90) == pytest.approx(0.5)
    assert latency_penalty(10_000) == pytest.approx(1.0)


def test_warning_window_slides() -> None:
    # threshold 0.5, s=2, window=3: predictions T F F T T
    # windows: [T]=1, [T,F]=1, [T,F,F]=1, [F,F,T]=1 (the first T left the window), [F,T,T]=2 -> fires at msg 5
    p = pred("a", "grooming", [0.9, 0.1, 0.1, 0.9, 0.9])
    point = first_warning(p, 0.5, s=2, window=3)
    assert point is not None
    assert (point.index, point.k) == (4, 5)
    # with a window of 4 the first T is still inside at message 4
    point4 = first_warning(p, 0.5, s=2, window=4)
    assert point4 is not None
    assert (point4.index, point4.k) == (3, 4)


def test_empty_messages_make_no_prediction() -> None:
    # message 1 is empty: its 0.9 is ignored. Predictions at messages 0 (T), 2 (F), 3 (T) -> s=2 fires at
    # full index 3, which is the 3rd non-empty message (k = 3).
    p = pred("a", "grooming", [0.9, 0.9, 0.1, 0.9], nonempty=[True, False, True, True])
    point = first_warning(p, 0.5, s=2, window=10)
    assert point is not None
    assert (point.index, point.k) == (3, 3)
    assert first_warning(pred("b", "grooming", [0.9], nonempty=[False]), 0.5, s=1) is None


def _collection() -> list[ConversationPrediction]:
    return [
        # fires at index 1 (k 2); first risk at 1 -> delay (1 + 1) - 1 = 1
        pred("A", "grooming", [0.1, 0.6, 0.7], first=1),
        # fires at index 89 (k 90); first risk at 80 -> delay 90 - 80 = 10
        pred("B", "sextortion", [0.1] * 89 + [0.9], first=80),
        pred("C", "grooming", [0.1, 0.2]),  # never fires: false negative
        pred("D", "benign", [0.6]),  # fires at once: false positive
        pred("E", "benign", [0.1]),  # true negative
    ]


def test_latency_f1_hand_computed() -> None:
    result = latency_f1(_collection(), threshold=0.5, s=1, window=10)
    # tp 2 (A, B), fp 1 (D), fn 1 (C), tn 1 (E): P = R = F1 = 2/3
    assert (result.tp, result.fp, result.fn, result.tn) == (2, 1, 1, 1)
    assert result.precision == pytest.approx(2 / 3)
    assert result.recall == pytest.approx(2 / 3)
    assert result.f1 == pytest.approx(2 / 3)
    # penalty(2) = -1 + 2/(1 + exp(-0.012344)) = 0.0061719; penalty(90) = 0.5
    # median = (0.0061719 + 0.5) / 2 = 0.2530860; speed = 0.7469140; F_latency = 2/3 * speed = 0.4979427
    assert result.speed == pytest.approx(0.7469140, abs=1e-6)
    assert result.latency_f1 == pytest.approx(0.4979427, abs=1e-6)
    assert result.median_latency == 46.0  # median of k = 2 and 90
    assert result.latencies == [2, 90]
    assert result.delays == [1, 10]
    assert result.median_delay == 5.5
    assert result.warnings == {"A": 1, "B": 89, "C": None, "D": 0, "E": None}


def test_latency_f1_without_true_positives_has_zero_speed() -> None:
    result = latency_f1([pred("A", "grooming", [0.1]), pred("B", "benign", [0.9])], threshold=0.5, s=1)
    assert result.speed == 0.0
    assert result.f1 == 0.0
    assert result.latency_f1 == 0.0
    assert math.isnan(result.median_latency)


def test_latency_f1_rejects_bad_rule() -> None:
    with pytest.raises(ValueError, match="s: expected"):
        latency_f1(_collection(), threshold=0.5, s=11, window=10)
    with pytest.raises(ValueError, match="appears more than once"):
        latency_f1([*_collection(), pred("A", "benign", [0.1])], threshold=0.5)


def test_erde_hand_computed() -> None:
    preds = _collection()
    # c_fp = share of positives = 3/5 = 0.6
    # ERDE_5: A TP k=2: 1 - 1/(1 + e^(2-5)) = 1/(1 + e^3) = 0.0474259; B TP k=90: ~1.0;
    #         C FN 1; D FP 0.6; E TN 0 -> (0.0474259 + 1 + 1 + 0.6) / 5 = 0.5294852
    assert erde(preds, 0.5, 5, s=1) == pytest.approx(0.5294852, abs=1e-6)
    # ERDE_50: A costs 1/(1 + e^48) ~ 0, B 1/(1 + e^-40) ~ 1 -> (0 + 1 + 1 + 0.6) / 5 = 0.52
    assert erde(preds, 0.5, 50, s=1) == pytest.approx(0.52, abs=1e-9)
    # an explicit c_fp replaces the collection share: (0.0474259 + 1 + 1 + 0.1) / 5 = 0.4294852
    assert erde(preds, 0.5, 5, s=1, c_fp=0.1) == pytest.approx(0.4294852, abs=1e-6)
    assert math.isnan(erde([], 0.5, 5))
