"""The assessment record: what every front end returns for one conversation."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from grooming_risk.contract.taxonomy import Label

Role = Literal["initiator", "second", "other"]
Audience = Literal["platform", "reviewer", "child", "caregiver"]


class Evidence(BaseModel):
    """A message that moved the risk score, for reviewers."""

    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0, description="0-based index of the message in the conversation.")
    score: float = Field(description="How much this message raised the calibrated risk.")
    categories: list[str] = Field(default_factory=list, description="Warning signs seen in it.")


class SenderRisk(BaseModel):
    """One participant's share of the risk: who the suspected party is, and on which messages."""

    model_config = ConfigDict(extra="forbid")

    sender: str
    role: Role = Field(
        description="Order of first appearance: the chat's initiator, the second participant, or a later one."
    )
    risk: float = Field(
        ge=0.0,
        le=1.0,
        description="Calibrated risk carried by this participant's own messages (never above the "
        "conversation's risk).",
    )
    messages: int = Field(ge=1, description="How many messages this participant sent.")
    categories: list[str] = Field(
        default_factory=list, description="Warning signs the model decided are present in their messages."
    )
    evidence: list[Evidence] = Field(
        default_factory=list, max_length=5, description="Their messages that moved the score most."
    )
    first_sent_at: datetime | None = None
    last_sent_at: datetime | None = None


class Action(BaseModel):
    """A recommended next step or resource, from the platform's policy file (`configs/policy/`)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    audience: Audience
    title: str = Field(min_length=1)
    url: str | None = None


class Assessment(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    conversation_id: str
    risk: float = Field(ge=0.0, le=1.0, description="Calibrated risk after the last message.")
    label: Label
    flagged: bool = Field(description="risk >= the model's review threshold.")
    urgent: bool = Field(description="risk >= the model's urgent threshold.")
    categories: dict[str, float] = Field(description="Warning sign -> probability it occurred.")
    categories_present: list[str] = Field(
        default_factory=list,
        description="The warning signs the model decided are present (its category threshold applied "
        "once, by the scorer): what reviewers, reports and exports show.",
    )
    first_alert_index: int | None = Field(
        default=None, description="0-based message index where the streaming risk first crossed review."
    )
    evidence: list[Evidence] = Field(default_factory=list, max_length=5)
    model_version: str
    risk_by_message: list[float] = Field(
        default_factory=list,
        description="Calibrated risk after each message (for charts), from message "
        "`risk_by_message_start` on: all of them for a whole conversation, only the appended ones "
        "for a streamed conversation (whose stored state does not grow with its length).",
    )
    risk_by_message_start: int = Field(
        default=0, ge=0, description="Index of the message that `risk_by_message[0]` belongs to."
    )
    senders: list[SenderRisk] = Field(
        default_factory=list,
        description="One entry per participant, riskiest first: `senders[0]` is the suspected party.",
    )
    actions: list[Action] | None = Field(
        default=None,
        description="Recommended actions and resources, when the caller asked for them (policy file).",
    )

    @property
    def suspected_sender(self) -> str | None:
        """The participant the risk comes from, when the conversation is flagged."""
        return self.senders[0].sender if self.flagged and self.senders else None
