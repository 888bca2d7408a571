"""Risk taxonomy: the behavioural warning signs the model learns and reviewers correct.

The categories describe *behaviour* (asking a child's age, pushing for secrecy, moving to another
app), never content: the project holds no sexual material, and risk is expressed only through these
signs. Order matters: it is the order of the per-category outputs in every model artifact.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Label(StrEnum):
    """Conversation-level label."""

    GROOMING = "grooming"
    SEXTORTION = "sextortion"
    BENIGN = "benign"

    @property
    def is_risky(self) -> bool:
        return self is not Label.BENIGN


class RiskCategory(StrEnum):
    """Per-message warning sign."""

    AGE_PROBING = "age_probing"
    FLATTERY_TRUST = "flattery_trust"
    SECRECY = "secrecy"
    ISOLATION = "isolation"
    GIFTS_OFFERS = "gifts_offers"
    PLATFORM_MIGRATION = "platform_migration"
    IMAGE_REQUEST = "image_request"
    MEETING_REQUEST = "meeting_request"
    THREAT_COERCION = "threat_coercion"
    FINANCIAL_DEMAND = "financial_demand"


RISK_CATEGORIES: tuple[str, ...] = tuple(c.value for c in RiskCategory)
_ORDER = {c: i for i, c in enumerate(RISK_CATEGORIES)}


def taxonomy_order(names: Iterable[str]) -> list[str]:
    """Warning-sign names in taxonomy order (then any unknown ones alphabetically), so the same
    signs always read the same way."""
    return sorted(set(names), key=lambda c: (_ORDER.get(c, len(_ORDER)), c))


RISKY_LABELS: tuple[str, ...] = (Label.GROOMING.value, Label.SEXTORTION.value)

CATEGORY_DESCRIPTIONS: dict[str, str] = {
    "age_probing": "Asks the other person's age, school year or whether adults are around.",
    "flattery_trust": "Excessive compliments, 'you are mature for your age', 'only I understand you'.",
    "secrecy": "Asks to keep the chat or the relationship secret, to delete messages.",
    "isolation": "Drives a wedge between the child and parents, friends or other adults.",
    "gifts_offers": "Offers gifts, game currency, skins, money or favours.",
    "platform_migration": "Pushes to move to another app, private server or phone number.",
    "image_request": "Asks for photos or video of the person (phrased without sexual content here).",
    "meeting_request": "Asks to meet in person, offers rides, asks where the child lives.",
    "threat_coercion": "Threatens to share images or messages, to hurt, or to tell others.",
    "financial_demand": "Demands money, gift cards or game currency, often with a deadline.",
}
