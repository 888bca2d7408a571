"""MLflow pyfunc wrapper: `mlflow models serve`, `mlflow.pyfunc.load_model` and Spark UDFs all
call `RiskScorer` through this class, so they return the same assessments as the CLI.

Input: a DataFrame with a `conversation` column holding one conversation-contract JSON object per
row (a string, or a dict). Output: one row per input row with the headline fields and the whole
assessment as JSON in `assessment`.
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
    from mlflow.types import ColSpec, Schema

    return ModelSignature(
        inputs=Schema([ColSpec("string", "conversation")]),
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


class GroomingRiskModel(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined]
    def load_context(self, context: Any) -> None:
        from grooming_risk.inference.scorer import RiskScorer

        self.scorer = RiskScorer.load(context.artifacts[ARTIFACT_KEY])

    # No type hints on predict: MLflow would infer a schema from them; the signature is explicit.
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        import pandas as pd
        from pydantic import ValidationError

        from grooming_risk.contract.conversation import Conversation
        from grooming_risk.io.errors import errors_from_validation

        conversations = []
        for i, obj in enumerate(parse_rows(model_input)):
            try:
                conversations.append(Conversation.model_validate(obj))
            except ValidationError as exc:
                cid = obj.get("conversation_id") if isinstance(obj.get("conversation_id"), str) else None
                first = errors_from_validation(exc, source="input", line=i + 1, conversation_id=cid)[0]
                raise ValueError(str(first)) from None
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
