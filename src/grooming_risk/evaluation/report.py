"""Everything the evaluation stage reports, in one object: flat metrics for MLflow, tables for the
model card, and the lists the plots need.

Metric names are flat and stable (they are MLflow keys and model-card rows): see `evaluate_predictions`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from grooming_risk.contract.taxonomy import RISK_CATEGORIES
from grooming_risk.evaluation.calibration import (
    DEFAULT_TABLE_THRESHOLDS,
    ECE_BINS,
    CalibrationBin,
    brier_score,
    calibration_bins,
    expected_calibration_error,
    threshold_table,
)
from grooming_risk.evaluation.early import LatencyResult, erde, latency_f1
from grooming_risk.evaluation.metrics import (
    NAN,
    binary_scores,
    confusion_matrix,
    hard_negative_fpr,
    is_single_class,
    label_accuracy,
    per_category_scores,
    pr_auc,
    recall_at_precision,
    roc_auc,
)
from grooming_risk.evaluation.predictions import ConversationPrediction, check_unique_ids, labels_and_scores

OPERATING_POINTS = ("review", "urgent")
DEFAULT_COMPARE_KEYS: tuple[str, ...] = (
    "roc_auc",
    "pr_auc",
    "recall_at_p90",
    "recall_at_p95",
    "review_precision",
    "review_recall",
    "review_f0_5",
    "urgent_precision",
    "urgent_recall",
    "hard_negative_fpr_review",
    "latency_f1_s1",
    "median_delay_s1",
    "latency_f1_s5",
    "erde5",
    "erde50",
    "brier",
    "ece",
)


def _fmt(key: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if (
        isinstance(value, bool | int)
        or key.startswith("n_")
        or key in {"tp", "fp", "fn", "tn", "support", "predicted"}
    ):
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.1f}" if "median" in key else f"{value:.3f}"
    return str(value)


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


@dataclass
class EvaluationReport:
    """The result of `evaluate_predictions`. NaN marks a metric the data cannot define."""

    metrics: dict[str, float]
    per_category: list[dict[str, float | int | str]]
    confusion: dict[str, Any]
    thresholds: list[dict[str, float]]  # threshold_table rows
    latencies: list[int]  # latency k of each true positive, at the primary s (the first of latency_s)
    delays: list[int]  # (firing index + 1) - first_risk_index, same s
    operating_thresholds: dict[str, float]
    latency: dict[int, LatencyResult] = field(default_factory=dict)  # by s
    calibration: list[CalibrationBin] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN becomes null); per-conversation warnings are keyed by id only."""
        return _json_safe(
            {
                "metrics": dict(self.metrics),
                "per_category": [dict(r) for r in self.per_category],
                "confusion": {"labels": list(self.confusion["labels"]), "matrix": self.confusion["matrix"]},
                "thresholds": [dict(r) for r in self.thresholds],
                "operating_thresholds": dict(self.operating_thresholds),
                "latencies": list(self.latencies),
                "delays": list(self.delays),
                "calibration": [vars(b) for b in self.calibration],
                "notes": list(self.notes),
            }
        )

    def to_markdown(self) -> str:
        m = self.metrics
        parts = ["## Evaluation", ""]
        parts.append(
            _table(
                ["conversations", "risky", "grooming", "sextortion", "benign", "hard negatives"],
                [
                    [
                        _fmt("n_", m.get(k, NAN))
                        for k in (
                            "n_conversations",
                            "n_positive",
                            "n_grooming",
                            "n_sextortion",
                            "n_benign",
                            "n_hard_negative",
                        )
                    ]
                ],
            )
        )
        if self.notes:
            parts += ["", *(f"- {note}" for note in self.notes)]
        parts += ["", "### Ranking and calibration", ""]
        ranking = ["roc_auc", "pr_auc", "recall_at_p90", "recall_at_p95", "brier", "ece", "label_accuracy"]
        parts.append(_table(["metric", "value"], [[k, _fmt(k, m.get(k, NAN))] for k in ranking]))
        parts += ["", "### Operating points (flag = risk >= threshold)", ""]
        columns = ["threshold", "precision", "recall", "f1", "f0_5", "fpr", "flagged_share"]
        rows = []
        for point in OPERATING_POINTS:
            rows.append(
                [point]
                + [_fmt(c, m.get(f"{point}_{c}", NAN)) for c in columns]
                + [_fmt("x", m.get(f"hard_negative_fpr_{point}", NAN))]
            )
        parts.append(_table(["operating point", *columns, "hard_negative_fpr"], rows))
        parts += [
            "",
            "### Early detection (warning rule at the review threshold)",
            "",
            "Latency: 1-based index of the firing message among non-empty messages. Delay: messages from the "
            "first risk sign to the warning, inclusive (1 = at the first risk message).",
            "",
        ]
        early_cols = ["precision", "recall", "f1", "speed", "latency_f1", "median_latency", "median_delay"]
        parts.append(
            _table(
                ["s (of last window)", *early_cols],
                [
                    [str(s)] + [_fmt(c, m.get(f"{c}_s{s}", NAN)) for c in early_cols]
                    for s in sorted(self.latency)
                ],
            )
        )
        parts += ["", _table(["metric", "value"], [[k, _fmt(k, m.get(k, NAN))] for k in ("erde5", "erde50")])]
        parts.append("\nERDE at the review threshold with s = 1; lower is better.")
        if self.per_category:
            parts += ["", "### Warning signs (conversation level, as the scorer decided them)", ""]
            cat_cols = ["precision", "recall", "f1", "support", "predicted"]
            parts.append(
                _table(
                    ["category", *cat_cols],
                    [[str(r["category"])] + [_fmt(c, r[c]) for c in cat_cols] for r in self.per_category],
                )
            )
        parts += ["", "### Labels (rows: true, columns: predicted)", ""]
        labels = list(self.confusion["labels"])
        parts.append(
            _table(
                ["true \\ predicted", *labels],
                [
                    [t] + [str(v) for v in row]
                    for t, row in zip(labels, self.confusion["matrix"], strict=True)
                ],
            )
        )
        parts += ["", "### Thresholds", ""]
        t_cols = ["precision", "recall", "fpr", "hard_negative_fpr", "flagged_share"]
        parts.append(
            _table(
                ["threshold", *t_cols],
                [[f"{r['threshold']:.2f}"] + [_fmt(c, r[c]) for c in t_cols] for r in self.thresholds],
            )
        )
        return "\n".join(parts) + "\n"


def evaluate_predictions(
    preds: Iterable[ConversationPrediction],
    thresholds: Mapping[str, float],
    *,
    latency_s: Sequence[int] = (1, 5),
    window: int = 10,
    table_thresholds: Sequence[float] = DEFAULT_TABLE_THRESHOLDS,
) -> EvaluationReport:
    """Score predictions against their labels.

    `thresholds` needs "review" and "urgent". Metric keys:
    n_conversations, n_positive, n_grooming, n_sextortion, n_benign, n_hard_negative, single_class;
    roc_auc, pr_auc, recall_at_p90, recall_at_p95, brier, ece, label_accuracy;
    {review,urgent}_{threshold,precision,recall,f1,f0_5,fpr,flagged_share}, hard_negative_fpr_{review,urgent};
    for each s in latency_s (warning rule at the review threshold):
    {precision,recall,f1,speed,latency_f1,median_latency,median_delay}_s{s};
    erde5, erde50 (review threshold, s = 1); category_macro_f1 and category_{name}_{precision,recall,f1}
    when the model predicts categories.
    """
    items = list(preds)
    if not items:
        raise ValueError("evaluate_predictions: expected at least one prediction, got none")
    check_unique_ids(items)
    missing = [k for k in OPERATING_POINTS if k not in thresholds]
    if missing:
        raise ValueError(f"thresholds: expected keys 'review' and 'urgent', missing {', '.join(missing)}")
    operating = {k: float(thresholds[k]) for k in OPERATING_POINTS}
    if not latency_s:
        raise ValueError("latency_s: expected at least one value of s")

    labels, scores = labels_and_scores(items)
    hard = [p.hard_negative for p in items]
    notes: list[str] = []
    metrics: dict[str, float] = {
        "n_conversations": float(len(items)),
        "n_positive": float(labels.sum()),
        "n_grooming": float(sum(p.label == "grooming" for p in items)),
        "n_sextortion": float(sum(p.label == "sextortion" for p in items)),
        "n_benign": float(sum(p.label == "benign" for p in items)),
        "n_hard_negative": float(sum(p.hard_negative and not p.is_positive for p in items)),
    }
    single = is_single_class(labels)
    metrics["single_class"] = float(single)
    if single:
        notes.append(
            "Only one class in this set: ROC-AUC, PR-AUC and recall at fixed precision are undefined (n/a)."
        )
    if metrics["n_hard_negative"] == 0:
        notes.append("No hard negatives in this set: hard-negative FPR is undefined (n/a).")

    metrics["roc_auc"] = roc_auc(labels, scores)
    metrics["pr_auc"] = pr_auc(labels, scores)
    metrics["recall_at_p90"] = recall_at_precision(labels, scores, 0.90)
    metrics["recall_at_p95"] = recall_at_precision(labels, scores, 0.95)
    metrics["brier"] = brier_score(labels, scores)
    metrics["ece"] = expected_calibration_error(labels, scores, ECE_BINS)

    for point, t in operating.items():
        counts = binary_scores(labels, scores, t)
        metrics[f"{point}_threshold"] = t
        metrics[f"{point}_precision"] = counts.precision
        metrics[f"{point}_recall"] = counts.recall
        metrics[f"{point}_f1"] = counts.f1
        metrics[f"{point}_f0_5"] = counts.f0_5
        metrics[f"{point}_fpr"] = counts.fpr
        metrics[f"{point}_flagged_share"] = counts.flagged_share
        metrics[f"hard_negative_fpr_{point}"] = hard_negative_fpr(labels, scores, hard, t)

    by_s: dict[int, LatencyResult] = {}
    for s in latency_s:
        result = latency_f1(items, operating["review"], s=s, window=window)
        by_s[s] = result
        for name in ("precision", "recall", "f1", "speed", "latency_f1", "median_latency", "median_delay"):
            metrics[f"{name}_s{s}"] = float(getattr(result, name))
    metrics["erde5"] = erde(items, operating["review"], 5, s=1, window=window)
    metrics["erde50"] = erde(items, operating["review"], 50, s=1, window=window)

    confusion = confusion_matrix(items)
    metrics["label_accuracy"] = label_accuracy(confusion)

    per_category = per_category_scores(items, RISK_CATEGORIES)
    if per_category:
        f1s = [float(r["f1"]) for r in per_category if not math.isnan(float(r["f1"]))]
        metrics["category_macro_f1"] = sum(f1s) / len(f1s) if f1s else NAN
        for r in per_category:
            for name in ("precision", "recall", "f1"):
                metrics[f"category_{r['category']}_{name}"] = float(r[name])
    else:
        notes.append("The model gives no warning-sign probabilities: per-category metrics are omitted.")
    # Which warning signs fire, on any set: on real benign chats these are the false alarms' reasons.
    for category in RISK_CATEGORIES:
        fired = sum(category in p.present() for p in items)
        metrics[f"fired_share_{category}"] = fired / len(items)

    primary = by_s[latency_s[0]]
    return EvaluationReport(
        metrics=metrics,
        per_category=per_category,
        confusion=confusion,
        thresholds=threshold_table(labels, scores, hard, table_thresholds),
        latencies=list(primary.latencies),
        delays=list(primary.delays),
        operating_thresholds=operating,
        latency=by_s,
        calibration=calibration_bins(labels, scores, ECE_BINS),
        notes=notes,
    )


def compare_reports(named: Mapping[str, EvaluationReport], keys: Sequence[str] = DEFAULT_COMPARE_KEYS) -> str:
    """Markdown table: one row per metric, one column per named report (e.g. model vs baseline)."""
    if not named:
        raise ValueError("compare_reports: expected at least one named report, got none")
    names = list(named)
    rows = [[key] + [_fmt(key, named[n].metrics.get(key, NAN)) for n in names] for key in keys]
    return _table(["metric", *names], rows) + "\n"
