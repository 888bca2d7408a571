"""What one running app holds: settings, model, state store, locks, batchers, metrics, review sink."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.conversation import Conversation, Message
from grooming_risk.inference.scorer import RiskScorer, StreamState
from grooming_risk.service.auth import KeyRing
from grooming_risk.service.batching import MicroBatcher
from grooming_risk.service.metrics import ServiceMetrics
from grooming_risk.service.settings import ServiceSettings
from grooming_risk.service.state import ConversationLocks, InMemoryStateStore, RedisStateStore, StateStore

log = logging.getLogger("grooming_risk.service")

ReviewSink = Callable[[list[tuple[Conversation, Assessment]]], object]
AdvanceItem = tuple[StreamState, Sequence[Message]]
AdvanceResult = tuple[StreamState, Assessment]


class NotReadyError(RuntimeError):
    """The model is still loading (or failed to load); answered with 503."""


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


@dataclass
class ServiceRuntime:
    settings: ServiceSettings
    keyring: KeyRing
    metrics: ServiceMetrics
    store: StateStore
    scorer: RiskScorer | None = None
    review_sink: ReviewSink | None = None
    load_error: str | None = None
    locks: ConversationLocks = field(default_factory=ConversationLocks)
    executor: ThreadPoolExecutor | None = None
    score_batcher: MicroBatcher[Conversation, Assessment] | None = None
    advance_batcher: MicroBatcher[AdvanceItem, AdvanceResult] | None = None
    _loader: asyncio.Task[None] | None = None

    # Lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        # One thread for every model call: requests are merged by the batchers, not run in parallel.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="grooming-risk-model")
        window = self.settings.batch_window_ms / 1000.0
        size = self.settings.max_batch_items
        self.score_batcher = MicroBatcher(
            self._score,
            self.executor,
            window_s=window,
            max_items=size,
            name="score",
            observe=self.metrics.observe_batch,
        )
        self.advance_batcher = MicroBatcher(
            self._advance,
            self.executor,
            window_s=window,
            max_items=size,
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
        await self.store.close()
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = None

    async def _load(self) -> None:
        assert self.executor is not None
        try:
            scorer = await asyncio.get_running_loop().run_in_executor(
                self.executor, RiskScorer.load, self.settings.model
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
        return self.ready_scorer().score(conversations)

    def _advance(self, items: list[AdvanceItem]) -> list[AdvanceResult]:
        return self.ready_scorer().advance(items)

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
