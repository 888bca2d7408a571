"""The model artifact: one directory, safetensors + JSON, no pickle.

Layout:
    grooming_risk.json     metadata: kind, labels, categories, thresholds, calibration, encoder
                           reference, model config, training config, versions, file digests
    weights.safetensors    the model's tensors
    encoder/               (optional) the encoder itself, when it is not the bundled MiniLM
    ...                    kind-specific JSON (e.g. the baseline's vocabulary)

Every front end loads this one format through `RiskScorer`. Writing refuses an inconsistent
artifact and loading refuses a tampered or mismatched one, each with a message saying what is
wrong, because a silently wrong threshold or encoder means missed children.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from grooming_risk import __version__
from grooming_risk.contract.taxonomy import RISK_CATEGORIES, Label
from grooming_risk.data.cards import file_sha256
from grooming_risk.text.normalize import TEXT_PREP_VERSION

META_FILE = "grooming_risk.json"
WEIGHTS_FILE = "weights.safetensors"
ENCODER_DIR = "encoder"
FORMAT_VERSION = 1
LABELS: tuple[str, ...] = tuple(label.value for label in Label)


class InvalidArtifactError(ValueError):
    """The artifact directory is incomplete, inconsistent or was changed after it was written."""


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    review: float = Field(ge=0.0, le=1.0, description="Flag for human review at or above this risk.")
    urgent: float = Field(ge=0.0, le=1.0, description="Mark urgent at or above this risk.")

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.urgent < self.review:
            raise ValueError(f"urgent threshold {self.urgent} is below the review threshold {self.review}")
        return self


class Calibration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Literal["temperature", "platt", "none"] = "temperature"
    temperature: float = Field(default=1.0, gt=0.0)
    # Platt scaling: risk = sigmoid(logit / temperature + bias); 0 for a temperature alone.
    bias: float = 0.0


class ArtifactMeta(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    format_version: int = FORMAT_VERSION
    kind: Literal["sequence", "tfidf_lr", "onnx"]
    model_version: str = Field(min_length=1)
    labels: list[str] = Field(default_factory=lambda: list(LABELS))
    categories: list[str] = Field(default_factory=lambda: list(RISK_CATEGORIES))
    thresholds: Thresholds
    calibration: Calibration = Field(default_factory=Calibration)
    encoder: dict[str, Any] | None = None
    model: dict[str, Any] = Field(default_factory=dict)
    features: list[str] = Field(default_factory=list)
    config: dict[str, Any] = Field(default_factory=dict)
    versions: dict[str, str] = Field(default_factory=dict)
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    files: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> ArtifactMeta:
        if self.format_version != FORMAT_VERSION:
            raise ValueError(
                f"artifact format {self.format_version} is not supported by this version "
                f"(expects {FORMAT_VERSION}); retrain or upgrade grooming-risk"
            )
        if list(self.labels) != list(LABELS):
            raise ValueError(f"labels {self.labels} differ from this version's {list(LABELS)}")
        if list(self.categories) != list(RISK_CATEGORIES):
            raise ValueError(
                f"categories {self.categories} differ from this version's taxonomy {list(RISK_CATEGORIES)}"
            )
        if self.kind in ("sequence", "onnx") and not self.encoder:
            raise ValueError(f"a {self.kind} model artifact needs an encoder reference")
        return self


def _library_versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"grooming_risk": __version__, "text_prep": str(TEXT_PREP_VERSION)}
    for pkg in ("torch", "transformers", "scikit-learn", "safetensors", "emoji"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            continue
    return out


def text_prep_mismatch(meta: ArtifactMeta) -> str | None:
    """Why `meta`'s model may score worse with this version's text preparation, or None.

    The model learned from text prepared one way (`normalize`); fed text prepared another way it
    still runs, but its figures no longer hold. Artifacts from before the version was recorded had 1.
    """
    trained = meta.versions.get("text_prep", "1")
    if trained == str(TEXT_PREP_VERSION):
        return None
    return (
        f"model {meta.model_version} was trained on text prepared by version {trained}; this "
        f"grooming-risk prepares text with version {TEXT_PREP_VERSION} (see text/normalize.py), so "
        "its measured figures may not hold: retrain it"
    )


def save_artifact(
    directory: str | Path,
    meta: ArtifactMeta,
    tensors: dict[str, np.ndarray],
    *,
    json_files: dict[str, Any] | None = None,
    encoder_dir: Path | None = None,
) -> Path:
    """Write an artifact directory; refuse to write one that could not be loaded back."""
    if not tensors:
        raise InvalidArtifactError("refusing to write an artifact with no weights")
    for name, array in tensors.items():
        if not np.all(np.isfinite(array)):
            raise InvalidArtifactError(
                f"refusing to write an artifact: tensor {name!r} has NaN or inf values"
            )
    out = Path(directory)
    if out.exists() and any(out.iterdir()) and not (out / META_FILE).exists():
        raise InvalidArtifactError(
            f"{out} exists and is not a grooming-risk artifact; choose an empty directory"
        )
    # Written beside the target, verified, then renamed into place: a crash or a failed write never
    # leaves a half-written artifact where a model used to be.
    out.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    staged.chmod(0o755)  # mkdtemp makes it private; an artifact is read by services too
    try:
        _write_files(staged, meta, tensors, json_files, encoder_dir)
        load_artifact(staged)
        replace_directory(staged, out)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return out


def _write_files(
    out: Path,
    meta: ArtifactMeta,
    tensors: dict[str, np.ndarray],
    json_files: dict[str, Any] | None,
    encoder_dir: Path | None,
) -> None:
    from safetensors.numpy import save_file

    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(out / WEIGHTS_FILE))
    for name, obj in (json_files or {}).items():
        (out / name).write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    if encoder_dir is not None:
        shutil.copytree(encoder_dir, out / ENCODER_DIR)
    files = {
        str(p.relative_to(out)): file_sha256(p)
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != META_FILE
    }
    meta = meta.model_copy(update={"files": files, "versions": meta.versions or _library_versions()})
    (out / META_FILE).write_text(json.dumps(meta.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8")


def replace_directory(staged: Path, target: Path) -> None:
    """Move a finished directory into place; the old one (if any) is removed only afterwards."""
    old: Path | None = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        os.replace(target, old)
    os.replace(staged, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def find_artifact_dir(root: Path) -> Path:
    """The artifact directory at or below `root` (MLflow nests it inside a pyfunc model)."""
    if (root / META_FILE).exists():
        return root
    found = sorted(p.parent for p in root.rglob(META_FILE))
    if not found:
        raise InvalidArtifactError(f"{root}: no {META_FILE} found; this is not a grooming-risk model")
    return found[0]


def read_meta(directory: str | Path) -> ArtifactMeta:
    path = Path(directory) / META_FILE
    if not path.exists():
        raise InvalidArtifactError(f"{directory}: missing {META_FILE}; not a grooming-risk model artifact")
    try:
        return ArtifactMeta.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InvalidArtifactError(f"{path}: {exc}") from exc


def load_artifact(directory: str | Path) -> tuple[ArtifactMeta, dict[str, np.ndarray]]:
    """Read and verify an artifact: every listed file present and unchanged."""
    from safetensors.numpy import load_file

    root = Path(directory)
    meta = read_meta(root)
    if WEIGHTS_FILE not in meta.files:
        raise InvalidArtifactError(f"{root}: {META_FILE} lists no {WEIGHTS_FILE}")
    for name, expected in meta.files.items():
        path = root / name
        if not path.exists():
            raise InvalidArtifactError(f"{root}: file {name} listed in {META_FILE} is missing")
        if file_sha256(path) != expected:
            raise InvalidArtifactError(
                f"{root}: file {name} does not match the digest recorded when the model was saved; "
                "the artifact was modified or is incomplete"
            )
    return meta, load_file(str(root / WEIGHTS_FILE))


def read_json_file(directory: str | Path, name: str) -> Any:
    path = Path(directory) / name
    if not path.exists():
        raise InvalidArtifactError(f"{directory}: missing {name}")
    return json.loads(path.read_text(encoding="utf-8"))
