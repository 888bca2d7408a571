"""Evaluation stage: score datasets with a model, compute the field's metrics, plot, log to MLflow.

`train` calls `evaluate_sets` on val/test/hand-written; `evaluate` (the CLI's `grooming-risk
evaluate`) does the same for any model URI and dataset in a run of its own, optionally beside a
baseline. Plots and tables name conversations by id only: no text leaves the data files.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from grooming_risk.contract.conversation import Conversation
from grooming_risk.training.tracking import configure_tracking, log_dataset

if TYPE_CHECKING:
    from grooming_risk.evaluation.report import EvaluationReport
    from grooming_risk.inference.scorer import RiskScorer
    from grooming_risk.training.config import TrainConfig
    from grooming_risk.training.datasets import Datasets

log = logging.getLogger(__name__)

# Headline metrics shown side by side (model vs baseline, candidate vs champion).
HEADLINE = (
    "roc_auc",
    "pr_auc",
    "review_precision",
    "review_recall",
    "hard_negative_fpr_review",
    "recall_at_p90",
    "latency_f1_s1",
    "median_delay_s1",
    "latency_f1_s5",
    "erde5",
    "erde50",
    "ece",
    "brier",
)


def predictions(scorer: RiskScorer, conversations: Sequence[Conversation]) -> list[Any]:
    from grooming_risk.evaluation.predictions import prediction_from_assessment

    return [
        prediction_from_assessment(conv, assessment)
        for conv, assessment in zip(conversations, scorer.score(conversations), strict=True)
    ]


def _plots(report: EvaluationReport, preds: Sequence[Any], out: Path, sample_curves: int) -> list[Path]:
    from grooming_risk.evaluation import plots

    made = plots.write_all_plots(preds, report, out)
    if sample_curves:
        # A spread of examples (riskiest positives, hard negatives), named by id only.
        sample = plots.sample_for_curves(preds, sample_curves)
        made["risk_curves"] = plots.plot_risk_curves(
            sample, report.operating_thresholds, out / "risk_curves.png"
        )
    else:
        made.pop("risk_curves").unlink()
    return list(made.values())


def _write_prediction_rows(preds: Sequence[Any], report: EvaluationReport, path: Path) -> None:
    """One row per conversation for error analysis: ids, labels, scores, categories; never text."""
    warnings = report.latency[min(report.latency)].warnings if report.latency else {}
    with open(path, "w", encoding="utf-8") as handle:
        for p in preds:
            row = {
                "conversation_id": p.conversation_id,
                "label": p.label,
                "hard_negative": p.hard_negative,
                "first_risk_index": p.first_risk_index,
                "n_messages": len(p.risk_by_message),
                "risk": p.risk_by_message[-1],
                "max_risk": max(p.risk_by_message),
                "predicted_label": p.predicted_label,
                "first_alert_index": warnings.get(p.conversation_id),
                "true_categories": sorted(p.true_categories),
                "predicted_categories": sorted(c for c, v in p.category_probs.items() if v >= 0.5),
            }
            handle.write(json.dumps(row) + "\n")


def evaluate_sets(
    scorer: RiskScorer,
    sets: Mapping[str, Sequence[Conversation]],
    *,
    sample_curves: int = 6,
    prefix: str = "eval",
) -> dict[str, EvaluationReport]:
    """Evaluate on each named set and log metrics tables and plots under `prefix/<set>/` in MLflow."""
    import mlflow

    from grooming_risk.evaluation.report import evaluate_predictions

    reports = {}
    for name, conversations in sets.items():
        preds = predictions(scorer, conversations)
        report = evaluate_predictions(preds, scorer.thresholds)
        reports[name] = report
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            for path in _plots(report, preds, out, sample_curves):
                mlflow.log_artifact(str(path), f"{prefix}/{name}")
            (out / "report.md").write_text(report.to_markdown(), encoding="utf-8")
            (out / "per_category.json").write_text(json.dumps(report.per_category, indent=2))
            (out / "thresholds.json").write_text(json.dumps(report.thresholds, indent=2))
            _write_prediction_rows(preds, report, out / "predictions.jsonl")
            for file in ("report.md", "per_category.json", "thresholds.json", "predictions.jsonl"):
                mlflow.log_artifact(str(out / file), f"{prefix}/{name}")
        log.info("%s: %d conversations evaluated", name, len(conversations))
    return reports


def _fmt(value: float) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.3f}"


def write_model_card(
    scorer: RiskScorer, reports: Mapping[str, EvaluationReport], data: Datasets, cfg: TrainConfig
) -> Path:
    """MODEL_CARD.md beside the artifact: data, metrics, limits, intended use (all figures measured)."""
    meta = scorer.meta
    assert scorer.artifact_dir is not None
    lines = [
        f"# Model card: {meta.model_version}",
        "",
        "## Intended use",
        "Rank chat conversations for **human review** of grooming and sextortion risk, early, with the",
        "messages that drove the score as evidence. It is a triage aid, not a decision: every flag goes to a",
        "trained safety reviewer. Not for use as sole evidence, for profiling people, or outside child-safety work.",
        "",
        "## Model",
        f"- kind: `{meta.kind}`; encoder: `{(meta.encoder or {}).get('name', 'none')}`",
        f"- calibration: {meta.calibration.method} (T = {meta.calibration.temperature:.3f}), fitted on validation",
        f"- thresholds (fitted on validation): review = {meta.thresholds.review:.4f} (target recall "
        f"{cfg.thresholds.review_recall}), urgent = {meta.thresholds.urgent:.4f} (target precision {cfg.thresholds.urgent_precision})",
        "",
        "## Data",
        f"- train: {len(data.train)} conversations, val: {len(data.val)}, test: {len(data.test)}, "
        f"hand-written: {len(data.handwritten)}",
    ]
    for role, path in data.paths.items():
        lines.append(f"- {role}: `{path}`")
    lines += [
        "",
        "## Metrics",
        "",
        "Measured by `grooming-risk train` in this run (see the MLflow run for plots).",
        "",
    ]
    names = list(reports)
    lines.append("| metric | " + " | ".join(names) + " |")
    lines.append("|---|" + "---|" * len(names))
    for key in HEADLINE:
        lines.append(
            f"| {key} | " + " | ".join(_fmt(reports[n].metrics.get(key, float("nan"))) for n in names) + " |"
        )
    for name, report in reports.items():
        lines += ["", f"### {name}", "", report.to_markdown()]
    lines += [
        "",
        "## Limits",
        "- Trained on synthetic conversations expressing risk through behavioural warning signs only; real",
        "  offenders adapt. The hand-written set is the check on generalisation beyond the generator; it is small",
        "  (its confidence intervals are wide).",
        "- English only. Message encoder truncates long messages to "
        f"{(meta.encoder or {}).get('max_length', 'n/a')} tokens.",
        "- Scores are calibrated on the validation distribution; platforms should re-fit thresholds on their own",
        "  reviewed data (reviewer decisions flow back through `grooming-risk review export-labels`).",
    ]
    path = scorer.artifact_dir / "MODEL_CARD.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def log_model_to_mlflow(
    artifact_dir: Path,
    scorer: RiskScorer,
    examples: Sequence[Conversation],
    *,
    registered_name: str | None,
    alias: str,
) -> str:
    """Log the artifact as an MLflow pyfunc (models from code: no pickle); register and alias it."""
    import mlflow
    import pandas as pd

    from grooming_risk.inference import pyfunc
    from grooming_risk.inference.pyfunc import ARTIFACT_KEY, model_signature

    example = pd.DataFrame({"conversation": [c.model_dump_json(exclude_none=True) for c in examples]})
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=str(Path(pyfunc.__file__).with_name("pyfunc_entry.py")),
        artifacts={ARTIFACT_KEY: str(artifact_dir)},
        signature=model_signature(),
        input_example=example,
        registered_model_name=registered_name,
        pip_requirements=["grooming-risk[mlflow]"],
    )
    if registered_name:
        from mlflow import MlflowClient

        client = MlflowClient()
        version = info.registered_model_version
        if version is not None:
            client.set_registered_model_alias(registered_name, alias, str(version))
    return str(info.model_uri)


def evaluate(
    model_uri: str,
    data: Sequence[Path],
    *,
    baseline_uri: str | None = None,
    experiment: str = "grooming-risk",
    run_name: str | None = None,
    sample_curves: int = 6,
) -> dict[str, dict[str, float]]:
    """Evaluate a model (and optionally a baseline) on datasets in one MLflow run.

    Returns {"model/<dataset>": metrics, "baseline/<dataset>": metrics}.
    """
    import mlflow

    from grooming_risk.evaluation.report import compare_reports
    from grooming_risk.inference.scorer import RiskScorer
    from grooming_risk.training.datasets import load

    configure_tracking(experiment)
    sets = {Path(p).name.split(".")[0]: load(Path(p), "evaluation") for p in data}
    scorer = RiskScorer.load(model_uri)
    results: dict[str, dict[str, float]] = {}
    with mlflow.start_run(run_name=run_name or f"evaluate-{scorer.model_version}"):
        mlflow.set_tags({"stage": "evaluate", "model_version": scorer.model_version, "model_uri": model_uri})
        for p in data:
            log_dataset(Path(p), context="evaluation")
        reports = evaluate_sets(scorer, sets, sample_curves=sample_curves, prefix="eval/model")
        for name, report in reports.items():
            results[f"model/{name}"] = report.metrics
            mlflow.log_metrics({f"{name}_{k}": v for k, v in report.metrics.items() if np.isfinite(v)})
        if baseline_uri:
            base = RiskScorer.load(baseline_uri)
            mlflow.set_tag("baseline_model_version", base.model_version)
            base_reports = evaluate_sets(base, sets, sample_curves=0, prefix="eval/baseline")
            for name, report in base_reports.items():
                results[f"baseline/{name}"] = report.metrics
                mlflow.log_metrics(
                    {f"baseline_{name}_{k}": v for k, v in report.metrics.items() if np.isfinite(v)}
                )
                table = compare_reports({"model": reports[name], "baseline": report}, HEADLINE)
                mlflow.log_text(table, f"eval/comparison_{name}.md")
    return results


def comparison_rows(
    results: Mapping[str, Mapping[str, float]], keys: Sequence[str] = HEADLINE
) -> list[list[str]]:
    cols = list(results)
    return [[key, *(_fmt(results[c].get(key, float("nan"))) for c in cols)] for key in keys]


def promote(
    data: Sequence[Path],
    *,
    model_name: str = "grooming-risk",
    candidate_alias: str = "candidate",
    champion_alias: str = "champion",
    metric: str = "roc_auc",
    force: bool = False,
    experiment: str = "grooming-risk",
) -> tuple[bool, dict[str, dict[str, float]], str]:
    """Evaluate candidate and champion on the same data; move `champion` if the candidate is not worse.

    Returns (promoted, results, message). The comparison metric is averaged over the datasets.
    """
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    configure_tracking(experiment)
    client = MlflowClient()
    try:
        candidate = client.get_model_version_by_alias(model_name, candidate_alias)
    except MlflowException as exc:
        raise ValueError(f"no model {model_name!r} with alias {candidate_alias!r}: train one first") from exc
    try:
        champion = client.get_model_version_by_alias(model_name, champion_alias)
    except MlflowException:
        champion = None
    results = evaluate(
        f"models:/{model_name}@{candidate_alias}",
        data,
        baseline_uri=f"models:/{model_name}@{champion_alias}" if champion else None,
        experiment=experiment,
        run_name=f"promote-{model_name}-v{candidate.version}",
    )
    cand = float(np.mean([v[metric] for k, v in results.items() if k.startswith("model/")]))
    if champion is None:
        ok, message = (
            True,
            f"no champion yet: version {candidate.version} becomes champion ({metric} {cand:.4f})",
        )
    elif champion.version == candidate.version:
        ok, message = False, f"version {candidate.version} is already the champion"
    else:
        champ = float(np.mean([v[metric] for k, v in results.items() if k.startswith("baseline/")]))
        ok = force or cand >= champ
        verdict = "promoted" if ok else "not promoted (use --force to override)"
        message = f"candidate v{candidate.version} {metric} {cand:.4f} vs champion v{champion.version} {champ:.4f}: {verdict}"
    if ok and (champion is None or champion.version != candidate.version):
        client.set_registered_model_alias(model_name, champion_alias, str(candidate.version))
    return ok, results, message
