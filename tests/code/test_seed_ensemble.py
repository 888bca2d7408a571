"""The seed-ensemble measurement: members' risks averaged as logits, calibrated on validation only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grooming_risk.evaluation.metrics import roc_auc
from grooming_risk.evaluation.predictions import ConversationPrediction, labels_and_scores
from grooming_risk.training.config import load_config
from grooming_risk.training.seed_ensemble import (
    calibrate_ensemble,
    ensemble_logits,
    ensemble_predictions,
    mean_logit,
    reports,
)

ROOT = Path(__file__).resolve().parents[2]


def _pred(cid: str, risky: bool, risks: list[float]) -> ConversationPrediction:
    return ConversationPrediction(
        conversation_id=cid,
        label="grooming" if risky else "benign",
        hard_negative=False,
        first_risk_index=0 if risky else None,
        risk_by_message=[round(r, 6) for r in risks],
        nonempty=[True] * len(risks),
        predicted_label="benign",
        true_categories=frozenset(),
        category_probs={},
    )


def _member(signal: dict[str, np.ndarray], labels: dict[str, np.ndarray], noise: float, seed: int):
    """A member whose final logit is the shared signal plus its own noise (a seed's idiosyncrasy)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, s in signal.items():
        z = s + noise * rng.standard_normal(s.size)
        out[name] = [
            _pred(f"{name}-{i}", bool(y), [0.01, float(1 / (1 + np.exp(-zi)))])
            for i, (zi, y) in enumerate(zip(z, labels[name], strict=True))
        ]
    return out


def test_mean_logit_of_identical_members_is_their_logit() -> None:
    risks = [0.1, 0.5, 0.9]
    z = mean_logit([risks, risks, risks])
    assert np.allclose(1 / (1 + np.exp(-z)), risks)
    # The geometric mean of the odds, not the mean of the probabilities.
    assert mean_logit([[0.9], [0.5]])[0] == pytest.approx(np.log(9) / 2)


def test_members_must_score_the_same_conversations_in_the_same_order() -> None:
    a = {"val": [_pred("x", True, [0.9]), _pred("y", False, [0.1])]}
    b = {"val": [_pred("y", False, [0.1]), _pred("x", True, [0.9])]}
    with pytest.raises(ValueError, match="'val'"):
        ensemble_logits([a, b])


def test_averaging_noisy_seeds_ranks_better_than_each_seed_and_is_calibrated_on_validation() -> None:
    rng = np.random.default_rng(0)
    labels = {
        "val": rng.integers(0, 2, 400),
        "real_val": np.zeros(600, dtype=int),
        "report": rng.integers(0, 2, 400),
    }
    signal = {name: 1.5 * (2 * y - 1) + rng.standard_normal(y.size) for name, y in labels.items()}
    signal["real_val"] = signal["real_val"] - 2.0
    members = [_member(signal, labels, noise=2.0, seed=s) for s in (1, 2, 3)]

    logits = ensemble_logits(members)
    cfg = load_config(ROOT / "configs" / "default.yaml")
    calibration, thresholds = calibrate_ensemble(cfg, logits, {k: labels[k] for k in ("val", "real_val")})
    combined = ensemble_predictions(members, logits, calibration)

    member_aucs = [roc_auc(*labels_and_scores(m["report"])) for m in members]
    ensemble_auc = roc_auc(*labels_and_scores(combined["report"]))
    assert ensemble_auc > max(member_aucs)
    assert thresholds.review <= thresholds.urgent
    metrics = reports(combined, {"review": thresholds.review, "urgent": thresholds.urgent})
    # The budget on real validation chats holds for the ensemble's own thresholds.
    assert metrics["real_val"]["review_flagged_share"] <= cfg.thresholds.max_real_review_share
    assert 0.0 <= metrics["report"]["recall_at_real_1pct"] <= 1.0
    # Every message keeps a risk: the trajectory is averaged, not only the final score.
    assert all(len(p.risk_by_message) == 2 for p in combined["report"])


def test_calibration_reads_every_tuning_set_in_training_order(monkeypatch: pytest.MonkeyPatch) -> None:
    from grooming_risk.training import pipeline

    seen: dict[str, object] = {}

    def fake_calibrate(
        cfg: object, logits: np.ndarray, labels: np.ndarray, n_real: int = 0, set_sizes: object = None
    ) -> tuple:
        seen.update(logits=logits.tolist(), labels=labels.tolist(), n_real=n_real, set_sizes=set_sizes)
        return "calibration", "thresholds"

    monkeypatch.setattr(pipeline, "calibrate", fake_calibrate)
    logits = {
        "real_val": [np.array([-3.0])],
        "val": [np.array([0.0, 1.0])],
        "val_handwritten": [np.array([2.0])],
        "report": [np.array([9.0])],
    }
    labels = {"real_val": np.array([0]), "val": np.array([1]), "val_handwritten": np.array([1])}
    calibrate_ensemble(load_config(ROOT / "configs" / "default.yaml"), logits, labels)
    # Generated validation, then hand-written, then the real chats last; never a report set.
    assert seen == {"logits": [1.0, 2.0, -3.0], "labels": [1, 1, 0], "n_real": 1, "set_sizes": [1, 1, 1]}
