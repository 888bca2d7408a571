"""The conversation contract: one validated record per chat, whatever its source.

Unknown keys are ignored so that exports from other systems can be read as they are; anything that
is present but malformed is an error naming the field. Size limits are configurable because a
platform's longest legitimate chats differ from a research corpus's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from grooming_risk.contract.taxonomy import Label, RiskCategory


@dataclass(frozen=True)
class Limits:
    """Bounds on one conversation; exceeding one is an error, never a silent truncation."""

    max_messages: int = 10_000
    max_message_chars: int = 4_000

    def __post_init__(self) -> None:
        if self.max_messages < 1:
            raise ValueError(f"max_messages must be >= 1, got {self.max_messages}")
        if self.max_message_chars < 1:
            raise ValueError(f"max_message_chars must be >= 1, got {self.max_message_chars}")


DEFAULT_LIMITS = Limits()


def _limits(info: ValidationInfo) -> Limits:
    ctx = info.context or {}
    limits = ctx.get("limits", DEFAULT_LIMITS) if isinstance(ctx, dict) else DEFAULT_LIMITS
    return limits if isinstance(limits, Limits) else DEFAULT_LIMITS


class Participant(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1)
    declared_age: int | None = Field(default=None, ge=0, le=130)


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sender: str = Field(min_length=1)
    text: str
    # ISO-8601 strings and epoch seconds both parse; naive times are taken as UTC.
    sent_at: datetime | None = None
    categories: list[RiskCategory] = Field(default_factory=list)

    @field_validator("sent_at", mode="before")
    @classmethod
    def _epoch_or_iso(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("expected ISO-8601 text or epoch seconds, got a boolean")
        if isinstance(value, int | float):
            try:
                return datetime.fromtimestamp(float(value), tz=UTC)
            except (OverflowError, OSError, ValueError) as exc:
                raise ValueError("epoch seconds out of range") from exc
        return value

    @field_validator("sent_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @field_validator("text")
    @classmethod
    def _text_length(cls, value: str, info: ValidationInfo) -> str:
        limit = _limits(info).max_message_chars
        if len(value) > limit:
            raise ValueError(f"text has {len(value)} characters, more than the limit of {limit}")
        return value


class Conversation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    conversation_id: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    platform: str | None = None
    language: str | None = None
    participants: list[Participant] = Field(default_factory=list)
    label: Label | None = None
    first_risk_index: int | None = Field(default=None, ge=0)
    hard_negative: bool = False
    # Who wrote the generated lines (phrase-bank writer ids); empty for text people wrote. Lets a
    # validation set prove it shares no writer with training.
    writers: list[str] = Field(default_factory=list)

    @field_validator("messages")
    @classmethod
    def _message_count(cls, value: list[Message], info: ValidationInfo) -> list[Message]:
        limit = _limits(info).max_messages
        if len(value) > limit:
            raise ValueError(f"{len(value)} messages, more than the limit of {limit}")
        return value

    @model_validator(mode="after")
    def _risk_index_in_range(self) -> Conversation:
        if self.first_risk_index is not None and self.first_risk_index >= len(self.messages):
            raise ValueError(
                f"first_risk_index {self.first_risk_index} is past the last message "
                f"(index {len(self.messages) - 1})"
            )
        return self

    @property
    def is_risky(self) -> bool | None:
        return None if self.label is None else self.label.is_risky

    def senders(self) -> list[str]:
        """Senders in order of first appearance; the first is the conversation's initiator."""
        return list(dict.fromkeys(m.sender for m in self.messages))
