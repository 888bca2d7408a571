"""Conversations <-> Hugging Face `datasets.Dataset`, one row per conversation.

Messages are a list of structs and every nullable field has an explicit type, so a dataset whose
first rows have no timestamps, categories or labels still has the right schema (Arrow would
otherwise infer `null` columns and reject later values). `sent_at` is a UTC timestamp column.

`datasets` is a training extra: it is imported inside the functions, never at module import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from grooming_risk.contract.conversation import DEFAULT_LIMITS, Conversation, Limits
from grooming_risk.io.errors import InvalidRecordError, RecordError, errors_from_validation

if TYPE_CHECKING:
    import datasets

DATASET_SOURCE = "<datasets.Dataset>"

# Fields whose contract default is not None: a null cell means "not given", not "null".
_CONVERSATION_DEFAULTED = ("participants", "hard_negative", "writers")
_MESSAGE_DEFAULTED = ("categories",)


def conversation_features() -> datasets.Features:
    """The explicit schema of a conversation dataset (field names follow the contract)."""
    from datasets import Features, Value

    return Features(
        {
            "conversation_id": Value("string"),
            "messages": [
                {
                    "sender": Value("string"),
                    "text": Value("string"),
                    "sent_at": Value("timestamp[us, tz=UTC]"),
                    "categories": [Value("string")],
                }
            ],
            "platform": Value("string"),
            "language": Value("string"),
            "participants": [{"id": Value("string"), "declared_age": Value("int32")}],
            "label": Value("string"),
            "first_risk_index": Value("int32"),
            "hard_negative": Value("bool"),
            "writers": [Value("string")],
        }
    )


def conversation_to_row(conversation: Conversation) -> dict[str, Any]:
    """One dataset row; enums become their string values, times stay datetimes."""
    return {
        "conversation_id": conversation.conversation_id,
        "messages": [
            {
                "sender": m.sender,
                "text": m.text,
                "sent_at": m.sent_at,
                "categories": [c.value for c in m.categories],
            }
            for m in conversation.messages
        ],
        "platform": conversation.platform,
        "language": conversation.language,
        "participants": [{"id": p.id, "declared_age": p.declared_age} for p in conversation.participants],
        "label": conversation.label.value if conversation.label is not None else None,
        "first_risk_index": conversation.first_risk_index,
        "hard_negative": conversation.hard_negative,
        "writers": list(conversation.writers),
    }


def to_hf_dataset(conversations: Iterable[Conversation]) -> datasets.Dataset:
    """An in-memory `Dataset` of the given conversations (for files, see `file_to_hf_dataset`)."""
    from datasets import Dataset

    features = conversation_features()
    rows = [conversation_to_row(c) for c in conversations]
    if not rows:  # from_list([]) would drop the columns, and with them the schema
        return Dataset.from_dict({name: [] for name in features}, features=features)
    return Dataset.from_list(rows, features=features)


def _rows_from_file(
    path: str, max_messages: int, max_message_chars: int, content_sha256: str
) -> Iterator[dict[str, Any]]:
    # Module-level with plain arguments so `datasets` can fingerprint it for its cache; the
    # digest is unused here but part of that fingerprint, so an edited file is not served stale.
    del content_sha256
    from grooming_risk.io.readers import read_conversations

    limits = Limits(max_messages=max_messages, max_message_chars=max_message_chars)
    for conversation in read_conversations(path, limits=limits):
        yield conversation_to_row(conversation)


def file_to_hf_dataset(
    path: str | Path, *, limits: Limits = DEFAULT_LIMITS, cache_dir: str | Path | None = None
) -> datasets.Dataset:
    """Stream a conversation file (JSONL, .jsonl.gz, Parquet) into an Arrow-backed `Dataset`.

    Rows go through `Dataset.from_generator`, so memory stays bounded; the Arrow file lands in
    `cache_dir` (default: the `datasets` cache), keyed by the file's path, limits and content
    digest. A bad record raises `InvalidRecordError`.
    """
    from datasets import Dataset

    from grooming_risk.data.cards import file_sha256

    if not Path(path).exists():
        raise FileNotFoundError(f"{path}: no such file")
    return Dataset.from_generator(
        _rows_from_file,
        features=conversation_features(),
        gen_kwargs={
            "path": str(Path(path).resolve()),
            "max_messages": limits.max_messages,
            "max_message_chars": limits.max_message_chars,
            "content_sha256": file_sha256(path),
        },
        cache_dir=str(cache_dir) if cache_dir is not None else None,
    )


def _without_nulls(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if not (v is None and k in _CONVERSATION_DEFAULTED)}
    messages = out.get("messages")
    if isinstance(messages, list):
        out["messages"] = [
            {k: v for k, v in m.items() if not (v is None and k in _MESSAGE_DEFAULTED)}
            if isinstance(m, Mapping)
            else m
            for m in messages
        ]
    return out


def from_hf_dataset(
    dataset: Iterable[Mapping[str, Any]],
    *,
    limits: Limits = DEFAULT_LIMITS,
    on_error: Callable[[RecordError], None] | None = None,
    source: str = DATASET_SOURCE,
) -> Iterator[Conversation]:
    """Validated conversations from a `Dataset`/`IterableDataset` (or any iterable of row dicts).

    Extra columns are ignored, as in every reader. A bad row raises `InvalidRecordError` naming
    its 1-based row number and field, unless `on_error` is given (then it is reported and skipped).
    """
    with_format = getattr(dataset, "with_format", None)
    rows: Iterable[Mapping[str, Any]] = with_format(None) if callable(with_format) else dataset
    for row_no, row in enumerate(rows, start=1):
        cid = row.get("conversation_id")
        try:
            yield Conversation.model_validate(_without_nulls(row), context={"limits": limits})
        except ValidationError as exc:
            problems = errors_from_validation(
                exc, source=source, line=row_no, conversation_id=cid if isinstance(cid, str) and cid else None
            )
            if on_error is None:
                raise InvalidRecordError(problems[0]) from None
            for problem in problems:
                on_error(problem)
