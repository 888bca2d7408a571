"""Export a trained sequence model to an ONNX artifact that scores without torch or transformers.

    grooming-risk export onnx --model artifacts/models/default -o artifacts/models/default-onnx

Two graphs are written (opset 17, dynamic batch and sequence axes, the legacy TorchScript exporter
because the dynamo exporter needs onnxscript and this runs offline):

* `encoder/encoder.onnx`: the transformer with mean pooling and L2 normalisation in the graph,
  (input_ids, attention_mask) -> embedding, stored in one of three encodings (`ENCODINGS`):
  - `int8` (default): onnxruntime's dynamic quantisation, per-channel QInt8 weights and int8
    activations. MiniLM: ~23 MB, ~2x faster than fp32 on CPU, but the activations' rounding moves
    embeddings (cosine ~0.98 to torch), and a sharp trained model can turn that into risk
    differences of tenths near its thresholds. Check with `--check-data` before relying on it.
  - `compact`: int8 per-row word embeddings (harmless: cosine 0.9999) and fp16 storage for the
    other weights, computed in fp32. MiniLM: ~34 MB, fp32 speed, risk within a few hundredths.
  - `none`: fp32, ~90 MB, matches torch to ~1e-6.
* `encoder/step.onnx`: one step of the sequence model, (x [B, D], h [B, H]) -> risk_logit,
  type_logit, category_logits, h_new. It stays fp32: it is tiny and it carries the state.

plus `encoder/tokenizer.json`. Thresholds, calibration and features are copied from the source
artifact; `verify_export` measures (and the CLI prints) how far the export's scores are from the
source model's on every export, and refuses an fp32 export that does not match.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata as md
import itertools
import shutil
import tempfile
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from grooming_risk.inference.onnx_backend import (
    ENCODER_GRAPH,
    ENCODER_INPUTS,
    ENCODER_OUTPUT,
    STEP_GRAPH,
    STEP_INPUTS,
    STEP_OUTPUTS,
    TOKENIZER_FILE,
)
from grooming_risk.model.artifact import (
    ArtifactMeta,
    InvalidArtifactError,
    load_artifact,
    replace_directory,
    save_artifact,
)

if TYPE_CHECKING:
    import torch

    from grooming_risk.model.encoder import HFMessageEncoder
    from grooming_risk.model.ensemble import SequenceModel

OPSET = 17
ENCODINGS = {
    "int8": "dynamic-int8-per-channel",
    "compact": "int8-embeddings-fp16-weights",
    "none": "none",
}
# Smaller weight matrices stay fp32: they cost nothing and include LayerNorm-sized tensors.
MIN_CONVERTED_ELEMENTS = 4096
# Conversations `--check-data` scores with both models.
CHECK_CONVERSATIONS = 200
# A non-quantised export must match torch this closely (risk probability), or the export is refused.
FP32_TOLERANCE = 1e-3

# Benign, made-up chat lines to check the export against torch (varied lengths, emoji, a handle).
PROBE_TEXTS = (
    "gg that round was wild",
    "lol",
    "did you finish the maths homework? q4 is really hard, i gave up after an hour",
    "rematch after dinner?",
    "ok 👍",
    "my cousin is coming over on saturday so i cant play then, maybe sunday afternoon instead",
    "add me @player_two",
    "",
)


@dataclass
class DataCheck:
    """Source model vs export on real conversations: what a reviewer would see change."""

    conversations: int
    max_risk_diff: float
    mean_final_risk_diff: float
    decision_agreement: float  # same label, flagged and urgent
    first_alert_agreement: float


@dataclass
class ExportReport:
    directory: Path
    encoding: str
    size_mb: float
    encoder_mb: float
    max_embedding_diff: float
    min_embedding_cosine: float
    max_risk_diff: float
    data_check: DataCheck | None = None

    def rows(self) -> list[tuple[str, str]]:
        rows = [
            ("artifact", str(self.directory)),
            ("encoder encoding", f"{self.encoding} ({ENCODINGS[self.encoding]})"),
            ("size", f"{self.size_mb:.1f} MB (encoder graph {self.encoder_mb:.1f} MB)"),
            ("max |embedding diff| vs torch", f"{self.max_embedding_diff:.2e}"),
            ("min embedding cosine vs torch", f"{self.min_embedding_cosine:.4f}"),
            ("max |risk diff| vs torch (probe chat)", f"{self.max_risk_diff:.2e}"),
        ]
        if c := self.data_check:
            rows += [
                (f"check data: max |risk diff| ({c.conversations} conversations)", f"{c.max_risk_diff:.2e}"),
                ("check data: mean |final risk diff|", f"{c.mean_final_risk_diff:.2e}"),
                ("check data: same label/flagged/urgent", f"{c.decision_agreement:.2%}"),
                ("check data: same first alert message", f"{c.first_alert_agreement:.2%}"),
            ]
        return rows


def _pooled_module(model: Any) -> torch.nn.Module:
    """The transformer with mean pooling and L2 normalisation, as `HFMessageEncoder.forward` does."""
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    return Pooled().eval()


def _step_module(model: SequenceModel) -> torch.nn.Module:
    import torch

    class Step(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, ...]:
            heads, h_new = self.model.step(x, h.unsqueeze(0))
            return heads["risk_logit"], heads["type_logit"], heads["category_logits"], h_new.squeeze(0)

    return Step().eval()


def _export_encoder(encoder: HFMessageEncoder, path: Path) -> None:
    import torch

    batch = encoder.tokenize(["hello there", "gg"])
    torch.onnx.export(
        _pooled_module(encoder.model),
        (batch["input_ids"], batch["attention_mask"]),
        str(path),
        dynamo=False,
        opset_version=OPSET,
        input_names=list(ENCODER_INPUTS),
        output_names=[ENCODER_OUTPUT],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "tokens"},
            "attention_mask": {0: "batch", 1: "tokens"},
            ENCODER_OUTPUT: {0: "batch"},
        },
    )


def _export_step(model: SequenceModel, path: Path) -> None:
    import torch

    cfg = model.config
    x = torch.zeros(2, cfg.embed_dim + cfg.feature_dim)
    h = torch.zeros(2, model.state_size)
    torch.onnx.export(
        _step_module(model),
        (x, h),
        str(path),
        dynamo=False,
        opset_version=OPSET,
        input_names=list(STEP_INPUTS),
        output_names=list(STEP_OUTPUTS),
        dynamic_axes={name: {0: "batch"} for name in (*STEP_INPUTS, *STEP_OUTPUTS)},
    )


def _quantize_dynamic(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Per-channel weights: per-tensor int8 costs MiniLM ~0.08 of cosine similarity, per-channel ~0.02.
    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True)


def _compact(source: Path, target: Path) -> None:
    """int8 (per-row, symmetric) word embeddings and fp16 MatMul weights; all arithmetic stays fp32.

    onnxruntime's own weight-only path (MatMulNBits) needs the onnx_ir package and, like
    dynamic quantisation, int8 MatMul weights alone already cost ~0.002 of cosine, which a sharp
    model turns into visible risk differences; fp16 storage costs ~1e-5. The embedding table is
    most of MiniLM's size and tolerates int8 (a row is looked up, never multiplied).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    converted: dict[str, str] = {}
    nodes = []
    for node in graph.node:
        slot = {"MatMul": 1, "Gather": 0}.get(node.op_type)
        name = node.input[slot] if slot is not None else ""
        init = initializers.get(name)
        if (
            slot is not None
            and init is not None
            and init.data_type == TensorProto.FLOAT
            and len(init.dims) == 2
            and int(np.prod(init.dims)) >= MIN_CONVERTED_ELEMENTS
        ):
            if name not in converted:
                weights = numpy_helper.to_array(init)
                graph.initializer.remove(init)
                out = f"{name}_fp32"
                if node.op_type == "Gather":
                    amax = np.abs(weights).max(axis=1)
                    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
                    q = np.clip(np.round(weights / scale[:, None]), -127, 127).astype(np.int8)
                    graph.initializer.extend(
                        [
                            numpy_helper.from_array(q, f"{name}_int8"),
                            numpy_helper.from_array(scale, f"{name}_scale"),
                            numpy_helper.from_array(np.zeros_like(scale, dtype=np.int8), f"{name}_zero"),
                        ]
                    )
                    nodes.append(
                        helper.make_node(
                            "DequantizeLinear",
                            [f"{name}_int8", f"{name}_scale", f"{name}_zero"],
                            [out],
                            axis=0,
                        )
                    )
                else:
                    graph.initializer.append(
                        numpy_helper.from_array(weights.astype(np.float16), f"{name}_fp16")
                    )
                    nodes.append(helper.make_node("Cast", [f"{name}_fp16"], [out], to=TensorProto.FLOAT))
                converted[name] = out
            node.input[slot] = converted[name]
        nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))


def _versions() -> dict[str, str]:
    from grooming_risk import __version__

    out = {"grooming_risk": __version__}
    for pkg in ("torch", "transformers", "onnx", "onnxruntime", "tokenizers"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            continue
    return out


def export_onnx(
    model_uri: str | Path | None,
    out_dir: str | Path,
    *,
    encoding: str = "int8",
    check_data: Path | None = None,
) -> ExportReport:
    """Export the sequence model at `model_uri` to an ONNX artifact in `out_dir`; verify it against
    torch on probe texts and, with `check_data`, on the first conversations of that file."""
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding {encoding!r}: expected one of {', '.join(ENCODINGS)}")
    from grooming_risk.inference.scorer import default_model_uri, resolve_model_uri
    from grooming_risk.inference.sequence_backend import build_encoder, build_sequence_model
    from grooming_risk.model.encoder import HFMessageEncoder
    from grooming_risk.model.lexical import LexicalEncoder

    source_dir = resolve_model_uri(model_uri or default_model_uri(prefer_export=False))
    meta, tensors = load_artifact(source_dir)
    if meta.kind != "sequence":
        raise InvalidArtifactError(
            f"{source_dir}: only sequence models can be exported to ONNX (this one is {meta.kind!r})"
        )
    # The lexical channel (if any) is numpy at run time: only the sentence encoder is exported.
    built = build_encoder(meta, source_dir)
    encoder = built.base if isinstance(built, LexicalEncoder) else built
    model = build_sequence_model(meta, tensors, source_dir)
    # The bundled USE runs in numpy already (no torch): only the step graph is exported.
    numpy_encoder = not isinstance(encoder, HFMessageEncoder)
    if numpy_encoder:
        encoding = "none"
    else:
        assert isinstance(encoder, HFMessageEncoder)
        tokenizer_json = Path(encoder.model_dir) / TOKENIZER_FILE
        if not tokenizer_json.exists():
            raise InvalidArtifactError(
                f"{encoder.model_dir}: no {TOKENIZER_FILE}; the ONNX runtime needs a fast (Rust) tokenizer file"
            )
    out = Path(out_dir)
    if out.resolve() == source_dir.resolve():
        raise ValueError(f"{out}: choose an output directory other than the source model's")
    with tempfile.TemporaryDirectory(prefix="grooming-risk-onnx-") as tmp:
        work = Path(tmp)
        graphs = work / "graphs"
        graphs.mkdir()
        fp32 = work / "encoder.fp32.onnx"
        with warnings.catch_warnings():
            # The tracer warns about Python-side checks (mask length, GRU sizes) that it freezes as
            # constants; they hold for every input here, and verify_export checks the result.
            warnings.simplefilter("ignore")
            if isinstance(encoder, HFMessageEncoder):
                _export_encoder(encoder, fp32)
            _export_step(model, graphs / STEP_GRAPH)
        reference: dict[str, Any]
        if numpy_encoder:
            reference = {**(meta.encoder or {}), "runtime": "numpy"}
        else:
            if encoding == "int8":
                _quantize_dynamic(fp32, graphs / ENCODER_GRAPH)
            elif encoding == "compact":
                _compact(fp32, graphs / ENCODER_GRAPH)
            else:
                shutil.copy(fp32, graphs / ENCODER_GRAPH)
            shutil.copy(tokenizer_json, graphs / TOKENIZER_FILE)
            reference = {
                **(meta.encoder or {}),
                "embedded": True,
                "runtime": "onnx",
                "graph": ENCODER_GRAPH,
                "tokenizer": TOKENIZER_FILE,
                "quantization": ENCODINGS[encoding],
            }
        onnx_meta = ArtifactMeta(
            kind="onnx",
            model_version=f"{meta.model_version}+onnx{'' if encoding == 'none' else '-' + encoding}",
            thresholds=meta.thresholds,
            calibration=meta.calibration,
            encoder=reference,
            model=meta.model,
            features=meta.features,
            config={
                "source_model_version": meta.model_version,
                "source_kind": meta.kind,
                "opset": OPSET,
                "step_graph": STEP_GRAPH,
                "training": meta.config,
            },
            # The text preparation is the source model's: that is what its weights learned from.
            versions={**_versions(), "text_prep": meta.versions.get("text_prep", "1")},
        )
        # The source weights travel along (they are small): they record exactly what was exported
        # and satisfy the artifact format, whose loader verifies weights.safetensors.
        # Staged beside OUT and verified there: an export that fails its checks never replaces a
        # working one, and nothing half-written is left where a model is expected.
        staged = out.with_name(f".{out.name}.export-{uuid.uuid4().hex[:8]}")
        try:
            save_artifact(staged, onnx_meta, tensors, encoder_dir=graphs)
            report = verify_export(source_dir, staged, encoding=encoding, check_data=check_data)
            replace_directory(staged, out)
        finally:
            shutil.rmtree(staged, ignore_errors=True)
    return dataclasses.replace(report, directory=out)


def _dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def _data_check(torch_scorer: Any, onnx_scorer: Any, path: Path) -> DataCheck:
    from grooming_risk.io.readers import read_conversations

    conversations = list(itertools.islice(read_conversations(path), CHECK_CONVERSATIONS))
    if not conversations:
        raise ValueError(f"{path}: no conversations to check the export on")
    a, b = torch_scorer.score(conversations), onnx_scorer.score(conversations)
    pairs = list(zip(a, b, strict=True))
    return DataCheck(
        conversations=len(conversations),
        max_risk_diff=max(
            float(np.max(np.abs(np.subtract(x.risk_by_message, y.risk_by_message)))) for x, y in pairs
        ),
        mean_final_risk_diff=float(np.mean([abs(x.risk - y.risk) for x, y in pairs])),
        decision_agreement=float(
            np.mean([(x.label, x.flagged, x.urgent) == (y.label, y.flagged, y.urgent) for x, y in pairs])
        ),
        first_alert_agreement=float(np.mean([x.first_alert_index == y.first_alert_index for x, y in pairs])),
    )


def verify_export(
    source: Path, exported: Path, *, encoding: str, check_data: Path | None = None
) -> ExportReport:
    """Compare the export with the torch model on probe texts and a probe chat (and on `check_data`);
    refuse an fp32 export that differs, which would mean the export itself is broken."""
    from grooming_risk.contract.conversation import Conversation
    from grooming_risk.inference.scorer import RiskScorer
    from grooming_risk.model.artifact import ENCODER_DIR

    torch_scorer = RiskScorer.load(source)
    onnx_scorer = RiskScorer.load(exported)
    texts = list(PROBE_TEXTS)
    ref = torch_scorer.backend.encoder.encode(texts)  # type: ignore[attr-defined]
    got = onnx_scorer.backend.encoder.encode(texts)  # type: ignore[attr-defined]
    cosine = np.sum(ref * got, axis=1) / (np.linalg.norm(ref, axis=1) * np.linalg.norm(got, axis=1) + 1e-12)
    chat = Conversation.model_validate(
        {
            "conversation_id": "export-probe",
            "messages": [{"sender": ("a", "b")[i % 2], "text": t} for i, t in enumerate(PROBE_TEXTS)],
        }
    )
    [a] = torch_scorer.score([chat])
    [b] = onnx_scorer.score([chat])
    risk_diff = float(np.max(np.abs(np.subtract(a.risk_by_message, b.risk_by_message))))
    if encoding == "none" and risk_diff > FP32_TOLERANCE:
        raise InvalidArtifactError(
            f"{exported}: the fp32 export differs from the torch model by {risk_diff:.2e} in risk "
            f"(tolerance {FP32_TOLERANCE}); the export is broken, do not use it"
        )
    return ExportReport(
        directory=exported,
        encoding=encoding,
        size_mb=_dir_mb(exported),
        # 0 when the encoder runs in numpy (the bundled USE) and only the step is a graph.
        encoder_mb=graph.stat().st_size / 1e6
        if (graph := exported / ENCODER_DIR / ENCODER_GRAPH).exists()
        else 0.0,
        max_embedding_diff=float(np.max(np.abs(ref - got))),
        min_embedding_cosine=float(np.min(cosine)),
        max_risk_diff=risk_diff,
        data_check=_data_check(torch_scorer, onnx_scorer, check_data) if check_data else None,
    )
