"""The micro-batcher: concurrent submissions share one call, results go back to the right caller."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from grooming_risk.service.batching import MicroBatcher

R = TypeVar("R")


class RecordingFn:
    """Doubles its inputs and records the size of every call (a stand-in for scorer.score)."""

    def __init__(self, fail_on: int | None = None, gate: threading.Event | None = None) -> None:
        self.calls: list[list[int]] = []
        self.fail_on = fail_on
        self.gate = gate
        self.threads: set[str] = set()

    def __call__(self, items: list[int]) -> list[int]:
        self.threads.add(threading.current_thread().name)
        if self.gate is not None:
            self.gate.wait(timeout=30)
        self.calls.append(list(items))
        if self.fail_on is not None and self.fail_on in items:
            raise ValueError("bad item")
        return [2 * i for i in items]


def _run_with_batcher(
    fn: RecordingFn, coro_factory: Callable[[MicroBatcher[int, int]], Awaitable[R]], **kwargs: Any
) -> R:
    async def run() -> R:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="model") as pool:
            batcher: MicroBatcher[int, int] = MicroBatcher(fn, pool, **kwargs)
            try:
                return await coro_factory(batcher)
            finally:
                await batcher.close()

    return asyncio.run(run())


def test_concurrent_submissions_are_merged_into_one_call() -> None:
    fn = RecordingFn()
    sizes: list[tuple[int, int]] = []

    async def go(batcher: MicroBatcher[int, int]) -> list[list[int]]:
        return list(await asyncio.gather(*(batcher.submit([i, 10 + i]) for i in range(5))))

    results = _run_with_batcher(
        fn, go, window_s=0.01, max_items=100, observe=lambda name, r, n: sizes.append((r, n))
    )
    assert results == [[2 * i, 2 * (10 + i)] for i in range(5)]
    assert [len(c) for c in fn.calls] == [10]
    assert sizes == [(5, 10)]
    assert all(t.startswith("model") for t in fn.threads)  # off the event loop


def test_max_items_splits_batches_without_splitting_a_request() -> None:
    fn = RecordingFn()

    async def go(batcher: MicroBatcher[int, int]) -> list[list[int]]:
        return list(await asyncio.gather(*(batcher.submit([i] * 3) for i in range(4))))

    results = _run_with_batcher(fn, go, window_s=0.01, max_items=5)
    assert results == [[2 * i] * 3 for i in range(4)]
    # 3 + 3 would pass the limit of 5, so each request goes alone; a request is never cut in two.
    assert [len(c) for c in fn.calls] == [3, 3, 3, 3]


def test_batches_are_bounded_by_weight_and_a_heavy_request_runs_alone() -> None:
    fn = RecordingFn()

    async def go(batcher: MicroBatcher[int, int]) -> list[list[int]]:
        # Weights: 1, 1, 10 (heavier than the bound), 2, 2.
        requests = [[1], [1], [10], [2], [2]]
        return list(await asyncio.gather(*(batcher.submit(r) for r in requests)))

    results = _run_with_batcher(fn, go, window_s=0.01, max_items=4, weigh=lambda item: item)
    assert results == [[2], [2], [20], [4], [4]]
    assert fn.calls == [[1, 1], [10], [2, 2]]


def test_requests_arriving_during_a_model_call_form_the_next_batch() -> None:
    gate = threading.Event()
    fn = RecordingFn(gate=gate)

    async def go(batcher: MicroBatcher[int, int]) -> list[list[int]]:
        first = asyncio.ensure_future(batcher.submit([1]))
        while not fn.threads:  # the first call has started and is blocked on the gate
            await asyncio.sleep(0.001)
        later = [asyncio.ensure_future(batcher.submit([k])) for k in (2, 3, 4)]
        await asyncio.sleep(0)
        gate.set()
        return [await first, *[await f for f in later]]

    results = _run_with_batcher(fn, go, window_s=0.0, max_items=64)
    assert results == [[2], [4], [6], [8]]
    assert fn.calls == [[1], [2, 3, 4]]


def test_a_failing_request_does_not_fail_the_requests_batched_with_it() -> None:
    fn = RecordingFn(fail_on=13)

    async def go(batcher: MicroBatcher[int, int]) -> list[object]:
        return list(
            await asyncio.gather(
                batcher.submit([1]), batcher.submit([13]), batcher.submit([2]), return_exceptions=True
            )
        )

    ok1, bad, ok2 = _run_with_batcher(fn, go, window_s=0.01, max_items=64)
    assert ok1 == [2]
    assert ok2 == [4]
    assert isinstance(bad, ValueError)
    assert fn.calls == [[1, 13, 2], [1], [13], [2]]


def test_empty_submission_and_bad_settings() -> None:
    fn = RecordingFn()

    async def go(batcher: MicroBatcher[int, int]) -> list[int]:
        return await batcher.submit([])

    assert _run_with_batcher(fn, go) == []
    assert fn.calls == []
    with pytest.raises(ValueError, match="max_items"):
        MicroBatcher(fn, ThreadPoolExecutor(1), max_items=0)
