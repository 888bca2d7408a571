"""Streaming readers: constant memory on multi-GB files, every problem tied to a line.

JSON Lines are read one line at a time; Parquet one row group batch at a time. Each record is
validated into a `Conversation`; a bad record either raises `InvalidRecordError` or is handed to
`on_error` so the caller can report it and carry on (the batch scorer's `--skip-invalid`).
"""

from __future__ import annotations

import gzip
import json
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any, BinaryIO, cast

from pydantic import ValidationError

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.conversation import DEFAULT_LIMITS, Conversation, Limits
from grooming_risk.io.errors import InvalidRecordError, RecordError, errors_from_validation
from grooming_risk.io.formats import STDIO, Format, detect_format

RawRecord = tuple[int, dict[str, Any] | RecordError]

PARQUET_BATCH_ROWS = 1024


def _open_binary(path: str | Path, fmt: Format) -> BinaryIO:
    if str(path) == STDIO:
        return sys.stdin.buffer
    if fmt is Format.JSONL_GZ:
        return cast(BinaryIO, gzip.open(path, "rb"))
    return open(path, "rb")


_BOM = b"\xef\xbb\xbf"


def _parse_line(raw: bytes, source: str, line_no: int) -> dict[str, Any] | RecordError | None:
    """One JSON Lines record, or the one-line error that says why it is not one (None: blank line)."""

    def bad(problem: str) -> RecordError:
        return RecordError(source, line_no, None, None, problem)

    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return bad(f"not valid UTF-8 (byte {exc.start + 1} of the line)")
    if not line.strip():
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return bad(f"invalid JSON: {exc.msg} (column {exc.colno})")
    except RecursionError:
        return bad("JSON nested too deeply to read")
    if not isinstance(obj, dict):
        return bad(f"expected a JSON object, got {type(obj).__name__}")
    return obj


def _jsonl_records(path: str | Path, fmt: Format) -> Iterator[RawRecord]:
    """Lines are read as bytes and decoded one at a time, so a bad line costs only itself."""
    source = str(path)
    line_no = 0
    with _open_binary(path, fmt) as handle:
        try:
            for line_no, raw in enumerate(handle, start=1):
                # A UTF-8 byte-order mark (Windows tools write one) is not part of the first record.
                parsed = _parse_line(raw.removeprefix(_BOM) if line_no == 1 else raw, source, line_no)
                if parsed is not None:
                    yield line_no, parsed
        except (EOFError, OSError, zlib.error) as exc:
            # A truncated or corrupt gzip stream cannot be read past this point; what came before stands.
            yield (
                line_no + 1,
                RecordError(
                    source, line_no + 1, None, None, f"unreadable from here on: {type(exc).__name__}"
                ),
            )


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


def read_assessments(
    path: str | Path, on_error: Callable[[RecordError], None], *, fmt: str | None = None
) -> Iterator[tuple[int, Assessment]]:
    """Validated assessments with their line (or row) numbers, streaming; each problem goes to
    `on_error` (one call per field at fault) and only its own record is skipped."""
    source = str(path)
    for line, obj in iter_raw_records(path, fmt):
        if isinstance(obj, RecordError):
            on_error(obj)
            continue
        try:
            yield line, Assessment.model_validate(obj)
        except ValidationError as exc:
            cid = obj.get("conversation_id")
            for problem in errors_from_validation(
                exc, source=source, line=line, conversation_id=cid if isinstance(cid, str) and cid else None
            ):
                on_error(problem)


class ValidConversations:
    """The valid conversations of a file, in order; each invalid record is reported and counted.

    A second record with an id already seen is invalid too (scoring it would give one id two
    answers). Ids in `skip` (already scored by an interrupted run) are passed over silently. Reports
    go to `errors` as JSON Lines (one per problem, with line and field) or to stderr, and never carry
    message text. Use as a context manager so the error file is closed.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        limits: Limits = DEFAULT_LIMITS,
        errors: Path | None = None,
        skip: frozenset[str] = frozenset(),
    ) -> None:
        self.path = path
        self.limits = limits
        self.skip = skip
        self.invalid = 0
        self._seen: dict[str, int] = {}
        self._sink: IO[str] | None = open(errors, "w", encoding="utf-8") if errors else None  # noqa: SIM115

    def _report(self, problem: RecordError) -> None:
        if self._sink:
            self._sink.write(json.dumps(problem.to_dict()) + "\n")
        else:
            print(f"invalid: {problem}", file=sys.stderr)

    def __iter__(self) -> Iterator[Conversation]:
        source = str(self.path)
        for line, result in iter_with_errors(self.path, limits=self.limits):
            if isinstance(result, Conversation):
                cid = result.conversation_id
                first = self._seen.setdefault(cid, line)
                if first != line:
                    result = [RecordError(source, line, cid, "conversation_id", f"duplicate of line {first}")]
                elif cid in self.skip:
                    continue
                else:
                    yield result
                    continue
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
