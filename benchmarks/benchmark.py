#!/usr/bin/env python
"""Throughput, memory and latency of grooming-risk, against the eSPD re-encoding protocol.

    python benchmarks/benchmark.py                                  # the default model and test split
    python benchmarks/benchmark.py --onnx artifacts/models/default-onnx --json bench.json

One run prints one markdown table:

* batch scoring (`RiskScorer.score`) of N conversations: messages/s, conversations/s, peak RSS of
  the scoring process and any encoder workers it started (each runtime is measured in a fresh
  subprocess, so its memory is its own); loading includes `warm_up`, as in `grooming-risk score`;
* encoder tokens per message (mean, p95, share truncated);
* the ONNX export (`--onnx DIR`, or `--onnx-export` to make one now) in a process where torch and
  transformers cannot be imported: speed, memory and risk differences against the torch model;
* online per-message latency (p50/p95/p99) through `grooming-risk serve --no-auth` on loopback,
  with 1 and 16 conversations streaming concurrently, one message per request;
* fairness on the serving model (the ONNX export when there is one): the latency of 16 streams
  while one 10,000-message `/v1/score` request runs ("bulk + streams"), and 16 streams against
  `serve --workers N --state-store redis://...` for each N in --workers (needs a Redis server);
* the eSPD protocol (Vogt et al. 2021) on the same encoder: for each new message re-encode the
  last 50 messages joined as one text (at most 512 tokens). Its speed is measured on a subset of
  messages, message by message (as a live service would) and against our streaming on the same
  messages; its quality is a logistic regression on the pooled window embeddings of training
  prefixes, scored by ROC-AUC on the hand-written set next to our model's.

Every phase is bounded (--conversations, --requests, --duration, --espd-messages, --espd-train),
and the script stops by itself. Figures depend on the machine: report them with its core count.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from grooming_risk.contract.conversation import Conversation
from grooming_risk.io.readers import read_conversations

ESPD_WINDOW = 50
ESPD_MAX_TOKENS = 512

# Runs in a fresh interpreter so that peak RSS belongs to the scorer alone (with the encoder's
# worker processes, if it started any, added). It loads as `grooming-risk score` does: load, then
# warm up (weights and worker processes), both inside "load". With BLOCK set, torch and
# transformers cannot be imported: the ONNX runtime must not need them.
BATCH_WORKER = """
import json, os, resource, sys, time
def children_peak_rss_mb():
    total = 0
    try:
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/children") as f:
                for pid in f.read().split():
                    with open(f"/proc/{pid}/status") as status:
                        total += sum(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
    except OSError:  # not Linux: the scorer's own figure only
        pass
    return total / 1024
if sys.argv[4] == "block":
    sys.modules["torch"] = None
    sys.modules["transformers"] = None
from itertools import islice
from grooming_risk.inference.scorer import RiskScorer
from grooming_risk.io.readers import read_conversations
convs = list(islice(read_conversations(sys.argv[2]), int(sys.argv[3])))
t0 = time.perf_counter()
scorer = RiskScorer.load(sys.argv[1]).warm_up()
load_s = time.perf_counter() - t0
t0 = time.perf_counter()
assessments = scorer.score(convs)
score_s = time.perf_counter() - t0
workers_mb = children_peak_rss_mb()
print(json.dumps({
    "load_s": load_s,
    "score_s": score_s,
    "conversations": len(convs),
    "messages": sum(len(c.messages) for c in convs),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 + workers_mb,
    "workers_peak_rss_mb": workers_mb,
    "model_version": scorer.model_version,
    "risks": [a.risk_by_message for a in assessments],
    "final": [a.risk for a in assessments],
    "flagged": [a.flagged for a in assessments],
}))
"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="artifacts/models/default", help="Model dir or MLflow URI.")
    p.add_argument("--data", default="data/generated/splits/test.jsonl", help="Conversations to score.")
    p.add_argument("--conversations", type=int, default=300, help="Conversations for batch scoring.")
    p.add_argument(
        "--concurrency", default="1,16", help="Concurrent streamed conversations, comma-separated."
    )
    p.add_argument("--requests", type=int, default=100, help="Requests per client in each online phase.")
    p.add_argument("--duration", type=float, default=60.0, help="Cap in seconds for each online phase.")
    p.add_argument("--onnx", type=Path, default=None, help="An ONNX export to measure too.")
    p.add_argument("--onnx-export", action="store_true", help="Export --model to ONNX now and measure it.")
    p.add_argument(
        "--onnx-encoding",
        default="int8",
        choices=("int8", "compact", "none"),
        help="Encoder encoding for --onnx-export (see `grooming-risk export onnx --help`).",
    )
    p.add_argument("--espd-messages", type=int, default=200, help="Messages for the eSPD speed comparison.")
    p.add_argument(
        "--espd-train", type=int, default=300, help="Training conversations for the eSPD classifier."
    )
    p.add_argument(
        "--espd-every", type=int, default=10, help="Use every k-th prefix of training conversations."
    )
    p.add_argument(
        "--train-data", default="data/generated/splits/train.jsonl", help="For the eSPD classifier."
    )
    p.add_argument("--handwritten", default="data/handwritten/eval_v1.jsonl", help="Quality comparison set.")
    p.add_argument("--skip-online", action="store_true", help="Skip the HTTP latency phases.")
    p.add_argument(
        "--bulk-messages", type=int, default=10_000, help="Messages in the bulk request beside the streams."
    )
    p.add_argument("--fairness-streams", type=int, default=16, help="Streams beside the bulk request.")
    p.add_argument("--workers", default="1,2", help="Worker counts for the multi-worker rows ('' to skip).")
    p.add_argument(
        "--redis",
        default=os.environ.get("GROOMING_RISK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
        help="Redis for the multi-worker rows (their keys expire; nothing else is touched).",
    )
    p.add_argument("--skip-espd", action="store_true", help="Skip the eSPD phases.")
    p.add_argument("--json", type=Path, default=None, help="Also write the figures here as JSON.")
    args = p.parse_args(argv)
    args.concurrency = [int(c) for c in str(args.concurrency).split(",") if c.strip()]
    args.workers = [int(w) for w in str(args.workers).split(",") if w.strip()]
    if args.conversations < 1 or args.requests < 1 or args.duration <= 0 or not args.concurrency:
        p.error("--conversations, --requests, --duration and --concurrency must be positive")
    return args


def load(path: str, n: int | None = None) -> list[Conversation]:
    return list(islice(read_conversations(path), n))


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else float("nan")


# Batch ------------------------------------------------------------------------------------------


def batch_run(model: str, data: str, n: int, *, block_torch: bool) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", BATCH_WORKER, model, data, str(n), "block" if block_torch else "open"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"batch scoring of {model} failed:\n{done.stderr[-3000:]}")
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    out["messages_per_s"] = out["messages"] / out["score_s"]
    out["conversations_per_s"] = out["conversations"] / out["score_s"]
    return out


def token_stats(model: str, convs: Sequence[Conversation]) -> dict[str, float]:
    from grooming_risk.inference.scorer import RiskScorer
    from grooming_risk.text.normalize import normalize

    scorer = RiskScorer.load(model)
    encoder = getattr(scorer.backend, "encoder", None)
    if encoder is None or not (hasattr(encoder, "token_counts") or hasattr(encoder, "tokenizer")):
        return {}  # no subword tokenizer (the bundled USE): nothing to count
    texts = [normalize(m.text).text for c in convs for m in c.messages]
    max_length = int((scorer.meta.encoder or {}).get("max_length", 64))
    if hasattr(encoder, "token_counts"):
        counts = np.asarray(encoder.token_counts(texts))
    else:
        ids = encoder.tokenizer(texts, truncation=False)["input_ids"]
        counts = np.minimum([len(x) for x in ids], max_length)
        truncated = float(np.mean([len(x) > max_length for x in ids]))
    if hasattr(encoder, "token_counts"):
        truncated = float(np.mean(counts >= max_length))
    return {
        "tokens_mean": float(counts.mean()),
        "tokens_p95": percentile(list(counts), 95),
        "truncated_share": truncated,
        "max_length": max_length,
        "unique_text_share": len(set(texts)) / max(1, len(texts)),
    }


def parity(reference: dict[str, Any], other: dict[str, Any]) -> dict[str, float]:
    diffs = [
        float(np.max(np.abs(np.subtract(a, b))))
        for a, b in zip(reference["risks"], other["risks"], strict=True)
    ]
    final = [abs(a[-1] - b[-1]) for a, b in zip(reference["risks"], other["risks"], strict=True)]
    agree = np.mean([a == b for a, b in zip(reference["flagged"], other["flagged"], strict=True)])
    return {
        "max_abs_risk_diff": max(diffs),
        "mean_abs_final_risk_diff": float(np.mean(final)),
        "flag_agreement": float(agree),
    }


def onnx_quality(model: str, onnx_dir: str, handwritten: str) -> dict[str, float]:
    """The target that matters for the export: the same ROC-AUC on chats neither model saw."""
    from grooming_risk.evaluation.metrics import roc_auc

    convs = load(handwritten)
    y = [int(bool(c.is_risky)) for c in convs]
    ours = batch_run(model, handwritten, len(convs), block_torch=False)
    onnx = batch_run(onnx_dir, handwritten, len(convs), block_torch=True)
    return {
        "handwritten_roc_auc_torch": roc_auc(y, ours["final"]),
        "handwritten_roc_auc_onnx": roc_auc(y, onnx["final"]),
        "handwritten_flag_agreement": float(
            np.mean([a == b for a, b in zip(ours["flagged"], onnx["flagged"], strict=True)])
        ),
    }


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


# eSPD -------------------------------------------------------------------------------------------


def _hf_encoder(model: str) -> bool:
    from grooming_risk.inference.scorer import resolve_model_uri
    from grooming_risk.model.artifact import read_meta
    from grooming_risk.model.encoder import BUNDLED_USE

    return (read_meta(resolve_model_uri(model)).encoder or {}).get("name") != BUNDLED_USE


def espd_encoder(model: str) -> Any:
    """The model's message encoder, set up as eSPD uses it: windows of up to 512 tokens, no cache."""
    from grooming_risk.inference.scorer import resolve_model_uri
    from grooming_risk.model.artifact import ENCODER_DIR, read_meta
    from grooming_risk.model.encoder import EncoderSettings, HFMessageEncoder, resolve_encoder_path

    directory = resolve_model_uri(model)
    ref = read_meta(directory).encoder or {}
    name = str(ref["name"])
    model_dir = directory / ENCODER_DIR if ref.get("embedded") else resolve_encoder_path(name)
    settings = EncoderSettings(name=name, max_length=ESPD_MAX_TOKENS, batch_size=16, cache_size=1)
    encoder = HFMessageEncoder(settings, model_dir=model_dir)
    # Small test encoders have fewer positions than BERT's 512.
    encoder.settings.max_length = min(ESPD_MAX_TOKENS, int(encoder.model.config.max_position_embeddings))
    return encoder


def espd_onnx_encoder(onnx_dir: Path) -> Any:
    """The export's int8 encoder on eSPD windows: the same fast runtime for both sides."""
    from grooming_risk.inference.onnx_backend import ENCODER_GRAPH, TOKENIZER_FILE, OnnxMessageEncoder
    from grooming_risk.model.artifact import ENCODER_DIR

    graphs = Path(onnx_dir) / ENCODER_DIR
    return OnnxMessageEncoder(
        graphs / ENCODER_GRAPH, graphs / TOKENIZER_FILE, max_length=ESPD_MAX_TOKENS, cache_size=1
    )


def windows(conv: Conversation, ends: Sequence[int]) -> list[str]:
    """The eSPD input after message `end`: the last 50 messages (up to it) joined as one text."""
    from grooming_risk.text.normalize import normalize

    texts = [normalize(m.text).text for m in conv.messages]
    return ["\n".join(texts[max(0, end + 1 - ESPD_WINDOW) : end + 1]) for end in ends]


def espd_speed(model: str, encoder: Any, convs: Sequence[Conversation], n_messages: int) -> dict[str, float]:
    """Message by message on the same messages: eSPD re-encodes a window, we encode one message + step."""
    from grooming_risk.inference.scorer import RiskScorer

    stream: list[tuple[Conversation, int]] = []
    for conv in convs:
        stream += [(conv, i) for i in range(len(conv.messages))]
        if len(stream) >= n_messages:
            break
    stream = stream[:n_messages]
    encoder.encode(["warm up"])
    window_tokens = []
    t0 = time.perf_counter()
    for conv, i in stream:
        [text] = windows(conv, [i])
        encoder.encode([text])
    espd_s = time.perf_counter() - t0
    for conv, i in stream[:: max(1, len(stream) // 50)]:
        if hasattr(encoder, "token_counts"):
            window_tokens += encoder.token_counts(windows(conv, [i]))
        else:
            window_tokens.append(len(encoder.tokenize(windows(conv, [i]))["input_ids"][0]))
    scorer = RiskScorer.load(model)  # fresh: an empty encoder cache
    sessions: dict[str, Any] = {}
    scorer.stream("warm-up").add({"sender": "a", "text": "warm up"})
    t0 = time.perf_counter()
    for conv, i in stream:
        session = sessions.get(conv.conversation_id) or sessions.setdefault(
            conv.conversation_id, scorer.stream(conv.conversation_id)
        )
        session.add(conv.messages[i])
    ours_s = time.perf_counter() - t0
    return {
        "messages": len(stream),
        "espd_messages_per_s": len(stream) / espd_s,
        "ours_stream_messages_per_s": len(stream) / ours_s,
        "speedup": espd_s / ours_s,
        "espd_window_tokens_mean": float(np.mean(window_tokens)),
    }


def espd_quality(
    model: str, encoder: Any, train: Sequence[Conversation], every: int, handwritten: Sequence[Conversation]
) -> dict[str, float]:
    """ROC-AUC on the hand-written set: eSPD (LR on window embeddings) vs our model (final risk)."""
    from sklearn.linear_model import LogisticRegression

    from grooming_risk.evaluation.metrics import roc_auc
    from grooming_risk.inference.scorer import RiskScorer

    texts, labels = [], []
    for conv in train:
        n = len(conv.messages)
        ends = sorted(set(range(every - 1, n, every)) | {n - 1})
        first = conv.first_risk_index if conv.first_risk_index is not None else 0
        for end in ends:
            texts += windows(conv, [end])
            # The prefix is risky once the first risk sign is in it (conversation label without positions).
            labels.append(int(bool(conv.is_risky) and end >= first))
    t0 = time.perf_counter()
    x = encoder.encode(texts)
    encode_s = time.perf_counter() - t0
    classifier = LogisticRegression(max_iter=2000, C=1.0, class_weight="balanced").fit(x, labels)
    y = [int(bool(c.is_risky)) for c in handwritten]
    espd_scores = classifier.predict_proba(
        encoder.encode([windows(c, [len(c.messages) - 1])[0] for c in handwritten])
    )[:, 1]
    ours = [a.risk for a in RiskScorer.load(model).score(list(handwritten))]
    return {
        "train_windows": len(texts),
        "train_encode_s": encode_s,
        "espd_roc_auc": roc_auc(y, espd_scores),
        "ours_roc_auc": roc_auc(y, ours),
        "handwritten_conversations": len(handwritten),
    }


# Online -----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of a process plus its children's (the encoder's worker processes),
    Linux only; NaN elsewhere."""

    def hwm(one: int) -> float:
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    try:
        children = [
            int(child)
            for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()
        ]
        return hwm(pid) + sum(hwm(child) for child in children)
    except OSError:
        return float("nan")


async def _client(
    session: Any,
    base: str,
    convs: Sequence[Conversation],
    offset: int,
    requests: int,
    deadline: float,
    out: list[float],
    tolerate_503: bool = False,
) -> int:
    sent = 0
    k = offset
    while sent < requests and time.monotonic() < deadline:
        conv = convs[k % len(convs)]
        cid = f"bench-{uuid.uuid4().hex[:12]}"
        for i, message in enumerate(conv.messages):
            if sent >= requests or time.monotonic() >= deadline:
                break
            body = {"messages": [message.model_dump(mode="json", exclude_none=True)], "start_index": i}
            t0 = time.perf_counter()
            async with session.post(f"{base}/v1/conversations/{cid}/messages", json=body) as response:
                await response.read()
                status = response.status
            if status == 503 and tolerate_503:
                await asyncio.sleep(0.2)
                break
            out.append(time.perf_counter() - t0)
            if status != 200:
                raise RuntimeError(f"append to {cid} failed: HTTP {status}")
            sent += 1
        async with session.delete(f"{base}/v1/conversations/{cid}") as response:
            await response.read()
        k += 1
    return sent


async def _floor_client(session: Any, base: str, requests: int, out: list[float]) -> int:
    for _ in range(requests):
        t0 = time.perf_counter()
        async with session.get(f"{base}/healthz") as response:
            await response.read()
        out.append(time.perf_counter() - t0)
    return requests


async def _online_phase(
    base: str,
    convs: Sequence[Conversation],
    concurrency: int,
    requests: int,
    duration: float,
    *,
    floor: bool = False,
    tolerate_503: bool = False,
) -> dict[str, float]:
    # aiohttp rather than httpx: the load generator shares the machine's cores with the service,
    # and a heavier client would show up as service latency.
    import aiohttp

    latencies: list[float] = []
    deadline = time.monotonic() + duration
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=2 * concurrency + 4)) as session:
        t0 = time.perf_counter()
        sent = await asyncio.gather(
            *[
                _floor_client(session, base, requests, latencies)
                if floor
                else _client(session, base, convs, c * 7, requests, deadline, latencies, tolerate_503)
                for c in range(concurrency)  # offsets: clients start on different conversations
            ]
        )
        elapsed = time.perf_counter() - t0
    ms = [x * 1000 for x in latencies]
    return {
        "requests": float(sum(sent)),
        "messages_per_s": sum(sent) / elapsed,
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
    }


class Service:
    """`grooming-risk serve --no-auth` in a subprocess on a free port, ready when entered."""

    def __init__(self, model: str, *extra: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.args = [
            sys.executable, "-m", "grooming_risk", "serve", "--no-auth", "--model", model, "--host", "127.0.0.1",
            "--port", str(self.port), "--log-level", "warning", *extra,
        ]  # fmt: skip

    def __enter__(self) -> Service:
        import httpx

        self.log = tempfile.TemporaryFile()
        # A session of its own, so that stopping it stops uvicorn's worker processes too.
        self.server = subprocess.Popen(
            self.args, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 180
        while True:
            if self.server.poll() is not None or time.monotonic() > deadline:
                self.log.seek(0)
                self.__exit__()
                raise RuntimeError(f"the service did not start:\n{self.log.read().decode()[-3000:]}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)

    def __exit__(self, *exc: object) -> None:
        if self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait(timeout=10)
        self.log.close()


def online(model: str, convs: Sequence[Conversation], args: argparse.Namespace) -> dict[str, Any]:
    with Service(model) as service:
        base = service.base
        asyncio.run(_online_phase(base, convs, 1, 5, 30))  # warm-up
        phases = {
            c: asyncio.run(_online_phase(base, convs, c, args.requests, args.duration))
            for c in args.concurrency
        }
        # The same clients asking for /healthz: what HTTP alone costs on this machine.
        floor = {
            c: asyncio.run(_online_phase(base, convs, c, args.requests, args.duration, floor=True))
            for c in args.concurrency
        }
        return {"phases": phases, "floor": floor, "server_peak_rss_mb": peak_rss_mb(service.server.pid)}


def bulk_request(convs: Sequence[Conversation], n_messages: int) -> dict[str, Any]:
    """One /v1/score body of `n_messages` messages: the test conversations' messages, dealt into
    40 conversations (the default request caps are 64 conversations and 10,000 messages)."""
    pool = [m.model_dump(mode="json", exclude_none=True) for c in convs for m in c.messages]
    n_convs = 40
    out: list[dict[str, Any]] = [{"conversation_id": f"bulk-{k}", "messages": []} for k in range(n_convs)]
    for i in range(n_messages):
        out[i % n_convs]["messages"].append(pool[i % len(pool)])
    return {"conversations": [c for c in out if c["messages"]]}


async def _bulk_and_streams(
    base: str, convs: Sequence[Conversation], streams: int, n_messages: int
) -> dict[str, float]:
    import aiohttp

    body = bulk_request(convs, n_messages)
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=2 * streams + 4)) as session:

        async def bulk() -> tuple[float, int]:
            t0 = time.perf_counter()
            async with session.post(f"{base}/v1/score", json=body) as response:
                await response.read()
                return time.perf_counter() - t0, response.status

        bulk_task = asyncio.ensure_future(bulk())
        await asyncio.sleep(0.05)  # the bulk request is in before the streams start
        clients = [
            asyncio.ensure_future(
                _client(session, base, convs, c * 7, 10**9, time.monotonic() + 3600, latencies)
            )
            for c in range(streams)
        ]
        bulk_s, status = await bulk_task
        for client in clients:
            client.cancel()
        await asyncio.gather(*clients, return_exceptions=True)
    if status != 200:
        raise RuntimeError(f"the bulk request failed: HTTP {status}")
    ms = [x * 1000 for x in latencies]
    return {
        "bulk_messages": float(n_messages),
        "bulk_s": bulk_s,
        "bulk_messages_per_s": n_messages / bulk_s,
        "stream_requests": float(len(ms)),
        "p50_ms": percentile(ms, 50),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms) if ms else float("nan"),
    }


def fairness(model: str, convs: Sequence[Conversation], args: argparse.Namespace) -> dict[str, Any]:
    """Streams beside a bulk request; then streams against N workers sharing a Redis store."""
    out: dict[str, Any] = {}
    with Service(model) as service:
        asyncio.run(_online_phase(service.base, convs, 1, 5, 30))  # warm-up
        out["bulk_and_streams"] = asyncio.run(
            _bulk_and_streams(service.base, convs, args.fairness_streams, args.bulk_messages)
        )
    if not args.workers:
        return out
    try:
        import redis

        redis.Redis.from_url(args.redis, socket_connect_timeout=2).ping()
    except Exception as exc:
        out["workers_skipped"] = f"no Redis at {args.redis} ({type(exc).__name__})"
        return out
    out["workers"] = {}
    for n in args.workers:
        with Service(
            model, "--workers", str(n), "--state-store", args.redis, "--state-ttl", "600"
        ) as service:
            # Every worker loads its own model; /readyz answered by one says nothing of the others.
            asyncio.run(_online_phase(service.base, convs, 2 * n, 5, 60, tolerate_503=True))
            out["workers"][n] = asyncio.run(
                _online_phase(service.base, convs, args.fairness_streams, args.requests, args.duration)
            )
    return out


# Report -----------------------------------------------------------------------------------------


def fmt(value: float, digits: int = 1) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:,.{digits}f}"


def args_streams(results: dict[str, Any]) -> int:
    return int(results.get("fairness_streams", 16))


def table(results: dict[str, Any]) -> str:
    rows: list[tuple[str, str]] = []
    b = results["batch"]
    rows += [
        ("model", f"`{b['model_version']}` ({results['model']})"),
        ("machine", results["machine"]),
        ("batch: conversations / messages", f"{b['conversations']} / {b['messages']}"),
        ("batch: messages/s", fmt(b["messages_per_s"])),
        ("batch: conversations/s", fmt(b["conversations_per_s"], 2)),
        ("batch: model load (s)", fmt(b["load_s"], 2)),
        ("batch: peak RSS (MB)", fmt(b["peak_rss_mb"], 0)),
    ]
    if t := results.get("tokens"):
        rows += [
            ("encoder tokens/message: mean / p95", f"{fmt(t['tokens_mean'])} / {fmt(t['tokens_p95'], 0)}"),
            (f"messages truncated at {t['max_length']} tokens", f"{t['truncated_share']:.2%}"),
            ("distinct message texts (encoder cache helps the rest)", f"{t['unique_text_share']:.1%}"),
        ]
    if o := results.get("onnx"):
        rows += [
            ("ONNX: artifact size (MB)", fmt(o["size_mb"])),
            ("ONNX (no torch): messages/s", f"{fmt(o['messages_per_s'])} ({o['speedup']:.2f}x torch)"),
            ("ONNX (no torch): conversations/s", fmt(o["conversations_per_s"], 2)),
            ("ONNX (no torch): peak RSS (MB)", fmt(o["peak_rss_mb"], 0)),
            ("ONNX vs torch: max / mean final |risk diff|",
             f"{o['max_abs_risk_diff']:.4f} / {o['mean_abs_final_risk_diff']:.4f}"),
            ("ONNX vs torch: flag agreement", f"{o['flag_agreement']:.2%}"),
            ("hand-written ROC-AUC: torch / ONNX",
             f"{o['handwritten_roc_auc_torch']:.3f} / {o['handwritten_roc_auc_onnx']:.3f}"),
            ("hand-written flag agreement torch / ONNX", f"{o['handwritten_flag_agreement']:.2%}"),
        ]  # fmt: skip
    for label, on in (("torch", results.get("online")), ("ONNX", (results.get("onnx") or {}).get("online"))):
        if not on:
            continue
        for c, ph in on["phases"].items():
            rows.append(
                (
                    f"online ({label}), {c} concurrent: p50 / p95 / p99 ms per message",
                    f"{fmt(ph['p50_ms'])} / {fmt(ph['p95_ms'])} / {fmt(ph['p99_ms'])}",
                )
            )
            rows.append(
                (
                    f"online ({label}), {c} concurrent: messages/s ({int(ph['requests'])} requests)",
                    fmt(ph["messages_per_s"]),
                )
            )
            if fl := on.get("floor", {}).get(c):
                rows.append(
                    (
                        f"HTTP floor (GET /healthz), {c} concurrent: p50 / p99 ms",
                        f"{fmt(fl['p50_ms'])} / {fmt(fl['p99_ms'])}",
                    )
                )
        rows.append((f"online ({label}): service peak RSS (MB)", fmt(on["server_peak_rss_mb"], 0)))
    if f := results.get("fairness"):
        bs, label = f["bulk_and_streams"], f["runtime"]
        rows += [
            (f"bulk + streams ({label}): {args_streams(results)} streams while one {int(bs['bulk_messages']):,}-message "
             "/v1/score runs: p50 / p99 / max ms per append",
             f"{fmt(bs['p50_ms'])} / {fmt(bs['p99_ms'])} / {fmt(bs['max_ms'])} ({int(bs['stream_requests'])} appends)"),
            (f"bulk + streams ({label}): the bulk request's seconds (messages/s)",
             f"{fmt(bs['bulk_s'], 2)} ({fmt(bs['bulk_messages_per_s'])})"),
        ]  # fmt: skip
        for n, ph in (f.get("workers") or {}).items():
            rows.append(
                (
                    f"workers {n} ({label}, Redis state), {args_streams(results)} concurrent: messages/s; "
                    "p50 / p99 ms",
                    f"{fmt(ph['messages_per_s'])}; {fmt(ph['p50_ms'])} / {fmt(ph['p99_ms'])}",
                )
            )
        if skipped := f.get("workers_skipped"):
            rows.append(("workers rows", f"skipped: {skipped}"))
    for key, label in (("espd_speed", "torch"), ("espd_speed_onnx", "ONNX")):
        if e := results.get(key):
            rows += [
                (f"eSPD ({label}): messages/s (re-encode last {ESPD_WINDOW} msgs, <= {ESPD_MAX_TOKENS} tokens; "
                 f"{e['messages']} msgs, window {fmt(e['espd_window_tokens_mean'], 0)} tokens avg)",
                 fmt(e["espd_messages_per_s"])),
                (f"ours ({label}), same messages streamed one by one: messages/s", fmt(e["ours_stream_messages_per_s"])),
                (f"speed ratio ours / eSPD, streaming ({label})", f"{e['speedup']:.1f}x"),
            ]  # fmt: skip
    if e := results.get("espd_speed"):
        rows.append(
            (
                "speed ratio ours batch / eSPD (torch)",
                f"{b['messages_per_s'] / e['espd_messages_per_s']:.1f}x",
            )
        )
    if (e := results.get("espd_speed_onnx")) and (o := results.get("onnx")):
        rows.append(
            ("speed ratio ours batch / eSPD (ONNX)", f"{o['messages_per_s'] / e['espd_messages_per_s']:.1f}x")
        )
    if q := results.get("espd_quality"):
        rows += [
            (f"hand-written ROC-AUC: ours ({q['handwritten_conversations']} conversations)", fmt(q["ours_roc_auc"], 3)),
            (f"hand-written ROC-AUC: eSPD baseline (LR on {q['train_windows']} training windows)",
             fmt(q["espd_roc_auc"], 3)),
        ]  # fmt: skip
    lines = ["| measure | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cores = os.cpu_count() or 0
    if not args.skip_espd and not _hf_encoder(args.model):
        # eSPD re-encodes windows of up to 512 subword tokens: a transformer protocol.
        print(
            "[benchmark] the model's encoder is not a Hugging Face transformer: eSPD phases skipped",
            file=sys.stderr,
        )
        args.skip_espd = True
    results: dict[str, Any] = {
        "model": args.model,
        "data": args.data,
        "fairness_streams": args.fairness_streams,
        # A busy machine distorts everything (torch's OpenMP threads spin against other work).
        "machine": f"{platform.machine()}, {cores} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f} at start",
    }

    def step(name: str) -> None:
        print(f"[benchmark] {name} ...", file=sys.stderr, flush=True)

    convs = load(args.data, args.conversations)
    step(f"batch scoring {len(convs)} conversations (torch)")
    results["batch"] = batch_run(args.model, args.data, args.conversations, block_torch=False)
    step("token statistics")
    results["tokens"] = token_stats(args.model, convs)
    onnx_dir = args.onnx
    with tempfile.TemporaryDirectory(prefix="grooming-risk-bench-") as tmp:
        if args.onnx_export and onnx_dir is None:
            from grooming_risk.inference.onnx_export import export_onnx

            step(f"exporting to ONNX ({args.onnx_encoding})")
            onnx_dir = Path(tmp) / "onnx"
            export_onnx(args.model, onnx_dir, encoding=args.onnx_encoding)
        if onnx_dir is not None:
            step("batch scoring (ONNX, torch blocked)")
            run = batch_run(str(onnx_dir), args.data, args.conversations, block_torch=True)
            results["onnx"] = {
                **{k: v for k, v in run.items() if k not in ("risks", "flagged", "final")},
                **parity(results["batch"], run),
                "size_mb": dir_mb(onnx_dir),
                "speedup": run["messages_per_s"] / results["batch"]["messages_per_s"],
            }
            step("hand-written ROC-AUC: torch vs ONNX")
            results["onnx"].update(onnx_quality(args.model, str(onnx_dir), args.handwritten))
            if not args.skip_online:
                step(f"online latency (ONNX) at concurrency {args.concurrency}")
                results["onnx"]["online"] = online(str(onnx_dir), convs, args)
            if not args.skip_espd:
                step(f"eSPD speed with the ONNX encoder on {args.espd_messages} messages")
                results["espd_speed_onnx"] = espd_speed(
                    str(onnx_dir), espd_onnx_encoder(onnx_dir), convs, args.espd_messages
                )
            if not args.skip_online:
                step(f"fairness (ONNX): {args.fairness_streams} streams beside a {args.bulk_messages}-message "
                     f"bulk request, then workers {args.workers} with Redis")  # fmt: skip
                results["fairness"] = {"runtime": "ONNX", **fairness(str(onnx_dir), convs, args)}
    if not args.skip_online:
        step(f"online latency (torch) at concurrency {args.concurrency}")
        results["online"] = online(args.model, convs, args)
        if "fairness" not in results:
            step(f"fairness (torch): {args.fairness_streams} streams beside a {args.bulk_messages}-message "
                 f"bulk request, then workers {args.workers} with Redis")  # fmt: skip
            results["fairness"] = {"runtime": "torch", **fairness(args.model, convs, args)}
    if not args.skip_espd:
        encoder = espd_encoder(args.model)
        step(f"eSPD speed on {args.espd_messages} messages")
        results["espd_speed"] = espd_speed(args.model, encoder, convs, args.espd_messages)
        step(f"eSPD quality ({args.espd_train} training conversations)")
        results["espd_quality"] = espd_quality(
            args.model,
            encoder,
            load(args.train_data, args.espd_train),
            args.espd_every,
            load(args.handwritten),
        )
    for key in ("batch",):
        results[key] = {k: v for k, v in results[key].items() if k not in ("risks", "flagged", "final")}
    results["benchmark_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
