"""Streaming writers for pydantic records: JSON Lines, gzip JSON Lines or Parquet, or stdout."""

from __future__ import annotations

import gzip
import io
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from pydantic import BaseModel

from grooming_risk.io.formats import STDIO, Format, detect_format

PARQUET_ROWS_PER_GROUP = 2048


def arrow_schema_for(record_type: type[BaseModel]) -> Any:
    """The Parquet schema of a contract record, or None for other records (inferred instead)."""
    import pyarrow as pa

    from grooming_risk.contract.assessment import Assessment
    from grooming_risk.contract.conversation import Conversation
    from grooming_risk.contract.sender_profile import SenderProfile
    from grooming_risk.contract.taxonomy import RISK_CATEGORIES

    if issubclass(record_type, Conversation):
        message = pa.struct(
            [
                ("sender", pa.string()),
                ("text", pa.string()),
                ("sent_at", pa.string()),
                ("categories", pa.list_(pa.string())),
            ]
        )
        participant = pa.struct([("id", pa.string()), ("declared_age", pa.int32())])
        return pa.schema(
            [
                ("conversation_id", pa.string()),
                ("messages", pa.list_(message)),
                ("platform", pa.string()),
                ("language", pa.string()),
                ("participants", pa.list_(participant)),
                ("label", pa.string()),
                ("first_risk_index", pa.int32()),
                ("hard_negative", pa.bool_()),
                ("writers", pa.list_(pa.string())),
            ]
        )
    if issubclass(record_type, Assessment):
        evidence = pa.struct(
            [("index", pa.int32()), ("score", pa.float64()), ("categories", pa.list_(pa.string()))]
        )
        return pa.schema(
            [
                ("conversation_id", pa.string()),
                ("risk", pa.float64()),
                ("label", pa.string()),
                ("flagged", pa.bool_()),
                ("urgent", pa.bool_()),
                # A struct, not a map: it reads back as a dict, which the record validates as is.
                ("categories", pa.struct([(c, pa.float64()) for c in RISK_CATEGORIES])),
                ("categories_present", pa.list_(pa.string())),
                ("first_alert_index", pa.int32()),
                ("evidence", pa.list_(evidence)),
                ("model_version", pa.string()),
                ("risk_by_message", pa.list_(pa.float64())),
                ("risk_by_message_start", pa.int32()),
                (
                    "senders",
                    pa.list_(
                        pa.struct(
                            [
                                ("sender", pa.string()),
                                ("role", pa.string()),
                                ("risk", pa.float64()),
                                ("messages", pa.int32()),
                                ("categories", pa.list_(pa.string())),
                                ("evidence", pa.list_(evidence)),
                                ("first_sent_at", pa.string()),
                                ("last_sent_at", pa.string()),
                            ]
                        )
                    ),
                ),
                (
                    "actions",
                    pa.list_(
                        pa.struct(
                            [
                                ("id", pa.string()),
                                ("audience", pa.string()),
                                ("title", pa.string()),
                                ("url", pa.string()),
                            ]
                        )
                    ),
                ),
            ]
        )
    if issubclass(record_type, SenderProfile):
        return pa.schema(
            [
                ("sender", pa.string()),
                ("conversations", pa.int32()),
                ("suspected_in", pa.int32()),
                ("max_risk", pa.float64()),
                ("combined_risk", pa.float64()),
                ("floor", pa.float64()),
                ("categories", pa.list_(pa.string())),
                ("first_seen", pa.string()),
                ("last_seen", pa.string()),
                ("conversation_ids", pa.list_(pa.string())),
            ]
        )
    return None


class RecordWriter:
    """Write records one at a time; Parquet is buffered per row group so memory stays bounded.

    Parquet columns come from the first row group. Nested values (messages, categories) are
    stored as Arrow structs/lists, which Spark and pandas read natively.
    """

    def __init__(self, path: str | Path, fmt: str | None = None, *, append: bool = False) -> None:
        self.path = str(path)
        self.format = detect_format(path, fmt)
        if append and (self.format is not Format.JSONL or self.path == STDIO):
            raise ValueError(f"{path}: only a plain .jsonl file can be appended to")
        self.count = 0
        self._text: IO[str] | None = None
        self._raw: IO[bytes] | None = None
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
                # No name and mtime=0 in the header: the same records give the same bytes, so
                # dataset digests are reproducible.
                self._raw = open(self.path, "wb")  # noqa: SIM115
                gz = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0)
                self._text = io.TextIOWrapper(gz, encoding="utf-8")
            else:
                self._text = open(self.path, "a" if append else "w", encoding="utf-8")  # noqa: SIM115

    def write(self, record: BaseModel | dict[str, Any]) -> None:
        if self._schema is None and self.format is Format.PARQUET and isinstance(record, BaseModel):
            # Known records get a fixed schema: inferring it from the first row group would type a
            # column as null when those rows happen to lack it, and fail on a later row.
            self._schema = arrow_schema_for(type(record))
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
            self._schema = pa.Table.from_pylist(self._buffer).schema
        table = pa.Table.from_pylist(self._buffer, schema=self._schema)
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self.path, self._schema)
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
            if self._raw is not None:
                self._raw.close()

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
