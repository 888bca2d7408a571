"""Conversation-level classification metrics.

Undefined values (a ranking metric on one class, a precision with nothing flagged) are NaN rather
than an exception or a silent 0, so a small or skewed evaluation set still produces a report and the
NaN shows where the data could not answer. `is_single_class` lets callers say so explicitly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grooming_risk.contract.taxonomy import RISK_CATEGORIES
from grooming_risk.evaluation.predictions import LABELS, ConversationPrediction

NAN = float("nan")


def label_score_arrays(
    labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels, dtype=int).ravel()
    s = np.asarray(scores, dtype=float).ravel()
    if y.shape != s.shape:
        raise ValueError(f"labels and scores differ in length: {y.size} labels, {s.size} scores")
    if y.size and not np.isin(y, (0, 1)).all():
        raise ValueError("labels: expected 0 (benign) or 1 (risky) only")
    if not np.isfinite(s).all():
        raise ValueError(
            f"scores: expected finite numbers, found {int((~np.isfinite(s)).sum())} that are not"
        )
    return y, s


def fbeta(precision: float, recall: float, beta: float) -> float:
    """F_beta = (1 + b²)PR / (b²P + R); 0 when P and R are both 0, NaN when either is NaN."""
    if beta <= 0:
        raise ValueError(f"beta: expected a positive number, got {beta}")
    if math.isnan(precision) or math.isnan(recall):
        return NAN
    b2 = beta * beta
    denominator = b2 * precision + recall
    return 0.0 if denominator == 0 else (1 + b2) * precision * recall / denominator


def fbeta_sets(predicted: Iterable[Any], actual: Iterable[Any], beta: float) -> float:
    """F_beta over sets, as in PAN 2012 (beta 0.5 over predator authors, 3 over predator lines).

    Precision is 0 when nothing is predicted and recall 0 when nothing is actual, as in the PAN
    evaluation script: an empty answer scores 0, never NaN.
    """
    pred, act = set(predicted), set(actual)
    hits = len(pred & act)
    precision = hits / len(pred) if pred else 0.0
    recall = hits / len(act) if act else 0.0
    return fbeta(precision, recall, beta)


def is_single_class(labels: Sequence[int] | np.ndarray) -> bool:
    """True when the labels hold fewer than two classes, so ROC-AUC and PR-AUC are undefined."""
    return np.unique(np.asarray(labels)).size < 2


def roc_auc(labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    y, s = label_score_arrays(labels, scores)
    return NAN if is_single_class(y) else float(roc_auc_score(y, s))


def pr_auc(labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray) -> float:
    """Average precision; NaN without positives (it would be 0 by convention, which reads as a bad model)."""
    from sklearn.metrics import average_precision_score

    y, s = label_score_arrays(labels, scores)
    return NAN if is_single_class(y) else float(average_precision_score(y, s))


@dataclass(frozen=True)
class BinaryScores:
    """Counts and rates at one threshold; flagged means score >= threshold."""

    threshold: float
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float:
        flagged = self.tp + self.fp
        return self.tp / flagged if flagged else NAN

    @property
    def recall(self) -> float:
        positives = self.tp + self.fn
        return self.tp / positives if positives else NAN

    @property
    def fpr(self) -> float:
        negatives = self.fp + self.tn
        return self.fp / negatives if negatives else NAN

    @property
    def flagged_share(self) -> float:
        return (self.tp + self.fp) / self.n if self.n else NAN

    def f_beta(self, beta: float) -> float:
        """From counts, so that nothing flagged with positives present is 0 (not NaN)."""
        b2 = beta * beta
        denominator = (1 + b2) * self.tp + b2 * self.fn + self.fp
        return (1 + b2) * self.tp / denominator if denominator else NAN

    @property
    def f1(self) -> float:
        return self.f_beta(1.0)

    @property
    def f0_5(self) -> float:
        return self.f_beta(0.5)


def binary_scores(
    labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray, threshold: float
) -> BinaryScores:
    y, s = label_score_arrays(labels, scores)
    flagged = s >= threshold
    positive = y == 1
    return BinaryScores(
        threshold=float(threshold),
        tp=int((flagged & positive).sum()),
        fp=int((flagged & ~positive).sum()),
        fn=int((~flagged & positive).sum()),
        tn=int((~flagged & ~positive).sum()),
    )


def recall_at_precision(
    labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray, target: float
) -> float:
    """Highest recall among operating points with precision >= target; 0 if none, NaN without positives."""
    from sklearn.metrics import precision_recall_curve

    y, s = label_score_arrays(labels, scores)
    if not (y == 1).any():
        return NAN
    precision, recall, _ = precision_recall_curve(y, s)
    # The curve's last point (P=1, R=0) is not a real threshold, but its recall is 0 so it only
    # supplies the "0 if none" answer.
    reaching = recall[precision >= target]
    return float(reaching.max()) if reaching.size else 0.0


def hard_negative_fpr(
    labels: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    hard_negative: Sequence[bool] | np.ndarray,
    threshold: float,
) -> float:
    """Share of hard negatives flagged (score >= threshold); NaN when there are none.

    A hard negative is a benign chat that looks risky (a parent asking a child's age, a coach
    arranging practice). One that carries a risky label is not a negative, so it is left out.
    """
    y, s = label_score_arrays(labels, scores)
    hard = np.asarray(hard_negative, dtype=bool).ravel()
    if hard.shape != y.shape:
        raise ValueError(f"hard_negative has {hard.size} flags for {y.size} conversations")
    pool = hard & (y == 0)
    return float((s[pool] >= threshold).mean()) if pool.any() else NAN


def per_category_scores(
    preds: Sequence[ConversationPrediction],
    categories: Sequence[str] = RISK_CATEGORIES,
    threshold: float = 0.5,
) -> list[dict[str, float | int | str]]:
    """Per-category precision/recall/F1 over conversations.

    True: the category occurs in some message; predicted: the scorer decided it is present
    (`ConversationPrediction.present`; its probability >= threshold where no decision was made). A
    prediction with no category probabilities at all (a model without a category head) is skipped
    only when every prediction lacks them, in which case the result is empty; a partial mapping is
    an error, because scoring a missing probability as 0 would make the model look worse than it is.
    """
    if not preds or all(not p.category_probs for p in preds):
        return []
    for p in preds:
        missing = [c for c in categories if c not in p.category_probs]
        if missing:
            raise ValueError(
                f"prediction for conversation {p.conversation_id!r}: field 'category_probs': "
                f"expected a probability for every category, missing {', '.join(missing)}"
            )
    rows: list[dict[str, float | int | str]] = []
    for c in categories:
        actual = np.fromiter((c in p.true_categories for p in preds), dtype=bool, count=len(preds))
        predicted = np.fromiter((c in p.present(threshold) for p in preds), dtype=bool, count=len(preds))
        counts = BinaryScores(
            threshold=threshold,
            tp=int((actual & predicted).sum()),
            fp=int((~actual & predicted).sum()),
            fn=int((actual & ~predicted).sum()),
            tn=int((~actual & ~predicted).sum()),
        )
        rows.append(
            {
                "category": c,
                "precision": counts.precision,
                "recall": counts.recall,
                "f1": counts.f1,
                "support": counts.tp + counts.fn,
                "predicted": counts.tp + counts.fp,
            }
        )
    return rows


def confusion_matrix(
    preds: Sequence[ConversationPrediction], labels: Sequence[str] = LABELS
) -> dict[str, Any]:
    """Rows are true labels, columns predicted labels, in the order of `labels`."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for p in preds:
        matrix[index[p.label]][index[p.predicted_label]] += 1
    return {"labels": list(labels), "matrix": matrix}


def label_accuracy(confusion: Mapping[str, Any]) -> float:
    matrix = np.asarray(confusion["matrix"], dtype=int)
    total = int(matrix.sum())
    return float(np.trace(matrix)) / total if total else NAN
