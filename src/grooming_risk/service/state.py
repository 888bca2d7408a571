"""Where streamed conversations' state lives between requests.

What is stored per conversation is the scorer's `StreamState` (GRU hidden state, feature state and
the running assessment numbers) plus the latest `Assessment`: no message text. The in-process store
is the default; `RedisStateStore` lets several replicas share state. Both drop a conversation after
`ttl_s` without requests (the TTL is renewed by every read and write).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from grooming_risk.contract.assessment import Assessment
from grooming_risk.inference.scorer import StreamState


@dataclass
class ConversationEntry:
    state: StreamState
    assessment: Assessment

    @property
    def message_count(self) -> int:
        return len(self.assessment.risk_by_message)

    def to_json(self) -> str:
        return json.dumps(
            {"state": self.state.to_dict(), "assessment": self.assessment.model_dump(mode="json")}
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> ConversationEntry:
        data = json.loads(text)
        return cls(StreamState.from_dict(data["state"]), Assessment.model_validate(data["assessment"]))


class StateStore(Protocol):
    """Per-conversation state. Implementations must be safe to call from one event loop."""

    async def get(self, conversation_id: str) -> ConversationEntry | None: ...

    async def put(self, conversation_id: str, entry: ConversationEntry) -> None: ...

    async def delete(self, conversation_id: str) -> bool: ...

    async def count(self) -> int | None:
        """Conversations held, or None where the store cannot say cheaply."""
        ...

    async def close(self) -> None: ...


EvictionHook = Callable[[str], None]


def _ignore(reason: str) -> None:
    return None


class InMemoryStateStore:
    """An LRU dict with an idle TTL: entries are ordered by last use, so expired ones are at the front."""

    def __init__(
        self,
        ttl_s: float,
        max_count: int,
        clock: Callable[[], float] = time.monotonic,
        on_evict: EvictionHook = _ignore,
    ) -> None:
        if ttl_s <= 0 or max_count < 1:
            raise ValueError(f"ttl_s must be > 0 and max_count >= 1, got {ttl_s} and {max_count}")
        self.ttl_s = ttl_s
        self.max_count = max_count
        self.clock = clock
        self.on_evict = on_evict
        self._entries: OrderedDict[str, tuple[float, ConversationEntry]] = OrderedDict()

    def _sweep(self, now: float) -> None:
        while self._entries:
            key, (last_used, _) = next(iter(self._entries.items()))
            if now - last_used < self.ttl_s:
                return
            del self._entries[key]
            self.on_evict("ttl")

    async def get(self, conversation_id: str) -> ConversationEntry | None:
        now = self.clock()
        self._sweep(now)
        item = self._entries.get(conversation_id)
        if item is None:
            return None
        self._entries[conversation_id] = (now, item[1])
        self._entries.move_to_end(conversation_id)
        return item[1]

    async def put(self, conversation_id: str, entry: ConversationEntry) -> None:
        now = self.clock()
        self._sweep(now)
        self._entries[conversation_id] = (now, entry)
        self._entries.move_to_end(conversation_id)
        while len(self._entries) > self.max_count:
            self._entries.popitem(last=False)
            self.on_evict("lru")

    async def delete(self, conversation_id: str) -> bool:
        return self._entries.pop(conversation_id, None) is not None

    async def count(self) -> int:
        self._sweep(self.clock())
        return len(self._entries)

    async def close(self) -> None:
        self._entries.clear()


class RedisStateStore:
    """State as JSON under `<prefix><conversation_id>` with Redis's own expiry.

    The maximum count is left to Redis (`maxmemory` with `maxmemory-policy volatile-lru`); its
    evictions show in Redis's `evicted_keys`, not in this service's metrics. Needs the `redis`
    package (>= 5) and Redis >= 6.2 (GETEX).
    """

    def __init__(self, client: Any, ttl_s: float, prefix: str = "grooming-risk:conv:") -> None:
        self.client = client
        self.ttl_ms = max(1, int(ttl_s * 1000))
        self.prefix = prefix

    @classmethod
    def from_url(cls, url: str, ttl_s: float, prefix: str = "grooming-risk:conv:") -> RedisStateStore:
        try:
            import redis.asyncio
        except ImportError as exc:
            raise RuntimeError(
                "a redis:// state store needs the 'redis' package (pip install redis)"
            ) from exc
        return cls(redis.asyncio.Redis.from_url(url), ttl_s, prefix)

    async def get(self, conversation_id: str) -> ConversationEntry | None:
        raw = await self.client.getex(self.prefix + conversation_id, px=self.ttl_ms)
        return None if raw is None else ConversationEntry.from_json(raw)

    async def put(self, conversation_id: str, entry: ConversationEntry) -> None:
        await self.client.set(self.prefix + conversation_id, entry.to_json(), px=self.ttl_ms)

    async def delete(self, conversation_id: str) -> bool:
        return bool(await self.client.delete(self.prefix + conversation_id))

    async def count(self) -> int | None:
        return None

    async def close(self) -> None:
        close = getattr(self.client, "aclose", None) or getattr(self.client, "close", None)
        if close is not None:
            await close()


class ConversationLocks:
    """One asyncio lock per conversation id, dropped when nobody holds or waits for it.

    Serialises requests for the same conversation so that messages are applied in arrival order.
    With several replicas sharing a Redis store, route a conversation to one replica (sticky by id):
    these locks are per process.
    """

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, conversation_id: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(conversation_id, (asyncio.Lock(), 0))
        self._locks[conversation_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[conversation_id]
            if users <= 1:
                del self._locks[conversation_id]
            else:
                self._locks[conversation_id] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
