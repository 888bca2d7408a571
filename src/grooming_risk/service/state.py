"""Where streamed conversations' state lives between requests.

What is stored per conversation is the scorer's `StreamState` (GRU hidden state, feature state and
the running assessment numbers), the assessment returned for the latest append (its risks cover that
append only) and a digest of that append's messages: no message text, and a size that does not grow
with the conversation, so an append costs the same at message 10 and at message 10,000.

Writes are compare-and-set on the message count: an append is stored only if nobody else stored one
since it was read. With the digest, that makes a retried append exactly-once (service/routes.py).

The in-process store is the default; `RedisStateStore` lets several workers or replicas share
state. Both drop a conversation after `ttl_s` without requests (every read and write renews it).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.conversation import Message
from grooming_risk.inference.scorer import StreamState


def append_digest(messages: Sequence[Message]) -> str:
    """A hash of an append's messages: recognises a retry without keeping any text."""
    canonical = json.dumps([m.model_dump(mode="json") for m in messages], sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


@dataclass
class ConversationEntry:
    state: StreamState
    assessment: Assessment  # after the latest append; `risk_by_message` covers that append only
    last_append: str = ""  # `append_digest` of the latest append's messages

    @property
    def message_count(self) -> int:
        return self.state.n_messages

    def replays(self, start_index: int, digest: str) -> bool:
        """Whether an append of these messages at `start_index` is the one already applied last."""
        return (
            bool(self.last_append)
            and self.last_append == digest
            and self.assessment.risk_by_message_start == start_index
            and start_index + len(self.assessment.risk_by_message) == self.message_count
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "state": self.state.to_dict(),
                "assessment": self.assessment.model_dump(mode="json"),
                "last_append": self.last_append,
            }
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> ConversationEntry:
        data = json.loads(text)
        return cls(
            StreamState.from_dict(data["state"]),
            Assessment.model_validate(data["assessment"]),
            str(data.get("last_append", "")),
        )


class StateStore(Protocol):
    """Per-conversation state. Implementations must be safe to call from one event loop."""

    async def get(self, conversation_id: str) -> ConversationEntry | None: ...

    async def put(self, conversation_id: str, entry: ConversationEntry, expected_count: int) -> bool:
        """Store `entry` if the conversation still holds `expected_count` messages (0: absent).

        False (nothing written) when another request stored an append in between."""
        ...

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

    async def put(self, conversation_id: str, entry: ConversationEntry, expected_count: int) -> bool:
        now = self.clock()
        self._sweep(now)
        current = self._entries.get(conversation_id)
        if (current[1].message_count if current else 0) != expected_count:
            return False
        self._entries[conversation_id] = (now, entry)
        self._entries.move_to_end(conversation_id)
        while len(self._entries) > self.max_count:
            self._entries.popitem(last=False)
            self.on_evict("lru")
        return True

    async def delete(self, conversation_id: str) -> bool:
        return self._entries.pop(conversation_id, None) is not None

    async def count(self) -> int:
        self._sweep(self.clock())
        return len(self._entries)

    async def close(self) -> None:
        self._entries.clear()


# KEYS[1]: the conversation's hash. ARGV: expected count ('0' = absent), new count, entry, ttl ms.
_COMPARE_AND_SET = """
local current = redis.call('HGET', KEYS[1], 'n') or '0'
if current ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'n', ARGV[2], 'e', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
"""


class RedisStateStore:
    """State in a hash under `<prefix><conversation_id>` (`n`: message count, `e`: entry JSON).

    A write is one Lua script (compare the count, set, renew the expiry), so it is atomic: a
    process killed mid-append leaves either the old state or the new one, and two workers appending
    to one conversation cannot both win. The maximum count is left to Redis (`maxmemory` with
    `maxmemory-policy volatile-lru`); its evictions show in Redis's `evicted_keys`, not in this
    service's metrics. Needs the `redis` package (>= 5).
    """

    def __init__(self, client: Any, ttl_s: float, prefix: str = "grooming-risk:conv:") -> None:
        self.client = client
        self.ttl_ms = max(1, int(ttl_s * 1000))
        self.prefix = prefix
        self._cas = client.register_script(_COMPARE_AND_SET)

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
        key = self.prefix + conversation_id
        async with self.client.pipeline(transaction=True) as pipe:
            raw, _ = await pipe.hget(key, "e").pexpire(key, self.ttl_ms).execute()
        return None if raw is None else ConversationEntry.from_json(raw)

    async def put(self, conversation_id: str, entry: ConversationEntry, expected_count: int) -> bool:
        written = await self._cas(
            keys=[self.prefix + conversation_id],
            args=[str(expected_count), str(entry.message_count), entry.to_json(), self.ttl_ms],
        )
        return bool(written)

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
