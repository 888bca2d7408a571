"""The bake-off's rule: validation metrics only, eligibility by real-chat false alarms, ties."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from grooming_risk.training.bakeoff import (
    CandidateResult,
    Rule,
    choose,
    load_bakeoff,
    run_bakeoff,
    summary_table,
)
from grooming_risk.training.config import ConfigError

ROOT = Path(__file__).resolve().parents[2]
RULE = Rule(
    primary="val_recall_at_real_1pct",
    tie_margin=0.01,
    tie_break="val_roc_auc",
    max_real_review_share=0.005,
    max_real_urgent_share=0.001,
)


def _result(
    name: str, recall: float, auc: float, review: float = 0.001, urgent: float = 0.0
) -> CandidateResult:
    runs = [
        {
            "val_recall_at_real_1pct": recall + d,
            "val_roc_auc": auc,
            "real_val_review_flagged_share": review,
            "real_val_urgent_flagged_share": urgent,
            "handwritten_roc_auc": 0.99,  # reported, never read by the rule
        }
        for d in (-0.002, 0.0, 0.002)
    ]
    return CandidateResult(name, runs)


def test_the_best_eligible_candidate_wins() -> None:
    winner, why = choose(
        [_result("a", 0.80, 0.95), _result("b", 0.90, 0.90), _result("c", 0.99, 0.99, review=0.02)], RULE
    )
    assert winner == "b"
    assert any("c: not eligible" in line for line in why)


def test_a_tie_is_broken_by_the_tie_break_metric() -> None:
    winner, _ = choose([_result("a", 0.900, 0.95), _result("b", 0.905, 0.90)], RULE)
    assert winner == "a"


def test_none_eligible_chooses_none() -> None:
    winner, why = choose([_result("a", 0.9, 0.9, urgent=0.01)], RULE)
    assert winner is None
    assert why[-1] == "no candidate is eligible"


def test_a_floor_on_a_validation_metric_makes_a_candidate_ineligible() -> None:
    rule = Rule(**{**RULE.model_dump(), "at_least": {"val_top_sender_accuracy": 0.9}})
    a, b = _result("a", 0.99, 0.99), _result("b", 0.95, 0.95)
    for run in a.runs:
        run["val_top_sender_accuracy"] = 0.8
    for run in b.runs:
        run["val_top_sender_accuracy"] = 0.95
    winner, why = choose([a, b], rule)
    assert winner == "b"
    assert "a: not eligible (val_top_sender_accuracy 0.800 < 0.9)" in why
    # A metric no run logged is not a pass.
    winner, _ = choose([_result("c", 0.99, 0.99)], rule)
    assert winner is None
    with pytest.raises(ValueError, match="may only read validation metrics"):
        Rule(**{**RULE.model_dump(), "at_least": {"handwritten_top_sender_accuracy": 0.9}})


def test_the_rule_refuses_to_read_a_report_only_set() -> None:
    with pytest.raises(ValueError, match="may only read validation metrics"):
        Rule(**{**RULE.model_dump(), "primary": "handwritten_roc_auc"})


def test_the_shipped_bakeoff_config_loads_and_names_real_configs(tmp_path: Path) -> None:
    cfg = load_bakeoff(ROOT / "configs" / "bakeoff" / "model_v2.yaml")
    assert len(cfg.candidates) >= 4
    assert len(cfg.seeds) == 3
    for candidate in cfg.candidates.values():
        assert (ROOT / candidate.config).exists()
    table = summary_table(cfg, [_result("gru-minilm", 0.8, 0.9)], "gru-minilm")
    assert "val_recall_at_real_1pct (validation)" in table
    assert "handwritten_roc_auc |" in table or "handwritten_roc_auc" in table
    bad = tmp_path / "bad.yaml"
    bad.write_text("seeds: []\n")
    with pytest.raises(ConfigError):
        load_bakeoff(bad)


def test_a_resumed_bakeoff_trains_only_the_missing_seeds(tmp_path: Path) -> None:
    cfg = load_bakeoff(ROOT / "configs" / "bakeoff" / "model_v2.yaml")
    cfg = cfg.model_copy(update={"output_dir": tmp_path})
    first, second = list(cfg.candidates)[:2]
    metrics = _result(first, 0.9, 0.95).runs[0]
    finished = {(first, seed): metrics for seed in cfg.seeds} | {(second, cfg.seeds[0]): metrics}
    trained: list[tuple[str, int]] = []

    def fake_train(train_cfg: Any) -> dict[str, float]:
        trained.append((train_cfg.name.removeprefix("bakeoff-"), train_cfg.training.seed))
        return dict(metrics)

    results, _ = run_bakeoff(cfg, only=[first, second], finished=finished, train_fn=fake_train)
    assert trained == [(second, seed) for seed in cfg.seeds[1:]]
    assert [len(r.runs) for r in results] == [len(cfg.seeds), len(cfg.seeds)]
    assert (tmp_path / "BAKEOFF.md").exists()


@pytest.mark.parametrize(
    ("speed_arg", "measured", "note"),
    [("", False, False), ("folder", False, True), ("file", True, False)],
)
def test_bakeoff_cli_measures_speed_only_on_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, speed_arg: str, measured: bool, note: bool
) -> None:
    from typer.testing import CliRunner

    from grooming_risk.cli.main import app
    from grooming_risk.training import bakeoff

    config = tmp_path / "bakeoff.yaml"
    shipped = (ROOT / "configs" / "bakeoff" / "model_v2.yaml").read_text(encoding="utf-8")
    config.write_text(shipped.replace("artifacts/bakeoff", str(tmp_path / "out")), encoding="utf-8")
    calls: list[Path] = []
    monkeypatch.setattr(bakeoff, "results_from_mlflow", lambda cfg: [_result("gru-minilm", 0.9, 0.95)])
    monkeypatch.setattr(bakeoff, "add_speeds", lambda cfg, results, data: calls.append(data))
    speed = {"": "", "folder": str(tmp_path), "file": str(config)}[speed_arg]

    result = CliRunner().invoke(
        app, ["bakeoff", "--config", str(config), "--report-only", "--speed-data", speed]
    )

    assert result.exit_code == 0, result.output
    assert calls == ([config] if measured else [])
    assert ("speed not measured" in result.output) is note
    assert (tmp_path / "out" / "BAKEOFF.md").exists()


def test_speed_is_measured_on_a_warmed_up_onnx_export(
    tiny_artifact: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grooming_risk.inference.scorer import RiskScorer
    from grooming_risk.training.bakeoff import measure_speed
    from tests.conftest import toy_conversations

    warmed: list[str] = []
    original = RiskScorer.warm_up

    def recording(self: RiskScorer) -> RiskScorer:
        warmed.append(self.meta.kind)
        return original(self)

    monkeypatch.setattr(RiskScorer, "warm_up", recording)
    speed = measure_speed(tiny_artifact, toy_conversations(6), stream_messages=10)
    assert warmed, "the scorer was timed without warm_up"
    assert speed["onnx_messages_per_s"] > 0
    assert speed["stream_ms_per_message"] > 0


def test_the_model_card_carries_the_bakeoff_summary_or_says_how_to_get_it(tmp_path: Path) -> None:
    from grooming_risk.training.evaluate import _selection_lines

    report = tmp_path / "BAKEOFF.md"
    missing = "\n".join(_selection_lines(report))
    assert "## Model selection (bake-off)" in missing
    assert "No bake-off summary" in missing
    assert "make bakeoff" in missing
    report.write_text(
        "# Bake-off\n\n| candidate | val |\n|---|---|\n| evidence-use | 0.99 |\n", encoding="utf-8"
    )
    present = "\n".join(_selection_lines(report))
    assert "| evidence-use | 0.99 |" in present
    assert "No bake-off summary" not in present
    assert _selection_lines(None) == []
