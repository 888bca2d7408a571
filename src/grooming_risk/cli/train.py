"""`grooming-risk train | evaluate | promote`: thin wrappers over grooming_risk.training."""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

err = Console(stderr=True)


def _out() -> Console:
    """stdout; piped into a log (make demo), 160 columns rather than rich's 80, so tables stay whole."""
    import sys

    return Console(width=None if sys.stdout.isatty() else 160)


def _table(title: str, results: dict[str, dict[str, float]]) -> Table:
    from grooming_risk.training.evaluate import comparison_rows

    table = Table(title=title)
    table.add_column("metric")
    for name in results:
        table.add_column(name, justify="right")
    for row in comparison_rows(results):
        table.add_row(*row)
    return table


def train(
    config: Path = typer.Option(Path("configs/default.yaml"), "--config", "-c", help="YAML training config."),
    data: list[str] = typer.Option(
        [],
        "--data",
        help="Override a dataset: ROLE=PATH with ROLE train, val, test or handwritten. Repeatable.",
    ),
    extra: list[Path] = typer.Option(
        [], "--extra", help="Extra training data (e.g. reviewer labels). Repeatable."
    ),
    set_: list[str] = typer.Option(
        [], "--set", help="Override any config key: section.key=value. Repeatable."
    ),
    output_dir: Path | None = typer.Option(
        None, "--output-dir", "-o", help="Where to write the model artifact."
    ),
) -> None:
    """Train a model from a config, evaluate it on val/test/hand-written data and log everything to MLflow.

    Tracking goes to $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db in the working directory.
    """
    from grooming_risk.training.config import ConfigError, load_config
    from grooming_risk.training.pipeline import train as run_train

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    overrides = list(set_)
    for item in data:
        role, sep, path = item.partition("=")
        if not sep or role not in {"train", "val", "test", "handwritten"}:
            raise typer.BadParameter(
                f"--data {item!r}: expected ROLE=PATH with ROLE train, val, test or handwritten"
            )
        overrides.append(f"data.{role}={path}")
    if extra:
        overrides.append("data.extra=[" + ",".join(f'"{p}"' for p in extra) + "]")
    if output_dir:
        overrides.append(f"output_dir={output_dir}")
    try:
        cfg = load_config(config, overrides)
    except ConfigError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    try:
        metrics = run_train(cfg)
    except (FileNotFoundError, ValueError) as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    results = {
        split: {k.removeprefix(f"{split}_"): v for k, v in metrics.items() if k.startswith(f"{split}_")}
        for split in ("val", "test", "handwritten")
    }
    _out().print(_table(f"{cfg.name}: model at {cfg.output_dir}", {k: v for k, v in results.items() if v}))


def evaluate(
    model: str = typer.Option(
        ..., "--model", "-m", help="Model: artifact dir, runs:/RUN/model or models:/NAME@ALIAS."
    ),
    data: list[Path] = typer.Option(
        ..., "--data", "-d", help="Labelled conversations to evaluate on. Repeatable."
    ),
    baseline: str | None = typer.Option(None, "--baseline", help="Second model shown side by side."),
    experiment: str = typer.Option("grooming-risk", help="MLflow experiment for the evaluation run."),
    card: bool = typer.Option(
        False, "--card", help="Append the side-by-side tables to the model's MODEL_CARD.md (with --baseline)."
    ),
) -> None:
    """Evaluate a model on labelled data in an MLflow run: metrics, plots, per-category and threshold tables.

    Sets without a single risky conversation (real chats) also get a false-alarm line: share flagged
    at review, share urgent, and the warning signs that fired most.
    """
    from grooming_risk.training.evaluate import evaluate as run_evaluate
    from grooming_risk.training.evaluate import false_alarm_lines

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        results = run_evaluate(model, data, baseline_uri=baseline, experiment=experiment, card=card)
    except (FileNotFoundError, ValueError) as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    _out().print(_table("evaluation", results))
    for line in false_alarm_lines(results):
        _out().print(line.replace("**", ""))


def promote(
    data: list[Path] = typer.Option(
        ...,
        "--data",
        "-d",
        help="Validation data both models are compared on (e.g. unseen-writer val). Repeatable. "
        "Hand-written sets and test splits are refused: they are for reporting only.",
    ),
    real: list[Path] = typer.Option(
        [],
        "--real",
        help="Real-chat validation sets (all benign): the candidate must not flag more of them at review "
        "than the champion does. Repeatable.",
    ),
    model_name: str = typer.Option("grooming-risk", help="Registered model name."),
    metric: str = typer.Option("roc_auc", help="Metric that must not get worse (mean over --data)."),
    force: bool = typer.Option(False, "--force", help="Promote even if the candidate is worse."),
) -> None:
    """Show the `candidate` against the current `champion` on the same validation data, then move `champion`.

    The candidate wins when --metric (mean over --data) is not worse and its false-alarm rate on the
    --real sets is not higher.
    """
    from grooming_risk.training.evaluate import promote as run_promote

    try:
        ok, results, message = run_promote(data, real=real, model_name=model_name, metric=metric, force=force)
    except (FileNotFoundError, ValueError) as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    renamed = {
        k.replace("model/", "candidate/").replace("baseline/", "champion/"): v for k, v in results.items()
    }
    _out().print(_table("candidate vs champion", renamed))
    _out().print(message)
    if not ok:
        raise typer.Exit(1)


def bakeoff(
    config: Path = typer.Option(
        Path("configs/bakeoff/model_v2.yaml"), "--config", "-c", help="Bake-off config."
    ),
    only: list[str] = typer.Option([], "--only", help="Train only these candidates (repeatable)."),
    report_only: bool = typer.Option(
        False,
        "--report-only",
        help="Train nothing: rebuild the choice and report from the experiment's MLflow runs.",
    ),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Skip every candidate and seed that already has a finished run in the experiment "
        "(its recorded metrics are used): continue a bake-off that stopped part-way.",
    ),
    speed_data: Path | None = typer.Option(
        Path("data/real/chitchat.test.jsonl"),
        "--speed-data",
        help="Measure each candidate's ONNX batch and streaming speed on the first 200 conversations "
        "of this file (speed only; never chooses). Empty to skip.",
    ),
) -> None:
    """Train every candidate of a bake-off with every seed (one MLflow experiment) and choose the default
    by the config's rule, on validation data only. Writes BAKEOFF.md and bakeoff.json to its output_dir."""
    from grooming_risk.training.bakeoff import (
        add_speeds,
        choose,
        finished_runs,
        load_bakeoff,
        results_from_mlflow,
        run_bakeoff,
        summary_table,
        write_summary,
    )
    from grooming_risk.training.config import ConfigError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        cfg = load_bakeoff(config)
        unknown = sorted(set(only) - set(cfg.candidates))
        if unknown:
            raise ConfigError(f"--only {unknown}: not candidates of {config} ({', '.join(cfg.candidates)})")
        if report_only:
            results = results_from_mlflow(cfg)
        else:
            results, _ = run_bakeoff(cfg, only=only or None, finished=finished_runs(cfg) if resume else None)
        # typer turns an empty --speed-data into Path("."): both mean "skip".
        if speed_data is not None and str(speed_data) not in ("", "."):
            if speed_data.is_file():
                add_speeds(cfg, results, speed_data)
            else:
                err.print(f"speed not measured: --speed-data {speed_data}: expected a JSONL file")
        winner, why = choose(results, cfg.rule)
        write_summary(cfg, results, winner, why)
    except ConfigError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    typer.echo(summary_table(cfg, results, winner))
    err.print(f"chosen: {winner or 'none eligible'}; details in {cfg.output_dir / 'BAKEOFF.md'}")
