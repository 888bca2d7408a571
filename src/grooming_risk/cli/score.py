"""`grooming-risk score`: batch scoring of files or stdin, one assessment per valid conversation."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from grooming_risk.policy import Policy

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
        "Default: $GROOMING_RISK_MODEL, else the model `make demo` trains: its ONNX export "
        "(artifacts/models/default-onnx, the fast path) when it is current, else artifacts/models/default.",
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
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Continue an interrupted run into the same .jsonl output: conversations already in "
        "OUTPUT.partial are kept and not scored again.",
    ),
    actions: bool = typer.Option(
        False,
        "--actions",
        help="Add recommended actions and resources to each assessment, from the policy file.",
    ),
    policy: Path | None = typer.Option(
        None, "--policy", help="Base policy file (default: configs/policy/default.yaml). Implies --actions."
    ),
    country: str | None = typer.Option(
        None,
        "--country",
        help="ISO 3166-1 alpha-2 code: that country's hotlines and helplines. Implies --actions.",
    ),
    policy_override: list[Path] = typer.Option(
        [], "--policy-override", help="Platform override file(s), applied in order. Implies --actions."
    ),
) -> None:
    """Score conversations for grooming and sextortion risk.

    Streams the input in constant memory and writes exactly one assessment per valid record, in input
    order. Every invalid record (undecodable line, bad JSON, too deep, contract or limit violation,
    repeated id) is reported on one line with its file, line, id and field, and never stops the
    others; the exit code is 1 if there were any, unless --skip-invalid. A file output is written to
    OUTPUT.partial and renamed when complete; after an interruption, --resume carries on from it.
    """
    from grooming_risk.contract.conversation import Limits
    from grooming_risk.io.formats import detect_format

    try:
        detect_format(input)
        detect_format(output)
    except ValueError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    limits = Limits(max_messages=max_messages, max_message_chars=max_chars)
    if resume and engine != "local":
        raise typer.BadParameter("--resume works with --engine local")
    recommender = None
    if actions or policy or country or policy_override:
        from grooming_risk.policy import PolicyError, load_policy

        if engine != "local":
            raise typer.BadParameter("--actions works with --engine local")
        try:
            recommender = load_policy(policy, country=country, overrides=policy_override)
        except (PolicyError, OSError) as exc:
            err.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
    if engine == "spark":
        from grooming_risk.inference.spark import score_files_with_spark

        n_bad = score_files_with_spark(input, output, model=model, limits=limits, errors=errors)
    elif engine == "local":
        n_bad = _score_local(input, output, model, errors, batch_size, limits, progress, resume, recommender)
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
    resume: bool = False,
    policy: Policy | None = None,
) -> int:
    from tqdm import tqdm

    from grooming_risk.contract.conversation import Limits
    from grooming_risk.inference.scorer import RiskScorer
    from grooming_risk.io.formats import STDIO, detect_format
    from grooming_risk.io.readers import ValidConversations
    from grooming_risk.io.writers import RecordWriter

    assert isinstance(limits, Limits)
    try:
        scorer = RiskScorer.load(model).warm_up()
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    # A file output is staged and renamed at the end: a reader never sees half a result file.
    staged = output if output == STDIO else f"{output}.partial"
    done: frozenset[str] = frozenset()
    scored = 0
    try:
        if resume:
            done = _recover_partial(Path(staged))
        with (
            ValidConversations(input, limits=limits, errors=errors, skip=done) as records,
            RecordWriter(staged, detect_format(output).value, append=bool(done)) as writer,
        ):
            bar = tqdm(desc="scoring", unit="conv", disable=not progress, file=sys.stderr)
            for assessment in scorer.score_iter(records, batch_size=batch_size):
                writer.write(assessment if policy is None else policy.apply(assessment))
                scored += 1
                bar.update(1)
            bar.close()
    except (FileNotFoundError, ValueError) as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        if staged != output:
            err.print(f"interrupted: {scored + len(done)} scored so far in {staged}; rerun with --resume")
        raise typer.Exit(130) from None
    if staged != output:
        os.replace(staged, output)
    n_bad = records.invalid
    resumed = f" ({len(done)} kept from the interrupted run)" if done else ""
    if n_bad or done:
        err.print(f"{scored + len(done)} scored{resumed}, {n_bad} invalid record(s) not scored")
    return n_bad


def _recover_partial(partial: Path) -> frozenset[str]:
    """Ids already scored in an interrupted run's JSON Lines output; a torn last line is cut off."""
    import json

    if not partial.exists():
        return frozenset()
    if not partial.name.endswith(".jsonl.partial"):
        raise ValueError(f"--resume needs a .jsonl output (got {partial.name.removesuffix('.partial')})")
    done: list[str] = []
    keep = 0
    with open(partial, "rb") as handle:
        for raw in handle:
            try:
                cid = json.loads(raw)["conversation_id"] if raw.endswith(b"\n") else None
            except (ValueError, KeyError, TypeError):
                cid = None
            if not isinstance(cid, str):
                break
            done.append(cid)
            keep += len(raw)
    with open(partial, "r+b") as handle:
        handle.truncate(keep)
    return frozenset(done)
