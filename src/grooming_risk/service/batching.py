"""Micro-batching: concurrent requests that arrive within a few milliseconds share one model call.

The encoder is far cheaper per message in a batch than one message at a time, and a service under
load receives many small requests at once. Each request submits its items; one consumer task
collects whatever arrives during `window_s` (or until `max_items`), runs the batch function once in
a worker thread (so the event loop keeps accepting requests) and hands each request its slice of
the results, in order.

`max_items` bounds a batch by weight (`weigh(item)`, 1 by default; messages for bulk scoring) so
that one model call stays short: a batch never grows past it, except a single job heavier than the
bound, which runs alone. All batchers of one app share a single model thread (service/scheduler.py):
the model is one resource, and torch already uses several cores inside each call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

BatchObserver = Callable[[str, int, int], None]


def _unit(item: object) -> int:
    return 1


def _no_observer(name: str, requests: int, items: int) -> None:
    return None


@dataclass
class _Job(Generic[T, R]):
    items: list[T]
    future: asyncio.Future[list[R]] = field(repr=False)


class MicroBatcher(Generic[T, R]):
    """`await batcher.submit(items)` -> `fn(items)`'s results, computed together with other requests."""

    def __init__(
        self,
        fn: Callable[[list[T]], Sequence[R]],
        executor: Executor,
        *,
        window_s: float = 0.005,
        max_items: int = 64,
        name: str = "batch",
        observe: BatchObserver = _no_observer,
        weigh: Callable[[T], int] = _unit,
    ) -> None:
        if window_s < 0 or max_items < 1:
            raise ValueError(f"window_s must be >= 0 and max_items >= 1, got {window_s} and {max_items}")
        self.fn = fn
        self.executor = executor
        self.window_s = window_s
        self.max_items = max_items
        self.name = name
        self.observe = observe
        self.weigh = weigh
        self._carry: _Job[T, R] | None = None  # taken from the queue but left for the next batch
        self._queue: asyncio.Queue[_Job[T, R]] | None = None
        self._task: asyncio.Task[None] | None = None

    def _ensure_started(self) -> asyncio.Queue[_Job[T, R]]:
        # Started lazily so that the queue and task belong to the loop that serves requests.
        if self._queue is None or self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = asyncio.get_running_loop().create_task(self._consume(self._queue))
        return self._queue

    async def submit(self, items: Sequence[T]) -> list[R]:
        if not items:
            return []
        queue = self._ensure_started()
        future: asyncio.Future[list[R]] = asyncio.get_running_loop().create_future()
        await queue.put(_Job(list(items), future))
        return await future

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
        self._queue = None
        self._carry = None

    def _weight(self, job: _Job[T, R]) -> int:
        return sum(self.weigh(item) for item in job.items)

    async def _collect(self, queue: asyncio.Queue[_Job[T, R]]) -> list[_Job[T, R]]:
        loop = asyncio.get_running_loop()
        first, self._carry = self._carry, None
        jobs = [first if first is not None else await queue.get()]
        n_items = self._weight(jobs[0])
        deadline = loop.time() + self.window_s
        while n_items < self.max_items:
            try:
                # Requests that queued while the previous batch ran are taken without waiting.
                job = queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    job = await asyncio.wait_for(queue.get(), remaining)
                except TimeoutError:
                    break
            weight = self._weight(job)
            if n_items + weight > self.max_items:
                self._carry = job
                break
            jobs.append(job)
            n_items += weight
        return jobs

    async def _consume(self, queue: asyncio.Queue[_Job[T, R]]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            jobs = await self._collect(queue)
            live = [job for job in jobs if not job.future.done()]  # drop requests already cancelled
            if not live:
                continue
            flat = [item for job in live for item in job.items]
            self.observe(self.name, len(live), len(flat))
            try:
                results = list(await loop.run_in_executor(self.executor, self.fn, flat))
                if len(results) != len(flat):
                    raise RuntimeError(f"{self.name}: {len(results)} results for {len(flat)} items")
            except Exception as exc:
                if len(live) == 1:
                    _settle_error(live[0], exc)
                    continue
                # One bad request must not fail the others it was batched with: retry one by one.
                log.warning(
                    "%s: batch of %d requests failed (%s); retrying each alone",
                    self.name,
                    len(live),
                    type(exc).__name__,
                )
                for job in live:
                    try:
                        _settle(job, list(await loop.run_in_executor(self.executor, self.fn, job.items)))
                    except Exception as single_exc:
                        _settle_error(job, single_exc)
                continue
            start = 0
            for job in live:
                _settle(job, results[start : start + len(job.items)])
                start += len(job.items)


def _settle(job: _Job[T, R], results: list[R]) -> None:
    if not job.future.done():
        job.future.set_result(results)


def _settle_error(job: _Job[T, R], exc: Exception) -> None:
    if not job.future.done():
        job.future.set_exception(exc)
