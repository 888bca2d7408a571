"""What the encoder benchmarks share: the chat messages they encode and how they time them."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from grooming_risk.io.readers import read_conversations
from grooming_risk.text.normalize import normalize


def chat_messages(path: Path, n: int) -> list[str]:
    """The first `n` distinct normalised message texts of a conversation file."""
    seen: dict[str, None] = {}
    for conversation in read_conversations(path):
        for message in conversation.messages:
            text = normalize(message.text).text
            if text:
                seen.setdefault(text)
            if len(seen) >= n:
                return list(seen)
    return list(seen)


def best_seconds(fn: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best
