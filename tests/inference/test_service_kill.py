"""The probe's kill -9 repro with Redis, and `serve --workers N` sharing one Redis store.

Real processes and a real Redis: clients stream conversations one message per request with
`start_index`, giving up on some answers before they arrive; the server is killed with SIGKILL
mid-stream and started again; every client retries its unanswered append. Afterwards each conversation must hold exactly the messages sent,
and its risk must equal scoring the whole conversation (a message applied twice would change it).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import skip_or_fail_without

pytest.importorskip("fastapi")
pytest.importorskip("redis")
httpx = pytest.importorskip("httpx")

REDIS_URL = os.environ.get("GROOMING_RISK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CONVERSATIONS = 8
MESSAGES = 24


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        skip_or_fail_without("Redis", f"no Redis server at {REDIS_URL}: {type(exc).__name__}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, model: Path, port: int, log: Path, *extra: str) -> None:
        self.args = [
            sys.executable, "-m", "grooming_risk", "serve", "--no-auth", "--model", str(model),
            "--port", str(port), "--state-store", REDIS_URL, "--log-level", "warning", *extra,
        ]  # fmt: skip
        self.base = f"http://127.0.0.1:{port}"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            # A new session: SIGKILL goes to uvicorn's worker processes too.
            self.proc = subprocess.Popen(
                self.args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"the service exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        pytest.fail(f"the service did not become ready: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def _messages(c: int) -> list[dict[str, Any]]:
    return [{"sender": "ab"[i % 2], "text": f"message {i} in chat {c}"} for i in range(MESSAGES)]


# Every few appends the client gives up before the answer can arrive: the service applies the
# append, the client is never told, as when the service dies between storing and answering.
IMPATIENT = httpx.Timeout(10.0, read=0.0005)


def _stream(base: str, cid: str, messages: list[dict[str, Any]], acked: list[int], stop: float) -> None:
    """Append one message at a time; on any failure, retry the same append (same start_index)."""
    with httpx.Client(timeout=10) as client:
        for i, message in enumerate(messages):
            attempt = 0
            while True:
                if time.monotonic() > stop:
                    raise TimeoutError(f"{cid}: append {i} never succeeded")
                attempt += 1
                try:
                    r = client.post(
                        f"{base}/v1/conversations/{cid}/messages",
                        json={"messages": [message], "start_index": i},
                        timeout=IMPATIENT if attempt == 1 and i % 5 == 2 else 10.0,
                    )
                except httpx.HTTPError:
                    time.sleep(0.05)
                    continue
                if r.status_code in (502, 503):
                    time.sleep(0.05)
                    continue
                assert r.status_code == 200, f"{cid} append {i}: {r.status_code} {r.text}"
                assert r.json()["message_count"] == i + 1
                acked[0] += 1
                break
            time.sleep(0.01)


def _run_clients(
    base: str, prefix: str
) -> tuple[list[threading.Thread], list[list[int]], list[BaseException]]:
    acked = [[0] for _ in range(CONVERSATIONS)]
    errors: list[BaseException] = []
    stop = time.monotonic() + 240

    def client(c: int) -> None:
        try:
            _stream(base, f"{prefix}-{c}", _messages(c), acked[c], stop)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(CONVERSATIONS)]
    for t in threads:
        t.start()
    return threads, acked, errors


def _check_exactly_once(base: str, prefix: str) -> None:
    with httpx.Client(timeout=30) as client:
        for c in range(CONVERSATIONS):
            cid = f"{prefix}-{c}"
            held = client.get(f"{base}/v1/conversations/{cid}").json()
            assert held["message_count"] == MESSAGES, f"{cid}: {held['message_count']} held, {MESSAGES} sent"
            whole = client.post(
                f"{base}/v1/score",
                json={"conversations": [{"conversation_id": cid, "messages": _messages(c)}]},
            ).json()["assessments"][0]
            assert abs(held["assessment"]["risk"] - whole["risk"]) <= 1e-5, cid
            client.delete(f"{base}/v1/conversations/{cid}")


@pytest.fixture
def redis_ready() -> None:
    _redis_or_skip()


def test_kill_9_and_retry_with_redis_is_exactly_once(
    redis_ready: None, tiny_artifact: Path, tmp_path: Path
) -> None:
    server = Server(tiny_artifact, _free_port(), tmp_path / "serve.log")
    prefix = f"kill-{uuid.uuid4().hex[:8]}"
    server.start()
    try:
        threads, acked, errors = _run_clients(server.base, prefix)
        while sum(a[0] for a in acked) < CONVERSATIONS * MESSAGES // 3 and not errors:
            time.sleep(0.01)
        server.kill()  # mid-stream: some appends are stored but unanswered, some not stored
        time.sleep(0.5)
        server.start()
        for t in threads:
            t.join(timeout=300)
        assert not errors, errors
        _check_exactly_once(server.base, prefix)
    finally:
        server.stop()


def test_several_workers_share_conversations_through_redis(
    redis_ready: None, tiny_artifact: Path, tmp_path: Path
) -> None:
    server = Server(tiny_artifact, _free_port(), tmp_path / "serve.log", "--workers", "2")
    prefix = f"workers-{uuid.uuid4().hex[:8]}"
    server.start()
    try:
        threads, _, errors = _run_clients(server.base, prefix)
        for t in threads:
            t.join(timeout=300)
        assert not errors, errors
        _check_exactly_once(server.base, prefix)
    finally:
        server.stop()
