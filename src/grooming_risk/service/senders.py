"""Sender profiles kept by the HTTP service as assessments are made (`GET /v1/senders/{id}`).

Each scored or streamed conversation updates an appearance per participant (no text: ids, risks,
warning-sign names, times); a profile is computed from a sender's appearances on read, with the
same code as the `senders` command (inference/sender_profiles.py). In Redis a sender is one hash,
`<prefix><sender>`, with one field per conversation: a conversation's field is written only by that
conversation's own append, which is already serialised by the state store's compare-and-set, so
concurrent workers never overwrite each other's conversations.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.sender_profile import SenderAppearance, SenderProfile
from grooming_risk.inference.sender_profiles import appearances, build_profile

# A sender with more conversations than this keeps the riskiest ones (memory and read cost stay bounded).
MAX_CONVERSATIONS_PER_SENDER = 1_000


class SenderStore(Protocol):
    async def record(self, assessment: Assessment) -> None: ...

    async def profile(self, sender: str) -> SenderProfile | None: ...

    async def close(self) -> None: ...


def _trim(seen: dict[str, SenderAppearance]) -> None:
    if len(seen) > MAX_CONVERSATIONS_PER_SENDER:
        keep = sorted(seen.values(), key=lambda a: (-a.risk, a.conversation_id))[
            :MAX_CONVERSATIONS_PER_SENDER
        ]
        kept = {a.conversation_id for a in keep}
        for cid in [c for c in seen if c not in kept]:
            del seen[cid]


class InMemorySenderStore:
    """Senders in this process, least recently updated dropped first beyond `max_senders`, and
    after `ttl_s` without a new appearance."""

    def __init__(self, ttl_s: float, max_senders: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_senders = max_senders
        self.clock = clock
        self._senders: OrderedDict[str, tuple[float, dict[str, SenderAppearance]]] = OrderedDict()

    def _sweep(self, now: float) -> None:
        while self._senders:
            key, (updated, _) = next(iter(self._senders.items()))
            if now - updated < self.ttl_s:
                return
            del self._senders[key]

    async def record(self, assessment: Assessment) -> None:
        now = self.clock()
        self._sweep(now)
        for sender, appearance in appearances(assessment):
            _, seen = self._senders.pop(sender, (now, {}))
            seen[appearance.conversation_id] = appearance
            _trim(seen)
            self._senders[sender] = (now, seen)
        while len(self._senders) > self.max_senders:
            self._senders.popitem(last=False)

    async def profile(self, sender: str) -> SenderProfile | None:
        self._sweep(self.clock())
        item = self._senders.get(sender)
        return build_profile(sender, item[1]) if item else None

    async def close(self) -> None:
        self._senders.clear()


class RedisSenderStore:
    """Profiles in Redis, on the state store's client."""

    def __init__(self, client: Any, ttl_s: float, prefix: str = "grooming-risk:sender:") -> None:
        self.client = client
        self.ttl_ms = max(1, int(ttl_s * 1000))
        self.prefix = prefix

    async def record(self, assessment: Assessment) -> None:
        async with self.client.pipeline(transaction=False) as pipe:
            for sender, appearance in appearances(assessment):
                key = self.prefix + sender
                pipe.hset(key, appearance.conversation_id, appearance.model_dump_json())
                pipe.pexpire(key, self.ttl_ms)
            await pipe.execute()

    async def profile(self, sender: str) -> SenderProfile | None:
        raw = await self.client.hgetall(self.prefix + sender)
        if not raw:
            return None
        seen = {
            (k.decode() if isinstance(k, bytes) else str(k)): SenderAppearance.model_validate_json(v)
            for k, v in raw.items()
        }
        _trim(seen)
        return build_profile(sender, seen)

    async def close(self) -> None:
        """Nothing to do: the client is the state store's, which closes it."""
