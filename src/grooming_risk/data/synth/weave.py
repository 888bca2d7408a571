"""Weaving: risk (or a benign look-alike scene) inserted into a real conversation.

Trained on generated chats plus real benign chats alone, a model learns "written by people means
safe" and misses risk in human-written text. Here a real chat is the carrier: one real participant
becomes the offender (or A), the other the child (or B), and an arc's beats are inserted between
the real messages, in order, at positions drawn so that risk can start early or late. No real
message is dropped, changed or reordered; inserted messages take times between their neighbours.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from grooming_risk.contract.conversation import Conversation, Message
from grooming_risk.data.synth.writer_arcs import OFFENDER, VICTIM, Beat

# A carrier needs two people and enough of their own talk to hide an arc in.
MIN_CARRIER_MESSAGES = 4


def is_carrier(conversation: Conversation) -> bool:
    return len(conversation.messages) >= MIN_CARRIER_MESSAGES and len(conversation.senders()) == 2


def _times(
    before: datetime | None, after: datetime | None, count: int, rng: random.Random
) -> list[datetime | None]:
    if before is None:
        return [None] * count
    if after is None or after <= before:
        out: list[datetime | None] = []
        t = before
        for _ in range(count):
            t = t + timedelta(seconds=round(rng.uniform(5.0, 90.0), 3))
            out.append(t)
        return out
    gap = (after - before).total_seconds()
    return [before + timedelta(seconds=gap * (i + 1) / (count + 1)) for i in range(count)]


def weave(
    carrier: Conversation,
    beats: Sequence[Beat],
    rng: random.Random,
    *,
    roles: dict[str, str],
    onset: float = 0.0,
    style: Any = None,
) -> tuple[list[dict[str, Any]], int | None]:
    """Messages (contract dicts) of `carrier` with `beats` inserted, and the first risk index.

    `roles` maps an arc role ("offender"/"victim" or "A"/"B") to a real sender id. `onset` (0..1)
    is how far into the real chat the first beat may go at the earliest. `style`, if given, is
    a callable (role, text) -> text applied to inserted lines (typing noise).
    """
    real = carrier.messages
    n = len(real)
    earliest = min(n, int(onset * n))
    # Beat i goes after real message slots[i] - 1 (slot 0 = before the first real message).
    slots = sorted(rng.randint(earliest, n) for _ in beats)
    out: list[dict[str, Any]] = []
    first_risk: int | None = None
    b = 0
    for position in range(n + 1):
        # Every beat placed in this gap, in order; their times are spread over the gap together.
        lines = []
        while b < len(beats) and slots[b] == position:
            lines.extend(beats[b])
            b += 1
        if lines:
            before = real[position - 1].sent_at if position > 0 else None
            after = real[position].sent_at if position < n else None
            if before is None and after is not None:
                before = after - timedelta(seconds=60)
            for line, sent_at in zip(lines, _times(before, after, len(lines), rng), strict=True):
                if line.categories and first_risk is None:
                    first_risk = len(out)
                text = style(line.role, line.text) if style is not None else line.text
                out.append(
                    {
                        "sender": roles[line.role],
                        "text": text,
                        "sent_at": sent_at,
                        "categories": list(line.categories),
                    }
                )
        if position < n:
            message: Message = real[position]
            out.append(
                {
                    "sender": message.sender,
                    "text": message.text,
                    "sent_at": message.sent_at,
                    "categories": [],
                }
            )
    return out, first_risk


class RealChatter:
    """Short runs of consecutive real messages, used as ordinary talk in generated conversations.

    Generated chatter repeats itself; people do not. Each snippet is 1 to 4 consecutive messages of
    one real chat, returned as (speaker 0 or 1, text) so the caller maps them onto its own pair.
    """

    def __init__(self, carriers: Sequence[Conversation], rng: random.Random) -> None:
        self.carriers = carriers
        self.rng = rng

    def snippet(self, room: int) -> list[tuple[int, str]]:
        rng = self.rng
        chat = self.carriers[int(rng.random() * len(self.carriers))]
        size = min(room, rng.randint(1, 4), len(chat.messages))
        start = int(rng.random() * (len(chat.messages) - size + 1))
        first = chat.messages[start].sender
        return [(int(m.sender != first), m.text) for m in chat.messages[start : start + size]]


class CarrierDeck:
    """Carriers dealt in a shuffled order, reshuffled only when all have been used."""

    def __init__(self, carriers: Sequence[Conversation], rng: random.Random) -> None:
        self.carriers = list(carriers)
        self.rng = rng
        self.order: list[int] = []

    def __len__(self) -> int:
        return len(self.carriers)

    def deal(self) -> Conversation:
        if not self.order:
            self.order = list(range(len(self.carriers)))
            self.rng.shuffle(self.order)
        return self.carriers[self.order.pop()]


def carrier_roles(carrier: Conversation, rng: random.Random, risky: bool) -> dict[str, str]:
    """Which real participant plays which arc role (either may be the offender)."""
    a, b = carrier.senders()
    if rng.random() < 0.5:
        a, b = b, a
    return {OFFENDER: a, VICTIM: b} if risky else {"A": a, "B": b}
