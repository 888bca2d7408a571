"""Batch scoring on Spark through the MLflow pyfunc (`mlflow.pyfunc.spark_udf`).

    from grooming_risk.inference.spark import score_dataframe
    scored = score_dataframe(conversations_df, "models:/grooming-risk@champion")

Each executor loads the model once per task and calls the same `RiskScorer` as every other front
end, so results equal `grooming-risk score`. The same code runs in `local[*]` mode (tests, one
machine) and on a cluster (`spark-submit --master yarn|k8s://...`).

`score_files_with_spark` backs `grooming-risk score --engine spark`: the driver streams and
validates the input exactly as the local engine does (same line numbers, fields and messages for
bad records), ships valid conversations to the executors in chunks, and writes one assessment per
valid record in input order.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grooming_risk.contract.conversation import DEFAULT_LIMITS, Limits
from grooming_risk.inference.pyfunc import ARTIFACT_KEY, OUTPUT_COLUMNS
from grooming_risk.model.artifact import META_FILE, InvalidArtifactError

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

# The pyfunc's output row as a Spark struct (see pyfunc.model_signature).
RESULT_TYPE = (
    "conversation_id string, risk double, label string, flagged boolean, urgent boolean, "
    "model_version string, assessment string"
)
CONVERSATION_COLUMN = "conversation"
# Contract fields taken from a DataFrame that holds conversations as columns.
CONTRACT_FIELDS = (
    "conversation_id",
    "messages",
    "platform",
    "language",
    "participants",
    "label",
    "first_risk_index",
    "hard_negative",
)
MLFLOW_SCHEMES = (
    "runs:/",
    "models:/",
    "mlflow-artifacts:/",
    "dbfs:/",
    "s3://",
    "gs://",
    "wasbs://",
    "hdfs://",
)
# Conversations the CLI path sends to Spark per job: bounds driver memory, amortises job start-up.
DEFAULT_CHUNK = 20_000


@contextlib.contextmanager
def mlflow_model_uri(model: str | Path | None) -> Iterator[str]:
    """A URI `spark_udf` can load: MLflow URIs and MLflow model dirs as they are; a plain
    grooming-risk artifact directory is wrapped in a temporary MLflow pyfunc model (from code, no
    pickle). `spark_udf` copies the model when it is created, so the temporary one may go after."""
    from grooming_risk.inference.scorer import default_model_uri

    text = str(model or default_model_uri())
    if text.startswith(MLFLOW_SCHEMES):
        yield text
        return
    path = Path(text).expanduser()
    if (path / "MLmodel").exists():
        yield str(path)
        return
    if not (path / META_FILE).exists():
        if not path.exists():
            raise FileNotFoundError(
                f"model {text!r} not found: give an artifact directory, an MLflow model directory, "
                "runs:/RUN_ID/PATH or models:/NAME@ALIAS"
            )
        raise InvalidArtifactError(f"{path}: neither an MLflow model (MLmodel) nor a grooming-risk artifact")
    import mlflow.pyfunc

    from grooming_risk.inference import pyfunc

    with tempfile.TemporaryDirectory(prefix="grooming-risk-pyfunc-") as tmp:
        target = Path(tmp) / "model"
        mlflow.pyfunc.save_model(
            path=str(target),
            python_model=str(Path(pyfunc.__file__).with_name("pyfunc_entry.py")),
            artifacts={ARTIFACT_KEY: str(path.resolve())},
            signature=pyfunc.model_signature(),
            pip_requirements=["grooming-risk[mlflow]"],
        )
        yield str(target)


def conversation_column(df: DataFrame) -> Column:
    """The conversation JSON of each row: the `conversation` column, or the contract columns as JSON."""
    from pyspark.sql import functions as sf
    from pyspark.sql.types import StringType

    if CONVERSATION_COLUMN in df.columns:
        column = sf.col(CONVERSATION_COLUMN)
        if isinstance(df.schema[CONVERSATION_COLUMN].dataType, StringType):
            return column
        return sf.to_json(column)
    present = [name for name in CONTRACT_FIELDS if name in df.columns]
    if "conversation_id" not in present or "messages" not in present:
        raise ValueError(
            f"DataFrame needs a '{CONVERSATION_COLUMN}' column (conversation JSON) or the contract columns "
            f"conversation_id and messages; it has {df.columns}"
        )
    return sf.to_json(sf.struct(*[sf.col(name) for name in present]))


def pyfunc_udf(spark: SparkSession, model: str | Path | None, limits: Limits = DEFAULT_LIMITS) -> Any:
    """The model as a Spark UDF returning a struct of the pyfunc's output columns; the executors
    validate conversations with `limits`, as the driver does."""
    import mlflow.pyfunc

    params = {"max_messages": limits.max_messages, "max_message_chars": limits.max_message_chars}
    with mlflow_model_uri(model) as uri:
        return mlflow.pyfunc.spark_udf(
            spark, uri, result_type=RESULT_TYPE, env_manager="local", params=params
        )


def score_dataframe(
    df: DataFrame,
    model_uri: str | Path | None = None,
    *,
    keep: Sequence[str] = (),
    limits: Limits = DEFAULT_LIMITS,
) -> DataFrame:
    """One output row per input row: `keep` columns, then conversation_id, risk, label, flagged,
    urgent, model_version and assessment (the whole `Assessment` as JSON). Lazy, like any Spark plan."""
    from pyspark.sql import functions as sf

    clash = set(keep) & set(OUTPUT_COLUMNS)
    if clash:
        raise ValueError(f"keep={sorted(clash)}: these names are output columns; rename them first")
    missing = [name for name in keep if name not in df.columns]
    if missing:
        raise ValueError(f"keep={missing}: no such column in the DataFrame")
    udf = pyfunc_udf(df.sparkSession, model_uri, limits)
    scored = df.select(*[sf.col(name) for name in keep], udf(conversation_column(df)).alias("_scored"))
    return scored.select(*keep, *[sf.col(f"_scored.{name}").alias(name) for name in OUTPUT_COLUMNS])


def spark_session(app_name: str = "grooming-risk") -> SparkSession:
    """The active session, or a new one (`local[*]` unless spark-submit or SPARK_* settings say otherwise)."""
    from pyspark.sql import SparkSession

    # Executors in local mode must run this interpreter, where grooming-risk is installed.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return (
        SparkSession.builder.appName(app_name)
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )


def score_files_with_spark(
    input: str,
    output: str,
    *,
    model: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    errors: Path | None = None,
    spark: SparkSession | None = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> int:
    """Score a file (.jsonl, .jsonl.gz, .parquet or '-') on Spark into `output`; return the number of
    invalid records, each reported with its line and field (to `errors` as JSONL, else stderr)."""
    import pandas as pd

    from grooming_risk.contract.assessment import Assessment
    from grooming_risk.io.readers import ValidConversations
    from grooming_risk.io.writers import RecordWriter

    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    if input != "-" and not Path(input).exists():
        raise FileNotFoundError(f"{input}: no such file")
    session = spark or spark_session()
    udf = pyfunc_udf(session, model, limits)
    with ValidConversations(input, limits=limits, errors=errors) as records, RecordWriter(output) as writer:
        conversations = iter(records)
        while chunk := list(itertools.islice(conversations, chunk_size)):
            frame = pd.DataFrame(
                {
                    "i": range(len(chunk)),
                    CONVERSATION_COLUMN: [c.model_dump_json(exclude_none=True) for c in chunk],
                }
            )
            sdf = session.createDataFrame(frame, schema=f"i long, {CONVERSATION_COLUMN} string")
            rows = sdf.select("i", udf(CONVERSATION_COLUMN).alias("r")).select("i", "r.assessment").collect()
            if len(rows) != len(chunk):  # pragma: no cover - would be a Spark bug
                raise RuntimeError(f"Spark returned {len(rows)} results for {len(chunk)} conversations")
            for row in sorted(rows, key=lambda r: int(r["i"])):
                writer.write(Assessment.model_validate_json(row["assessment"]))
    if records.invalid:
        print(f"{writer.count} scored, {records.invalid} invalid record(s) not scored", file=sys.stderr)
    return records.invalid
