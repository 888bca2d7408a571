"""`RiskScorer`: load a model artifact once, score conversations in batch or message by message.

    scorer = RiskScorer.load("artifacts/models/default")      # or runs:/..., models:/name@alias
    assessments = scorer.score(conversations)
    session = scorer.stream("conv-1")
    assessment = session.add(message)

The CLI, the HTTP service, MLflow serving and Spark all go through this class: thresholds,
calibration and evidence are applied here and nowhere else.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.conversation import Conversation, Message
from grooming_risk.inference.assessment_builder import AssessmentBuilder, BuilderState
from grooming_risk.inference.backend import Backend, Trajectory
from grooming_risk.model.artifact import (
    ArtifactMeta,
    InvalidArtifactError,
    find_artifact_dir,
    load_artifact,
    text_prep_mismatch,
)

log = logging.getLogger(__name__)

DEFAULT_MODEL_ENV = "GROOMING_RISK_MODEL"
DEFAULT_MODEL_DIR = Path("artifacts/models/default")
# `make onnx` exports the default model here: the torch-free path, several times faster in batch.
DEFAULT_EXPORT_DIR = Path("artifacts/models/default-onnx")
SCORE_BATCH = 256


def default_model_uri(*, prefer_export: bool = True) -> str:
    """$GROOMING_RISK_MODEL, else the model `make demo` trains: its ONNX export
    (artifacts/models/default-onnx) when that was exported from the current default model, else
    the model itself (artifacts/models/default). `prefer_export=False` always names the latter."""
    if env := os.environ.get(DEFAULT_MODEL_ENV):
        return env
    if prefer_export and _export_is_current(DEFAULT_EXPORT_DIR, DEFAULT_MODEL_DIR):
        return str(DEFAULT_EXPORT_DIR)
    return str(DEFAULT_MODEL_DIR)


def _export_is_current(export_dir: Path, model_dir: Path) -> bool:
    """Whether `export_dir` holds an ONNX export of the model now in `model_dir` (a retrained
    model leaves a stale export behind until `make onnx` runs again)."""
    from grooming_risk.model.artifact import read_meta

    try:
        exported, source = read_meta(export_dir), read_meta(model_dir)
    except (InvalidArtifactError, OSError, ValueError):
        return False
    return exported.kind == "onnx" and exported.config.get("source_model_version") == source.model_version


def resolve_model_uri(uri: str | Path) -> Path:
    """A local directory for a path, `runs:/...` or `models:/...` URI (downloaded via MLflow)."""
    text = str(uri)
    if text.startswith(("runs:/", "models:/", "mlflow-artifacts:/")):
        try:
            import mlflow.artifacts
        except ImportError as exc:
            raise RuntimeError(f"{text}: loading from MLflow needs the 'mlflow' extra") from exc
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=text))
        return find_artifact_dir(local)
    path = Path(text).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"model {text!r} not found: give an artifact directory, runs:/RUN_ID/PATH or models:/NAME@ALIAS "
            "(run `make demo` to train the default model)"
        )
    return find_artifact_dir(path)


@dataclass
class StreamState:
    """Everything needed to continue scoring a conversation; JSON-serialisable for shared stores."""

    conversation_id: str
    backend: dict[str, Any]
    builder: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"conversation_id": self.conversation_id, "backend": self.backend, "builder": self.builder}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StreamState:
        return cls(str(data["conversation_id"]), dict(data["backend"]), dict(data.get("builder", {})))

    @property
    def n_messages(self) -> int:
        return int(self.builder.get("n_messages", 0))


class RiskScorer:
    def __init__(self, meta: ArtifactMeta, backend: Backend, artifact_dir: Path | None = None) -> None:
        self.meta = meta
        self.backend = backend
        self.artifact_dir = artifact_dir
        self.builder = AssessmentBuilder(meta)

    @classmethod
    def load(cls, uri: str | Path | None = None) -> RiskScorer:
        directory = resolve_model_uri(uri or default_model_uri())
        meta, tensors = load_artifact(directory)
        if (mismatch := text_prep_mismatch(meta)) is not None:
            log.warning("%s: %s", directory, mismatch)
        backend: Backend
        if meta.kind == "sequence":
            try:
                from grooming_risk.inference.sequence_backend import SequenceBackend
            except ImportError as exc:
                raise RuntimeError(
                    f"{directory}: a torch model needs torch and transformers: pip install "
                    "'grooming-risk[torch]', or serve its ONNX export (grooming-risk export onnx), "
                    f"which needs neither ({exc.name or exc} is missing)"
                ) from None

            backend = SequenceBackend.from_artifact(meta, tensors, directory)
        elif meta.kind == "tfidf_lr":
            from grooming_risk.model.baseline import TfidfBackend

            backend = TfidfBackend.from_artifact(meta, tensors, directory)
        elif meta.kind == "onnx":
            from grooming_risk.inference.onnx_backend import OnnxBackend

            backend = OnnxBackend.from_artifact(meta, tensors, directory)
        else:  # pragma: no cover - ArtifactMeta validates kind
            raise InvalidArtifactError(f"{directory}: unknown model kind {meta.kind!r}")
        return cls(meta, backend, directory)

    def warm_up(self) -> RiskScorer:
        """Load now what the first call would load (encoder weights; for the bundled USE, the
        worker processes that encode batches). Batch jobs and services call it once after `load`,
        so the first request does not pay for it. Returns the scorer."""
        self.backend.warm_up()
        return self

    @property
    def model_version(self) -> str:
        return self.meta.model_version

    @property
    def supports_streaming(self) -> bool:
        """Whether `new_state`/`advance` work (sequence and ONNX models; not the TF-IDF baseline)."""
        return bool(self.backend.supports_streaming)

    @property
    def thresholds(self) -> dict[str, float]:
        return {"review": self.meta.thresholds.review, "urgent": self.meta.thresholds.urgent}

    def _assess(self, conversation: Conversation, trajectory: Trajectory) -> Assessment:
        state = BuilderState()
        risks = self.builder.extend(state, trajectory, conversation.messages)
        return self.builder.assessment(conversation.conversation_id, state, risks)

    def score(self, conversations: Sequence[Conversation]) -> list[Assessment]:
        """One assessment per conversation, in order."""
        return list(self.score_iter(conversations))

    def score_iter(
        self, conversations: Iterable[Conversation], batch_size: int = SCORE_BATCH
    ) -> Iterator[Assessment]:
        """Stream assessments for a stream of conversations in bounded memory, in input order."""
        iterator = iter(conversations)
        while batch := list(itertools.islice(iterator, batch_size)):
            for conversation, trajectory in zip(batch, self.backend.trajectories(batch), strict=True):
                yield self._assess(conversation, trajectory)

    # Streaming -------------------------------------------------------------------------------

    def new_state(self, conversation_id: str) -> StreamState:
        if not self.backend.supports_streaming:
            raise NotImplementedError(
                f"model kind {self.meta.kind!r} does not support streaming; use score()"
            )
        return StreamState(conversation_id, self.backend.init_state(), BuilderState().to_dict())

    def advance(
        self, items: Sequence[tuple[StreamState, Sequence[Message]]]
    ) -> list[tuple[StreamState, Assessment]]:
        """Append messages to several conversations at once (one encoder batch for all).

        Each assessment's `risk_by_message` holds the risks of the appended messages only (from
        `risk_by_message_start`): the state carried between calls is constant-size.
        """
        if not items:
            return []
        results = self.backend.advance([s.backend for s, _ in items], [list(m) for _, m in items])
        out = []
        for (state, messages), (backend_state, traj) in zip(items, results, strict=True):
            builder_state = BuilderState.from_dict(state.builder)
            risks = self.builder.extend(builder_state, traj, messages)
            new_state = StreamState(state.conversation_id, backend_state, builder_state.to_dict())
            out.append((new_state, self.builder.assessment(state.conversation_id, builder_state, risks)))
        return out

    def stream(self, conversation_id: str) -> StreamSession:
        return StreamSession(self, self.new_state(conversation_id))


class StreamSession:
    """A conversation being scored as it happens: each `add` costs one message's work.

    Each returned assessment's `risk_by_message` covers the messages of that call only.
    """

    def __init__(self, scorer: RiskScorer, state: StreamState) -> None:
        self.scorer = scorer
        self.state = state
        self.assessment: Assessment | None = None

    def add(self, message: Message | dict[str, Any]) -> Assessment:
        msg = message if isinstance(message, Message) else Message.model_validate(message)
        return self.extend([msg])

    def extend(self, messages: Sequence[Message]) -> Assessment:
        [(self.state, self.assessment)] = self.scorer.advance([(self.state, messages)])
        return self.assessment
