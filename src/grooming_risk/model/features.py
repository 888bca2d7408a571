"""Message features that the text alone does not carry: who speaks, when, and how.

Grooming is a pattern between people: the same words mean something else from the initiator of
a one-to-one chat than from a classmate in a group. These features give the sequence model the
speaker's role, the rhythm of the chat and signs of evasion (links, handles, obfuscation).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from grooming_risk.contract.conversation import Conversation, Message
from grooming_risk.text.normalize import normalize

if TYPE_CHECKING:
    from grooming_risk.model.encoder import TextEncoder

FEATURE_NAMES: tuple[str, ...] = (
    "role_initiator",
    "role_second",
    "role_other",
    "same_sender_as_previous",
    "sender_first_message",
    "log_gap_seconds",
    "gap_known",
    "log_length",
    "empty",
    "has_url",
    "has_handle",
    "has_phone_or_long_number",
    "has_digits",
    "question",
    "obfuscated",
    "log_position",
    "group_chat",
    "log_participants",
)
FEATURE_DIM = len(FEATURE_NAMES)
# Features 0..2: the sender is the first, the second or a later participant (one-hot).
ROLE_SLOTS = 3

_URL = re.compile(r"(https?://|www\.|\b\w+\.(com|net|org|gg|io|me|ly)\b)", re.I)
_HANDLE = re.compile(r"(^|\s)@\w{2,}")
_LONG_NUMBER = re.compile(r"\d[\d\s\-]{6,}\d")


@dataclass
class FeatureState:
    """What the feature extractor remembers between messages of one conversation (streaming)."""

    roles: dict[str, int] = field(default_factory=dict)
    last_sender: str | None = None
    last_sent_at: datetime | None = None
    position: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "roles": dict(self.roles),
            "last_sender": self.last_sender,
            "last_sent_at": self.last_sent_at.isoformat() if self.last_sent_at else None,
            "position": self.position,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> FeatureState:
        raw_roles = data.get("roles") or {}
        roles = {str(k): int(v) for k, v in raw_roles.items()} if isinstance(raw_roles, dict) else {}
        sent = data.get("last_sent_at")
        last = data.get("last_sender")
        pos = data.get("position", 0)
        return cls(
            roles=roles,
            last_sender=str(last) if last is not None else None,
            last_sent_at=datetime.fromisoformat(sent) if isinstance(sent, str) else None,
            position=int(pos) if isinstance(pos, int | float | str) else 0,
        )


def message_features(message: Message, state: FeatureState) -> np.ndarray:
    """Features of one message given the conversation so far; updates `state` in place."""
    new_sender = message.sender not in state.roles
    if new_sender:
        state.roles[message.sender] = len(state.roles)
    role = state.roles[message.sender]
    gap = 0.0
    gap_known = 0.0
    if message.sent_at is not None and state.last_sent_at is not None:
        gap = max(0.0, (message.sent_at - state.last_sent_at).total_seconds())
        gap_known = 1.0
    text = message.text
    norm = normalize(text)
    # Only participants seen so far: streaming and batch scoring must see the same features.
    participants = len(state.roles)
    values = [
        float(role == 0),
        float(role == 1),
        float(role >= 2),
        float(state.last_sender == message.sender),
        float(new_sender),
        math.log1p(gap) / 10.0,
        gap_known,
        math.log1p(len(text)) / 5.0,
        float(not text.strip()),
        float(bool(_URL.search(norm.text))),
        float(bool(_HANDLE.search(norm.text))),
        float(bool(_LONG_NUMBER.search(norm.text))),
        float(any(ch.isdigit() for ch in norm.text)),
        float("?" in text),
        float(norm.obfuscated),
        math.log1p(state.position) / 5.0,
        float(participants > 2),
        math.log1p(participants) / 2.0,
    ]
    state.last_sender = message.sender
    if message.sent_at is not None:
        state.last_sent_at = message.sent_at
    state.position += 1
    return np.asarray(values, dtype=np.float32)


def conversation_features(conversation: Conversation) -> np.ndarray:
    """[n_messages, FEATURE_DIM] for a whole conversation."""
    state = FeatureState()
    return np.stack([message_features(m, state) for m in conversation.messages])


def sequence_inputs(encoder: TextEncoder, conversations: Sequence[Conversation]) -> list[np.ndarray]:
    """[n_messages, encoder dim + FEATURE_DIM] per conversation: what the sequence model reads.

    All messages of the batch go to the encoder in one call, so it can dedupe and batch them.
    """
    texts = [normalize(m.text).text for c in conversations for m in c.messages]
    vectors = encoder.encode(texts)
    out, start = [], 0
    for conv in conversations:
        n = len(conv.messages)
        out.append(np.concatenate([vectors[start : start + n], conversation_features(conv)], axis=1))
        start += n
    return out
