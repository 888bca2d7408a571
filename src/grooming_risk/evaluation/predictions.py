"""What the evaluation stage scores: one record per conversation, with no conversation text.

The record carries only ids, labels, positions and numbers, so nothing built from it (metrics, tables,
plots, MLflow logs) can leak what was said. Text is read once, in `prediction_from_assessment`, to
know which messages are empty, and is not kept.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.conversation import Conversation
from grooming_risk.contract.taxonomy import RISK_CATEGORIES, Label

LABELS: tuple[str, ...] = (Label.GROOMING.value, Label.SEXTORTION.value, Label.BENIGN.value)
_LABEL_SET = frozenset(LABELS)
_CATEGORY_SET = frozenset(RISK_CATEGORIES)


def _bad(conversation_id: str, field: str, expected: str, got: object) -> ValueError:
    return ValueError(
        f"prediction for conversation {conversation_id!r}: field {field!r}: expected {expected}, got {got}"
    )


@dataclass(frozen=True)
class ConversationPrediction:
    """A scorer's output for one labelled conversation, as the metrics need it.

    `risk_by_message[i]` is the calibrated risk after message i; the conversation's score is the last
    one. `nonempty[i]` says whether message i had text: the early-detection protocol only makes a
    prediction after non-empty messages.
    """

    conversation_id: str
    label: str
    hard_negative: bool
    first_risk_index: int | None
    risk_by_message: Sequence[float]
    nonempty: Sequence[bool]
    predicted_label: str
    true_categories: frozenset[str]
    category_probs: Mapping[str, float]
    # The scorer's decision (`Assessment.categories_present`). None for predictions made outside
    # RiskScorer (tests, other systems), where a probability >= 0.5 stands in for it.
    predicted_categories: frozenset[str] | None = None

    def __post_init__(self) -> None:
        cid = self.conversation_id
        if not isinstance(cid, str) or not cid:
            raise ValueError(f"prediction: field 'conversation_id': expected a non-empty string, got {cid!r}")
        for field, value in (("label", self.label), ("predicted_label", self.predicted_label)):
            if value not in _LABEL_SET:
                raise _bad(cid, field, f"one of {', '.join(LABELS)}", repr(value))
        n = len(self.risk_by_message)
        if n == 0:
            raise _bad(cid, "risk_by_message", "at least one value (one per message)", "none")
        if len(self.nonempty) != n:
            raise _bad(
                cid, "nonempty", f"{n} flags (one per message, like risk_by_message)", len(self.nonempty)
            )
        risks = np.asarray(self.risk_by_message, dtype=float)
        bad = np.flatnonzero(~np.isfinite(risks) | (risks < 0.0) | (risks > 1.0))
        if bad.size:
            raise _bad(cid, f"risk_by_message[{int(bad[0])}]", "a probability in [0, 1]", risks[bad[0]])
        if self.first_risk_index is not None and not 0 <= self.first_risk_index < n:
            raise _bad(
                cid, "first_risk_index", f"None or a message index in [0, {n - 1}]", self.first_risk_index
            )
        unknown = sorted(set(self.true_categories) - _CATEGORY_SET)
        if unknown:
            raise _bad(cid, "true_categories", "risk categories from the taxonomy", unknown)
        for category, prob in self.category_probs.items():
            if category not in _CATEGORY_SET:
                raise _bad(cid, "category_probs", "keys from the risk taxonomy", repr(category))
            if not (isinstance(prob, int | float) and math.isfinite(prob) and 0.0 <= prob <= 1.0):
                raise _bad(cid, f"category_probs[{category!r}]", "a probability in [0, 1]", prob)

    def present(self, threshold: float = 0.5) -> frozenset[str]:
        """The warning signs predicted present: the scorer's decision where there is one."""
        if self.predicted_categories is not None:
            return self.predicted_categories
        return frozenset(c for c, p in self.category_probs.items() if p >= threshold)

    @property
    def score(self) -> float:
        """The conversation's score: the calibrated risk after its last message."""
        return float(self.risk_by_message[-1])

    @property
    def is_positive(self) -> bool:
        return self.label != Label.BENIGN.value


def check_unique_ids(preds: Iterable[ConversationPrediction]) -> None:
    """Per-conversation results are keyed by id, so a repeated id would silently overwrite one."""
    seen: set[str] = set()
    for p in preds:
        if p.conversation_id in seen:
            raise ValueError(f"prediction for conversation {p.conversation_id!r} appears more than once")
        seen.add(p.conversation_id)


def labels_and_scores(preds: Sequence[ConversationPrediction]) -> tuple[np.ndarray, np.ndarray]:
    """0/1 labels (1 = grooming or sextortion) and final scores, as arrays in the order given."""
    labels = np.fromiter((p.is_positive for p in preds), dtype=int, count=len(preds))
    scores = np.fromiter((p.score for p in preds), dtype=float, count=len(preds))
    return labels, scores


def prediction_from_assessment(conversation: Conversation, assessment: Assessment) -> ConversationPrediction:
    """Pair a labelled conversation with the scorer's assessment of it."""
    cid = conversation.conversation_id
    if assessment.conversation_id != cid:
        raise _bad(
            cid,
            "conversation_id",
            "the assessment of the same conversation",
            repr(assessment.conversation_id),
        )
    if conversation.label is None:
        raise _bad(cid, "label", "a labelled conversation (grooming, sextortion or benign)", "no label")
    n = len(conversation.messages)
    if len(assessment.risk_by_message) != n:
        raise _bad(cid, "risk_by_message", f"{n} values (one per message)", len(assessment.risk_by_message))
    return ConversationPrediction(
        conversation_id=cid,
        label=conversation.label.value,
        hard_negative=conversation.hard_negative,
        first_risk_index=conversation.first_risk_index,
        risk_by_message=tuple(assessment.risk_by_message),
        nonempty=tuple(bool(m.text.strip()) for m in conversation.messages),
        predicted_label=assessment.label.value,
        true_categories=frozenset(c.value for m in conversation.messages for c in m.categories),
        category_probs=dict(assessment.categories),
        predicted_categories=frozenset(assessment.categories_present),
    )
