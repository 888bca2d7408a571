"""What a seed ensemble would give: K trained seeds of one candidate, their risks averaged.

A measurement, not a model. Between seeds one candidate's hand-written figures move a lot (hard-
negative FPR 0.03-0.25 for the same recipe), and averaging seeds is the usual way to remove that
spread. This answers how much it would buy before anyone builds an ensemble into the step graph.

The rule for the ensemble, fixed before it was first run:
- after every message, the members' calibrated risks are averaged as logits (the geometric mean
  of their odds);
- the average is calibrated (Platt) and its thresholds chosen on the tuning set (unseen-writer
  validation, generated and hand-written, then the real validation chats) by `pipeline.calibrate`,
  as training does for one model;
- every other set only reports.
Only the risk is averaged. Warning-sign and label figures are the first member's, and top-sender
accuracy is not computed for the ensemble.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from grooming_risk.evaluation.predictions import ConversationPrediction
    from grooming_risk.model.artifact import Calibration, Thresholds
    from grooming_risk.training.config import TrainConfig

log = logging.getLogger(__name__)

# Risks are stored to 6 decimals, so 0 and 1 occur: clip before taking logits.
_CLIP = 1e-6
# Of the tuning sets (datasets.TUNING_SETS) these must be there: calibration needs validation risk
# and the real-chat budget.
REQUIRED_SETS = ("val", "real_val")

Predictions = dict[str, list["ConversationPrediction"]]


def mean_logit(risks: Sequence[Sequence[float]]) -> np.ndarray:
    """Members' risks for one conversation ([K][n]) -> their mean logit per message ([n])."""
    p = np.clip(np.asarray(risks, dtype=float), _CLIP, 1 - _CLIP)
    return np.asarray(np.log(p / (1 - p)).mean(axis=0))


def ensemble_logits(members: Sequence[Predictions]) -> dict[str, list[np.ndarray]]:
    """Per set, per conversation: the members' mean logit after every message."""
    first = members[0]
    out: dict[str, list[np.ndarray]] = {}
    for name, preds in first.items():
        for member in members[1:]:
            ids = [p.conversation_id for p in member[name]]
            if ids != [p.conversation_id for p in preds]:
                raise ValueError(f"set {name!r}: members scored different conversations or orders")
        out[name] = [
            mean_logit([member[name][i].risk_by_message for member in members]) for i in range(len(preds))
        ]
    return out


def calibrate_ensemble(
    cfg: TrainConfig, logits: Mapping[str, list[np.ndarray]], labels: Mapping[str, np.ndarray]
) -> tuple[Calibration, Thresholds]:
    """Platt and thresholds on the tuning sets' final logits, in training's order (real chats last)."""
    from grooming_risk.training.datasets import TUNING_SETS
    from grooming_risk.training.pipeline import calibrate

    present = [name for name in TUNING_SETS if name in labels]
    finals = np.array([z[-1] for name in present for z in logits[name]])
    y = np.concatenate([labels[name] for name in present])
    sizes = [len(logits[name]) for name in present]
    return calibrate(cfg, finals, y, n_real=len(logits["real_val"]), set_sizes=sizes)


def apply_calibration(z: np.ndarray, calibration: Calibration) -> list[float]:
    """Calibrated risk per message, rounded as the scorer rounds it."""
    risk = 1.0 / (1.0 + np.exp(-(z / calibration.temperature + calibration.bias)))
    return [round(float(r), 6) for r in risk]


def ensemble_predictions(
    members: Sequence[Predictions], logits: Mapping[str, list[np.ndarray]], calibration: Calibration
) -> Predictions:
    return {
        name: [
            dataclasses.replace(p, risk_by_message=apply_calibration(z, calibration))
            for p, z in zip(preds, logits[name], strict=True)
        ]
        for name, preds in members[0].items()
    }


def reports(preds: Predictions, thresholds: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """Every set's metrics at these thresholds, with the platform's operating point (1% of real_val)."""
    from grooming_risk.evaluation.predictions import labels_and_scores
    from grooming_risk.evaluation.report import evaluate_predictions
    from grooming_risk.training.evaluate import REAL_REFERENCE, add_platform_operating_point

    built = {name: evaluate_predictions(p, thresholds) for name, p in preds.items()}
    if REAL_REFERENCE in preds:
        scores = {name: labels_and_scores(p) for name, p in preds.items()}
        add_platform_operating_point(built, scores, REAL_REFERENCE)
    return {name: r.metrics for name, r in built.items()}


def measure(
    cfg: TrainConfig, member_dirs: Sequence[Path], cache_dir: Path | None = None
) -> dict[str, dict[str, dict[str, float]]]:
    """{"member:<dir name>" | "ensemble": {set: metrics}} on `cfg`'s data (tuning and report sets)."""
    from grooming_risk.evaluation.predictions import labels_and_scores
    from grooming_risk.inference.scorer import RiskScorer
    from grooming_risk.training.datasets import TUNING_SETS, load_datasets
    from grooming_risk.training.evaluate import predictions, use_vector_cache

    if len(member_dirs) < 2:
        raise ValueError(f"members: expected at least two model directories, got {len(member_dirs)}")
    data = load_datasets(cfg.data)
    sets = data.evaluation_sets()
    missing = [name for name in REQUIRED_SETS if not sets.get(name)]
    if missing:
        raise ValueError(f"config data: the ensemble is calibrated on {', '.join(missing)}, which is empty")
    members: list[Predictions] = []
    results: dict[str, dict[str, dict[str, float]]] = {}
    for directory in member_dirs:
        scorer = RiskScorer.load(directory)
        use_vector_cache(scorer, cache_dir if cache_dir is not None else cfg.cache_dir)
        member = {name: predictions(scorer, convs) for name, convs in sets.items()}
        members.append(member)
        results[f"member:{Path(directory).name}"] = reports(member, scorer.thresholds)
        log.info("member %s scored", Path(directory).name)
    logits = ensemble_logits(members)
    labels = {name: labels_and_scores(members[0][name])[0] for name in TUNING_SETS if name in sets}
    calibration, thresholds = calibrate_ensemble(cfg, logits, labels)
    combined = ensemble_predictions(members, logits, calibration)
    results["ensemble"] = reports(combined, {"review": thresholds.review, "urgent": thresholds.urgent})
    return results
