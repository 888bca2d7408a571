"""MLflow pyfunc wrapper: `mlflow models serve`, `mlflow.pyfunc.load_model` and Spark UDFs all
call `RiskScorer` through this class, so they return the same assessments as the CLI.

Input: a DataFrame with a `conversation` column holding one conversation-contract JSON object per
row (a string, or a dict); optional params `max_messages` and `max_message_chars` set the contract's
size limits (the CLI passes its own, so `score --engine spark --max-chars 8000` validates the same on
the executors as on the driver). Output: one row per input row with the headline fields and the
whole assessment as JSON in `assessment`.
"""

from __future__ import annotations

import json
from typing import Any

import mlflow.pyfunc

ARTIFACT_KEY = "grooming_risk_model"
OUTPUT_COLUMNS = ("conversation_id", "risk", "label", "flagged", "urgent", "model_version", "assessment")


# The input example logged with every model: fixed, made up here, never a row of any dataset
# (a training or reviewer-labelled conversation logged as an example would leak real text).
INPUT_EXAMPLE: dict[str, Any] = {
    "conversation_id": "example-1",
    "messages": [
        {"sender": "a", "text": "hi, did you finish the maths homework?"},
        {"sender": "b", "text": "almost, question 4 is hard"},
    ],
}


def model_signature() -> Any:
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

    from grooming_risk.contract.conversation import DEFAULT_LIMITS

    return ModelSignature(
        inputs=Schema([ColSpec("string", "conversation")]),
        params=ParamSchema(
            [
                ParamSpec("max_messages", "long", DEFAULT_LIMITS.max_messages),
                ParamSpec("max_message_chars", "long", DEFAULT_LIMITS.max_message_chars),
            ]
        ),
        outputs=Schema(
            [
                ColSpec("string", "conversation_id"),
                ColSpec("double", "risk"),
                ColSpec("string", "label"),
                ColSpec("boolean", "flagged"),
                ColSpec("boolean", "urgent"),
                ColSpec("string", "model_version"),
                ColSpec("string", "assessment"),
            ]
        ),
    )


def parse_rows(model_input: Any) -> list[dict[str, Any]]:
    import pandas as pd

    if isinstance(model_input, pd.DataFrame):
        if "conversation" not in model_input.columns:
            raise ValueError("input needs a 'conversation' column with one conversation JSON object per row")
        values = list(model_input["conversation"])
    elif isinstance(model_input, list):
        values = model_input
    else:
        raise ValueError(f"unsupported input type {type(model_input).__name__}; pass a DataFrame")
    rows = []
    for i, value in enumerate(values):
        obj = json.loads(value) if isinstance(value, str | bytes) else value
        if not isinstance(obj, dict):
            raise ValueError(f"row {i}: field conversation: expected a JSON object")
        rows.append(obj)
    return rows


def limits_from_params(params: dict[str, Any] | None) -> Any:
    """The contract's `Limits` from pyfunc params (defaults where a param is absent)."""
    from grooming_risk.contract.conversation import DEFAULT_LIMITS, Limits

    params = params or {}
    return Limits(
        max_messages=int(params.get("max_messages", DEFAULT_LIMITS.max_messages)),
        max_message_chars=int(params.get("max_message_chars", DEFAULT_LIMITS.max_message_chars)),
    )


def spark_task_cpus() -> int | None:
    """The cores Spark gives the running task (`spark.task.cpus`), or None outside a Spark task."""
    try:
        from pyspark import TaskContext
    except ImportError:
        return None
    task = TaskContext.get()
    return None if task is None else max(1, int(task.cpus()))


class GroomingRiskModel(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined]
    def load_context(self, context: Any) -> None:
        import os

        from grooming_risk.inference.scorer import RiskScorer
        from grooming_risk.model.encoder import THREADS_ENV

        # An executor runs one Python worker per task slot: each must use its task's cores, not
        # start onnxruntime threads or USE workers for every core of the machine.
        if (cpus := spark_task_cpus()) is not None:
            os.environ.setdefault(THREADS_ENV, str(cpus))
        self.scorer = RiskScorer.load(context.artifacts[ARTIFACT_KEY]).warm_up()

    # No type hints on predict: MLflow would infer a schema from them; the signature is explicit.
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        import pandas as pd

        from grooming_risk.io.readers import validate_record

        limits = limits_from_params(params)
        conversations = []
        for i, obj in enumerate(parse_rows(model_input)):
            # The same validation as the CLI and the batch readers, with the caller's limits.
            result = validate_record(obj, source="input", line=i + 1, limits=limits)
            if isinstance(result, list):
                raise ValueError(str(result[0]))
            conversations.append(result)
        assessments = self.scorer.score(conversations)
        return pd.DataFrame(
            [
                {
                    "conversation_id": a.conversation_id,
                    "risk": a.risk,
                    "label": a.label.value,
                    "flagged": a.flagged,
                    "urgent": a.urgent,
                    "model_version": a.model_version,
                    "assessment": a.model_dump_json(),
                }
                for a in assessments
            ],
            columns=list(OUTPUT_COLUMNS),
        )
