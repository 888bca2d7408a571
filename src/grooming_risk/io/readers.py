"""Streaming readers: constant memory on multi-GB files, every problem tied to a line.

JSON Lines are read one line at a time; Parquet one row group batch at a time. Each record is
validated into a `Conversation`; a bad record either raises `InvalidRecordError` or is handed to
`on_error` so the caller can report it and carry on (the batch scorer's `--skip-invalid`).
"""

from __future__ import annotations

import gzip
import io
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from pydantic import ValidationError

from grooming_risk.contract.conversation import DEFAULT_LIMITS, Conversation, Limits
from grooming_risk.io.errors import InvalidRecordError, RecordError, errors_from_validation
from grooming_risk.io.formats import STDIO, Format, detect_format

RawRecord = tuple[int, dict[str, Any] | RecordError]

PARQUET_BATCH_ROWS = 1024


def _open_text(path: str | Path, fmt: Format) -> IO[str]:
    if str(path) == STDIO:
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8")
    if fmt is Format.JSONL_GZ:
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def _jsonl_records(path: str | Path, fmt: Format) -> Iterator[RawRecord]:
    source = str(path)
    with _open_text(path, fmt) as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield (
                    line_no,
                    RecordError(source, line_no, None, None, f"invalid JSON: {exc.msg} (column {exc.colno})"),
                )
                continue
            if not isinstance(obj, dict):
                yield (
                    line_no,
                    RecordError(
                        source, line_no, None, None, f"expected a JSON object, got {type(obj).__name__}"
                    ),
                )
                continue
            yield line_no, obj


def _parquet_records(path: str | Path) -> Iterator[RawRecord]:
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    row = 0
    for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
        for obj in batch.to_pylist():
            row += 1
            yield row, obj


def iter_raw_records(path: str | Path, fmt: str | None = None) -> Iterator[RawRecord]:
    """(line or row number, parsed object or the parse error), streaming."""
    resolved = detect_format(path, fmt)
    if str(path) != STDIO and not Path(path).exists():
        raise FileNotFoundError(f"{path}: no such file")
    if resolved is Format.PARQUET:
        yield from _parquet_records(path)
    else:
        yield from _jsonl_records(path, resolved)


def validate_record(
    obj: dict[str, Any], *, source: str, line: int, limits: Limits = DEFAULT_LIMITS
) -> Conversation | list[RecordError]:
    """Validate one parsed object; return the conversation or every problem found in it."""
    cid = obj.get("conversation_id")
    cid_str = cid if isinstance(cid, str) and cid else None
    try:
        return Conversation.model_validate(obj, context={"limits": limits})
    except ValidationError as exc:
        return errors_from_validation(exc, source=source, line=line, conversation_id=cid_str)


def read_conversations(
    path: str | Path,
    *,
    limits: Limits = DEFAULT_LIMITS,
    fmt: str | None = None,
    on_error: Callable[[RecordError], None] | None = None,
) -> Iterator[Conversation]:
    """Stream validated conversations.

    Without `on_error`, the first bad record raises `InvalidRecordError`. With it, each problem
    is passed to `on_error` (one call per field at fault) and the record is skipped, so the caller
    decides whether skipping is acceptable; nothing is dropped silently.
    """
    source = str(path)
    for line, obj in iter_raw_records(path, fmt):
        if isinstance(obj, RecordError):
            problems = [obj]
        else:
            result = validate_record(obj, source=source, line=line, limits=limits)
            if isinstance(result, Conversation):
                yield result
                continue
            problems = result
        if on_error is None:
            raise InvalidRecordError(problems[0])
        for problem in problems:
            on_error(problem)


def iter_with_errors(
    path: str | Path, *, limits: Limits = DEFAULT_LIMITS, fmt: str | None = None
) -> Iterator[tuple[int, Conversation | list[RecordError]]]:
    """Every record in order, valid or not: for front ends that must account for each line."""
    source = str(path)
    for line, obj in iter_raw_records(path, fmt):
        if isinstance(obj, RecordError):
            yield line, [obj]
        else:
            yield line, validate_record(obj, source=source, line=line, limits=limits)


class ValidConversations:
    """The valid conversations of a file, in order; each invalid record is reported and counted.

    Reports go to `errors` as JSON Lines (one per problem, with line and field) or to stderr, and
    never carry message text. Use as a context manager so the error file is closed.
    """

    def __init__(
        self, path: str | Path, *, limits: Limits = DEFAULT_LIMITS, errors: Path | None = None
    ) -> None:
        self.path = path
        self.limits = limits
        self.invalid = 0
        self._sink: IO[str] | None = open(errors, "w", encoding="utf-8") if errors else None  # noqa: SIM115

    def _report(self, problem: RecordError) -> None:
        if self._sink:
            self._sink.write(json.dumps(problem.to_dict()) + "\n")
        else:
            print(f"invalid: {problem}", file=sys.stderr)

    def __iter__(self) -> Iterator[Conversation]:
        for _, result in iter_with_errors(self.path, limits=self.limits):
            if isinstance(result, Conversation):
                yield result
            else:
                self.invalid += 1
                for problem in result:
                    self._report(problem)

    def __enter__(self) -> ValidConversations:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._sink:
            self._sink.close()
