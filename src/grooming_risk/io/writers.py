"""Streaming writers for pydantic records: JSON Lines, gzip JSON Lines or Parquet, or stdout."""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from pydantic import BaseModel

from grooming_risk.io.formats import STDIO, Format, detect_format

PARQUET_ROWS_PER_GROUP = 2048


class RecordWriter:
    """Write records one at a time; Parquet is buffered per row group so memory stays bounded.

    Parquet columns come from the first row group. Nested values (messages, categories) are
    stored as Arrow structs/lists, which Spark and pandas read natively.
    """

    def __init__(self, path: str | Path, fmt: str | None = None) -> None:
        self.path = str(path)
        self.format = detect_format(path, fmt)
        self.count = 0
        self._text: IO[str] | None = None
        self._buffer: list[dict[str, Any]] = []
        self._parquet: Any = None
        self._schema: Any = None
        if self.format is Format.PARQUET:
            if self.path == STDIO:
                raise ValueError("Parquet cannot be written to stdout; give a file name")
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        elif self.path == STDIO:
            self._text = sys.stdout
        else:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            if self.format is Format.JSONL_GZ:
                self._text = gzip.open(self.path, "wt", encoding="utf-8")  # noqa: SIM115
            else:
                self._text = open(self.path, "w", encoding="utf-8")  # noqa: SIM115

    def write(self, record: BaseModel | dict[str, Any]) -> None:
        obj = record.model_dump(mode="json", exclude_none=False) if isinstance(record, BaseModel) else record
        self.count += 1
        if self._text is not None:
            self._text.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")
            return
        self._buffer.append(obj)
        if len(self._buffer) >= PARQUET_ROWS_PER_GROUP:
            self._flush_parquet()

    def _flush_parquet(self) -> None:
        if not self._buffer:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._schema is None:
            table = pa.Table.from_pylist(self._buffer)
            self._schema = table.schema
            self._parquet = pq.ParquetWriter(self.path, self._schema)
        else:
            table = pa.Table.from_pylist(self._buffer, schema=self._schema)
        self._parquet.write_table(table)
        self._buffer = []

    def close(self) -> None:
        if self.format is Format.PARQUET:
            self._flush_parquet()
            if self._parquet is not None:
                self._parquet.close()
            elif self.count == 0:
                import pyarrow as pa
                import pyarrow.parquet as pq

                pq.write_table(pa.table({}), self.path)
        elif self._text is not None:
            if self._text is sys.stdout:
                self._text.flush()
            else:
                self._text.close()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def write_records(
    path: str | Path, records: Iterable[BaseModel | dict[str, Any]], fmt: str | None = None
) -> int:
    """Write every record; return how many were written."""
    with RecordWriter(path, fmt) as writer:
        for record in records:
            writer.write(record)
    return writer.count
