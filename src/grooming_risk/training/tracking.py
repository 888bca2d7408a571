"""MLflow plumbing: where runs go, and how datasets are recorded without their text."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"


def configure_tracking(experiment: str) -> str:
    """Use $MLFLOW_TRACKING_URI, else a SQLite store in the working directory; select the experiment.

    Called by the stage functions, never at import time.
    """
    import mlflow

    uri = os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI
    mlflow.set_tracking_uri(uri)
    if mlflow.get_experiment_by_name(experiment) is None:
        location = None
        if uri.startswith("sqlite:"):
            # Keep artifacts beside the SQLite file rather than in MLflow's default folder.
            location = Path("mlartifacts").resolve().as_uri()
        mlflow.create_experiment(experiment, artifact_location=location)
    mlflow.set_experiment(experiment)
    return uri


def log_dataset(path: Path, context: str, name: str | None = None) -> dict[str, Any]:
    """Record a dataset as a run input by path and content digest (never by content), with its card."""
    import mlflow
    from mlflow.data.meta_dataset import MetaDataset
    from mlflow.data.sources import LocalArtifactDatasetSource  # type: ignore[attr-defined]

    from grooming_risk.data.cards import file_sha256, read_card

    digest = file_sha256(path)
    dataset = MetaDataset(  # type: ignore[abstract]
        source=LocalArtifactDatasetSource(str(path.resolve())), name=name or path.name, digest=digest[:16]
    )
    mlflow.log_input(dataset, context=context)
    card = read_card(path)
    info: dict[str, Any] = {"file": str(path), "sha256": digest}
    if card is not None:
        mlflow.log_dict(card.model_dump(mode="json"), f"datasets/{context}/{path.name}.card.json")
        info["card"] = card.model_dump(mode="json")
    # Keyed by file name too: an evaluation run may take several datasets in one context.
    mlflow.log_param(f"data.{context}.{path.name}.sha256", digest[:16])
    return info
