"""Per-message training targets from conversation labels and annotations.

Risk is 0 before the first risk sign and the conversation's label from it on: the model is taught
to raise the alarm at the message where risk shows, not when the chat ends. Where a licensed corpus
has no positions, every prefix takes the conversation label, as in the eSPD protocol.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grooming_risk.contract.conversation import Conversation
from grooming_risk.contract.taxonomy import RISK_CATEGORIES, Label

_CATEGORY_INDEX = {c: i for i, c in enumerate(RISK_CATEGORIES)}


@dataclass
class Targets:
    risk: np.ndarray  # [n] 0/1
    sextortion: np.ndarray  # [n] 0/1
    type_mask: np.ndarray  # [n] 1 where the type target applies
    categories: np.ndarray  # [n, C] multi-hot
    category_mask: np.ndarray  # [n] 1 where categories are annotated
    evidence: np.ndarray  # [n] 1 where the message carries any warning sign (where annotated)


def conversation_targets(conversation: Conversation) -> Targets:
    n = len(conversation.messages)
    label = conversation.label or Label.BENIGN
    risk = np.zeros(n, dtype=np.float32)
    if label.is_risky:
        start = conversation.first_risk_index if conversation.first_risk_index is not None else 0
        risk[start:] = 1.0
    sextortion = np.full(n, float(label is Label.SEXTORTION), dtype=np.float32)
    categories = np.zeros((n, len(RISK_CATEGORIES)), dtype=np.float32)
    for i, message in enumerate(conversation.messages):
        for cat in message.categories:
            categories[i, _CATEGORY_INDEX[cat.value]] = 1.0
    # Categories are annotated when the data says where risk starts (or there is none); a risky
    # conversation without positions says nothing about which message shows which sign.
    annotated = (not label.is_risky) or conversation.first_risk_index is not None
    return Targets(
        risk=risk,
        sextortion=sextortion,
        type_mask=risk.copy(),
        categories=categories,
        category_mask=np.full(n, float(annotated), dtype=np.float32),
        evidence=categories.max(axis=1) if n else np.zeros(0, dtype=np.float32),
    )
