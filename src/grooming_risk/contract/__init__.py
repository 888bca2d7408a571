"""The typed records every part of grooming-risk exchanges: conversations in, assessments out."""

from grooming_risk.contract.assessment import Action, Assessment, Evidence, SenderRisk
from grooming_risk.contract.conversation import Conversation, Limits, Message, Participant
from grooming_risk.contract.taxonomy import CATEGORY_DESCRIPTIONS, RISK_CATEGORIES, Label, RiskCategory

__all__ = [
    "CATEGORY_DESCRIPTIONS",
    "RISK_CATEGORIES",
    "Action",
    "Assessment",
    "Conversation",
    "Evidence",
    "Label",
    "Limits",
    "Message",
    "Participant",
    "RiskCategory",
    "SenderRisk",
]
