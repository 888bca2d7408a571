"""One-message-per-row exports (CSV or JSON Lines) -> canonical conversation records.

Platforms export chats as tables: a row per message with a conversation id, a sender and the text,
often not sorted by conversation. The caller names the columns; rows are grouped into
conversations by id.

Grouping with bounded memory: rows are validated as they are read and collected in runs of at
most `max_rows_in_memory` rows; a full run is sorted by (conversation id, order, row) and spilled
to a private temporary directory. The sorted runs are then merged (`heapq.merge`), which brings
each conversation's rows together, so memory holds one run while reading and one row per run plus
one conversation while writing; every `MAX_OPEN_RUNS` runs are folded into one so the number of open
files stays bounded. An input that fits in one run is never spilled. Output is
therefore in conversation-id order, not file order. Spill files hold message text: they live in a
directory only the user can read (`tempfile.mkdtemp`) and are deleted when the import ends,
whether it succeeds or fails.

Messages within a conversation keep file order unless `order_column` is given, in which case they
are sorted by that column's numeric value (ties keep file order). Conversation-level columns
(label, platform) may appear on every row or only some; two different non-empty values for one
conversation are an error naming the second row.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import heapq
import itertools
import json
import math
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from grooming_risk.contract.conversation import DEFAULT_LIMITS, Conversation, Limits, Message
from grooming_risk.contract.taxonomy import Label
from grooming_risk.data.cards import DatasetCard
from grooming_risk.data.importers.output import ImportResult, check_output_path, write_dataset
from grooming_risk.io.errors import InvalidRecordError, RecordError

DEFAULT_MAX_ROWS_IN_MEMORY = 200_000
# Runs merged at once: bounded so a huge input does not exhaust open file handles.
MAX_OPEN_RUNS = 64


class TableFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


@dataclass(frozen=True)
class ColumnMap:
    """Which input column holds each field; only the first three are required."""

    conversation_id: str
    sender: str
    text: str
    sent_at: str | None = None
    label: str | None = None
    platform: str | None = None
    order: str | None = None

    def named(self) -> dict[str, str]:
        """Field -> column, for the columns that were given."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


def parse_label_map(spec: str | None) -> dict[str, Label]:
    """`"1=grooming,0=benign"` -> {"1": GROOMING, "0": BENIGN}; errors say which pair is wrong."""
    if not spec:
        return {}
    allowed = ", ".join(label.value for label in Label)
    out: dict[str, Label] = {}
    for pair in spec.split(","):
        raw, sep, label = pair.partition("=")
        if not sep or not raw.strip():
            raise ValueError(f"label map entry {pair!r}: expected RAW=LABEL, e.g. '1=grooming'")
        try:
            out[raw.strip()] = Label(label.strip().lower())
        except ValueError:
            raise ValueError(f"label map entry {pair!r}: label must be one of {allowed}") from None
    return out


def detect_table_format(path: str | Path, explicit: str | None = None) -> TableFormat:
    if explicit:
        try:
            return TableFormat(explicit.lower())
        except ValueError:
            raise ValueError(f"unknown table format {explicit!r}; expected csv or jsonl") from None
    name = str(path).lower().removesuffix(".gz")
    if name.endswith((".csv", ".tsv")):
        return TableFormat.CSV
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return TableFormat.JSONL
    raise ValueError(f"{path}: cannot tell the table format from the file name; pass --format csv|jsonl")


@dataclass
class TabularStats:
    rows: int = 0
    bad_rows: int = 0
    skipped_conversations: int = 0
    spilled_runs: int = 0


@dataclass(frozen=True)
class _Row:
    """One validated message row; `sort_key` groups a conversation and orders its messages."""

    conversation_id: str
    order: float
    row: int
    line: int
    message: dict[str, Any]
    label: str | None
    platform: str | None

    @property
    def sort_key(self) -> tuple[str, float, int]:
        return (self.conversation_id, self.order, self.row)

    def to_json(self) -> str:
        return json.dumps(
            [self.conversation_id, self.order, self.row, self.line, self.message, self.label, self.platform],
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> _Row:
        cid, order, row, line, message, label, platform = json.loads(text)
        return cls(cid, float(order), int(row), int(line), message, label, platform)


def _open_text(path: Path) -> IO[str]:
    # utf-8-sig: spreadsheet tools put a byte-order mark before the header.
    if str(path).lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _progress_lines(handle: IO[str], on_progress: Callable[[int], None] | None) -> Iterator[str]:
    for line in handle:
        if on_progress is not None:
            on_progress(len(line))
        yield line


# (row number, first file line, values by column or the problem with this row)
_RawRow = tuple[int, int, dict[str, Any] | RecordError]


def _csv_rows(
    path: Path, columns: ColumnMap, delimiter: str, on_progress: Callable[[int], None] | None
) -> Iterator[_RawRow]:
    source = str(path)
    with _open_text(path) as handle:
        reader = csv.reader(_progress_lines(handle, on_progress), delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            raise InvalidRecordError(
                RecordError(source, 1, None, None, "the file is empty (no header row)")
            ) from None
        except csv.Error as exc:
            raise InvalidRecordError(
                RecordError(source, 1, None, None, f"invalid CSV header: {exc}")
            ) from None
        missing = [c for c in columns.named().values() if c not in header]
        if missing:
            raise InvalidRecordError(
                RecordError(
                    source,
                    1,
                    None,
                    ", ".join(missing),
                    f"column not in the header (it has: {', '.join(header)})",
                )
            )
        index = {name: header.index(name) for name in columns.named().values()}
        row_no = 0
        while True:
            first_line = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                row_no += 1
                yield (
                    row_no,
                    first_line,
                    RecordError(source, first_line, None, None, f"invalid CSV (row {row_no}): {exc}"),
                )
                continue
            if not values:  # a blank line, not a row
                continue
            row_no += 1
            if len(values) != len(header):
                yield (
                    row_no,
                    first_line,
                    RecordError(
                        source,
                        first_line,
                        None,
                        None,
                        f"row {row_no} has {len(values)} columns, the header has {len(header)}",
                    ),
                )
                continue
            yield row_no, first_line, {name: values[i] for name, i in index.items()}


def _jsonl_rows(path: Path, on_progress: Callable[[int], None] | None) -> Iterator[_RawRow]:
    source = str(path)
    with _open_text(path) as handle:
        for line_no, line in enumerate(_progress_lines(handle, on_progress), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield (
                    line_no,
                    line_no,
                    RecordError(source, line_no, None, None, f"invalid JSON: {exc.msg} (column {exc.colno})"),
                )
                continue
            if not isinstance(obj, dict):
                yield (
                    line_no,
                    line_no,
                    RecordError(
                        source, line_no, None, None, f"expected a JSON object, got {type(obj).__name__}"
                    ),
                )
                continue
            yield line_no, line_no, obj


def _as_id(value: Any) -> str | None:
    """Ids may be numbers in JSON; text ids are stripped; empty means absent."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


def _epoch_if_numeric(value: Any) -> Any:
    # CSV cells are text: "1700000000" means epoch seconds, like a JSON number does.
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped:
            return None
        try:
            return float(stripped)
        except ValueError:
            return stripped
    return value


class _RowParser:
    def __init__(
        self, source: str, columns: ColumnMap, label_map: Mapping[str, Label], limits: Limits
    ) -> None:
        self.source = source
        self.columns = columns
        self.label_map = dict(label_map)
        self.limits = limits

    def _error(self, line: int, row: int, cid: str | None, column: str | None, problem: str) -> RecordError:
        return RecordError(self.source, line, cid, column, f"{problem} (row {row})")

    def parse(self, row: int, line: int, values: dict[str, Any]) -> _Row | list[RecordError]:
        cols = self.columns
        cid = _as_id(values.get(cols.conversation_id))
        if cid is None:
            problem = (
                "is required but missing"
                if values.get(cols.conversation_id) is None
                else "expected a non-empty text or integer id"
            )
            return [self._error(line, row, None, cols.conversation_id, problem)]
        errors: list[RecordError] = []
        raw_sender = values.get(cols.sender)
        sender = _as_id(raw_sender)
        if sender is None:
            problem = "is required but missing" if raw_sender is None else "expected a non-empty sender id"
            errors.append(self._error(line, row, cid, cols.sender, problem))
        text = values.get(cols.text)
        # A message with no text (an attachment, a deleted message) is still a turn of the chat.
        if text is None:
            text = ""
        if not isinstance(text, str):
            errors.append(self._error(line, row, cid, cols.text, f"expected text, got {type(text).__name__}"))
        sent_at = _epoch_if_numeric(values.get(cols.sent_at)) if cols.sent_at else None
        order = 0.0
        if cols.order:
            order_value = _epoch_if_numeric(values.get(cols.order))
            if (
                isinstance(order_value, bool)
                or not isinstance(order_value, int | float)
                or not math.isfinite(order_value)
            ):
                errors.append(
                    self._error(line, row, cid, cols.order, "expected a number to order messages by")
                )
            else:
                order = float(order_value)
        label = self._label(values.get(cols.label) if cols.label else None, line, row, cid, errors)
        platform = _as_id(values.get(cols.platform)) if cols.platform else None
        if errors:
            return errors
        try:
            message = Message.model_validate(
                {"sender": sender, "text": text, "sent_at": sent_at}, context={"limits": self.limits}
            )
        except ValidationError as exc:
            by_field = {"sender": cols.sender, "text": cols.text, "sent_at": cols.sent_at}
            return [
                self._error(
                    line,
                    row,
                    cid,
                    by_field.get(str(err["loc"][0])) if err["loc"] else None,
                    str(err["msg"]).removeprefix("Value error, "),
                )
                for err in exc.errors(include_input=False, include_url=False)
            ]
        except (OverflowError, OSError):
            # The contract lets these escape for epochs beyond the platform's time range.
            return [self._error(line, row, cid, cols.sent_at, "epoch seconds out of range")]
        return _Row(cid, order, row, line, message.model_dump(mode="json"), label, platform)

    def _label(self, raw: Any, line: int, row: int, cid: str, errors: list[RecordError]) -> str | None:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        key = str(raw).strip().lower() if isinstance(raw, bool) else str(raw).strip()
        if self.label_map:
            if key in self.label_map:
                return self.label_map[key].value
            expected = ", ".join(repr(k) for k in self.label_map)
            errors.append(
                self._error(line, row, cid, self.columns.label, f"value not in the label map ({expected})")
            )
            return None
        try:
            return Label(key.lower()).value
        except ValueError:
            allowed = ", ".join(label.value for label in Label)
            errors.append(
                self._error(
                    line, row, cid, self.columns.label, f"expected one of {allowed} (or pass a label map)"
                )
            )
            return None


@dataclass
class _Spill:
    """Sorted runs on disk, in a private directory removed by `close`."""

    directory: Path | None = None
    runs: list[Path] = field(default_factory=list)

    written: int = 0

    def _new_path(self) -> Path:
        if self.directory is None:
            self.directory = Path(tempfile.mkdtemp(prefix="grooming-risk-import-"))
        self.written += 1
        return self.directory / f"run-{self.written:05d}.jsonl"

    def write_run(self, rows: list[_Row]) -> None:
        path = self._new_path()
        with open(path, "w", encoding="utf-8") as handle:
            for row in sorted(rows, key=lambda r: r.sort_key):
                handle.write(row.to_json() + "\n")
        self.runs.append(path)
        if len(self.runs) >= MAX_OPEN_RUNS:
            # Fold the runs so far into one, so the final merge never needs more open files.
            merged_path = self._new_path()
            with open(merged_path, "w", encoding="utf-8") as handle:
                for row in self._merge(self.runs):
                    handle.write(row.to_json() + "\n")
            for old in self.runs:
                old.unlink()
            self.runs = [merged_path]

    @staticmethod
    def _merge(runs: list[Path]) -> Iterator[_Row]:
        with contextlib.ExitStack() as stack:
            handles = [stack.enter_context(open(p, encoding="utf-8")) for p in runs]
            streams = [(_Row.from_json(line) for line in h) for h in handles]
            yield from heapq.merge(*streams, key=lambda r: r.sort_key)

    def merged(self) -> Iterator[_Row]:
        return self._merge(self.runs)

    def close(self) -> None:
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None


def iter_tabular(
    path: str | Path,
    columns: ColumnMap,
    *,
    fmt: str | None = None,
    label_map: Mapping[str, Label] | None = None,
    delimiter: str = ",",
    limits: Limits = DEFAULT_LIMITS,
    on_error: Callable[[RecordError], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    max_rows_in_memory: int = DEFAULT_MAX_ROWS_IN_MEMORY,
    stats: TabularStats | None = None,
) -> Iterator[Conversation]:
    """Conversations built from a message-per-row file, in conversation-id order.

    A bad row raises `InvalidRecordError` unless `on_error` is given; then every problem goes to
    `on_error` and the whole conversation the row belongs to is skipped (a conversation missing a
    message would mislead the model), counted in `stats.skipped_conversations`.
    """
    if max_rows_in_memory < 1:
        raise ValueError(f"max_rows_in_memory must be >= 1, got {max_rows_in_memory}")
    source_path = Path(path)
    if not source_path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    stats = stats if stats is not None else TabularStats()
    table_format = detect_table_format(path, fmt)
    parser = _RowParser(str(path), columns, label_map or {}, limits)
    raw_rows = (
        _csv_rows(source_path, columns, delimiter, on_progress)
        if table_format is TableFormat.CSV
        else _jsonl_rows(source_path, on_progress)
    )

    def report(problems: list[RecordError]) -> None:
        if on_error is None:
            raise InvalidRecordError(problems[0])
        for problem in problems:
            on_error(problem)

    # Ids of conversations with a bad row: small (ids only) and needed to skip them whole.
    bad_conversations: set[str] = set()
    spill = _Spill()
    buffer: list[_Row] = []
    try:
        for row_no, line, values in raw_rows:
            stats.rows += 1
            parsed = parser.parse(row_no, line, values) if isinstance(values, dict) else [values]
            if isinstance(parsed, list):
                stats.bad_rows += 1
                if parsed[0].conversation_id is not None:
                    bad_conversations.add(parsed[0].conversation_id)
                report(parsed)
                continue
            buffer.append(parsed)
            if len(buffer) >= max_rows_in_memory:
                spill.write_run(buffer)
                buffer = []
        if spill.runs:
            if buffer:
                spill.write_run(buffer)
            buffer = []
            rows: Iterable[_Row] = spill.merged()
        else:
            buffer.sort(key=lambda r: r.sort_key)
            rows = buffer
        stats.spilled_runs = spill.written
        for cid, group in itertools.groupby(rows, key=lambda r: r.conversation_id):
            if cid in bad_conversations:
                continue
            result = _build(str(path), cid, list(group), columns, limits)
            if isinstance(result, Conversation):
                yield result
            else:
                stats.skipped_conversations += 1
                report(result)
        # Rows without a conversation id belong to no conversation: they are counted in bad_rows.
        stats.skipped_conversations += len(bad_conversations)
    finally:
        spill.close()


def _conversation_value(
    source: str, cid: str, rows: list[_Row], attr: str, column: str | None
) -> tuple[str | None, RecordError | None]:
    """The one value a conversation-level column has across the conversation's rows."""
    first: _Row | None = None
    for row in rows:
        value = getattr(row, attr)
        if value is None:
            continue
        if first is None:
            first = row
        elif getattr(first, attr) != value:
            problem = (
                f"{value!r} conflicts with {getattr(first, attr)!r} on line {first.line} "
                f"for the same conversation (row {row.row})"
            )
            return None, RecordError(source, row.line, cid, column, problem)
    return (getattr(first, attr) if first is not None else None), None


def _build(
    source: str, cid: str, rows: list[_Row], columns: ColumnMap, limits: Limits
) -> Conversation | list[RecordError]:
    label, label_error = _conversation_value(source, cid, rows, "label", columns.label)
    platform, platform_error = _conversation_value(source, cid, rows, "platform", columns.platform)
    errors = [e for e in (label_error, platform_error) if e is not None]
    if errors:
        return errors
    senders = list(dict.fromkeys(r.message["sender"] for r in rows))
    record = {
        "conversation_id": cid,
        "messages": [r.message for r in rows],
        "participants": [{"id": s} for s in senders],
        "label": label,
        "platform": platform,
    }
    try:
        return Conversation.model_validate(record, context={"limits": limits})
    except ValidationError as exc:
        out = []
        for err in exc.errors(include_input=False, include_url=False):
            loc = tuple(err["loc"])
            at = rows[loc[1]] if len(loc) >= 2 and isinstance(loc[1], int) and loc[1] < len(rows) else rows[0]
            out.append(
                RecordError(
                    source,
                    at.line,
                    cid,
                    columns.conversation_id if loc == ("messages",) else ".".join(str(p) for p in loc),
                    f"{str(err['msg']).removeprefix('Value error, ')} (row {at.row})",
                )
            )
        return out


def import_tabular(
    path: str | Path,
    out: str | Path,
    columns: ColumnMap,
    *,
    fmt: str | None = None,
    label_map: Mapping[str, Label] | None = None,
    delimiter: str = ",",
    limits: Limits = DEFAULT_LIMITS,
    on_error: Callable[[RecordError], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    max_rows_in_memory: int = DEFAULT_MAX_ROWS_IN_MEMORY,
) -> ImportResult:
    """Import a message-per-row table to `out` (.jsonl, .jsonl.gz or .parquet) with its card."""
    target = check_output_path(out)
    stats = TabularStats()
    table_format = detect_table_format(path, fmt)
    conversations = iter_tabular(
        path,
        columns,
        fmt=table_format.value,
        label_map=label_map,
        delimiter=delimiter,
        limits=limits,
        on_error=on_error,
        on_progress=on_progress,
        max_rows_in_memory=max_rows_in_memory,
        stats=stats,
    )

    def make_card() -> DatasetCard:
        return DatasetCard(
            name=target.name.split(".")[0],
            source="tabular",
            parameters={
                "input_file": Path(path).name,
                "input_format": table_format.value,
                "columns": columns.named(),
                "label_map": {k: v.value for k, v in (label_map or {}).items()},
                "rows": stats.rows,
                "bad_rows": stats.bad_rows,
                "skipped_conversations": stats.skipped_conversations,
                "max_messages": limits.max_messages,
                "max_message_chars": limits.max_message_chars,
            },
            notes="Conversations are written in conversation-id order; messages keep file order"
            + (f" sorted by column {columns.order!r}." if columns.order else "."),
        )

    result = write_dataset(target, conversations, make_card)
    return ImportResult(
        output=result.output,
        card=result.card,
        conversations=result.conversations,
        messages=result.messages,
        skipped=stats.skipped_conversations,
    )


__all__ = [
    "ColumnMap",
    "TableFormat",
    "TabularStats",
    "detect_table_format",
    "import_tabular",
    "iter_tabular",
    "parse_label_map",
]
