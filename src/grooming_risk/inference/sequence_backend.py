"""Backend for the hierarchical model: message encoder + features + causal GRU."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from grooming_risk.contract.conversation import Conversation, Message
from grooming_risk.inference.backend import Trajectory
from grooming_risk.inference.stepping import StepOutputs, advance, initial_state
from grooming_risk.model.artifact import ENCODER_DIR, ArtifactMeta, InvalidArtifactError
from grooming_risk.model.encoder import (
    BUNDLED_USE,
    EncoderSettings,
    HFMessageEncoder,
    MessageEncoder,
    resolve_encoder_path,
    warm_up,
)
from grooming_risk.model.ensemble import SequenceModel, build
from grooming_risk.model.features import FEATURE_NAMES, ROLE_SLOTS, sequence_inputs
from grooming_risk.model.lexical import with_lexical
from grooming_risk.model.sequence import SequenceModelConfig

# Conversations per GRU batch: sorted by length first, so padding stays small.
GRU_BATCH = 64


def build_encoder(meta: ArtifactMeta, artifact_dir: Path) -> MessageEncoder:
    """The encoder the artifact was trained with, checked against the recorded weights digest."""
    ref = meta.encoder or {}
    # No "prefix" in the reference: an artifact from before prefixes, trained without one.
    settings = EncoderSettings(
        name=str(ref.get("name")),
        max_length=int(ref.get("max_length", 64)),
        prefix=str(ref.get("prefix", "")),
    )
    if settings.name == BUNDLED_USE:
        from grooming_risk.model.use_encoder import use_encoder_for

        return with_lexical(use_encoder_for(ref, artifact_dir), ref)
    if ref.get("embedded"):
        model_dir = artifact_dir / ENCODER_DIR
    else:
        try:
            model_dir = resolve_encoder_path(settings.name)
        except (FileNotFoundError, RuntimeError) as exc:
            raise InvalidArtifactError(f"{artifact_dir}: cannot find the model's encoder: {exc}") from exc
    encoder = HFMessageEncoder(settings, model_dir=model_dir)
    if encoder.digest != ref.get("weights_sha256"):
        raise InvalidArtifactError(
            f"{artifact_dir}: the encoder at {model_dir} is not the one this model was trained with "
            f"(weights sha256 {encoder.digest[:12]}… != {str(ref.get('weights_sha256'))[:12]}…)"
        )
    if encoder.dim != int(ref.get("dim", encoder.dim)):
        raise InvalidArtifactError(
            f"{artifact_dir}: encoder dimension {encoder.dim} != recorded {ref.get('dim')}"
        )
    return with_lexical(encoder, ref)


def build_sequence_model(
    meta: ArtifactMeta, tensors: dict[str, np.ndarray], artifact_dir: Path
) -> SequenceModel:
    if list(meta.features) != list(FEATURE_NAMES):
        raise InvalidArtifactError(
            f"{artifact_dir}: the model was trained with features {meta.features}, this version computes "
            f"{list(FEATURE_NAMES)}; retrain the model"
        )
    try:
        config = SequenceModelConfig(**meta.model)
        model = build(config)
    except (TypeError, ValueError) as exc:
        raise InvalidArtifactError(f"{artifact_dir}: model config {meta.model} is not valid: {exc}") from exc
    state = {k: torch.from_numpy(v.copy()) for k, v in tensors.items()}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise InvalidArtifactError(
            f"{artifact_dir}: weights do not fit the recorded model config: {exc}"
        ) from exc
    return model.eval()


class SequenceBackend:
    supports_streaming = True

    def __init__(self, model: SequenceModel, encoder: MessageEncoder) -> None:
        self.model = model
        self.encoder = encoder
        self.step = TorchStep(model)

    @classmethod
    def from_artifact(
        cls, meta: ArtifactMeta, tensors: dict[str, np.ndarray], artifact_dir: Path
    ) -> SequenceBackend:
        return cls(build_sequence_model(meta, tensors, artifact_dir), build_encoder(meta, artifact_dir))

    def trajectories(self, conversations: Sequence[Conversation]) -> list[Trajectory]:
        inputs = sequence_inputs(self.encoder, conversations)
        results: list[Trajectory | None] = [None] * len(inputs)
        order = sorted(range(len(inputs)), key=lambda i: len(inputs[i]))
        with torch.inference_mode():
            for start in range(0, len(order), GRU_BATCH):
                idx = order[start : start + GRU_BATCH]
                lengths = torch.tensor([len(inputs[i]) for i in idx])
                x = torch.zeros(len(idx), int(lengths.max()), inputs[idx[0]].shape[1])
                for row, i in enumerate(idx):
                    x[row, : len(inputs[i])] = torch.from_numpy(inputs[i])
                out = self.model(x, lengths)
                risk = out["risk_logit"].numpy()
                sext = torch.sigmoid(out["type_logit"]).numpy()
                cats = torch.sigmoid(out["category_logits"]).numpy()
                evidence = out["message_evidence"].numpy() if "message_evidence" in out else None
                for row, i in enumerate(idx):
                    n = len(inputs[i])
                    results[i] = Trajectory(
                        risk[row, :n].copy(),
                        sext[row, :n].copy(),
                        cats[row, :n].copy(),
                        None if evidence is None else evidence[row, :n].copy(),
                    )
        return [r for r in results if r is not None]

    def warm_up(self) -> None:
        warm_up(self.encoder)

    def init_state(self) -> dict[str, Any]:
        return initial_state()

    def advance(
        self, states: Sequence[dict[str, Any]], messages: Sequence[Sequence[Message]]
    ) -> list[tuple[dict[str, Any], Trajectory]]:
        """Append messages to several conversations at once: the shared step loop (stepping.py)."""
        return advance(self.encoder, self.step, states, messages)


class TorchStep:
    """One GRU step of the torch model, numpy in and out (a `stepping.Step`)."""

    def __init__(self, model: SequenceModel) -> None:
        self.model = model
        self.hidden = model.state_size
        self.n_categories = model.config.n_categories
        self.evidence_members = model.config.members
        self.evidence_slots = ROLE_SLOTS * model.config.members if model.config.score == "evidence" else 0

    def __call__(self, x: np.ndarray, h: np.ndarray) -> StepOutputs:
        with torch.inference_mode():
            out, new_h = self.model.step(torch.from_numpy(x), torch.from_numpy(h).unsqueeze(0))
            return (
                out["risk_logit"].numpy().reshape(-1),
                torch.sigmoid(out["type_logit"]).numpy().reshape(-1),
                torch.sigmoid(out["category_logits"]).numpy(),
                new_h[0].numpy(),
            )
