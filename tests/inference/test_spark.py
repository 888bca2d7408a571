"""Spark batch scoring through mlflow.pyfunc.spark_udf, in local[2] mode: same results as RiskScorer."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grooming_risk.contract.assessment import Assessment
from grooming_risk.inference.scorer import RiskScorer
from tests.conftest import TINY_THRESHOLDS as THRESHOLDS
from tests.conftest import toy_conversations
from tests.parity import assert_same_assessments, assert_same_output_row

pytest.importorskip("pyspark")
pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    previous = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("grooming-risk-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    yield session
    session.stop()
    if previous is None:
        os.environ.pop("PYSPARK_PYTHON", None)
    else:
        os.environ["PYSPARK_PYTHON"] = previous


def _expected(artifact: Path) -> list[Assessment]:
    return RiskScorer.load(artifact).score(toy_conversations())


def _check_rows(rows: list[Any], expected: list[Assessment]) -> None:
    assert len(rows) == len(expected)
    by_id = {row["conversation_id"]: row for row in rows}
    for a in expected:
        assert_same_output_row(by_id[a.conversation_id], a, THRESHOLDS)


def test_score_dataframe_from_json_column(spark: Any, tiny_artifact: Path) -> None:
    from grooming_risk.inference.spark import score_dataframe

    convs = toy_conversations()
    df = spark.createDataFrame(
        [(i, c.model_dump_json(exclude_none=True)) for i, c in enumerate(convs)],
        "row long, conversation string",
    ).repartition(2)
    rows = score_dataframe(df, tiny_artifact, keep=["row"]).orderBy("row").collect()
    assert [r["row"] for r in rows] == list(range(len(convs)))
    assert [r["conversation_id"] for r in rows] == [c.conversation_id for c in convs]
    _check_rows(rows, _expected(tiny_artifact))


def test_score_dataframe_from_contract_columns(spark: Any, tiny_artifact: Path, tmp_path: Path) -> None:
    from grooming_risk.inference.spark import score_dataframe

    path = tmp_path / "convs.jsonl"
    path.write_text("".join(c.model_dump_json(exclude_none=True) + "\n" for c in toy_conversations()))
    df = spark.read.json(str(path))
    assert "conversation" not in df.columns
    _check_rows(score_dataframe(df, tiny_artifact).collect(), _expected(tiny_artifact))


def test_score_dataframe_rejects_unknown_layout(spark: Any, tiny_artifact: Path) -> None:
    from grooming_risk.inference.spark import score_dataframe

    df = spark.createDataFrame([("x",)], "text string")
    with pytest.raises(ValueError, match="conversation_id and messages"):
        score_dataframe(df, tiny_artifact)


def test_score_dataframe_with_registered_model(spark: Any, tiny_artifact: Path, mlflow_tracking: str) -> None:
    import mlflow

    from grooming_risk.inference.spark import score_dataframe
    from grooming_risk.training.evaluate import log_model_to_mlflow

    scorer = RiskScorer.load(tiny_artifact)
    with mlflow.start_run():
        log_model_to_mlflow(tiny_artifact, scorer, registered_name="spark-test", alias="candidate")
    df = spark.createDataFrame(
        [(c.model_dump_json(exclude_none=True),) for c in toy_conversations()], "conversation string"
    )
    _check_rows(score_dataframe(df, "models:/spark-test@candidate").collect(), _expected(tiny_artifact))


def _write_input(path: Path) -> list[str]:
    """Valid toy conversations with a bad JSON line, a record missing a field and a blank line."""
    lines = [c.model_dump_json(exclude_none=True) for c in toy_conversations(copies=2)]
    lines.insert(3, "{not json")
    lines.insert(7, json.dumps({"conversation_id": "no-messages"}))
    lines.insert(9, "")
    path.write_text("\n".join(lines) + "\n")
    return lines


def test_score_files_with_spark_matches_local(spark: Any, tiny_artifact: Path, tmp_path: Path) -> None:
    from grooming_risk.inference.spark import score_files_with_spark

    source = tmp_path / "in.jsonl"
    _write_input(source)
    out, errors = tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    # chunk_size=4: several Spark jobs, so order across chunks is exercised too.
    n_bad = score_files_with_spark(
        str(source), str(out), model=str(tiny_artifact), errors=errors, spark=spark, chunk_size=4
    )
    assert n_bad == 2
    problems = [json.loads(line) for line in errors.read_text().splitlines()]
    assert [(p["line"], p["field"]) for p in problems] == [(4, None), (8, "messages")]
    assert problems[1]["conversation_id"] == "no-messages"
    got = [Assessment.model_validate_json(line) for line in out.read_text().splitlines()]
    scorer = RiskScorer.load(tiny_artifact)
    assert_same_assessments(got, scorer.score(toy_conversations(copies=2)), scorer.thresholds)


def test_cli_spark_engine_writes_what_the_local_engine_writes(
    spark: Any, tiny_artifact: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from grooming_risk.cli.main import app

    source = tmp_path / "in.jsonl"
    _write_input(source)
    outputs = {}
    for engine in ("local", "spark"):
        out = tmp_path / f"{engine}.jsonl"
        result = CliRunner().invoke(
            app,
            [
                "score",
                str(source),
                "-o",
                str(out),
                "-m",
                str(tiny_artifact),
                "--engine",
                engine,
                "--no-progress",
                "--errors",
                str(tmp_path / f"{engine}.errors.jsonl"),
            ],
        )
        assert result.exit_code == 1, result.output  # invalid records present, no --skip-invalid
        outputs[engine] = out.read_text()
    assert outputs["spark"] == outputs["local"]
    assert len(outputs["spark"].splitlines()) == len(toy_conversations(copies=2))
    assert (tmp_path / "spark.errors.jsonl").read_text() == (tmp_path / "local.errors.jsonl").read_text()


def test_spark_executors_honour_the_limits_the_driver_uses(
    spark: Any, tiny_artifact: Path, tmp_path: Path
) -> None:
    # `score --engine spark --max-chars 8000` once failed on the executors, which re-validated
    # with the default limits.
    from grooming_risk.contract.conversation import Limits
    from grooming_risk.inference.spark import score_files_with_spark

    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    record = {"conversation_id": "c-long", "messages": [{"sender": "a", "text": "x" * 5_000}]}
    source.write_text(json.dumps(record) + "\n")
    n_bad = score_files_with_spark(
        str(source), str(out), model=str(tiny_artifact), spark=spark, limits=Limits(max_message_chars=8_000)
    )
    assert n_bad == 0
    [got] = [Assessment.model_validate_json(line) for line in out.read_text().splitlines()]
    assert got.conversation_id == "c-long"


def test_a_spark_task_uses_its_own_cores(spark: Any) -> None:
    from grooming_risk.inference.pyfunc import spark_task_cpus

    assert spark_task_cpus() is None  # the driver is not a task
    tasks = spark.sparkContext.parallelize([0, 1], 2).map(lambda _: spark_task_cpus()).collect()
    assert tasks == [1, 1]  # spark.task.cpus, not the machine's cores


def test_the_mlflow_model_in_a_spark_task_caps_its_threads(
    tiny_artifact: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from grooming_risk.inference import pyfunc
    from grooming_risk.model.encoder import THREADS_ENV

    monkeypatch.delenv(THREADS_ENV, raising=False)
    monkeypatch.setattr(pyfunc, "spark_task_cpus", lambda: 3)
    model = pyfunc.GroomingRiskModel()
    model.load_context(SimpleNamespace(artifacts={pyfunc.ARTIFACT_KEY: str(tiny_artifact)}))
    assert os.environ[THREADS_ENV] == "3"
