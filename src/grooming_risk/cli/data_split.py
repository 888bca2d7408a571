"""`grooming-risk data split`: leakage-safe train/val/test files with cards and a manifest.

Registered by `cli/data.py` as `app.command("split")(split)`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from grooming_risk.contract.conversation import DEFAULT_LIMITS, Limits
from grooming_risk.io.errors import InvalidRecordError

T = TypeVar("T")


def split(
    input_path: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT", exists=True, dir_okay=False, help="Conversations: .jsonl, .jsonl.gz or .parquet."
        ),
    ],
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out", "-o", file_okay=False, help="Directory for train/val/test files and manifest.json."
        ),
    ],
    ratios: Annotated[
        str, typer.Option("--ratios", help="Shares of train,val,test; must sum to 1.")
    ] = "0.8,0.1,0.1",
    seed: Annotated[int, typer.Option("--seed", help="Seed for the order of equal-sized groups.")] = 13,
    out_format: Annotated[
        str | None,
        typer.Option("--format", help="jsonl, jsonl.gz or parquet (default: the input's format)."),
    ] = None,
    max_messages: Annotated[
        int, typer.Option("--max-messages", min=1, help="Longest conversation accepted (messages).")
    ] = DEFAULT_LIMITS.max_messages,
    max_message_chars: Annotated[
        int, typer.Option("--max-message-chars", min=1, help="Longest message accepted (characters).")
    ] = DEFAULT_LIMITS.max_message_chars,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Progress bars on stderr (only on a terminal).")
    ] = True,
) -> None:
    """Split conversations into train, val and test with no conversation and no sender in two splits.

    Conversations that share a sender are kept together; groups are placed so each split's label
    mix tracks the whole. Writes OUT/{train,val,test}.<ext>, a card beside each, and
    OUT/manifest.json (counts, sha256 digests, seed, ratios, parent digest, leakage check).
    Exits 1 if the leakage check finds anything shared.
    """
    from tqdm import tqdm

    from grooming_risk.data.splits import SPLIT_NAMES, parse_ratios, split_file

    def wrap(stream: Iterable[T], description: str) -> Iterable[T]:
        bar: Iterable[T] = tqdm(
            stream, desc=description, unit=" conv", file=sys.stderr, disable=None if progress else True
        )
        return bar

    try:
        manifest = split_file(
            input_path,
            out_dir,
            ratios=parse_ratios(ratios),
            seed=seed,
            fmt=out_format,
            limits=Limits(max_messages=max_messages, max_message_chars=max_message_chars),
            wrap=wrap,
        )
    except (InvalidRecordError, ValueError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None

    for name in SPLIT_NAMES:
        info = manifest.splits[name]
        labels = ", ".join(f"{label} {count}" for label, count in info.by_label.items()) or "none"
        typer.echo(
            f"{name:5s} {info.conversations:8d} conversations ({info.share:.1%})  {labels}  -> {info.file}"
        )
    leakage = manifest.leakage
    typer.echo(
        f"groups {manifest.groups} (largest {manifest.largest_group}); leakage: "
        f"{leakage['shared_conversations']} shared conversations, {leakage['shared_senders']} shared senders"
    )
    for warning in manifest.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"manifest {Path(out_dir) / 'manifest.json'}")
    if not leakage["ok"]:
        typer.echo("error: the written splits share conversations or senders (see manifest.json)", err=True)
        raise typer.Exit(code=1)
