"""Calibration: how far scores are from frequencies, how to fix it, and where to put thresholds.

Scores are the probability of the positive class (grooming or sextortion), flags are score >=
threshold everywhere, so a threshold chosen here means the same in the scorer and in the reports.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from grooming_risk.evaluation.metrics import NAN, binary_scores, hard_negative_fpr, label_score_arrays

ECE_BINS = 15
TEMPERATURE_BOUNDS = (0.05, 20.0)
# Used only when the labels cannot inform a choice (no risky conversation in the tuning set).
FALLBACK_THRESHOLDS: dict[str, float] = {"review": 0.5, "urgent": 0.9}
DEFAULT_TABLE_THRESHOLDS: tuple[float, ...] = (
    *(round(float(t), 2) for t in np.linspace(0.05, 0.95, 19)),
    0.97,
    0.99,
)


@dataclass(frozen=True)
class CalibrationBin:
    lower: float
    upper: float
    count: int
    mean_confidence: float  # mean score in the bin (NaN when empty)
    accuracy: float  # share of positives in the bin (NaN when empty)


def calibration_bins(
    labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray, n_bins: int = ECE_BINS
) -> list[CalibrationBin]:
    """Equal-width bins on [0, 1], left-closed, the last one closed on both sides."""
    if n_bins < 1:
        raise ValueError(f"n_bins: expected at least 1, got {n_bins}")
    y, s = label_score_arrays(labels, scores)
    if s.size and (s.min() < 0.0 or s.max() > 1.0):
        raise ValueError("scores: expected probabilities in [0, 1]")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.searchsorted(edges[1:-1], s, side="right")
    bins = []
    for b in range(n_bins):
        members = which == b
        count = int(members.sum())
        bins.append(
            CalibrationBin(
                lower=float(edges[b]),
                upper=float(edges[b + 1]),
                count=count,
                mean_confidence=float(s[members].mean()) if count else NAN,
                accuracy=float(y[members].mean()) if count else NAN,
            )
        )
    return bins


def expected_calibration_error(
    labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray, n_bins: int = ECE_BINS
) -> float:
    """Sum over bins of (bin count / n) * |mean score - share of positives|; NaN when empty."""
    bins = calibration_bins(labels, scores, n_bins)
    n = sum(b.count for b in bins)
    if n == 0:
        return NAN
    return sum(b.count / n * abs(b.mean_confidence - b.accuracy) for b in bins if b.count)


def brier_score(labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray) -> float:
    y, s = label_score_arrays(labels, scores)
    return float(np.mean((s - y) ** 2)) if y.size else NAN


def _nll(
    logits: np.ndarray,
    labels: np.ndarray,
    temperature: float,
    bias: float = 0.0,
    weights: np.ndarray | None = None,
) -> float:
    z = logits / temperature + bias
    # -log sigmoid(z) = log(1 + e^-z); written with logaddexp so large logits do not overflow.
    return float(np.average(np.logaddexp(0.0, z) - labels * z, weights=weights))


def _weights(weights: Sequence[float] | np.ndarray | None, n: int) -> np.ndarray | None:
    if weights is None:
        return None
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"weights: expected {n} finite non-negative numbers with a positive sum")
    return w


def set_balanced_weights(sizes: Sequence[int]) -> np.ndarray:
    """One weight per row of sets concatenated in order, so that every non-empty set weighs alike.

    The generated validation set holds ten times the hand-written one; pooled, its chats would
    decide the calibration alone.
    """
    present = [n for n in sizes if n > 0]
    if not present:
        raise ValueError("set_balanced_weights: expected at least one non-empty set")
    total = sum(present)
    return np.concatenate([np.full(n, total / (len(present) * n)) for n in sizes if n > 0])


def fit_temperature(
    logits: Sequence[float] | np.ndarray,
    labels: Sequence[int] | np.ndarray,
    weights: Sequence[float] | np.ndarray | None = None,
) -> float:
    """Temperature T minimising the NLL of sigmoid(logit / T), T in [0.05, 20].

    Searched on log T, where the loss is better conditioned; with one class only the optimum runs to
    a bound, which is returned as it is (a warning for the caller to check the data, not an error).
    """
    from scipy.optimize import minimize_scalar

    y, z = label_score_arrays(labels, logits)
    if y.size == 0:
        raise ValueError("fit_temperature: expected at least one logit and label, got none")
    w = _weights(weights, y.size)
    lo, hi = (math.log(b) for b in TEMPERATURE_BOUNDS)
    result = minimize_scalar(
        lambda log_t: _nll(z, y, math.exp(log_t), weights=w),
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": 1e-6},
    )
    candidates = [float(result.x), lo, hi]
    best = min(candidates, key=lambda log_t: _nll(z, y, math.exp(log_t), weights=w))
    return float(min(max(math.exp(best), TEMPERATURE_BOUNDS[0]), TEMPERATURE_BOUNDS[1]))


def fit_platt(
    logits: Sequence[float] | np.ndarray,
    labels: Sequence[int] | np.ndarray,
    weights: Sequence[float] | np.ndarray | None = None,
) -> tuple[float, float]:
    """Temperature T and bias b minimising the NLL of sigmoid(logit / T + b), T in TEMPERATURE_BOUNDS.

    Platt scaling: a temperature alone only stretches the scale around logit 0, so a model whose
    benign chats sit near 0 (risk 0.3-0.7) stays miscalibrated; the bias moves them. Both maps are
    increasing, so rankings, and thresholds chosen by rank, are unchanged; only the risk shown moves.
    """
    from scipy.optimize import minimize

    y, z = label_score_arrays(labels, logits)
    if y.size == 0:
        raise ValueError("fit_platt: expected at least one logit and label, got none")
    w = _weights(weights, y.size)
    lo, hi = (math.log(b) for b in TEMPERATURE_BOUNDS)
    start = math.log(fit_temperature(z, y, w))
    result = minimize(
        lambda p: _nll(z, y, math.exp(float(p[0])), float(p[1]), w),
        x0=np.array([start, 0.0]),
        method="L-BFGS-B",
        bounds=[(lo, hi), (-50.0, 50.0)],
    )
    log_t, bias = (float(v) for v in result.x)
    # Never worse than the temperature it started from (a flat or one-class set).
    if _nll(z, y, math.exp(start), weights=w) <= _nll(z, y, math.exp(log_t), bias, w):
        log_t, bias = start, 0.0
    return float(min(max(math.exp(log_t), TEMPERATURE_BOUNDS[0]), TEMPERATURE_BOUNDS[1])), bias


def cap_flagged_share(
    threshold: float,
    benign_scores: Sequence[float] | np.ndarray,
    max_share: float,
    *,
    confidence: float | None = None,
) -> float:
    """The lowest threshold >= `threshold` that flags at most `max_share` of `benign_scores`.

    For a platform the false-alarm budget on real chats binds before recall on generated data does:
    a review threshold that flags 5% of ordinary chats drowns the reviewers. Thresholds are compared
    with risks rounded to 6 decimals, so the result is rounded up on that grid; it never exceeds 1.

    With `confidence` (e.g. 0.95) the budget is a promise about chats not yet seen: the threshold
    flags the most validation chats k whose one-sided Clopper-Pearson upper bound on the share,
    at that confidence, is still within `max_share` (`budget_allowance`).
    """
    if not 0.0 <= max_share <= 1.0:
        raise ValueError(f"max_share: expected a share in [0, 1], got {max_share}")
    s = np.sort(np.asarray(benign_scores, dtype=float))[::-1]
    allowed = budget_allowance(s.size, max_share, confidence)
    if s.size == 0 or allowed >= s.size:
        return threshold
    # The first benign score that must stay below, as the scorer rounds it; one grid step above it.
    above = round(round(float(s[allowed]), 6) + 1e-6, 6)
    return min(1.0, max(threshold, above))


def budget_allowance(n: int, max_share: float, confidence: float | None = None) -> int:
    """How many of `n` benign validation chats a threshold may flag under the budget `max_share`.

    Without `confidence`: floor(max_share * n), the budget on validation itself. With it: the largest
    k whose one-sided Clopper-Pearson upper bound Beta(confidence; k + 1, n - k) is <= max_share, so
    the share on new chats from the same source stays within budget with that confidence (0 when
    even k = 0 cannot promise it: more validation chats are needed for so small a budget).
    """
    point = int(np.floor(max_share * n + 1e-9))
    if confidence is None or n == 0:
        return point
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence: expected a probability in (0, 1), got {confidence}")
    from scipy.stats import beta

    for k in range(min(point, n - 1), -1, -1):
        if float(beta.ppf(confidence, k + 1, n - k)) <= max_share:
            return k
    return 0


def choose_thresholds(
    labels: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    review_recall: float = 0.95,
    urgent_precision: float = 0.95,
) -> dict[str, float]:
    """Operating thresholds from a tuning set (flag = score >= threshold).

    - review: the highest threshold whose recall >= review_recall (catch nearly every risky chat,
      with as few reviews as that allows). It always exists when there are positives: the lowest
      positive score has recall 1.
    - urgent: the lowest threshold, not below review, whose precision >= urgent_precision (an
      urgent flag should almost always be right). If no threshold reaches that precision, the
      threshold with the highest precision at or above review is used (the lowest of ties, to keep
      recall); so urgent is never below review.
    - With no positives (or an empty set), FALLBACK_THRESHOLDS (0.5, 0.9) are returned: the labels
      say nothing about where risk starts.
    Candidate thresholds are the observed scores: between two of them, recall and precision do not change.
    """
    for name, target in (("review_recall", review_recall), ("urgent_precision", urgent_precision)):
        if not 0.0 < target <= 1.0:
            raise ValueError(f"{name}: expected a share in (0, 1], got {target}")
    y, s = label_score_arrays(labels, scores)
    n_pos = int((y == 1).sum())
    if n_pos == 0:
        return dict(FALLBACK_THRESHOLDS)
    candidates = np.unique(s)  # ascending
    order = np.argsort(s)
    sorted_scores, sorted_labels = s[order], y[order]
    # Counts flagged at each candidate t: everything with score >= t.
    start = np.searchsorted(sorted_scores, candidates, side="left")
    positives_above = np.cumsum(sorted_labels[::-1])[::-1]
    tp = positives_above[start]
    flagged = s.size - start
    recall = tp / n_pos
    precision = tp / flagged
    tolerance = 1e-12  # recall 0.95 must accept 19/20 despite float rounding
    review_ok = np.flatnonzero(recall >= review_recall - tolerance)
    review_i = int(review_ok.max())
    above = np.arange(review_i, candidates.size)
    urgent_ok = above[precision[above] >= urgent_precision - tolerance]
    # Fallback: the highest precision at or above review; argmax returns the first (lowest) of ties.
    urgent_i = int(urgent_ok.min()) if urgent_ok.size else int(above[np.argmax(precision[above])])
    return {"review": float(candidates[review_i]), "urgent": float(candidates[urgent_i])}


def threshold_table(
    labels: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    hard_negative: Sequence[bool] | np.ndarray,
    thresholds: Sequence[float] | np.ndarray = DEFAULT_TABLE_THRESHOLDS,
) -> list[dict[str, float]]:
    """Precision, recall, FPR, hard-negative FPR and flagged share at each threshold (NaN where undefined)."""
    rows = []
    for t in thresholds:
        counts = binary_scores(labels, scores, float(t))
        rows.append(
            {
                "threshold": float(t),
                "precision": counts.precision,
                "recall": counts.recall,
                "fpr": counts.fpr,
                "hard_negative_fpr": hard_negative_fpr(labels, scores, hard_negative, float(t)),
                "flagged_share": counts.flagged_share,
            }
        )
    return rows
