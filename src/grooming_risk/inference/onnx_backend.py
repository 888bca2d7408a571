"""Backend for an exported model (kind "onnx"): onnxruntime + `tokenizers` + numpy, no torch.

The artifact written by `grooming-risk export onnx` holds two graphs: the message encoder
(transformer, mean pooling and L2 normalisation, optionally int8-quantised) and one step of the
sequence model (input projection, GRU cell, heads). Batch scoring runs the step graph position by
position over a batch of conversations, exactly as streaming does, so both give the same numbers,
and the streaming state has the same shape as the torch backend's (`hidden`, `features`).

Nothing here may import torch or transformers: a platform can score with a ~25 MB artifact and
onnxruntime alone (the test runs this module with both imports blocked).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from grooming_risk.contract.conversation import Conversation, Message
from grooming_risk.inference.backend import Trajectory
from grooming_risk.inference.stepping import advance, initial_state, step_trajectories
from grooming_risk.model.artifact import ENCODER_DIR, ArtifactMeta, InvalidArtifactError
from grooming_risk.model.encoder import (
    BUNDLED_USE,
    CachedEncoder,
    MessageEncoder,
    configured_threads,
    warm_up,
)
from grooming_risk.model.features import FEATURE_NAMES, ROLE_SLOTS, sequence_inputs
from grooming_risk.model.lexical import with_lexical

ENCODER_GRAPH = "encoder.onnx"
STEP_GRAPH = "step.onnx"
TOKENIZER_FILE = "tokenizer.json"
# Input and output names shared by the exporter and this runtime.
ENCODER_INPUTS = ("input_ids", "attention_mask")
ENCODER_OUTPUT = "embedding"
STEP_INPUTS = ("x", "h")
STEP_OUTPUTS = ("risk_logit", "type_logit", "category_logits", "h_new")
# Conversations stepped together in batch scoring: sorted by length, so few rows sit idle.
STEP_BATCH = 256


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function."""
    out = np.empty_like(x, dtype=np.float32)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ez = np.exp(x[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def _session(path: Path, threads: int | None) -> Any:
    threads = threads or configured_threads()
    try:
        import onnxruntime as ort
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError("ONNX models need the 'onnx' extra (pip install 'grooming-risk[onnx]')") from exc
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


class OnnxMessageEncoder(CachedEncoder):
    """The exported sentence encoder: same tokenisation, pooling and LRU cache as `HFMessageEncoder`."""

    def __init__(
        self,
        graph: Path,
        tokenizer_file: Path,
        *,
        max_length: int,
        batch_size: int = 128,
        cache_size: int = 100_000,
        threads: int | None = None,
        prefix: str = "",
    ) -> None:
        from tokenizers import Tokenizer

        super().__init__(cache_size)
        self.max_length = max_length
        self.batch_size = batch_size
        # Put before every text, as `HFMessageEncoder` does (e5's "query: "); the export records it.
        self.prefix = prefix
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        # tokenizer.json may carry its own padding/truncation settings: set the ones the model was
        # trained with (transformers' `padding=True, truncation=True, max_length=...`).
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=max_length)
        # BERT's vocabularies pad with [PAD], XLM-R's (e5) with <pad>.
        pad_token = next((t for t in ("[PAD]", "<pad>") if self.tokenizer.token_to_id(t) is not None), None)
        pad_id = self.tokenizer.token_to_id(pad_token) if pad_token else 0
        self.tokenizer.enable_padding(pad_id=pad_id or 0, pad_token=pad_token or "[PAD]")
        self._unpadded = Tokenizer.from_file(str(tokenizer_file))
        self._unpadded.no_padding()
        self._unpadded.enable_truncation(max_length=max_length)
        self.session = _session(graph, threads)
        names = [i.name for i in self.session.get_inputs()]
        if sorted(names) != sorted(ENCODER_INPUTS):
            raise InvalidArtifactError(f"{graph}: expected inputs {list(ENCODER_INPUTS)}, found {names}")
        self._dim = int(self.session.get_outputs()[0].shape[-1])

    @property
    def dim(self) -> int:
        return self._dim

    def tokenize(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(input_ids, attention_mask), int64 [B, T], padded to the longest text of the batch."""
        encodings = self.tokenizer.encode_batch([self.prefix + t for t in texts])
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        return ids, mask

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text after truncation, special tokens included (for benchmarks)."""
        _, mask = self.tokenize(texts)
        return [int(n) for n in mask.sum(axis=1)]

    def _encode_uncached(self, texts: list[str]) -> np.ndarray:
        # Texts of the same token length run together, so no batch carries padding: padding costs
        # as much as real tokens, and under dynamic int8 quantisation it would also shift the
        # activation ranges, making a message's vector depend on what it was batched with.
        encodings = self._unpadded.encode_batch([self.prefix + t for t in texts])
        by_length: dict[int, list[int]] = {}
        for i, encoding in enumerate(encodings):
            by_length.setdefault(len(encoding.ids), []).append(i)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for idx_all in by_length.values():
            for start in range(0, len(idx_all), self.batch_size):
                idx = idx_all[start : start + self.batch_size]
                ids = np.asarray([encodings[i].ids for i in idx], dtype=np.int64)
                feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
                (vectors,) = self.session.run([ENCODER_OUTPUT], feed)
                out[idx] = vectors
        return out


class OnnxStep:
    """One GRU step of the sequence model for B conversations (a `stepping.Step`)."""

    def __init__(
        self, graph: Path, threads: int | None = None, *, evidence_slots: int = 0, evidence_members: int = 1
    ) -> None:
        self.session = _session(graph, threads)
        self.evidence_slots = evidence_slots
        self.evidence_members = evidence_members
        inputs = {i.name: i.shape for i in self.session.get_inputs()}
        if sorted(inputs) != sorted(STEP_INPUTS):
            raise InvalidArtifactError(f"{graph}: expected inputs {list(STEP_INPUTS)}, found {list(inputs)}")
        self.input_dim = int(inputs["x"][-1])
        self.hidden = int(inputs["h"][-1])
        outputs = {o.name: o.shape for o in self.session.get_outputs()}
        self.n_categories = int(outputs["category_logits"][-1])

    def __call__(self, x: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        risk, kind, cats, h_new = self.session.run(
            list(STEP_OUTPUTS), {"x": x.astype(np.float32, copy=False), "h": h.astype(np.float32, copy=False)}
        )
        return risk, sigmoid(kind), sigmoid(cats), h_new


class OnnxBackend:
    supports_streaming = True

    def __init__(self, encoder: OnnxMessageEncoder | MessageEncoder, step: OnnxStep) -> None:
        expected = encoder.dim + len(FEATURE_NAMES)
        if step.input_dim != expected:
            raise InvalidArtifactError(
                f"step graph takes {step.input_dim} inputs, encoder ({encoder.dim}) + features "
                f"({len(FEATURE_NAMES)}) give {expected}"
            )
        self.encoder = encoder
        self.step = step

    @classmethod
    def from_artifact(
        cls, meta: ArtifactMeta, tensors: dict[str, np.ndarray] | None, artifact_dir: Path
    ) -> OnnxBackend:
        """Build from an export directory; `tensors` (the source weights, kept for provenance) is unused."""
        del tensors
        if list(meta.features) != list(FEATURE_NAMES):
            raise InvalidArtifactError(
                f"{artifact_dir}: the model was trained with features {meta.features}, this version computes "
                f"{list(FEATURE_NAMES)}; re-export from a retrained model"
            )
        graphs = Path(artifact_dir) / ENCODER_DIR
        ref = meta.encoder or {}
        numpy_encoder = ref.get("name") == BUNDLED_USE
        for name in (STEP_GRAPH,) if numpy_encoder else (ENCODER_GRAPH, STEP_GRAPH, TOKENIZER_FILE):
            if not (graphs / name).exists():
                raise InvalidArtifactError(
                    f"{artifact_dir}: missing {ENCODER_DIR}/{name}; re-export the model"
                )
        encoder: OnnxMessageEncoder | MessageEncoder
        if numpy_encoder:
            # The multilingual USE is numpy already: only the step is a graph.
            from grooming_risk.model.use_encoder import use_encoder_for

            encoder = use_encoder_for(ref, artifact_dir)
        else:
            encoder = OnnxMessageEncoder(
                graphs / ENCODER_GRAPH,
                graphs / TOKENIZER_FILE,
                max_length=int(ref.get("max_length", 64)),
                prefix=str(ref.get("prefix", "")),
            )
        if "dim" in ref and encoder.dim != int(ref["dim"]):
            raise InvalidArtifactError(
                f"{artifact_dir}: encoder graph dimension {encoder.dim} != recorded {ref['dim']}"
            )
        encoder = with_lexical(encoder, ref)
        members = int(meta.model.get("members", 1))
        evidence_slots = ROLE_SLOTS * members if meta.model.get("score") == "evidence" else 0
        step = OnnxStep(graphs / STEP_GRAPH, evidence_slots=evidence_slots, evidence_members=members)
        return cls(encoder, step)

    # Batch and streaming: the shared step loop ---------------------------------------------------

    def trajectories(self, conversations: Sequence[Conversation]) -> list[Trajectory]:
        return step_trajectories(self.step, sequence_inputs(self.encoder, conversations), STEP_BATCH)

    def warm_up(self) -> None:
        warm_up(self.encoder)

    def init_state(self) -> dict[str, Any]:
        return initial_state()

    def advance(
        self, states: Sequence[dict[str, Any]], messages: Sequence[Sequence[Message]]
    ) -> list[tuple[dict[str, Any], Trajectory]]:
        return advance(self.encoder, self.step, states, messages)
