"""Early-detection metrics: latency-weighted F1 (Vogt, Leser & Akbik, ACL 2021) and eRisk's ERDE.

Both score *when* a warning would have been raised, not only whether. The warning rule is the eSPD
one: a prediction after every non-empty message (positive when risk >= threshold); a warning once at
least `s` of the last `window` predictions are positive; once raised it stays raised.

Positions, exactly:
- latency k is the 1-based index of the firing message counted among NON-EMPTY messages (the
  protocol's definition);
- `warnings[id]` and the delay use the firing message's index in the FULL conversation (empty
  messages included): delay = (firing index + 1) - first_risk_index. With first_risk_index 0-based,
  delay 1 means the warning fired at the first risk message itself, 2 one message later, and
  0 or less that it fired before the first risk sign. Without empty messages, k = firing index + 1,
  so the delay is k - first_risk_index as in the design document.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from grooming_risk.evaluation.predictions import ConversationPrediction, check_unique_ids

NAN = float("nan")
# p = ln(3) / (90 - 1) so that penalty(90) = 0.5: 90 messages was the median chat length in PAN 2012.
LATENCY_P = math.log(3.0) / (90 - 1)


@dataclass(frozen=True)
class WarningPoint:
    """Where a warning first fired in one conversation."""

    index: int  # 0-based index of the firing message in the full conversation
    k: int  # 1-based index of the firing message among non-empty messages


def latency_penalty(k: int, p: float = LATENCY_P) -> float:
    """penalty(k) = -1 + 2 / (1 + exp(-p (k - 1))): 0 at k = 1, 0.5 at k = 90, towards 1 after."""
    return -1.0 + 2.0 / (1.0 + math.exp(-p * (k - 1)))


def _check_rule(threshold: float, s: int, window: int) -> None:
    if not math.isfinite(threshold):
        raise ValueError(f"threshold: expected a finite number, got {threshold}")
    if window < 1:
        raise ValueError(f"window: expected at least 1 prediction, got {window}")
    if not 1 <= s <= window:
        raise ValueError(f"s: expected 1 <= s <= window ({window}), got {s}")


def first_warning(
    pred: ConversationPrediction, threshold: float, s: int = 5, window: int = 10
) -> WarningPoint | None:
    """Where the eSPD warning rule first fires in this conversation, or None if it never does."""
    _check_rule(threshold, s, window)
    recent: deque[bool] = deque(maxlen=window)
    positives = 0
    k = 0
    for index, (risk, nonempty) in enumerate(zip(pred.risk_by_message, pred.nonempty, strict=True)):
        if not nonempty:
            continue
        k += 1
        if len(recent) == window and recent[0]:
            positives -= 1
        positive = risk >= threshold
        recent.append(positive)
        positives += positive
        if positives >= s:
            return WarningPoint(index=index, k=k)
    return None


@dataclass(frozen=True)
class LatencyResult:
    """Latency-weighted F1 and its parts, over conversations."""

    threshold: float
    s: int
    window: int
    tp: int
    fp: int
    fn: int
    tn: int
    precision: float
    recall: float
    f1: float
    speed: float
    latency_f1: float
    median_latency: float
    median_delay: float
    latencies: list[int] = field(default_factory=list)  # k of each true positive
    delays: list[int] = field(default_factory=list)  # true positives with a known first_risk_index
    warnings: dict[str, int | None] = field(default_factory=dict)  # id -> 0-based firing index


def latency_f1(
    preds: Sequence[ConversationPrediction], threshold: float, s: int = 5, window: int = 10
) -> LatencyResult:
    """Latency-weighted F1: F1 over conversations times speed = 1 - median penalty of true positives.

    Speed is 0 without true positives (nothing was detected early). F1 is NaN only when there is
    nothing to score (no positives and no warnings); precision is NaN with no warnings and recall
    NaN with no positive conversations.
    """
    _check_rule(threshold, s, window)
    check_unique_ids(preds)
    tp = fp = fn = tn = 0
    latencies: list[int] = []
    delays: list[int] = []
    warnings: dict[str, int | None] = {}
    for p in preds:
        point = first_warning(p, threshold, s, window)
        warnings[p.conversation_id] = None if point is None else point.index
        if point is None:
            fn += p.is_positive
            tn += not p.is_positive
            continue
        if not p.is_positive:
            fp += 1
            continue
        tp += 1
        latencies.append(point.k)
        if p.first_risk_index is not None:
            delays.append(point.index + 1 - p.first_risk_index)
    precision = tp / (tp + fp) if tp + fp else NAN
    recall = tp / (tp + fn) if tp + fn else NAN
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else NAN
    speed = 1.0 - statistics.median(latency_penalty(k) for k in latencies) if latencies else 0.0
    return LatencyResult(
        threshold=float(threshold),
        s=s,
        window=window,
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        precision=precision,
        recall=recall,
        f1=f1,
        speed=speed,
        latency_f1=f1 * speed,
        median_latency=float(statistics.median(latencies)) if latencies else NAN,
        median_delay=float(statistics.median(delays)) if delays else NAN,
        latencies=latencies,
        delays=delays,
        warnings=warnings,
    )


def _sigmoid(x: float) -> float:
    # Written to avoid overflow for long conversations (k - o in the thousands).
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def erde(
    preds: Sequence[ConversationPrediction],
    threshold: float,
    o: int,
    *,
    s: int = 1,
    window: int = 10,
    c_fp: float | None = None,
) -> float:
    """ERDE_o (CLEF eRisk): mean per-conversation cost of the warning decision; lower is better.

    False positive: c_fp (by default the share of positives in `preds`); false negative: 1; true
    positive decided at message k (1-based among non-empty messages, the firing point of the
    warning rule): 1 - 1 / (1 + exp(k - o)); true negative: 0. NaN for an empty collection.
    """
    if o < 1:
        raise ValueError(f"o: expected a positive number of messages, got {o}")
    _check_rule(threshold, s, window)
    check_unique_ids(preds)
    if not preds:
        return NAN
    if c_fp is None:
        c_fp = sum(p.is_positive for p in preds) / len(preds)
    elif not 0.0 <= c_fp <= 1.0:
        raise ValueError(f"c_fp: expected a cost in [0, 1], got {c_fp}")
    total = 0.0
    for p in preds:
        point = first_warning(p, threshold, s, window)
        if point is None:
            total += 1.0 if p.is_positive else 0.0
        elif not p.is_positive:
            total += c_fp
        else:
            # 1 - 1 / (1 + exp(k - o)) == sigmoid(k - o)
            total += _sigmoid(point.k - o)
    return total / len(preds)
