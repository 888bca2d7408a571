"""Tiny train -> evaluate -> load -> score, through the same functions the CLI uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from grooming_risk.data.sampling import in_share
from grooming_risk.inference.scorer import RiskScorer
from grooming_risk.io.readers import read_conversations
from grooming_risk.io.writers import write_records
from grooming_risk.training.config import load_config
from tests.conftest import toy_conversations

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
# Planted in one training and one validation message: it must never reach MLflow or a log line.
MARKER = "zqx-marker-5a9e"


def _write_splits(root: Path) -> dict[str, Path]:
    convs = toy_conversations(8)
    parts = {"train": convs[:25], "val": convs[25:35], "test": convs[35:]}
    benign = [c for c in convs if c.is_risky is False]
    # Stand-ins for the real-chat slices: benign only, ids as the chitchat importer writes them.
    parts |= {"real_train": benign[:8], "real_val": benign[8:16]}
    for name in ("train", "val"):
        first = parts[name][0].model_copy(deep=True)
        first.messages[0].text = f"{first.messages[0].text} {MARKER}"
        parts[name] = [first, *parts[name][1:]]
    out = {}
    for name, items in parts.items():
        # Give each split its own ids: they come from one generator call.
        out[name] = root / f"{name}.jsonl"
        prefix = f"chitchat-{name}" if name.startswith("real") else name
        write_records(
            out[name],
            [c.model_copy(update={"conversation_id": f"{prefix}-{c.conversation_id}"}) for c in items],
        )
    return out


@pytest.mark.slow
@pytest.mark.parametrize("config", ["tiny", "baseline"])
def test_train_evaluate_load_score(
    config: str,
    tiny_encoder_dir: Path,
    mlflow_tracking: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    import mlflow
    from mlflow import MlflowClient

    from grooming_risk.training.evaluate import evaluate
    from grooming_risk.training.pipeline import train

    paths = _write_splits(tmp_path)
    cfg = load_config(
        CONFIGS / f"{config}.yaml",
        [
            f"encoder.name={tiny_encoder_dir}",
            f"data.train={paths['train']}",
            f"data.val={paths['val']}",
            f"data.test={paths['test']}",
            f"data.handwritten={paths['test']}",
            # As the shipped configs: half trained on, the unused half added to the real val slice.
            f"data.mix={{real_benign: {{path: {paths['real_train']}, share: 0.5, rest_to_real_val: true}}}}",
            f"data.real_val={paths['real_val']}",
            f"data.reports={{real_test: {paths['real_val']}}}",
            # The toy splits stand in for every data file, the hand-written ones included.
            "data.extra=[]",
            "data.val_handwritten=null",
            "thresholds.max_real_review_share=0.0",
            "thresholds.max_real_urgent_share=0.0",
            "thresholds.budget_confidence=0.95",
            f"output_dir={tmp_path / 'model'}",
            f"cache_dir={tmp_path / 'cache'}",
            "mlflow.register_model=true",
            f"mlflow.model_name=test-{config}",
        ],
    )
    caplog.set_level("DEBUG")
    metrics = train(cfg)
    # No conversation text anywhere in the run: params, tags, metrics (the store), artifacts, logs.
    stored = [tmp_path / "mlflow.db", *(f for f in (tmp_path / "mlartifacts").rglob("*") if f.is_file())]
    assert len(stored) > 10
    assert [str(f) for f in stored if MARKER.encode() in f.read_bytes()] == []
    assert MARKER not in caplog.text
    out, err = capfd.readouterr()
    assert MARKER not in out + err
    for key in ("val_roc_auc", "test_roc_auc", "handwritten_latency_f1_s1", "test_ece", "train_seconds"):
        assert key in metrics, key
    # A zero false-alarm budget on the real-chat val slice: none of it may be flagged.
    assert metrics["real_val_review_flagged_share"] == 0.0
    assert metrics["real_val_urgent_flagged_share"] == 0.0

    run = mlflow.search_runs(experiment_names=[cfg.mlflow.experiment], output_format="list")[0]
    artifacts = {a.path for a in MlflowClient().list_artifacts(run.info.run_id, "eval/test")}
    assert {
        "eval/test/roc.png",
        "eval/test/calibration.png",
        "eval/test/risk_curves.png",
        "eval/test/report.md",
    } <= artifacts
    # Who is the risk: author-level metrics (PAN 2012 problem 1) and the suspected sender, per set.
    logged_metrics = run.data.metrics
    for key in ("test_author_recall", "test_authors_flagged", "test_top_sender_accuracy"):
        assert key in logged_metrics, key
    assert 0.0 <= logged_metrics["test_top_sender_accuracy"] <= 1.0
    # Precision and F0.5 are undefined (not logged) only when no sender was flagged.
    assert ("test_author_precision" in logged_metrics) == (logged_metrics["test_authors_flagged"] > 0)
    assert run.data.params["model.kind"] == cfg.model.kind
    # The calibration the config asked for, fitted on validation and recorded (tiny: Platt scaling).
    calibration = RiskScorer.load(tmp_path / "model").meta.calibration
    assert calibration.method == cfg.calibration.method
    assert run.data.params["calibration.bias"] == str(calibration.bias)
    # Of the 8 real train chats, the hashed half is trained on and the rest tunes with real_val.
    real_ids = [c.conversation_id for c in read_conversations(paths["real_train"])]
    trained_real = sum(in_share(i, 0.5) for i in real_ids)
    assert 0 < trained_real < len(real_ids)
    assert run.data.params["data.train.source.real"] == str(trained_real)
    assert run.data.params["data.tuning.conversations"] == str(18 + len(real_ids) - trained_real)
    assert any(i.dataset.name == "train.jsonl" for i in run.inputs.dataset_inputs)
    # Privacy: no conversation text in params or tags.
    texts = {m.text for c in toy_conversations(1) for m in c.messages if len(m.text) > 10}
    logged = " ".join(list(run.data.params.values()) + list(run.data.tags.values()))
    assert not any(t in logged for t in texts)

    # Registered with the alias, loadable from the registry and from the directory alike.
    from_registry = RiskScorer.load(f"models:/test-{config}@candidate")
    local = RiskScorer.load(tmp_path / "model")
    assert from_registry.model_version == local.model_version
    sample = toy_conversations(1)
    assert [a.risk for a in from_registry.score(sample)] == [a.risk for a in local.score(sample)]
    card = (tmp_path / "model" / "MODEL_CARD.md").read_text()
    assert card.startswith("# Model card")
    assert "## False alarms on real chats" in card
    assert "real_val (validation)" in card
    assert "- real-chat false-alarm budgets: review 0.00% (at most 0 of " in card
    assert "held with 95% confidence on unseen chats" in card

    results = evaluate(
        str(tmp_path / "model"),
        [paths["test"], paths["val"], paths["real_val"]],
        baseline_uri=str(tmp_path / "model"),
        card=True,
    )
    assert results["model/test"]["roc_auc"] == pytest.approx(results["baseline/test"]["roc_auc"])
    assert results["model/real_val"]["review_flagged_share"] == 0.0
    card = (tmp_path / "model" / "MODEL_CARD.md").read_text()
    assert "## Side by side with" in card
    assert "### real_val" in card


@pytest.mark.slow
@pytest.mark.parametrize("score", ["gru", "evidence"])
def test_trained_model_separates_toy_data(
    tiny_encoder_dir: Path, mlflow_tracking: str, tmp_path: Path, score: str
) -> None:
    """Minimum functionality on clearly separable data: a few epochs must learn it."""
    from grooming_risk.training.pipeline import train

    paths = _write_splits(tmp_path)
    cfg = load_config(
        CONFIGS / "tiny.yaml",
        [
            f"encoder.name={tiny_encoder_dir}",
            f"data.train={paths['train']}",
            f"data.val={paths['val']}",
            "data.test=null",
            "data.handwritten=null",
            f"output_dir={tmp_path / 'model'}",
            f"cache_dir={tmp_path / 'cache'}",
            "training.epochs=40",
            "training.patience=40",
            "training.lr=0.01",
            "mlflow.log_model=false",
            f"model.score={score}",
        ],
    )
    metrics = train(cfg)
    assert metrics["val_roc_auc"] >= 0.9
