"""Real benign chats: the Chit-Chat Challenge corpus (PyPI `chitchat-dataset`, MIT licence).

7,168 conversations between adults getting to know each other on a chat app, written by people,
all benign. They teach the model what ordinary human chat looks like (the generator's style is not
it) and measure false alarms on text nobody in this project wrote.

The corpus ships inside the installed package as `dataset.json`: nothing is downloaded. Each
conversation is a list of turns, each turn a list of utterances `{text, timestamp, sender}`; the
utterances become the messages, in order, with their real (anonymous) sender ids and times.

**The split is a rule, not a draw**, so anyone reproduces it without our files: a conversation whose
original id's SHA-256 hex digest starts with 0, 1 or 2 is `test` (never trained on, never used to
choose anything), 3 is `val`, anything else may be trained on.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from grooming_risk.contract.conversation import DEFAULT_LIMITS, Conversation, Limits
from grooming_risk.data.blocklist import find_terms
from grooming_risk.data.cards import DatasetCard
from grooming_risk.data.importers.output import ImportResult, check_output_path, write_dataset
from grooming_risk.io.errors import InvalidRecordError, RecordError, errors_from_validation

RealSplit = Literal["train", "val", "test"]
REAL_SPLITS: tuple[RealSplit, ...] = ("train", "val", "test")
PACKAGE = "chitchat-dataset"
ID_PREFIX = "chitchat-"
# The chat app was one-to-one between two strangers.
PLATFORM = "direct_message"


def real_chat_split(original_id: str) -> RealSplit:
    """The fixed split of a real conversation, from the first hex digit of SHA-256(original id)."""
    first = hashlib.sha256(original_id.encode("utf-8")).hexdigest()[0]
    if first in "012":
        return "test"
    if first == "3":
        return "val"
    return "train"


def original_id(conversation_id: str) -> str:
    """The corpus's own id of an imported conversation (the split is a function of it)."""
    return conversation_id.removeprefix(ID_PREFIX)


def split_path(out: str | Path, split: str) -> Path:
    """`data/real/chitchat.jsonl` -> `data/real/chitchat.<split>.jsonl` (any extension kept)."""
    path = Path(out)
    stem, dot, rest = path.name.partition(".")
    return path.with_name(f"{stem}.{split}{dot}{rest}")


def package_dataset_path() -> Path:
    """`dataset.json` inside the installed `chitchat-dataset` package."""
    from importlib.util import find_spec

    spec = find_spec("chitchat_dataset")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"the {PACKAGE} package is not installed: pip install 'grooming-risk[train]' "
            f"(or pip install {PACKAGE}), or pass --source FILE"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "dataset.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing from the installed {PACKAGE} package")
    return path


def package_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(PACKAGE)
    except PackageNotFoundError:
        return None


@dataclass
class ChitchatCounts:
    """What the import kept and dropped; ids and counts only."""

    kept: Counter[str] = field(default_factory=Counter)  # by split
    messages: Counter[str] = field(default_factory=Counter)
    dropped_blocklist: int = 0
    dropped_invalid: int = 0
    lengths: Counter[str] = field(default_factory=Counter)  # length bucket -> conversations

    def as_dict(self) -> dict[str, Any]:
        return {
            "kept_by_split": dict(self.kept),
            "messages_by_split": dict(self.messages),
            "dropped_blocklist": self.dropped_blocklist,
            "dropped_invalid": self.dropped_invalid,
            "conversations_by_length": dict(sorted(self.lengths.items(), key=lambda kv: _bucket_key(kv[0]))),
        }


_BUCKETS = ((1, "1"), (2, "2-9"), (10, "10-49"), (50, "50-149"), (150, "150+"))


def _bucket(n: int) -> str:
    label = _BUCKETS[0][1]
    for low, name in _BUCKETS:
        if n >= low:
            label = name
    return label


def _bucket_key(label: str) -> int:
    return next(i for i, (_, name) in enumerate(_BUCKETS) if name == label)


def _record(key: str, raw: Any, source: str, line: int) -> dict[str, Any]:
    cid = f"{ID_PREFIX}{key}"
    if not isinstance(raw, dict) or not isinstance(raw.get("messages"), list):
        raise InvalidRecordError(RecordError(source, line, cid, "messages", "expected a list of turns"))
    messages = []
    for t, turn in enumerate(raw["messages"]):
        if not isinstance(turn, list):
            raise InvalidRecordError(
                RecordError(source, line, cid, f"messages[{t}]", "expected a list of utterances")
            )
        for u, utterance in enumerate(turn):
            if not isinstance(utterance, dict):
                raise InvalidRecordError(
                    RecordError(source, line, cid, f"messages[{t}][{u}]", "expected an utterance object")
                )
            messages.append(
                {
                    "sender": utterance.get("sender"),
                    "text": utterance.get("text"),
                    "sent_at": utterance.get("timestamp"),
                }
            )
    participants = [{"id": s} for s in dict.fromkeys(m["sender"] for m in messages) if isinstance(s, str)]
    return {
        "conversation_id": cid,
        "messages": messages,
        "platform": PLATFORM,
        "language": "en",
        "participants": participants,
        "label": "benign",
        "hard_negative": False,
    }


def read_chitchat(
    path: str | Path,
    *,
    limits: Limits = DEFAULT_LIMITS,
    counts: ChitchatCounts | None = None,
    on_error: Callable[[RecordError], None] | None = None,
) -> Iterator[tuple[RealSplit, Conversation]]:
    """Yield (split, conversation) for every valid, blocklist-clean conversation of the corpus file.

    A conversation with a blocklisted term anywhere is dropped whole (and counted); an invalid one
    raises `InvalidRecordError`, or is reported to `on_error`, counted and skipped.
    """
    counts = counts if counts is not None else ChitchatCounts()
    source = str(path)
    with open(path, encoding="utf-8") as handle:
        corpus = json.load(handle)
    if not isinstance(corpus, Mapping):
        raise InvalidRecordError(RecordError(source, 1, None, None, "expected an object of conversations"))
    # The corpus is one JSON object; "line" in errors is the conversation's position in it.
    for position, (key, raw) in enumerate(corpus.items(), 1):
        try:
            record = _record(str(key), raw, source, position)
            conversation = Conversation.model_validate(record, context={"limits": limits})
        except InvalidRecordError as exc:
            if on_error is None:
                raise
            counts.dropped_invalid += 1
            on_error(exc.error)
            continue
        except ValidationError as exc:
            error = errors_from_validation(
                exc, source=source, line=position, conversation_id=f"{ID_PREFIX}{key}"
            )[0]
            if on_error is None:
                raise InvalidRecordError(error) from None
            counts.dropped_invalid += 1
            on_error(error)
            continue
        if any(find_terms(m.text) for m in conversation.messages):
            counts.dropped_blocklist += 1
            continue
        split = real_chat_split(str(key))
        counts.kept[split] += 1
        counts.messages[split] += len(conversation.messages)
        counts.lengths[_bucket(len(conversation.messages))] += 1
        yield split, conversation


@dataclass(frozen=True)
class ChitchatImport:
    """The whole corpus and its three split files, with what was dropped."""

    all: ImportResult
    splits: dict[RealSplit, ImportResult]
    counts: ChitchatCounts


def import_chitchat(
    out: str | Path,
    *,
    source: str | Path | None = None,
    limits: Limits = DEFAULT_LIMITS,
    on_error: Callable[[RecordError], None] | None = None,
) -> ChitchatImport:
    """Write OUT (every kept conversation) and OUT's `.train/.val/.test` siblings, each with a card."""
    target = check_output_path(out)
    path = Path(source) if source is not None else package_dataset_path()
    counts = ChitchatCounts()
    rows = list(read_chitchat(path, limits=limits, counts=counts, on_error=on_error))
    version = package_version()

    def card(name: str, split: str | None) -> Callable[[], DatasetCard]:
        def make() -> DatasetCard:
            return DatasetCard(
                name=name,
                source="chitchat",
                parameters={
                    "package": PACKAGE,
                    "package_version": version,
                    "split": split or "all",
                    "split_rule": "sha256(original id) hex digest starts with 0-2: test; 3: val; else train",
                    **counts.as_dict(),
                },
                notes=(
                    f"{counts.dropped_blocklist} conversations dropped for a blocklisted term, "
                    f"{counts.dropped_invalid} invalid. The test split is for reporting only: never train, "
                    "tune or choose on it."
                ),
            )

        return make

    every = write_dataset(target, (c for _, c in rows), card("chitchat", None))
    splits = {
        split: write_dataset(
            split_path(target, split), (c for s, c in rows if s == split), card(f"chitchat-{split}", split)
        )
        for split in REAL_SPLITS
    }
    return ChitchatImport(all=every, splits=splits, counts=counts)
