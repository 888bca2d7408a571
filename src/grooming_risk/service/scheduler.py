"""One model thread, two lanes: streaming appends never wait behind bulk scoring.

The model is one resource (torch and onnxruntime already use every core inside a call), so model
calls run one at a time on a single thread. Work arrives in two lanes: `stream` (appends to live
conversations, a few messages each) and `bulk` (`/v1/score`). The thread always takes the oldest
stream call first; bulk requests are cut into calls of a bounded message budget by the route, so
an append waits at most for the bulk call already running, not for a whole 10,000-message request.
"""

from __future__ import annotations

import enum
import heapq
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class Lane(enum.IntEnum):
    """Lower value runs first."""

    STREAM = 0
    BULK = 1


@dataclass(order=True)
class _Call:
    lane: int
    seq: int
    fn: Callable[[], Any] = field(compare=False)
    future: Future[Any] = field(compare=False)


class ModelThread:
    """A single worker thread that runs queued calls by lane, then by arrival."""

    def __init__(self, name: str = "grooming-risk-model") -> None:
        self._heap: list[_Call] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, lane: Lane, fn: Callable[..., R], *args: Any) -> Future[R]:
        future: Future[R] = Future()
        with self._cond:
            if self._closed:
                raise RuntimeError("the model thread has shut down")
            heapq.heappush(self._heap, _Call(int(lane), next(self._seq), lambda: fn(*args), future))
            self._cond.notify()
        return future

    def queued(self, lane: Lane) -> int:
        """Calls waiting in `lane` (not counting the one running)."""
        with self._cond:
            return sum(1 for call in self._heap if call.lane == lane)

    def lane(self, lane: Lane) -> LaneExecutor:
        return LaneExecutor(self, lane)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._cond:
            self._closed = True
            if cancel_futures:
                for call in self._heap:
                    call.future.cancel()
                self._heap.clear()
            self._cond.notify_all()
        if wait:
            self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap and not self._closed:
                    self._cond.wait()
                if not self._heap:
                    return
                call = heapq.heappop(self._heap)
            if not call.future.set_running_or_notify_cancel():
                continue
            try:
                result = call.fn()
            except BaseException as exc:  # handed to the awaiting request, never lost
                call.future.set_exception(exc)
            else:
                call.future.set_result(result)


class LaneExecutor(Executor):
    """An `Executor` view of one lane, for `loop.run_in_executor`."""

    def __init__(self, thread: ModelThread, lane: Lane) -> None:
        self.thread = thread
        self.lane_id = lane

    def submit(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> Future[R]:
        if kwargs:
            return self.thread.submit(self.lane_id, lambda: fn(*args, **kwargs))
        return self.thread.submit(self.lane_id, fn, *args)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        # The thread is shared by both lanes: the runtime shuts it down once.
        return None
