"""`grooming-risk data import ...`: licensed corpora and platform exports -> conversation records.

Registered by `cli/data.py` as `app.add_typer(import_app, name="import")`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from grooming_risk.contract.conversation import DEFAULT_LIMITS, Limits
from grooming_risk.io.errors import InvalidRecordError, RecordError

import_app = typer.Typer(
    no_args_is_help=True,
    help=(
        "Import licensed corpora (PAN 2012) and message-per-row exports (CSV, JSON Lines) as "
        "conversation records, with a dataset card beside the output. Nothing is downloaded: "
        "pass files you are licensed to hold."
    ),
)

OutOption = Annotated[
    Path,
    typer.Option(
        "--out", "-o", help="Output file: .jsonl, .jsonl.gz or .parquet. The card goes to OUT.card.json."
    ),
]
SkipOption = Annotated[
    bool,
    typer.Option(
        "--skip-invalid",
        help="Report each bad conversation on stderr and carry on, instead of stopping at the first.",
    ),
]
MaxMessagesOption = Annotated[
    int, typer.Option("--max-messages", min=1, help="Longest conversation accepted (messages).")
]
MaxCharsOption = Annotated[
    int, typer.Option("--max-message-chars", min=1, help="Longest message accepted (characters).")
]
ProgressOption = Annotated[
    bool, typer.Option("--progress/--no-progress", help="Progress bar on stderr (only on a terminal).")
]


@contextmanager
def _byte_progress(path: Path, enabled: bool) -> Iterator[Callable[[int], None]]:
    from tqdm import tqdm

    total = path.stat().st_size if path.exists() else None
    # disable=None: tqdm shows the bar only when stderr is a terminal, so logs stay clean.
    with tqdm(
        total=total,
        unit="B",
        unit_scale=True,
        desc=path.name,
        file=sys.stderr,
        disable=None if enabled else True,
    ) as bar:
        yield bar.update


class _ErrorSink:
    """Prints each skipped record's problem (ids, line, field; never text) and counts them."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, error: RecordError) -> None:
        self.count += 1
        typer.echo(f"skipped: {error}", err=True)


def _fail(exc: BaseException) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(code=1)


@import_app.command("pan12")
def pan12(
    corpus: Annotated[
        Path,
        typer.Option("--corpus", exists=True, dir_okay=False, help="PAN 2012 corpus XML (training or test)."),
    ],
    predators: Annotated[
        Path,
        typer.Option(
            "--predators", exists=True, dir_okay=False, help="Predator author ids, one per line (problem 1)."
        ),
    ],
    out: OutOption,
    problem2: Annotated[
        Path | None,
        typer.Option(
            "--problem2",
            exists=True,
            dir_okay=False,
            help="Optional problem-2 truth (conversation_id<TAB>line); only counted in the card.",
        ),
    ] = None,
    skip_invalid: SkipOption = False,
    max_messages: MaxMessagesOption = DEFAULT_LIMITS.max_messages,
    max_message_chars: MaxCharsOption = DEFAULT_LIMITS.max_message_chars,
    progress: ProgressOption = True,
) -> None:
    """Import the PAN 2012 predator-identification corpus.

    Streams the XML (constant memory). A conversation is labelled grooming when any of its authors
    is in the predator list, else benign. Also writes OUT.predators.txt, the predator ids present
    in the output, for author-level (problem 1) evaluation. Message times (HH:MM, no date) are
    dropped, so sent_at is empty.
    """
    from grooming_risk.data.importers.pan12 import import_pan12

    sink = _ErrorSink() if skip_invalid else None
    try:
        with _byte_progress(corpus, progress) as on_progress:
            result = import_pan12(
                corpus,
                predators,
                out,
                problem2_file=problem2,
                limits=Limits(max_messages=max_messages, max_message_chars=max_message_chars),
                on_error=sink,
                on_progress=on_progress,
            )
    except (InvalidRecordError, ValueError, OSError) as exc:
        raise _fail(exc) from None
    typer.echo(
        f"wrote {result.conversations} conversations ({result.messages} messages) to {result.output}; "
        f"card {result.card}; {result.skipped} conversations skipped"
    )


@import_app.command("table")
def table(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE", exists=True, dir_okay=False, help="CSV or JSON Lines file, one message per row."
        ),
    ],
    out: OutOption,
    conversation_id: Annotated[
        str, typer.Option("--conversation-id", metavar="COLUMN", help="Column holding the conversation id.")
    ],
    sender: Annotated[str, typer.Option("--sender", metavar="COLUMN", help="Column holding the sender id.")],
    text: Annotated[str, typer.Option("--text", metavar="COLUMN", help="Column holding the message text.")],
    table_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            metavar="csv|jsonl",
            help="csv or jsonl (default: from the file name; .gz is read as gzip).",
        ),
    ] = None,
    sent_at: Annotated[
        str | None,
        typer.Option("--sent-at", metavar="COLUMN", help="Column with ISO-8601 times or epoch seconds."),
    ] = None,
    label: Annotated[
        str | None,
        typer.Option(
            "--label", metavar="COLUMN", help="Column with the conversation label (any row may carry it)."
        ),
    ] = None,
    label_map: Annotated[
        str | None,
        typer.Option(
            "--label-map",
            help="Map raw label values, e.g. '1=grooming,0=benign'. Without it values must be "
            "grooming, sextortion or benign.",
        ),
    ] = None,
    platform: Annotated[
        str | None, typer.Option("--platform", metavar="COLUMN", help="Column with the platform name.")
    ] = None,
    order: Annotated[
        str | None,
        typer.Option(
            "--order", metavar="COLUMN", help="Numeric column to order messages by (default: file order)."
        ),
    ] = None,
    delimiter: Annotated[str, typer.Option("--delimiter", help="CSV delimiter.")] = ",",
    max_rows_in_memory: Annotated[
        int,
        typer.Option(
            "--max-rows-in-memory",
            min=1,
            help="Rows held before sorting a run to a temporary file (memory bound for grouping).",
        ),
    ] = 200_000,
    skip_invalid: SkipOption = False,
    max_messages: MaxMessagesOption = DEFAULT_LIMITS.max_messages,
    max_message_chars: MaxCharsOption = DEFAULT_LIMITS.max_message_chars,
    progress: ProgressOption = True,
) -> None:
    """Import a message-per-row export; rows are grouped into conversations by id.

    Rows of one conversation need not be adjacent: they are grouped by an external sort with
    bounded memory, so output is in conversation-id order. Errors name the line, row and column.
    With --skip-invalid, a bad row skips its whole conversation (and says so).
    """
    from grooming_risk.data.importers.tabular import ColumnMap, import_tabular, parse_label_map

    if len(delimiter) != 1:
        raise _fail(ValueError(f"--delimiter must be one character, got {delimiter!r}"))
    sink = _ErrorSink() if skip_invalid else None
    try:
        columns = ColumnMap(
            conversation_id=conversation_id,
            sender=sender,
            text=text,
            sent_at=sent_at,
            label=label,
            platform=platform,
            order=order,
        )
        with _byte_progress(file, progress) as on_progress:
            result = import_tabular(
                file,
                out,
                columns,
                fmt=table_format,
                label_map=parse_label_map(label_map),
                delimiter=delimiter,
                limits=Limits(max_messages=max_messages, max_message_chars=max_message_chars),
                on_error=sink,
                on_progress=on_progress,
                max_rows_in_memory=max_rows_in_memory,
            )
    except (InvalidRecordError, ValueError, OSError) as exc:
        raise _fail(exc) from None
    typer.echo(
        f"wrote {result.conversations} conversations ({result.messages} messages) to {result.output}; "
        f"card {result.card}; {result.skipped} conversations skipped"
    )


@import_app.command("chitchat")
def chitchat(
    out: OutOption,
    source: Annotated[
        Path | None,
        typer.Option(
            "--source",
            exists=True,
            dir_okay=False,
            help="The corpus's dataset.json (default: the one inside the installed chitchat-dataset package).",
        ),
    ] = None,
    skip_invalid: SkipOption = False,
    max_messages: MaxMessagesOption = DEFAULT_LIMITS.max_messages,
    max_message_chars: MaxCharsOption = DEFAULT_LIMITS.max_message_chars,
) -> None:
    """Import the Chit-Chat Challenge corpus (real benign chats, MIT) with its fixed split.

    Reads the corpus shipped inside the installed `chitchat-dataset` package (nothing is downloaded).
    Writes OUT with every kept conversation and OUT's .train/.val/.test siblings: a conversation
    whose original id's SHA-256 hex digest starts with 0, 1 or 2 is test (report only: never train
    or choose on it), 3 is val, the rest train. A conversation with any blocklisted term is dropped.
    """
    from grooming_risk.data.importers.chitchat import import_chitchat

    sink = _ErrorSink() if skip_invalid else None
    try:
        result = import_chitchat(
            out,
            source=source,
            limits=Limits(max_messages=max_messages, max_message_chars=max_message_chars),
            on_error=sink,
        )
    except (InvalidRecordError, ValueError, OSError) as exc:
        raise _fail(exc) from None
    counts = result.counts
    typer.echo(
        f"wrote {result.all.conversations} conversations ({result.all.messages} messages) to "
        f"{result.all.output}; dropped {counts.dropped_blocklist} with a blocklisted term and "
        f"{counts.dropped_invalid} invalid"
    )
    for split, part in result.splits.items():
        typer.echo(
            f"  {split}: {part.conversations} conversations ({part.messages} messages) -> {part.output}"
        )
    lengths = ", ".join(f"{k}: {v}" for k, v in counts.as_dict()["conversations_by_length"].items())
    typer.echo(f"  messages per conversation: {lengths}")
