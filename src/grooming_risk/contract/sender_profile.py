"""Sender profiles: one participant across many conversations (PAN 2012's first task scores people).

A sender who probes ages in twenty chats without any one of them crossing `review` is invisible
conversation by conversation; the profile's combined risk adds those chats up.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from grooming_risk.contract.assessment import Role


class SenderAppearance(BaseModel):
    """What one assessment says about one participant."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    conversation_id: str
    role: Role
    risk: float = Field(ge=0.0, le=1.0)
    suspected: bool = Field(description="The conversation is flagged and this participant is its top sender.")
    conversation_flagged: bool = False
    categories: list[str] = Field(default_factory=list)
    first_sent_at: datetime | None = None
    last_sent_at: datetime | None = None
    model_version: str | None = None


class SenderProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sender: str
    conversations: int = Field(ge=1)
    suspected_in: int = Field(
        ge=0, description="Conversations flagged with this sender as the suspected party."
    )
    max_risk: float = Field(ge=0.0, le=1.0)
    combined_risk: float = Field(
        ge=0.0,
        le=1.0,
        description="1 - prod(1 - risk) over the conversations where this sender's risk is at least "
        "`floor` (each counted at most 0.999): many small signs add up, everyday chatter (below the "
        "floor) does not, and one saturated conversation does not outweigh several.",
    )
    floor: float = Field(ge=0.0, le=1.0)
    categories: list[str] = Field(default_factory=list, description="Warning signs seen in any conversation.")
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    conversation_ids: list[str] = Field(description="Riskiest conversation first.")
