"""Pure ASGI middleware: request body limit, and request metrics/logging with a privacy-safe 500.

Pure ASGI rather than Starlette's BaseHTTPMiddleware so that the body can be counted as it streams
and exceptions are not wrapped in task groups.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grooming_risk.service.metrics import ServiceMetrics

log = logging.getLogger("grooming_risk.service")


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class _BodyTooLargeError(Exception):
    pass


class BodyLimitMiddleware:
    """413 for bodies over `max_bytes`: up front from Content-Length, or while a chunked body streams."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _detail(self) -> dict[str, Any]:
        return {"detail": f"request body is larger than the limit of {self.max_bytes} bytes"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _send_json(send, 400, {"detail": "Content-Length is not a number"})
                    return
                if declared > self.max_bytes:
                    await _send_json(send, 413, self._detail())
                    return
        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise _BodyTooLargeError
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # the app's answer to a cut-off body (e.g. a 400) is replaced by the 413 below
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _BodyTooLargeError:
            pass
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await _send_json(send, 413, self._detail())


class ObservabilityMiddleware:
    """Counts and times every request by route template and logs one line per request.

    It is also the last line of defence for privacy: an unhandled exception is logged by type and
    code location only (its message could quote conversation text) and answered with a generic 500,
    so neither uvicorn's traceback logging nor the response can carry input.
    """

    def __init__(
        self, app: ASGIApp, metrics: ServiceMetrics, fixed_paths: frozenset[str] = frozenset()
    ) -> None:
        self.app = app
        self.metrics = metrics
        # Paths without a templated route in the scope (e.g. /docs) that are still safe as labels.
        self.fixed_paths = fixed_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        started = False

        async def observed_send(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = int(message["status"])
                started = True
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        except Exception as exc:
            frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            where = f"{frame.filename}:{frame.lineno}" if frame else "?"
            log.error(
                "unhandled %s at %s while serving %s %s",
                type(exc).__name__,
                where,
                scope.get("method"),
                self._route(scope),
            )
            status = 500
            if not started:
                await _send_json(send, 500, {"detail": "internal error; see the service log"})
        finally:
            elapsed = time.perf_counter() - start
            route = self._route(scope)
            method = str(scope.get("method", "?"))
            self.metrics.requests.labels(method=method, route=route, status=str(status)).inc()
            self.metrics.latency.labels(method=method, route=route).observe(elapsed)
            key_id = (scope.get("state") or {}).get("key_id", "-")
            log.info("%s %s -> %d in %.1f ms (key %s)", method, route, status, elapsed * 1000, key_id)

    def _route(self, scope: Scope) -> str:
        path = getattr(scope.get("route"), "path", None)
        if path:
            return str(path)
        # Anything else (404s) is one label: raw paths could hold ids and would be unbounded.
        return str(scope.get("path")) if scope.get("path") in self.fixed_paths else "unmatched"
