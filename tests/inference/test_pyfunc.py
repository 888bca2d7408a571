"""MLflow serving parity: the logged pyfunc (in process and under `mlflow models serve`) returns
exactly what RiskScorer and `grooming-risk score` return."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.conversation import Conversation
from grooming_risk.inference.pyfunc import OUTPUT_COLUMNS
from grooming_risk.inference.scorer import RiskScorer
from tests.conftest import TINY_THRESHOLDS as THRESHOLDS
from tests.conftest import toy_conversations
from tests.parity import assert_same_output_row

pytest.importorskip("mlflow")

MODEL_NAME = "grooming-risk-test"
SERVER_START_S = 180.0


def _log(artifact: Path) -> str:
    import mlflow

    from grooming_risk.training.evaluate import log_model_to_mlflow

    scorer = RiskScorer.load(artifact)
    with mlflow.start_run():
        log_model_to_mlflow(artifact, scorer, registered_name=MODEL_NAME, alias="candidate")
    return f"models:/{MODEL_NAME}@candidate"


def _frame(conversations: list[Conversation]) -> Any:
    import pandas as pd

    return pd.DataFrame({"conversation": [c.model_dump_json(exclude_none=True) for c in conversations]})


def _check(rows: list[dict[str, Any]], expected: list[Assessment]) -> None:
    assert len(rows) == len(expected)
    for row, a in zip(rows, expected, strict=True):
        assert set(row) == set(OUTPUT_COLUMNS)
        assert row["conversation_id"] == a.conversation_id
        assert_same_output_row(row, a, THRESHOLDS)


def test_registered_pyfunc_matches_scorer(tiny_artifact: Path, mlflow_tracking: str) -> None:
    import mlflow.pyfunc

    model = mlflow.pyfunc.load_model(_log(tiny_artifact))
    convs = toy_conversations()
    got = model.predict(_frame(convs))
    assert list(got.columns) == list(OUTPUT_COLUMNS)
    _check(got.to_dict(orient="records"), RiskScorer.load(tiny_artifact).score(convs))


def test_pyfunc_names_the_bad_row(tiny_artifact: Path, mlflow_tracking: str) -> None:
    import mlflow.pyfunc
    import pandas as pd

    model = mlflow.pyfunc.load_model(_log(tiny_artifact))
    good = toy_conversations(1)[0].model_dump_json()
    bad = json.dumps({"conversation_id": "c-bad", "messages": [{"text": "hi"}]})
    with pytest.raises(Exception, match=r"input:2: conversation 'c-bad': field messages\[0\]\.sender"):
        model.predict(pd.DataFrame({"conversation": [good, bad]}))


def test_pyfunc_of_an_onnx_export(tiny_artifact: Path, mlflow_tracking: str, tmp_path: Path) -> None:
    # The exported model is logged and served the same way: the pyfunc goes through RiskScorer.load.
    pytest.importorskip("onnxruntime")
    import mlflow.pyfunc

    from grooming_risk.inference.onnx_export import export_onnx

    exported = tmp_path / "onnx"
    export_onnx(tiny_artifact, exported, encoding="none")
    model = mlflow.pyfunc.load_model(_log(exported))
    convs = toy_conversations(1)
    _check(model.predict(_frame(convs)).to_dict(orient="records"), RiskScorer.load(exported).score(convs))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    import httpx

    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"mlflow models serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/ping", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"mlflow models serve not ready after {SERVER_START_S:.0f}s:\n{log.read_text()[-3000:]}")


@pytest.mark.slow
def test_mlflow_models_serve_matches_cli(tiny_artifact: Path, mlflow_tracking: str, tmp_path: Path) -> None:
    import httpx
    from typer.testing import CliRunner

    from grooming_risk.cli.main import app

    uri = _log(tiny_artifact)
    convs = toy_conversations()
    source = tmp_path / "in.jsonl"
    source.write_text("".join(c.model_dump_json(exclude_none=True) + "\n" for c in convs))
    cli_out = tmp_path / "cli.jsonl"
    result = CliRunner().invoke(
        app, ["score", str(source), "-o", str(cli_out), "-m", str(tiny_artifact), "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    expected = [Assessment.model_validate_json(line) for line in cli_out.read_text().splitlines()]

    port = _free_port()
    mlflow_bin = Path(sys.executable).with_name("mlflow")
    log = tmp_path / "serve.log"
    # As if the venv were activated: mlflow execs `uvicorn` from PATH.
    path = os.pathsep.join([str(mlflow_bin.parent), os.environ.get("PATH", "")])
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_tracking, "PATH": path}
    with open(log, "wb") as log_handle:
        proc = subprocess.Popen(
            [
                str(mlflow_bin),
                "models",
                "serve",
                "-m",
                uri,
                "--env-manager",
                "local",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-w",
                "1",
            ],
            cwd=tmp_path,
            env=env,
            stdout=log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(proc, url, log)
        body = {
            "dataframe_split": {"columns": ["conversation"], "data": [[c.model_dump_json()] for c in convs]}
        }
        response = httpx.post(f"{url}/invocations", json=body, timeout=60.0)
        assert response.status_code == 200, response.text[:2000]
        predictions = response.json()["predictions"]
        _check(predictions, expected)
    finally:
        # The server runs in its own session: end its whole group (uvicorn workers included).
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_pyfunc_validates_with_the_limits_it_is_given(tiny_artifact: Path, mlflow_tracking: str) -> None:
    import mlflow.pyfunc
    import pandas as pd

    model = mlflow.pyfunc.load_model(_log(tiny_artifact))
    long = json.dumps({"conversation_id": "c-long", "messages": [{"sender": "a", "text": "x" * 5_000}]})
    frame = pd.DataFrame({"conversation": [long]})
    with pytest.raises(Exception, match=r"input:1: conversation 'c-long'.*more than the limit of 4000"):
        model.predict(frame)
    got = model.predict(frame, params={"max_message_chars": 8_000})
    assert list(got["conversation_id"]) == ["c-long"]
