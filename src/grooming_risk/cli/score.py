"""`grooming-risk score`: batch scoring of files or stdin, one assessment per valid conversation."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

err = Console(stderr=True)


def score(
    input: str = typer.Argument(
        ..., help="Conversations: .jsonl, .jsonl.gz or .parquet; '-' for stdin (JSONL)."
    ),
    output: str = typer.Option(
        "-", "--output", "-o", help="Assessments: .jsonl, .jsonl.gz, .parquet or '-' (stdout)."
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help="Model: artifact dir, runs:/RUN/model or models:/NAME@ALIAS. "
        "Default: $GROOMING_RISK_MODEL, else artifacts/models/default (trained by `make demo`).",
    ),
    errors: Path | None = typer.Option(
        None, "--errors", help="Write invalid-record reports here (JSONL) instead of stderr."
    ),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Exit 0 even if some records were invalid."
    ),
    batch_size: int = typer.Option(256, min=1, help="Conversations scored together."),
    max_messages: int = typer.Option(10_000, min=1, help="Reject conversations with more messages."),
    max_chars: int = typer.Option(4_000, min=1, help="Reject messages with more characters."),
    engine: str = typer.Option("local", help="'local' (this process) or 'spark' (mlflow.pyfunc.spark_udf)."),
    progress: bool = typer.Option(True, help="Progress bar on stderr."),
) -> None:
    """Score conversations for grooming and sextortion risk.

    Streams the input in constant memory and writes exactly one assessment per valid record, in input
    order. Invalid records are reported with their line and field; the exit code is 1 if there were
    any, unless --skip-invalid.
    """
    from grooming_risk.contract.conversation import Limits

    limits = Limits(max_messages=max_messages, max_message_chars=max_chars)
    if engine == "spark":
        from grooming_risk.inference.spark import score_files_with_spark

        n_bad = score_files_with_spark(input, output, model=model, limits=limits, errors=errors)
    elif engine == "local":
        n_bad = _score_local(input, output, model, errors, batch_size, limits, progress)
    else:
        raise typer.BadParameter(f"--engine {engine!r}: expected 'local' or 'spark'")
    if n_bad and not skip_invalid:
        raise typer.Exit(1)


def _score_local(
    input: str,
    output: str,
    model: str | None,
    errors: Path | None,
    batch_size: int,
    limits: object,
    progress: bool,
) -> int:
    from tqdm import tqdm

    from grooming_risk.contract.conversation import Limits
    from grooming_risk.inference.scorer import RiskScorer
    from grooming_risk.io.readers import ValidConversations
    from grooming_risk.io.writers import RecordWriter

    assert isinstance(limits, Limits)
    try:
        scorer = RiskScorer.load(model)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    try:
        with (
            ValidConversations(input, limits=limits, errors=errors) as records,
            RecordWriter(output) as writer,
        ):
            bar = tqdm(desc="scoring", unit="conv", disable=not progress, file=sys.stderr)
            for assessment in scorer.score_iter(records, batch_size=batch_size):
                writer.write(assessment)
                bar.update(1)
            bar.close()
    except FileNotFoundError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    n_bad = records.invalid
    if n_bad:
        err.print(f"{writer.count} scored, {n_bad} invalid record(s) not scored")
    return n_bad
