"""Writing an imported dataset: staged beside the target, renamed into place, carded.

An import that fails half-way must not leave a plausible-looking truncated dataset behind, so
records go to `<out>.partial` and are renamed only once every record has been written; the card
(counts, content digest) is written last, from counts gathered while streaming.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from grooming_risk.contract.conversation import Conversation
from grooming_risk.data.cards import CountAccumulator, DatasetCard, write_card
from grooming_risk.io.formats import STDIO, detect_format
from grooming_risk.io.writers import RecordWriter


@dataclass(frozen=True)
class ImportResult:
    """Where an import went and what it holds; ids and counts only, never text."""

    output: Path
    card: Path
    conversations: int
    messages: int
    skipped: int = 0


def check_output_path(out: str | Path) -> Path:
    """Importers need a real file: the card and sidecars go beside it, and stdout has no name."""
    if str(out) == STDIO:
        raise ValueError("an import needs an output file (its card is written beside it), not '-'")
    detect_format(out)  # fail before reading a large corpus, not after
    return Path(out)


def write_dataset(
    out: str | Path, conversations: Iterable[Conversation], make_card: Callable[[], DatasetCard]
) -> ImportResult:
    """Stream `conversations` to `out` (format from its name), then write the card beside it.

    `make_card` is called only after the last record, so it can report what the stream counted
    (skipped records, predators seen); `counts` is filled from the records actually written.
    If the iterable raises, the partial file is removed and the error propagates.
    """
    target = check_output_path(out)
    fmt = detect_format(target)
    staged = target.with_name(target.name + ".partial")
    counts = CountAccumulator()
    try:
        with RecordWriter(staged, fmt=fmt.value) as writer:
            for conversation in conversations:
                writer.write(conversation)
                counts.add(conversation)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            staged.unlink()
        raise
    os.replace(staged, target)
    card = make_card()
    card.counts = counts.counts()
    card_file = write_card(target, card)
    return ImportResult(
        output=target, card=card_file, conversations=counts.conversations, messages=counts.messages
    )
