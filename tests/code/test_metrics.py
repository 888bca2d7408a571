"""Conversation-level metrics and the evaluation report, against hand-computed examples."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence

import pytest

from grooming_risk.contract.taxonomy import RISK_CATEGORIES
from grooming_risk.evaluation.metrics import (
    binary_scores,
    confusion_matrix,
    fbeta,
    fbeta_sets,
    hard_negative_fpr,
    is_single_class,
    per_category_scores,
    pr_auc,
    recall_at_precision,
    roc_auc,
)
from grooming_risk.evaluation.predictions import ConversationPrediction
from grooming_risk.evaluation.report import compare_reports, evaluate_predictions


def pred(
    cid: str,
    label: str,
    risks: Sequence[float],
    *,
    predicted: str | None = None,
    hard: bool = False,
    first: int | None = None,
    true_categories: frozenset[str] = frozenset(),
    probs: Mapping[str, float] | None = None,
) -> ConversationPrediction:
    return ConversationPrediction(
        conversation_id=cid,
        label=label,
        hard_negative=hard,
        first_risk_index=first,
        risk_by_message=list(risks),
        nonempty=[True] * len(risks),
        predicted_label=predicted or label,
        true_categories=true_categories,
        category_probs=dict(probs or {}),
    )


def test_fbeta_hand_computed() -> None:
    # P = 0.5, R = 1:
    # F1   = 2 * 0.5 * 1 / (0.5 + 1)               = 1 / 1.5     = 0.666667
    # F0.5 = 1.25 * 0.5 * 1 / (0.25 * 0.5 + 1)      = 0.625/1.125 = 0.555556
    # F3   = 10 * 0.5 * 1 / (9 * 0.5 + 1)           = 5 / 5.5     = 0.909091
    assert fbeta(0.5, 1.0, 1.0) == pytest.approx(2 / 3)
    assert fbeta(0.5, 1.0, 0.5) == pytest.approx(0.625 / 1.125)
    assert fbeta(0.5, 1.0, 3.0) == pytest.approx(5 / 5.5)
    assert fbeta(0.0, 0.0, 1.0) == 0.0
    assert math.isnan(fbeta(float("nan"), 1.0, 1.0))
    # The PAN 2012 winner: P 0.98, R 0.79 -> F0.5 = 1.25*0.98*0.79 / (0.25*0.98 + 0.79) = 0.96775/1.035 = 0.935
    assert fbeta(0.98, 0.79, 0.5) == pytest.approx(0.935024, abs=1e-6)
    with pytest.raises(ValueError, match="beta"):
        fbeta(0.5, 0.5, 0.0)


def test_fbeta_sets_pan_style() -> None:
    # predicted {a,b,c,d}, actual {a,b,e}: hits 2, P = 2/4 = 0.5, R = 2/3
    # F0.5 = 1.25 * 0.5 * (2/3) / (0.25*0.5 + 2/3) = 0.416667 / 0.791667 = 0.526316
    # F3   = 10 * 0.5 * (2/3) / (9*0.5 + 2/3)      = 3.333333 / 5.166667 = 0.645161
    predicted, actual = {"a", "b", "c", "d"}, {"a", "b", "e"}
    assert fbeta_sets(predicted, actual, 0.5) == pytest.approx(0.526316, abs=1e-6)
    assert fbeta_sets(predicted, actual, 3.0) == pytest.approx(0.645161, abs=1e-6)
    assert fbeta_sets(set(), actual, 0.5) == 0.0
    assert fbeta_sets(actual, actual, 3.0) == pytest.approx(1.0)


def test_ranking_metrics_hand_computed() -> None:
    labels, scores = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    # ROC-AUC = share of (positive, negative) pairs ranked right:
    # 0.35>0.1 yes, 0.35>0.4 no, 0.8>0.1 yes, 0.8>0.4 yes -> 3/4
    assert roc_auc(labels, scores) == pytest.approx(0.75)
    # AP: ranks 0.8(+) P=1 R=0.5; 0.4(-); 0.35(+) P=2/3 R=1 -> 0.5*1 + 0.5*2/3 = 0.833333
    assert pr_auc(labels, scores) == pytest.approx(5 / 6)


def test_ranking_metrics_single_class_are_nan() -> None:
    assert is_single_class([0, 0, 0])
    assert not is_single_class([0, 1])
    assert math.isnan(roc_auc([0, 0, 0], [0.1, 0.5, 0.9]))
    assert math.isnan(pr_auc([0, 0], [0.1, 0.5]))
    assert math.isnan(recall_at_precision([0, 0], [0.1, 0.5], 0.9))


def test_binary_scores_threshold_is_inclusive() -> None:
    # threshold 0.4 flags 0.4 (neg) and 0.8 (pos): tp 1, fp 1, fn 1 (0.35), tn 1 (0.1)
    # P = R = 0.5, F1 = F0.5 = 0.5, FPR = 1/2, flagged share 2/4
    counts = binary_scores([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.4)
    assert (counts.tp, counts.fp, counts.fn, counts.tn) == (1, 1, 1, 1)
    assert counts.precision == pytest.approx(0.5)
    assert counts.recall == pytest.approx(0.5)
    assert counts.f1 == pytest.approx(0.5)
    assert counts.f0_5 == pytest.approx(0.5)
    assert counts.fpr == pytest.approx(0.5)
    assert counts.flagged_share == pytest.approx(0.5)


def test_binary_scores_nothing_flagged() -> None:
    counts = binary_scores([0, 1], [0.1, 0.2], 0.9)
    assert math.isnan(counts.precision)  # undefined: nothing flagged
    assert counts.recall == 0.0
    assert counts.f1 == 0.0  # positives were there and none was found


def test_recall_at_precision_hand_computed() -> None:
    labels = [1, 1, 0, 1, 0, 0]
    scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    # t=0.9: P 1, R 1/3; t=0.8: P 1, R 2/3; t=0.7: P 2/3; t=0.6: P 3/4, R 1; t=0.5: P 3/5; t=0.4: P 1/2
    assert recall_at_precision(labels, scores, 0.9) == pytest.approx(2 / 3)
    assert recall_at_precision(labels, scores, 0.95) == pytest.approx(2 / 3)
    assert recall_at_precision(labels, scores, 0.75) == pytest.approx(1.0)
    # The top score is a negative: no real operating point reaches P 0.9 -> 0
    assert recall_at_precision([0, 1], [0.9, 0.1], 0.9) == 0.0


def test_hard_negative_fpr() -> None:
    # hard negatives that are benign: scores 0.6 and 0.2; the hard-flagged positive (0.9) is not a negative.
    # at 0.5: 1 of 2 flagged -> 0.5
    labels, scores, hard = [0, 0, 0, 1], [0.6, 0.2, 0.9, 0.9], [True, True, False, True]
    assert hard_negative_fpr(labels, scores, hard, 0.5) == pytest.approx(0.5)
    assert hard_negative_fpr(labels, scores, hard, 0.6) == pytest.approx(0.5)  # inclusive
    assert hard_negative_fpr(labels, scores, hard, 0.7) == 0.0
    assert math.isnan(hard_negative_fpr(labels, scores, [False] * 4, 0.5))


def test_per_category_hand_computed() -> None:
    base = dict.fromkeys(RISK_CATEGORIES, 0.0)
    preds = [
        pred("a", "grooming", [0.9], true_categories=frozenset({"secrecy"}), probs={**base, "secrecy": 0.7}),
        pred("b", "grooming", [0.9], true_categories=frozenset({"secrecy"}), probs={**base, "secrecy": 0.3}),
        pred("c", "benign", [0.1], probs={**base, "secrecy": 0.5}),
    ]
    rows = {r["category"]: r for r in per_category_scores(preds)}
    # secrecy: a TP, b FN, c FP (0.5 counts as predicted) -> P 1/2, R 1/2, F1 1/2, support 2, predicted 2
    secrecy = rows["secrecy"]
    assert (secrecy["precision"], secrecy["recall"], secrecy["f1"]) == pytest.approx((0.5, 0.5, 0.5))
    assert (secrecy["support"], secrecy["predicted"]) == (2, 2)
    # age_probing: never present, never predicted -> nothing to score
    assert rows["age_probing"]["support"] == 0
    assert math.isnan(float(rows["age_probing"]["f1"]))


def test_per_category_partial_probabilities_is_an_error() -> None:
    preds = [pred("conv-7", "benign", [0.1], probs={"secrecy": 0.2})]
    with pytest.raises(ValueError, match=r"conv-7.*category_probs.*age_probing"):
        per_category_scores(preds)
    assert per_category_scores([pred("conv-8", "benign", [0.1])]) == []


def test_confusion_matrix_rows_true_columns_predicted() -> None:
    preds = [
        pred("1", "grooming", [0.9], predicted="grooming"),
        pred("2", "grooming", [0.9], predicted="sextortion"),
        pred("3", "sextortion", [0.9], predicted="sextortion"),
        pred("4", "benign", [0.9], predicted="grooming"),
        pred("5", "benign", [0.1], predicted="benign"),
    ]
    confusion = confusion_matrix(preds)
    assert confusion["labels"] == ["grooming", "sextortion", "benign"]
    assert confusion["matrix"] == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"label": "unknown"}, "label"),
        ({"predicted_label": "risky"}, "predicted_label"),
        ({"nonempty": [True]}, "nonempty"),
        ({"risk_by_message": [0.2, 1.5]}, r"risk_by_message\[1\]"),
        ({"first_risk_index": 2}, "first_risk_index"),
        ({"true_categories": frozenset({"weather"})}, "true_categories"),
        ({"category_probs": {"secrecy": -0.1}}, "category_probs"),
    ],
)
def test_prediction_validation_names_record_and_field(kwargs: dict[str, object], field: str) -> None:
    fields: dict[str, object] = {
        "conversation_id": "conv-42",
        "label": "grooming",
        "hard_negative": False,
        "first_risk_index": None,
        "risk_by_message": [0.2, 0.4],
        "nonempty": [True, True],
        "predicted_label": "benign",
        "true_categories": frozenset(),
        "category_probs": {},
    }
    fields.update(kwargs)
    with pytest.raises(ValueError, match=rf"conv-42.*{field}"):
        ConversationPrediction(**fields)  # type: ignore[arg-type]


def _report_set() -> list[ConversationPrediction]:
    return [
        pred("g1", "grooming", [0.1, 0.6, 0.8], first=1),
        pred("s1", "sextortion", [0.2, 0.9], first=1, predicted="sextortion"),
        pred("g2", "grooming", [0.1, 0.3], first=0, predicted="benign"),
        pred("b1", "benign", [0.1, 0.7], hard=True, predicted="grooming"),
        pred("b2", "benign", [0.1, 0.2], hard=True),
        pred("b3", "benign", [0.05]),
    ]


def test_evaluate_predictions_hand_computed() -> None:
    report = evaluate_predictions(_report_set(), {"review": 0.5, "urgent": 0.75})
    m = report.metrics
    # final scores: g1 .8, s1 .9, g2 .3 | b1 .7, b2 .2, b3 .05
    # review 0.5 flags g1, s1, b1: P 2/3, R 2/3; urgent 0.75 flags g1, s1: P 1, R 2/3
    assert (m["n_conversations"], m["n_positive"], m["n_hard_negative"]) == (6, 3, 2)
    assert m["review_precision"] == pytest.approx(2 / 3)
    assert m["review_recall"] == pytest.approx(2 / 3)
    assert m["urgent_precision"] == pytest.approx(1.0)
    assert m["hard_negative_fpr_review"] == pytest.approx(0.5)  # b1 of (b1, b2)
    assert m["hard_negative_fpr_urgent"] == 0.0
    # ROC-AUC: positives .8 .9 .3 vs negatives .7 .2 .05: wrong pairs only (.3 < .7) -> 8/9
    assert m["roc_auc"] == pytest.approx(8 / 9)
    # s=1 warnings at review 0.5: g1 at index 1 (k 2, delay 2-1 = 1), s1 at 1 (k 2, delay 1), b1 FP.
    assert m["f1_s1"] == pytest.approx(2 / 3)
    assert m["median_latency_s1"] == 2.0
    assert m["median_delay_s1"] == 1.0
    assert report.latencies == [2, 2]
    assert report.delays == [1, 1]
    assert m["single_class"] == 0.0
    for key in (
        "pr_auc",
        "brier",
        "ece",
        "recall_at_p90",
        "recall_at_p95",
        "latency_f1_s5",
        "erde5",
        "erde50",
    ):
        assert key in m
    assert report.confusion["matrix"] == [[1, 0, 1], [0, 1, 0], [1, 0, 2]]
    assert report.per_category == []
    assert any("per-category" in note for note in report.notes)


def test_report_markdown_and_json() -> None:
    report = evaluate_predictions(_report_set(), {"review": 0.5, "urgent": 0.75})
    markdown = report.to_markdown()
    assert "| review | 0.500 | 0.667 | 0.667 |" in markdown
    assert "### Early detection" in markdown
    json.dumps(report.to_dict(), allow_nan=False)  # NaN became null
    table = compare_reports({"model": report, "baseline": report}, keys=("roc_auc", "review_recall"))
    assert table.splitlines()[0] == "| metric | model | baseline |"
    assert "| roc_auc | 0.889 | 0.889 |" in table


def test_report_single_class_is_flagged_not_crashing() -> None:
    preds = [pred("b1", "benign", [0.1]), pred("b2", "benign", [0.6])]
    report = evaluate_predictions(preds, {"review": 0.5, "urgent": 0.9})
    assert report.metrics["single_class"] == 1.0
    assert math.isnan(report.metrics["roc_auc"])
    assert math.isnan(report.metrics["review_recall"])
    assert report.metrics["review_fpr"] == pytest.approx(0.5)
    assert any("one class" in note for note in report.notes)
    assert "n/a" in report.to_markdown()


def test_report_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match="urgent"):
        evaluate_predictions(_report_set(), {"review": 0.5})
    with pytest.raises(ValueError, match="at least one"):
        evaluate_predictions([], {"review": 0.5, "urgent": 0.9})
    with pytest.raises(ValueError, match="'g1' appears more than once"):
        evaluate_predictions([*_report_set(), pred("g1", "benign", [0.1])], {"review": 0.5, "urgent": 0.9})
