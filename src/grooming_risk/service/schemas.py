"""Request and response bodies of the HTTP API.

Requests reuse the contract's `Conversation` and `Message`, validated with the service's configured
`Limits` through pydantic's validation context (keys `limits`, `max_conversations`, `max_messages`),
so a message over the character limit fails here exactly as it would in `grooming-risk score`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.conversation import Conversation, Message

# Benign, obviously made-up text: the docs need a shape, not a realistic risky chat.
EXAMPLE_MESSAGES: list[dict[str, Any]] = [
    {"sender": "player_a", "text": "gg, that last round was close", "sent_at": "2024-05-01T16:00:00Z"},
    {"sender": "player_b", "text": "rematch after dinner?", "sent_at": "2024-05-01T16:00:20Z"},
]
EXAMPLE_SCORE_REQUEST: dict[str, Any] = {
    "conversations": [{"conversation_id": "chat-123", "platform": "game_chat", "messages": EXAMPLE_MESSAGES}]
}
EXAMPLE_APPEND_REQUEST: dict[str, Any] = {"messages": EXAMPLE_MESSAGES[:1], "start_index": 0}
EXAMPLE_ASSESSMENT: dict[str, Any] = {
    "conversation_id": "chat-123",
    "risk": 0.021,
    "label": "benign",
    "flagged": False,
    "urgent": False,
    "categories": {"age_probing": 0.01, "secrecy": 0.004},
    "first_alert_index": None,
    "evidence": [],
    "model_version": "seq-2024-05-01",
    "risk_by_message": [0.018, 0.021],
    "risk_by_message_start": 0,
}


def _context_limit(info: ValidationInfo, key: str) -> int | None:
    ctx = info.context if isinstance(info.context, dict) else {}
    value = ctx.get(key)
    return value if isinstance(value, int) else None


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_SCORE_REQUEST]})

    conversations: list[Conversation] = Field(
        min_length=1,
        description="Whole conversations to score (at most the service's max_conversations_per_request).",
    )

    @field_validator("conversations", mode="before")
    @classmethod
    def _count(cls, value: Any, info: ValidationInfo) -> Any:
        # Checked before the items are validated: a request over the limit is rejected cheaply.
        limit = _context_limit(info, "max_conversations")
        if limit is not None and isinstance(value, list) and len(value) > limit:
            raise ValueError(f"{len(value)} conversations, more than the limit of {limit} per request")
        message_limit = _context_limit(info, "max_score_messages")
        if message_limit is not None and isinstance(value, list):
            n = sum(
                len(c["messages"])
                for c in value
                if isinstance(c, dict) and isinstance(c.get("messages"), list)
            )
            if n > message_limit:
                raise ValueError(
                    f"{n} messages in all, more than the limit of {message_limit} per request: "
                    "split the conversations over several requests"
                )
        return value


class AppendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_APPEND_REQUEST]})

    messages: list[Message] = Field(
        min_length=1, description="New messages, oldest first (at most max_messages_per_request)."
    )
    start_index: int | None = Field(
        default=None,
        ge=0,
        description="Recommended: the conversation index of the first message here (the number already "
        "sent). A retry of the latest append (same start_index, same messages) is answered from the "
        "stored state without applying it twice. If the service holds a different number, for "
        "example because the state expired, the request fails with 409 instead of silently "
        "starting the conversation over.",
    )

    @field_validator("messages", mode="before")
    @classmethod
    def _count(cls, value: Any, info: ValidationInfo) -> Any:
        limit = _context_limit(info, "max_messages")
        if limit is not None and isinstance(value, list) and len(value) > limit:
            raise ValueError(f"{len(value)} messages, more than the limit of {limit} per request")
        return value


class ScoreResponse(BaseModel):
    model_config = ConfigDict(
        protected_namespaces=(),
        json_schema_extra={
            "examples": [{"model_version": "seq-2024-05-01", "assessments": [EXAMPLE_ASSESSMENT]}]
        },
    )

    model_version: str
    assessments: list[Assessment] = Field(description="One per request conversation, in the same order.")


class ConversationStatus(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"conversation_id": "chat-123", "message_count": 2, "assessment": EXAMPLE_ASSESSMENT}
            ]
        }
    )

    conversation_id: str
    message_count: int = Field(ge=0, description="Messages scored so far in this conversation.")
    assessment: Assessment = Field(description="The assessment after the latest message.")


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    status: Literal["ready", "loading", "failed"]
    model_version: str | None = None
    detail: str | None = None


class FieldError(BaseModel):
    loc: list[str | int] = Field(
        description="Where: e.g. ['body', 'conversations', 0, 'messages', 3, 'text']."
    )
    msg: str = Field(description="What was wrong and what is expected. The input value is never echoed.")
    type: str


class ValidationErrorResponse(BaseModel):
    detail: list[FieldError]


class ErrorResponse(BaseModel):
    detail: str
