"""`train(cfg) -> metrics`: the whole training stage, tracked in one MLflow run.

The CLI (`grooming-risk train`) and `training/train.py` only wrap this function.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from grooming_risk.contract.conversation import Conversation
from grooming_risk.contract.taxonomy import RISK_CATEGORIES
from grooming_risk.model.artifact import (
    ArtifactMeta,
    Calibration,
    Thresholds,
    save_artifact,
)
from grooming_risk.model.encoder import EncoderSettings, HFMessageEncoder, open_encoder, weights_digest
from grooming_risk.model.features import FEATURE_DIM, FEATURE_NAMES, conversation_features, sequence_inputs
from grooming_risk.model.lexical import LexicalEncoder
from grooming_risk.training.config import TrainConfig, flatten
from grooming_risk.training.datasets import Datasets, load_datasets
from grooming_risk.training.embeddings import EmbeddingTable
from grooming_risk.training.tracking import configure_tracking, log_dataset

if TYPE_CHECKING:
    from grooming_risk.training.loop import EpochLog

log = logging.getLogger(__name__)


def _final_logits_and_labels(
    trajectories: list[Any], conversations: list[Conversation]
) -> tuple[np.ndarray, np.ndarray]:
    logits = np.array([float(t.risk_logit[-1]) for t in trajectories])
    labels = np.array([int(bool(c.is_risky)) for c in conversations])
    return logits, labels


def calibrate(
    cfg: TrainConfig,
    logits: np.ndarray,
    labels: np.ndarray,
    n_real: int = 0,
    set_sizes: list[int] | None = None,
) -> tuple[Calibration, Thresholds]:
    """Temperature and thresholds from the tuning set; its last `n_real` rows are the real-chat val slice.

    `set_sizes`: how many rows each tuning set holds, in order; `calibration.balance` needs them.
    """
    from grooming_risk.evaluation.calibration import (
        cap_flagged_share,
        choose_thresholds,
        fit_platt,
        fit_temperature,
        set_balanced_weights,
    )

    weights = None
    if cfg.calibration.balance:
        if set_sizes is None or sum(set_sizes) != len(logits):
            raise ValueError(
                f"calibration.balance: expected the tuning sets' sizes summing to {len(logits)} rows, "
                f"got {set_sizes}"
            )
        weights = set_balanced_weights(set_sizes)
    temperature, bias = 1.0, 0.0
    if cfg.calibration.method == "temperature":
        temperature = fit_temperature(logits, labels, weights)
    elif cfg.calibration.method == "platt":
        temperature, bias = fit_platt(logits, labels, weights)
    scores = 1.0 / (1.0 + np.exp(-(logits / temperature + bias)))
    chosen = choose_thresholds(
        labels,
        scores,
        review_recall=cfg.thresholds.review_recall,
        urgent_precision=cfg.thresholds.urgent_precision,
    )
    # Thresholds are compared with risks rounded to 6 decimals: round them the same way.
    review = round(float(chosen["review"]), 6)
    urgent = max(review, round(float(chosen["urgent"]), 6))
    real = scores[len(scores) - n_real :] if n_real else scores[:0]
    if real.size and cfg.thresholds.max_real_review_share is not None:
        review = cap_flagged_share(
            review, real, cfg.thresholds.max_real_review_share, confidence=cfg.thresholds.budget_confidence
        )
        urgent = max(urgent, review)
    if real.size and cfg.thresholds.max_real_urgent_share is not None:
        urgent = cap_flagged_share(
            urgent, real, cfg.thresholds.max_real_urgent_share, confidence=cfg.thresholds.budget_confidence
        )
    return Calibration(method=cfg.calibration.method, temperature=float(temperature), bias=bias), Thresholds(
        review=review, urgent=urgent
    )


def _model_version(cfg: TrainConfig, run_id: str) -> str:
    return f"{cfg.name}-{datetime.now(UTC).strftime('%Y%m%d%H%M%S')}-{run_id[:8]}"


def _epoch_logger(metrics_cb: Any, prefix: str) -> Callable[[EpochLog], None]:
    def log_epoch(e: EpochLog) -> None:
        metrics_cb(
            {
                f"{prefix}train_loss": e.train_loss,
                f"{prefix}val_loss": e.val_loss,
                f"{prefix}val_final_auc": e.val_auc,
            },
            step=e.epoch,
        )

    return log_epoch


def _fit_sequence(cfg: TrainConfig, data: Datasets, version: str, metrics_cb: Any) -> tuple[Path, Any]:
    import torch

    from grooming_risk.inference.sequence_backend import SequenceBackend
    from grooming_risk.model.ensemble import EnsembleSequenceModel, SequenceModel
    from grooming_risk.model.sequence import RiskSequenceModel, SequenceModelConfig
    from grooming_risk.text.normalize import normalize
    from grooming_risk.training.loop import Example, Trainer, pick_device, seed_everything
    from grooming_risk.training.targets import conversation_targets

    seed_everything(cfg.training.seed)
    device = pick_device(cfg.training.device)
    encoder = open_encoder(
        EncoderSettings(
            name=cfg.encoder.name, max_length=cfg.encoder.max_length, batch_size=cfg.encoder.batch_size
        )
    )
    lexical = cfg.encoder.lexical_dim
    member_config = SequenceModelConfig(
        embed_dim=encoder.dim + lexical,
        feature_dim=FEATURE_DIM,
        n_categories=len(RISK_CATEGORIES),
        hidden=cfg.model.hidden,
        dropout=cfg.model.dropout,
        score=cfg.model.score,
    )
    # The first member is made here, right after seeding, as a single model always was: with
    # members=1 the weights are the same as before ensembles existed.
    first = RiskSequenceModel(member_config)

    table: EmbeddingTable | None = None
    # What the trained model reads messages through; evaluation reuses it (same vectors, no re-encoding).
    input_encoder: Any = encoder
    if cfg.encoder.finetune:
        assert isinstance(encoder, HFMessageEncoder)  # the config refuses fine-tuning anything else
        encoder.model.to(device).train()

        def examples(convs: list[Conversation]) -> list[Example]:
            return [
                Example(
                    inputs=np.zeros((0, 0), dtype=np.float32),
                    targets=conversation_targets(c),
                    texts=[normalize(m.text).text for m in c.messages],
                    features=conversation_features(c),
                )
                for c in convs
            ]

        def input_fn(batch: list[Example]) -> torch.Tensor:
            texts = [t for e in batch for t in e.texts]
            tokens = {k: v.to(device) for k, v in encoder.tokenize(texts).items()}
            vectors = encoder.forward(tokens).cpu()
            rows, start = [], 0
            for e in batch:
                n = len(e.texts)
                assert e.features is not None
                rows.append(torch.cat([vectors[start : start + n], torch.from_numpy(e.features)], dim=1))
                start += n
            length = max(len(r) for r in rows)
            out = torch.zeros(len(rows), length, rows[0].shape[1])
            for i, r in enumerate(rows):
                out[i, : len(r)] = r
            return out

        trainer = Trainer(
            first,
            cfg.training,
            device,
            input_fn=input_fn,
            extra_params=list(encoder.model.parameters()),
            extra_lr=cfg.encoder.finetune_lr,
        )
        train_ex, val_ex = examples(data.train), examples(data.tuning)
    else:
        table = EmbeddingTable(encoder, cfg.cache_dir)
        started = time.perf_counter()
        all_texts = [normalize(m.text).text for convs in data.all_sets() for c in convs for m in c.messages]
        encoded = table.ensure(all_texts)
        metrics_cb({"encode_seconds": time.perf_counter() - started, "encoded_messages": float(encoded)})

        # The vectors come from the table; the lexical channel (if any) is computed beside them.
        input_encoder = table.as_encoder()
        if lexical:
            input_encoder = LexicalEncoder(input_encoder, lexical)

        def examples(convs: list[Conversation]) -> list[Example]:
            inputs = sequence_inputs(input_encoder, convs)
            return [
                Example(inputs=x, targets=conversation_targets(c)) for x, c in zip(inputs, convs, strict=True)
            ]

        trainer = Trainer(first, cfg.training, device)
        train_ex, val_ex = examples(data.train), examples(data.tuning)

    started = time.perf_counter()
    members: list[RiskSequenceModel] = []
    for i in range(cfg.model.members):
        if i:
            # Each further member: its own seed for weights, dropout, noise and batch order.
            seed = cfg.training.seed + i
            seed_everything(seed)
            trainer = Trainer(
                RiskSequenceModel(member_config), cfg.training.model_copy(update={"seed": seed}), device
            )
        trainer.fit(train_ex, val_ex, on_epoch=_epoch_logger(metrics_cb, f"member{i}_" if i else ""))
        members.append(trainer.model.cpu().eval())
    metrics_cb({"fit_seconds": time.perf_counter() - started})
    model: SequenceModel = members[0] if len(members) == 1 else EnsembleSequenceModel.of(members).eval()

    encoder_ref = encoder.reference()
    if lexical:
        encoder_ref["lexical_dim"] = lexical
    encoder_dir: Path | None = None
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if cfg.encoder.finetune:
        assert isinstance(encoder, HFMessageEncoder)
        encoder.model.cpu().eval()
        tmp = tempfile.TemporaryDirectory()
        encoder_dir = Path(tmp.name)
        encoder.model.save_pretrained(encoder_dir)
        encoder.tokenizer.save_pretrained(encoder_dir)
        encoder_ref.update(
            {
                "embedded": True,
                "weights_sha256": weights_digest(encoder_dir),
                "finetuned_from": cfg.encoder.name,
            }
        )
    elif cfg.encoder.name.startswith("bundled:"):
        encoder_ref["embedded"] = False
    else:
        # A local encoder directory travels inside the artifact so the model works on other machines.
        assert isinstance(encoder, HFMessageEncoder)
        encoder_dir = encoder.model_dir
        encoder_ref["embedded"] = True

    # Reuse the vectors computed for training when scoring val (and later test / hand-written).
    fast_encoder = input_encoder
    backend = SequenceBackend(model, fast_encoder)
    logits, labels = _final_logits_and_labels(backend.trajectories(data.tuning), data.tuning)
    calibration, thresholds = calibrate(cfg, logits, labels, len(data.real_val), data.tuning_sizes)
    meta = ArtifactMeta(
        kind="sequence",
        model_version=version,
        thresholds=thresholds,
        calibration=calibration,
        encoder=encoder_ref,
        model=model.config.to_dict(),
        features=list(FEATURE_NAMES),
        config=cfg.model_dump(mode="json"),
    )
    tensors = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    out = save_artifact(cfg.output_dir, meta, tensors, encoder_dir=encoder_dir)
    if tmp is not None:
        tmp.cleanup()
    return out, fast_encoder


def _fit_baseline(cfg: TrainConfig, data: Datasets, version: str, metrics_cb: Any) -> tuple[Path, Any]:
    from grooming_risk.model.baseline import TfidfBackend, TfidfFeaturizer, conversation_text, fit_baseline

    started = time.perf_counter()
    tensors = fit_baseline(data.train, c=cfg.model.c, seed=cfg.training.seed)
    metrics_cb({"fit_seconds": time.perf_counter() - started})
    backend = TfidfBackend(TfidfFeaturizer(tensors["word_idf"], tensors["char_idf"]), tensors)
    x = backend.featurizer.transform([conversation_text(c.messages) for c in data.tuning])
    logits = np.asarray(x @ backend.risk_coef + backend.risk_bias).reshape(-1)
    labels = np.array([int(bool(c.is_risky)) for c in data.tuning])
    calibration, thresholds = calibrate(cfg, logits, labels, len(data.real_val), data.tuning_sizes)
    meta = ArtifactMeta(
        kind="tfidf_lr",
        model_version=version,
        thresholds=thresholds,
        calibration=calibration,
        model={"c": cfg.model.c, "word_ngrams": [1, 2], "char_ngrams": [2, 5]},
        config=cfg.model_dump(mode="json"),
    )
    return save_artifact(cfg.output_dir, meta, tensors), None


def train(cfg: TrainConfig) -> dict[str, float]:
    """Train, calibrate, evaluate and log one model; return the final metrics."""
    import mlflow

    from grooming_risk.inference.scorer import RiskScorer
    from grooming_risk.training.evaluate import evaluate_sets, log_model_to_mlflow, write_model_card

    configure_tracking(cfg.mlflow.experiment)
    data = load_datasets(cfg.data)
    metrics: dict[str, float] = {}
    with mlflow.start_run(run_name=cfg.name) as run:
        mlflow.set_tags({"stage": "train", "model.kind": cfg.model.kind, "config.name": cfg.name})
        mlflow.log_params(flatten(cfg))
        mlflow.log_dict(cfg.model_dump(mode="json"), "config/resolved.json")
        trained_on = {"train", *(f"mix.{name}" for name in cfg.data.mix)} | {
            f"extra{i}" for i in range(len(cfg.data.extra))
        }
        for role, path in data.paths.items():
            log_dataset(Path(path), context="train" if role in trained_on else role)
        sets = {"train": data.train, "tuning": data.tuning, **data.evaluation_sets()}
        mlflow.log_params({f"data.{k}.conversations": len(v) for k, v in sets.items()})
        # The training mix as trained: conversations by source (synthetic, woven, real).
        mlflow.log_params({f"data.train.source.{k}": v for k, v in data.train_sources().items()})

        def record(values: dict[str, float], step: int | None = None) -> None:
            mlflow.log_metrics(values, step=step)

        version = _model_version(cfg, run.info.run_id)
        started = time.perf_counter()
        fit = _fit_sequence if cfg.model.kind == "sequence" else _fit_baseline
        artifact_dir, cached_encoder = fit(cfg, data, version, record)
        metrics["train_seconds"] = time.perf_counter() - started
        scorer = RiskScorer.load(artifact_dir)
        if cached_encoder is not None:
            from grooming_risk.inference.sequence_backend import SequenceBackend

            if isinstance(scorer.backend, SequenceBackend):
                scorer.backend.encoder = cached_encoder
        mlflow.log_params(
            {
                "thresholds.review_value": scorer.meta.thresholds.review,
                "thresholds.urgent_value": scorer.meta.thresholds.urgent,
                "calibration.temperature": scorer.meta.calibration.temperature,
                "calibration.bias": scorer.meta.calibration.bias,
                "model_version": version,
            }
        )
        reports = evaluate_sets(scorer, data.evaluation_sets(), sample_curves=cfg.sample_curves)
        for split, report in reports.items():
            metrics.update({f"{split}_{k}": v for k, v in report.metrics.items()})
        mlflow.log_metrics({k: v for k, v in metrics.items() if np.isfinite(v)})
        card = write_model_card(scorer, reports, data, cfg)
        mlflow.log_artifact(str(card))
        if cfg.mlflow.log_model:
            log_model_to_mlflow(
                artifact_dir,
                scorer,
                registered_name=cfg.mlflow.model_name if cfg.mlflow.register_model else None,
                alias=cfg.mlflow.alias,
            )
        log.info("run %s finished: model %s at %s", run.info.run_id, version, artifact_dir)
    return metrics
