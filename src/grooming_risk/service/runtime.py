"""What one running app holds: settings, model, state store, locks, batchers, metrics, review sink."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.conversation import Conversation, Message
from grooming_risk.inference.scorer import RiskScorer, StreamState
from grooming_risk.service.auth import KeyRing
from grooming_risk.service.batching import MicroBatcher
from grooming_risk.service.metrics import ServiceMetrics
from grooming_risk.service.scheduler import Lane, ModelThread
from grooming_risk.service.senders import InMemorySenderStore, RedisSenderStore, SenderStore
from grooming_risk.service.settings import ServiceSettings
from grooming_risk.service.state import ConversationLocks, InMemoryStateStore, RedisStateStore, StateStore

if TYPE_CHECKING:
    from grooming_risk.policy import Policy

log = logging.getLogger("grooming_risk.service")

ReviewSink = Callable[[list[tuple[Conversation, Assessment]]], object]
AdvanceItem = tuple[StreamState, Sequence[Message]]
AdvanceResult = tuple[StreamState, Assessment]


class NotReadyError(RuntimeError):
    """The model is still loading (or failed to load); answered with 503."""


class OverloadedError(RuntimeError):
    """Too much work is queued in a lane; answered with 429 and Retry-After."""

    def __init__(self, lane: Lane, queued: int, limit: int, retry_after_s: int) -> None:
        super().__init__(
            f"the service is busy: {queued} {lane.name.lower()} message(s) queued (limit {limit}); "
            f"retry after {retry_after_s} s"
        )
        self.lane = lane
        self.retry_after_s = retry_after_s


# Until a model call has been timed, Retry-After assumes this speed (the ONNX path on 2 cores).
INITIAL_MESSAGES_PER_S = 1_000.0


def review_sink_for(url: str) -> ReviewSink:
    """Forward to the review store at `url` through `grooming_risk.review.ingest.ingest_pairs`."""
    try:
        from grooming_risk.review.ingest import ingest_pairs
    except ImportError as exc:
        raise RuntimeError(
            "--review-db needs the review store (grooming_risk.review and the 'review' extra)"
        ) from exc

    def sink(pairs: list[tuple[Conversation, Assessment]]) -> object:
        return ingest_pairs(url, pairs)

    return sink


def build_state_store(settings: ServiceSettings, metrics: ServiceMetrics) -> StateStore:
    if settings.state_store in (None, "memory"):
        return InMemoryStateStore(settings.state_ttl_s, settings.max_conversations, on_evict=metrics.evicted)
    return RedisStateStore.from_url(str(settings.state_store), settings.state_ttl_s)


def build_sender_store(settings: ServiceSettings, state: StateStore) -> SenderStore:
    """Profiles live where the conversation state lives: in this process, or in the same Redis."""
    if isinstance(state, RedisStateStore):
        return RedisSenderStore(state.client, settings.sender_ttl_s)
    return InMemorySenderStore(settings.sender_ttl_s, settings.max_senders)


def build_policy(settings: ServiceSettings) -> Policy | None:
    """The policy for `?actions=true`: the configured one (an error in it stops the service), else
    the shipped default when the service runs from the project directory, else none."""
    from grooming_risk.policy import DEFAULT_POLICY, load_policy

    configured = settings.policy_file or settings.policy_country or settings.policy_overrides
    if not configured and not DEFAULT_POLICY.exists():
        return None
    return load_policy(
        settings.policy_file, country=settings.policy_country, overrides=settings.policy_overrides
    )


def _load_warm(uri: str | None) -> RiskScorer:
    """The model, with its encoder's weights and workers loaded before the first request."""
    return RiskScorer.load(uri).warm_up()


@dataclass
class ServiceRuntime:
    settings: ServiceSettings
    keyring: KeyRing
    metrics: ServiceMetrics
    store: StateStore
    senders: SenderStore
    scorer: RiskScorer | None = None
    policy: Policy | None = None
    review_sink: ReviewSink | None = None
    load_error: str | None = None
    locks: ConversationLocks = field(default_factory=ConversationLocks)
    model_thread: ModelThread | None = None
    score_batcher: MicroBatcher[Conversation, Assessment] | None = None
    advance_batcher: MicroBatcher[AdvanceItem, AdvanceResult] | None = None
    queued: dict[Lane, int] = field(default_factory=lambda: dict.fromkeys(Lane, 0))
    messages_per_s: float = INITIAL_MESSAGES_PER_S
    _loader: asyncio.Task[None] | None = None

    # Lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        # One thread for every model call: requests are merged by the batchers, not run in
        # parallel, and streaming calls are taken before bulk ones (service/scheduler.py).
        self.model_thread = ModelThread()
        window = self.settings.batch_window_ms / 1000.0
        self.score_batcher = MicroBatcher(
            self._score,
            self.model_thread.lane(Lane.BULK),
            window_s=window,
            max_items=self.settings.bulk_call_messages,
            name="score",
            observe=self.metrics.observe_batch,
            weigh=lambda conversation: len(conversation.messages),
        )
        self.advance_batcher = MicroBatcher(
            self._advance,
            self.model_thread.lane(Lane.STREAM),
            window_s=window,
            max_items=self.settings.max_batch_items,
            name="stream",
            observe=self.metrics.observe_batch,
        )
        if self.scorer is None:
            self._loader = asyncio.get_running_loop().create_task(self._load())
        else:
            self._loaded(self.scorer)

    async def stop(self) -> None:
        if self._loader is not None and not self._loader.done():
            self._loader.cancel()
        for batcher in (self.score_batcher, self.advance_batcher):
            if batcher is not None:
                await batcher.close()
        await self.senders.close()
        await self.store.close()
        if self.model_thread is not None:
            self.model_thread.shutdown(wait=False, cancel_futures=True)
        self.model_thread = None

    async def _load(self) -> None:
        assert self.model_thread is not None
        try:
            scorer = await asyncio.get_running_loop().run_in_executor(
                self.model_thread.lane(Lane.BULK), _load_warm, self.settings.model
            )
        except Exception as exc:
            self.load_error = f"{type(exc).__name__}: {exc}"
            log.error("model failed to load: %s", self.load_error)
            return
        self._loaded(scorer)

    def _loaded(self, scorer: RiskScorer) -> None:
        self.scorer = scorer
        self.metrics.model_info.labels(model_version=scorer.model_version).set(1)
        log.info("model %s ready", scorer.model_version)

    # Model calls (run in the model thread) -----------------------------------------------------

    def _score(self, conversations: list[Conversation]) -> list[Assessment]:
        with self._timed(sum(len(c.messages) for c in conversations)):
            return self.ready_scorer().score(conversations)

    def _advance(self, items: list[AdvanceItem]) -> list[AdvanceResult]:
        with self._timed(sum(len(m) for _, m in items)):
            return self.ready_scorer().advance(items)

    @contextmanager
    def _timed(self, n_messages: int) -> Iterator[None]:
        """Fold one model call's speed into the estimate that Retry-After is computed from."""
        t0 = time.perf_counter()
        yield
        elapsed = time.perf_counter() - t0
        if n_messages and elapsed > 0:
            self.messages_per_s = 0.8 * self.messages_per_s + 0.2 * (n_messages / elapsed)

    # Bulk scoring and admission ------------------------------------------------------------------

    @asynccontextmanager
    async def admit(self, lane: Lane, n_messages: int) -> AsyncIterator[None]:
        """Count `n_messages` as queued in `lane` while the block runs; refuse them when it is full."""
        limit = (
            self.settings.max_queued_stream_messages
            if lane is Lane.STREAM
            else self.settings.max_queued_bulk_messages
        )
        queued = self.queued[lane]
        # An empty lane always admits one request, however large: the per-request caps bound it.
        if queued and queued + n_messages > limit:
            retry = max(1, math.ceil(queued / max(self.messages_per_s, 1.0)))
            self.metrics.rejected.labels(lane=lane.name.lower()).inc()
            raise OverloadedError(lane, queued, limit, retry)
        self.queued[lane] = queued + n_messages
        gauge = self.metrics.queued.labels(lane=lane.name.lower())
        gauge.set(self.queued[lane])
        try:
            yield
        finally:
            self.queued[lane] -= n_messages
            gauge.set(self.queued[lane])

    async def score_conversations(self, conversations: Sequence[Conversation]) -> list[Assessment]:
        """Whole conversations, scored in model calls of at most `bulk_call_messages` messages.

        Short conversations share calls (with other requests' too); a longer one is carried through
        the streaming state in chunks, so that no single call holds the model thread for long.
        """
        assert self.score_batcher is not None
        scorer = self.ready_scorer()
        budget = self.settings.bulk_call_messages
        chunked = scorer.supports_streaming
        results: list[Assessment | None] = [None] * len(conversations)
        tasks: list[asyncio.Future[None]] = []

        async def whole(indices: list[int]) -> None:
            assert self.score_batcher is not None
            out = await self.score_batcher.submit([conversations[i] for i in indices])
            for i, assessment in zip(indices, out, strict=True):
                results[i] = assessment

        async def in_chunks(i: int) -> None:
            results[i] = await self._score_long(scorer, conversations[i], budget)

        unit: list[int] = []
        weight = 0
        for i, conversation in enumerate(conversations):
            n = len(conversation.messages)
            if chunked and n > budget:
                tasks.append(asyncio.ensure_future(in_chunks(i)))
                continue
            if unit and weight + n > budget:
                tasks.append(asyncio.ensure_future(whole(unit)))
                unit, weight = [], 0
            unit.append(i)
            weight += n
        if unit:
            tasks.append(asyncio.ensure_future(whole(unit)))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
        return [a for a in results if a is not None]

    async def _score_long(self, scorer: RiskScorer, conversation: Conversation, budget: int) -> Assessment:
        assert self.model_thread is not None
        loop = asyncio.get_running_loop()
        lane = self.model_thread.lane(Lane.BULK)
        state = scorer.new_state(conversation.conversation_id)
        risks: list[float] = []
        assessment: Assessment | None = None
        messages = conversation.messages
        for start in range(0, len(messages), budget):
            item: AdvanceItem = (state, messages[start : start + budget])
            [(state, assessment)] = await loop.run_in_executor(lane, self._advance, [item])
            risks += assessment.risk_by_message
        assert assessment is not None
        return assessment.model_copy(update={"risk_by_message": risks, "risk_by_message_start": 0})

    def ready_scorer(self) -> RiskScorer:
        if self.score_batcher is None:
            raise NotReadyError("the service has not started: run it with its lifespan (uvicorn does)")
        if self.scorer is not None:
            return self.scorer
        if self.load_error:
            raise NotReadyError(f"the model failed to load ({self.load_error})")
        raise NotReadyError("the model is still loading; retry shortly")

    # Review forwarding ---------------------------------------------------------------------------

    async def forward(self, pairs: list[tuple[Conversation, Assessment]]) -> None:
        """Runs after the response is sent; failures are logged and counted, never raised."""
        if self.review_sink is None or not pairs:
            return
        ids = [c.conversation_id for c, _ in pairs]
        try:
            await run_in_threadpool(self.review_sink, pairs)
        except Exception as exc:
            # Only the type: database errors can quote the parameters, i.e. conversation text.
            self.metrics.forwarded.labels(outcome="error").inc(len(pairs))
            log.error(
                "forwarding %d flagged conversation(s) %s to review failed: %s",
                len(pairs),
                ids,
                type(exc).__name__,
            )
            return
        self.metrics.forwarded.labels(outcome="ok").inc(len(pairs))
        log.info("forwarded %d flagged conversation(s) %s to review", len(pairs), ids)
