"""`grooming-risk senders`: rank participants across many conversations' assessments."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

err = Console(stderr=True)


def senders(
    assessments: list[str] = typer.Argument(
        ..., help="Assessment files from `grooming-risk score` (.jsonl, .jsonl.gz, .parquet)."
    ),
    output: str = typer.Option(
        ..., "--output", "-o", help="Ranked sender profiles: .jsonl, .jsonl.gz, .parquet or '-' (stdout)."
    ),
    min_combined_risk: float = typer.Option(
        0.0, min=0.0, max=1.0, help="Leave out senders whose combined risk is below this."
    ),
    floor: float = typer.Option(
        0.05,
        min=0.0,
        max=1.0,
        help="A conversation adds to a sender's combined risk only from this per-participant risk on.",
    ),
    top: int | None = typer.Option(None, min=1, help="Write only the first N profiles."),
    show: int = typer.Option(10, min=0, help="Print the first N profiles as a table on stderr."),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Exit 0 even if some records were invalid."
    ),
) -> None:
    """Aggregate assessments per sender id and rank them: the sender behind many risky chats first.

    Each profile has the conversation count, the conversations where the sender is the suspected
    party, max and combined risk (1 - prod(1 - risk) over conversations at or above --floor, each counted at most 0.999),
    warning signs seen, first and last message time and the conversation ids, riskiest first.
    A conversation assessed more than once (streamed) counts with its last assessment in the files'
    order. Invalid records are reported on one line each (file, line, id, field) and skipped.
    """
    from grooming_risk.inference.sender_profiles import ProfileBook
    from grooming_risk.io.errors import RecordError
    from grooming_risk.io.formats import detect_format
    from grooming_risk.io.readers import read_assessments
    from grooming_risk.io.writers import RecordWriter

    try:
        detect_format(output)
        for path in assessments:
            detect_format(path)
    except ValueError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    bad: set[tuple[str, int]] = set()

    def report(problem: RecordError) -> None:
        bad.add((problem.source, problem.line))
        err.print(f"invalid: {problem}", highlight=False, markup=False, soft_wrap=True)

    book = ProfileBook(floor=floor)
    read = 0
    try:
        for path in assessments:
            for _line, assessment in read_assessments(path, report):
                book.add(assessment)
                read += 1
    except FileNotFoundError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    ranked = book.ranked(min_combined_risk=min_combined_risk, top=top)
    with RecordWriter(output) as writer:
        for profile in ranked:
            writer.write(profile)
    err.print(f"{read} assessments, {len(book)} senders, {len(ranked)} written to {output}", highlight=False)
    if show and ranked:
        table = Table("rank", "sender", "convs", "suspected in", "max", "combined", "warning signs")
        for i, p in enumerate(ranked[:show], start=1):
            table.add_row(
                str(i),
                p.sender,
                str(p.conversations),
                str(p.suspected_in),
                f"{p.max_risk:.3f}",
                f"{p.combined_risk:.3f}",
                ", ".join(p.categories[:4]),
            )
        # Piped into a log, rich would assume 80 columns and wrap every id.
        Console(stderr=True, width=None if err.is_terminal else 160).print(table)
    if bad and not skip_invalid:
        err.print(f"{len(bad)} invalid record(s) skipped")
        raise typer.Exit(1)
