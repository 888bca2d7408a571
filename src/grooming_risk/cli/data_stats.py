"""`grooming-risk data stats`: counts, length distributions, variety and overlap between two files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from grooming_risk.data.stats import DatasetStats, Overlap, StatsAccumulator

err = Console(stderr=True)


def _accumulate(path: str, ngram: int | None, show_progress: bool) -> StatsAccumulator:
    from grooming_risk.data.stats import StatsAccumulator
    from grooming_risk.io import read_conversations

    acc = StatsAccumulator(ngram=ngram)
    conversations = read_conversations(path)
    if not show_progress:
        for conversation in conversations:
            acc.add(conversation)
        return acc
    from rich.progress import Progress, SpinnerColumn, TextColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err, transient=True) as bar:
        task = bar.add_task(f"reading {path}", total=None)
        for i, conversation in enumerate(conversations, start=1):
            acc.add(conversation)
            if i % 500 == 0:
                bar.update(task, description=f"reading {path}: {i} conversations")
    return acc


def _percentile_row(name: str, values: dict[str, float]) -> list[str]:
    return [name, *(f"{v:g}" for v in values.values())] if values else [name, "-"]


def _print_stats(console: Console, title: str, stats: DatasetStats) -> None:
    from rich.table import Table

    overview = Table(title=f"{title}", show_header=False, title_justify="left")
    overview.add_column("what")
    overview.add_column("value", justify="right")
    overview.add_row("conversations", str(stats.conversations))
    overview.add_row("messages", str(stats.messages))
    overview.add_row("distinct senders", str(stats.senders))
    overview.add_row("hard negatives", str(stats.hard_negatives))
    overview.add_row("with timestamps", str(stats.with_timestamps))
    overview.add_row("obfuscated messages", str(stats.obfuscated_messages))
    overview.add_row("distinct messages", str(stats.distinct_messages))
    overview.add_row("distinct-message ratio", f"{stats.distinct_message_ratio:.4f}")
    console.print(overview)

    counts = Table(title="counts", title_justify="left")
    counts.add_column("group")
    counts.add_column("value")
    counts.add_column("conversations", justify="right")
    counts.add_column("share", justify="right")
    for group, table in (
        ("label", stats.by_label),
        ("platform", stats.by_platform),
        ("language", stats.by_language),
        ("writer", stats.by_writer),
        ("participants", stats.participants),
    ):
        for key, value in table.items():
            share = value / stats.conversations if stats.conversations else 0.0
            counts.add_row(group, key, str(value), f"{share:.1%}")
    console.print(counts)

    if stats.by_category:
        categories = Table(title="risk categories", title_justify="left")
        categories.add_column("category")
        categories.add_column("messages", justify="right")
        categories.add_column("conversations", justify="right")
        for key, value in stats.by_category.items():
            categories.add_row(key, str(value), str(stats.conversations_by_category.get(key, 0)))
        console.print(categories)

    if stats.writer_ngram_overlap:
        overlaps = Table(
            title="overlap between writers' banks (shared word n-grams / the smaller bank's)",
            title_justify="left",
        )
        for column in ("writer", "writer", "n", "shared", "share"):
            overlaps.add_column(column, justify="right" if column in {"n", "shared", "share"} else "left")
        for o in stats.writer_ngram_overlap:
            overlaps.add_row(o.a, o.b, str(o.ngram), str(o.shared), f"{o.share:.1%}")
        console.print(overlaps)

    lengths = Table(title="distributions (percentiles)", title_justify="left")
    lengths.add_column("measure")
    for name in next((v for v in (stats.message_chars, stats.conversation_messages) if v), {"p50": 0}):
        lengths.add_column(name, justify="right")
    lengths.add_row(*_percentile_row("message characters", stats.message_chars))
    lengths.add_row(*_percentile_row("message words", stats.message_words))
    lengths.add_row(*_percentile_row("conversation messages", stats.conversation_messages))
    lengths.add_row(*_percentile_row("first risk index", stats.first_risk_index))
    console.print(lengths)


def _print_overlap(console: Console, base: str, other: str, result: Overlap) -> None:
    from rich.table import Table

    table = Table(title=f"overlap: how much of {other} already occurs in {base}", title_justify="left")
    table.add_column("measure")
    table.add_column("in OTHER", justify="right")
    table.add_column("also in FILE", justify="right")
    table.add_column("share", justify="right")
    table.add_row(
        f"word {result.ngram}-grams",
        str(result.other_ngrams),
        str(result.shared_ngrams),
        f"{result.ngram_share:.1%}",
    )
    table.add_row(
        "distinct messages",
        str(result.other_messages),
        str(result.shared_messages),
        f"{result.message_share:.1%}",
    )
    table.add_row("sender ids", "", str(result.shared_senders), "")
    console.print(table)


def stats(
    path: str = typer.Argument(
        ..., help="Conversations: .jsonl, .jsonl.gz or .parquet; '-' for stdin (JSONL)."
    ),
    compare: str | None = typer.Option(
        None,
        "--compare",
        "-c",
        metavar="OTHER",
        help="A second file (e.g. the test split): also report how much of it already occurs in FILE.",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
    ngram: int = typer.Option(4, "--ngram", min=1, max=10, help="Word n-gram size for --compare."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress spinner on stderr."),
) -> None:
    """Show what is in a conversation dataset and how varied it is.

    Counts per label, platform, participant count and risk category; percentiles of message and conversation length; the distinct-message ratio (distinct normalised texts / messages).

    With --compare OTHER: the share of OTHER's word n-grams and distinct messages that already occur in FILE, and the sender ids they share. High shares between a train and a test file mean template leakage.
    """
    from grooming_risk.data.stats import overlap_of
    from grooming_risk.io.errors import InvalidRecordError

    if compare is not None and compare == "-" and path == "-":
        err.print("[red]error:[/red] only one of FILE and --compare can be '-' (stdin)", highlight=False)
        raise typer.Exit(2)
    show = progress and not json_output
    try:
        base = _accumulate(path, ngram if compare else None, show)
        other = _accumulate(compare, ngram, show) if compare is not None else None
    except (InvalidRecordError, FileNotFoundError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None

    base_stats = base.result()
    other_stats = other.result() if other is not None else None
    result = overlap_of(base, other) if other is not None else None
    if json_output:
        payload: dict[str, Any] = {"file": path, "stats": base_stats.model_dump(mode="json")}
        if other_stats is not None and result is not None:
            payload["compare"] = {"file": compare, "stats": other_stats.model_dump(mode="json")}
            payload["overlap"] = result.model_dump(mode="json")
        typer.echo(json.dumps(payload, indent=2))
        return
    console = Console()
    _print_stats(console, str(Path(path).name if path != "-" else "stdin"), base_stats)
    if other_stats is not None and result is not None and compare is not None:
        _print_stats(console, str(Path(compare).name if compare != "-" else "stdin"), other_stats)
        _print_overlap(console, path, compare, result)
