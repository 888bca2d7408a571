"""The assessment record: what every front end returns for one conversation."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from grooming_risk.contract.taxonomy import Label


class Evidence(BaseModel):
    """A message that moved the risk score, for reviewers."""

    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0, description="0-based index of the message in the conversation.")
    score: float = Field(description="How much this message raised the calibrated risk.")
    categories: list[str] = Field(default_factory=list, description="Warning signs seen in it.")


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
