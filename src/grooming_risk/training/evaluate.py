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

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.conversation import Conversation
from grooming_risk.io.formats import dataset_name
from grooming_risk.model.encoder import BUNDLED_E5, BUNDLED_USE
from grooming_risk.training.config import DEFAULT_CACHE_DIR
from grooming_risk.training.datasets import TUNING_SETS
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
    "recall_at_real_1pct",
    "review_flagged_share",
    "urgent_flagged_share",
    "top_sender_accuracy",
    "author_precision",
    "author_recall",
    "author_f05",
    "authors_flagged_share",
)
# Sets a model was tuned on (early stopping, calibration, thresholds): figures on them are validation.
TUNED_ON = frozenset(TUNING_SETS)


def set_title(name: str) -> str:
    return f"{name} (validation)" if name in TUNED_ON else name


def false_alarm_lines(results: Mapping[str, Mapping[str, float]]) -> list[str]:
    """Markdown lines on all-benign sets (real chats): flagged at review, urgent, and the signs that fired.

    On a set without a single risky conversation every flag is a false alarm. `results` maps a set
    name to its metrics.
    """
    from grooming_risk.contract.taxonomy import RISK_CATEGORIES

    lines = []
    for name, m in results.items():
        if m.get("n_positive", 1) != 0:
            continue
        shares = sorted(((c, m.get(f"fired_share_{c}", 0.0)) for c in RISK_CATEGORIES), key=lambda cv: -cv[1])
        fired = ", ".join(f"{c} {v:.1%}" for c, v in shares[:3] if v > 0) or "none"
        lines.append(
            f"- **{set_title(name)}** ({int(m['n_conversations'])} conversations, all benign): "
            f"flagged at review {m['review_flagged_share']:.2%}, urgent {m['urgent_flagged_share']:.2%}; "
            f"signs that fired most: {fired}"
        )
    return lines


def predictions(scorer: RiskScorer, conversations: Sequence[Conversation]) -> list[Any]:
    return _predictions(conversations, scorer.score(conversations))


def _predictions(conversations: Sequence[Conversation], assessments: Sequence[Assessment]) -> list[Any]:
    from grooming_risk.evaluation.predictions import prediction_from_assessment

    return [
        prediction_from_assessment(conv, assessment)
        for conv, assessment in zip(conversations, assessments, strict=True)
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
                "predicted_categories": sorted(p.present()),
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

    from grooming_risk.evaluation.participants import participant_metrics
    from grooming_risk.evaluation.predictions import labels_and_scores
    from grooming_risk.evaluation.report import evaluate_predictions

    reports = {}
    scores: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, conversations in sets.items():
        assessments = scorer.score(conversations)
        preds = _predictions(conversations, assessments)
        report = evaluate_predictions(preds, scorer.thresholds)
        # Who is the risk: the suspected participant per conversation, and offenders among authors.
        report.metrics.update(
            participant_metrics(zip(conversations, assessments, strict=True), scorer.thresholds["review"])
        )
        reports[name] = report
        scores[name] = labels_and_scores(preds)
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
    if REAL_REFERENCE in scores:
        add_platform_operating_point(reports, scores, REAL_REFERENCE)
    return reports


# The real-chat validation slice sets the platform's operating point (a validation set: it may
# choose, and figures at this point on other sets are reports).
REAL_REFERENCE = "real_val"
PLATFORM_FLAGGED_SHARE = 0.01


def platform_threshold(real_scores: np.ndarray, share: float = PLATFORM_FLAGGED_SHARE) -> float:
    """The lowest threshold at which at most `share` of these (benign, real) chats score above it."""
    ordered = np.sort(np.asarray(real_scores, dtype=float))[::-1]
    k = int(np.floor(share * len(ordered)))
    return float(ordered[k]) if k < len(ordered) else float("-inf")


def add_platform_operating_point(
    reports: Mapping[str, EvaluationReport],
    scores: Mapping[str, tuple[np.ndarray, np.ndarray]],
    reference: str = REAL_REFERENCE,
) -> None:
    """`recall_at_real_1pct` on every set with risky chats: recall when the threshold flags 1% of
    the real-chat validation slice (what a platform can afford), and that threshold itself."""
    threshold = platform_threshold(scores[reference][1])
    for name, (labels, values) in scores.items():
        report = reports[name]
        report.metrics["real_1pct_threshold"] = threshold
        positives = values[labels == 1]
        report.metrics["recall_at_real_1pct"] = (
            float((positives > threshold).mean()) if positives.size else np.nan
        )


def _fmt(value: float) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.3f}"


def _sequence_lines(model: Mapping[str, Any], seed: int) -> list[str]:
    if "score" not in model:
        return []
    members = int(model.get("members", 1))
    line = f"- sequence model: `{model['score']}` score, hidden size {model.get('hidden')}"
    if members > 1:
        line += f"; {members} members (seeds {seed}–{seed + members - 1}) averaged inside the model"
    return [line]


def write_model_card(
    scorer: RiskScorer, reports: Mapping[str, EvaluationReport], data: Datasets, cfg: TrainConfig
) -> Path:
    """MODEL_CARD.md beside the artifact: data, metrics, limits, intended use (all figures measured)."""
    meta = scorer.meta
    assert scorer.artifact_dir is not None
    sources = ", ".join(f"{k} {v}" for k, v in data.train_sources().items())
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
        *_sequence_lines(meta.model, cfg.training.seed),
        f"- calibration: {meta.calibration.method} (T = {meta.calibration.temperature:.3f}, "
        f"bias = {meta.calibration.bias:.3f}), fitted on validation",
        f"- thresholds (fitted on validation): review = {meta.thresholds.review:.4f} (target recall "
        f"{cfg.thresholds.review_recall}), urgent = {meta.thresholds.urgent:.4f} (target precision {cfg.thresholds.urgent_precision})",
        *_budget_lines(cfg, len(data.real_val)),
        "",
        "## Data",
        f"- train: {len(data.train)} conversations ({sources}); validation (early stopping, calibration, "
        f"thresholds): {len(data.val)} unseen-writer + {len(data.val_handwritten)} hand-written + "
        f"{len(data.real_val)} real chats; test: {len(data.test)}; "
        f"hand-written: {len(data.handwritten)}; other report-only sets: "
        + (", ".join(f"{k} {len(v)}" for k, v in data.reports.items()) or "none"),
    ]
    for role, path in data.paths.items():
        lines.append(f"- {role}: `{path}`")
    lines += [
        "",
        "## Metrics",
        "",
        "Measured by `grooming-risk train` in this run (see the MLflow run for plots). Columns marked",
        "(validation) were tuned on; every other set is reported only, never chosen on.",
        "",
    ]
    names = list(reports)
    lines.append("| metric | " + " | ".join(set_title(n) for n in names) + " |")
    lines.append("|---|" + "---|" * len(names))
    for key in HEADLINE:
        lines.append(
            f"| {key} | " + " | ".join(_fmt(reports[n].metrics.get(key, float("nan"))) for n in names) + " |"
        )
    alarms = false_alarm_lines({name: report.metrics for name, report in reports.items()})
    if alarms:
        lines += ["", "## False alarms on real chats", "", *alarms]
    for name, report in reports.items():
        lines += ["", f"### {set_title(name)}", "", report.to_markdown()]
    lines += _selection_lines(cfg.bakeoff_report)
    encoder_name = str((meta.encoder or {}).get("name", "none"))
    languages = {BUNDLED_USE: "16 languages", BUNDLED_E5: "about 100 languages"}.get(encoder_name)
    lines += [
        "",
        "## Limits",
        "- Trained on generated conversations (many writers), real benign chats (Chit-Chat Challenge corpus) and",
        "  warning signs woven into real chats; risk is expressed through behavioural warning signs only, and real",
        "  offenders adapt. The hand-written sets are the check on generalisation; they are small (wide intervals).",
        f"- Encoder `{encoder_name}`: "
        + (
            f"multilingual ({languages}); languages other than English, Spanish, French and German are untested."
            if languages
            else "English-only, so Spanish, French and German risk rests on the features and what the encoder "
            "shares across languages. Messages are truncated to "
            f"{(meta.encoder or {}).get('max_length', 'n/a')} tokens."
        ),
        "- Scores are calibrated on the validation distribution; platforms should re-fit thresholds on their own",
        "  reviewed data (reviewer decisions flow back through `grooming-risk review export-labels`).",
    ]
    path = scorer.artifact_dir / "MODEL_CARD.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def log_model_to_mlflow(
    artifact_dir: Path,
    scorer: RiskScorer,
    *,
    registered_name: str | None,
    alias: str,
) -> str:
    """Log the artifact as an MLflow pyfunc (models from code: no pickle); register and alias it."""
    import mlflow
    import pandas as pd

    from grooming_risk.inference import pyfunc
    from grooming_risk.inference.pyfunc import ARTIFACT_KEY, INPUT_EXAMPLE, model_signature

    example = pd.DataFrame({"conversation": [json.dumps(INPUT_EXAMPLE)]})
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


def _selection_lines(report: Path | None) -> list[str]:
    """The bake-off that compares this recipe with the other candidates, or where to get it.

    A clean clone's `make demo` does not run the bake-off (hours on two cores), so the card says how
    to reproduce it rather than leaving model selection out silently."""
    if report is None:
        return []
    if Path(report).exists():
        body = Path(report).read_text(encoding="utf-8").split("\n", 1)[-1].strip()
        return ["", "## Model selection (bake-off)", "", f"From `{report}`:", "", body]
    return [
        "",
        "## Model selection (bake-off)",
        "",
        f"No bake-off summary at `{report}` in this checkout. `make bakeoff` trains every candidate of",
        "`configs/bakeoff/model_v2.yaml` with three seeds and chooses by its rule, written before the runs,",
        "on validation data only; its summary then appears here. The README records the last one measured.",
    ]


def _budget_lines(cfg: TrainConfig, n_real: int) -> list[str]:
    """The model card's statement of the real-chat false-alarm budgets, if the config sets any."""
    t = cfg.thresholds
    if n_real == 0 or (t.max_real_review_share is None and t.max_real_urgent_share is None):
        return []
    from grooming_risk.evaluation.calibration import budget_allowance

    parts = []
    for level, share in (("review", t.max_real_review_share), ("urgent", t.max_real_urgent_share)):
        if share is not None:
            allowed = budget_allowance(n_real, share, t.budget_confidence)
            parts.append(f"{level} {share:.2%} (at most {allowed} of {n_real} real validation chats)")
    held = (
        f"held with {t.budget_confidence:.0%} confidence on unseen chats (one-sided Clopper-Pearson)"
        if t.budget_confidence is not None
        else "held on the real validation chats themselves"
    )
    return [f"- real-chat false-alarm budgets: {'; '.join(parts)}, {held}"]


def use_vector_cache(scorer: RiskScorer, cache_dir: Path | None) -> None:
    """Answer a sequence model's encoder from the training embedding cache (same encoder, same vectors).

    Any frozen encoder that records a weights digest (USE, MiniLM, e5, a local directory) qualifies;
    a lexical channel keeps hashing beside it. The cache is keyed by the digest, length limit and
    prefix, so a fine-tuned or different encoder never reads another's vectors; messages not in it
    are encoded for this process.
    """
    from grooming_risk.inference.sequence_backend import SequenceBackend
    from grooming_risk.model.encoder import CachedEncoder
    from grooming_risk.model.lexical import LexicalEncoder
    from grooming_risk.training.embeddings import EmbeddingTable

    backend = scorer.backend
    if cache_dir is None or not isinstance(backend, SequenceBackend):
        return
    encoder = backend.encoder
    if isinstance(encoder, LexicalEncoder):
        if isinstance(encoder.base, CachedEncoder):
            encoder.base = EmbeddingTable(encoder.base, cache_dir).as_encoder()
    elif isinstance(encoder, CachedEncoder):
        backend.encoder = EmbeddingTable(encoder, cache_dir).as_encoder()


def evaluate(
    model_uri: str,
    data: Sequence[Path],
    *,
    baseline_uri: str | None = None,
    experiment: str = "grooming-risk",
    run_name: str | None = None,
    sample_curves: int = 6,
    cache_dir: Path | None = DEFAULT_CACHE_DIR,
    card: bool = False,
) -> dict[str, dict[str, float]]:
    """Evaluate a model (and optionally a baseline) on datasets in one MLflow run.

    Returns {"model/<dataset>": metrics, "baseline/<dataset>": metrics}. With `card`, the side-by-side
    tables are also appended to the model's MODEL_CARD.md (when the model is an artifact directory).
    """
    import mlflow

    from grooming_risk.evaluation.report import compare_reports
    from grooming_risk.inference.scorer import RiskScorer
    from grooming_risk.training.datasets import load

    configure_tracking(experiment)
    sets = {dataset_name(p): load(Path(p), "evaluation") for p in data}
    scorer = RiskScorer.load(model_uri)
    use_vector_cache(scorer, cache_dir)
    results: dict[str, dict[str, float]] = {}
    with mlflow.start_run(run_name=run_name or f"evaluate-{scorer.model_version}"):
        mlflow.set_tags({"stage": "evaluate", "model_version": scorer.model_version, "model_uri": model_uri})
        for p in data:
            log_dataset(Path(p), context="evaluation")
        reports = evaluate_sets(scorer, sets, sample_curves=sample_curves, prefix="eval/model")
        for name, report in reports.items():
            results[f"model/{name}"] = report.metrics
            mlflow.log_metrics({f"{name}_{k}": v for k, v in report.metrics.items() if np.isfinite(v)})
        tables: list[tuple[str, str]] = []
        if baseline_uri:
            base = RiskScorer.load(baseline_uri)
            use_vector_cache(base, cache_dir)
            mlflow.set_tag("baseline_model_version", base.model_version)
            base_reports = evaluate_sets(base, sets, sample_curves=0, prefix="eval/baseline")
            for name, report in base_reports.items():
                results[f"baseline/{name}"] = report.metrics
                mlflow.log_metrics(
                    {f"baseline_{name}_{k}": v for k, v in report.metrics.items() if np.isfinite(v)}
                )
                table = compare_reports({"model": reports[name], "baseline": report}, HEADLINE)
                mlflow.log_text(table, f"eval/comparison_{name}.md")
                tables.append((name, table))
            if card:
                _append_to_card(scorer, base.model_version, tables)
    return results


def _append_to_card(scorer: RiskScorer, other: str, tables: Sequence[tuple[str, str]]) -> None:
    if scorer.artifact_dir is None or not (scorer.artifact_dir / "MODEL_CARD.md").exists():
        return
    lines = [
        "",
        f"## Side by side with {other}",
        "",
        "Measured by `grooming-risk evaluate --baseline ... --card`; `model` is this model.",
    ]
    for name, table in tables:
        lines += ["", f"### {set_title(name)}", "", table]
    with open(scorer.artifact_dir / "MODEL_CARD.md", "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def comparison_rows(
    results: Mapping[str, Mapping[str, float]], keys: Sequence[str] = HEADLINE
) -> list[list[str]]:
    cols = list(results)
    return [[key, *(_fmt(results[c].get(key, float("nan"))) for c in cols)] for key in keys]


def check_selectable(path: Path) -> None:
    """Refuse a set that is for reporting only: the hand-written evaluation sets and any test split.

    Of the hand-written sets only the validation ones (`val_*.jsonl`, written by writers that the
    training and evaluation sets did not share) may choose."""
    from grooming_risk.data.cards import read_card

    card = read_card(path)
    split = (card.parameters.get("split") if card is not None else None) or ""
    handwritten = path.parent.name == "handwritten" or (card is not None and card.source == "handwritten")
    if handwritten and not path.name.startswith("val_"):
        raise ValueError(
            f"{path} is a hand-written evaluation or training set: report on it, never choose with it"
        )
    if split == "test" or ".test." in path.name or path.parent.name == "test":
        raise ValueError(f"{path} is a test split: report on it, never choose with it")


def promote(
    data: Sequence[Path],
    *,
    real: Sequence[Path] = (),
    model_name: str = "grooming-risk",
    candidate_alias: str = "candidate",
    champion_alias: str = "champion",
    metric: str = "roc_auc",
    force: bool = False,
    experiment: str = "grooming-risk",
) -> tuple[bool, dict[str, dict[str, float]], str]:
    """Evaluate candidate and champion on the same validation data; move `champion` if the candidate
    is not worse on `metric` (averaged over `data`) and does not raise the false-alarm rate (share
    flagged at review) on the real-chat validation sets in `real`.

    Only validation data may choose: a hand-written set or a test split is refused.
    Returns (promoted, results, message).
    """
    for path in [*data, *real]:
        check_selectable(Path(path))
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
        [*data, *real],
        baseline_uri=f"models:/{model_name}@{champion_alias}" if champion else None,
        experiment=experiment,
        run_name=f"promote-{model_name}-v{candidate.version}",
    )
    chosen_on = {dataset_name(p) for p in data}
    alarm_sets = {dataset_name(p) for p in real}

    def mean(side: str, names: set[str], key: str) -> float:
        values = [
            v[key] for k, v in results.items() if k.startswith(f"{side}/") and k.split("/", 1)[1] in names
        ]
        return float(np.mean(values))

    cand = mean("model", chosen_on, metric)
    cand_alarms = mean("model", alarm_sets, "review_flagged_share") if alarm_sets else float("nan")
    if champion is None:
        ok, message = (
            True,
            f"no champion yet: version {candidate.version} becomes champion ({metric} {cand:.4f})",
        )
    elif champion.version == candidate.version:
        ok, message = False, f"version {candidate.version} is already the champion"
    else:
        champ = mean("baseline", chosen_on, metric)
        better = cand >= champ
        alarms_ok = True
        alarm_note = ""
        if alarm_sets:
            champ_alarms = mean("baseline", alarm_sets, "review_flagged_share")
            alarms_ok = cand_alarms <= champ_alarms
            alarm_note = f"; real-chat false alarms {cand_alarms:.2%} vs {champ_alarms:.2%}"
        ok = force or (better and alarms_ok)
        verdict = "promoted" if ok else "not promoted (use --force to override)"
        if not alarms_ok and not force:
            verdict += ": the candidate raises the real-chat false-alarm rate"
        message = (
            f"candidate v{candidate.version} {metric} {cand:.4f} vs champion v{champion.version} {champ:.4f}"
            f"{alarm_note}: {verdict}"
        )
    if ok and (champion is None or champion.version != candidate.version):
        client.set_registered_model_alias(model_name, champion_alias, str(candidate.version))
    return ok, results, message
