"""Streaming readers and writers for conversations and assessments (JSONL, gzip JSONL, Parquet)."""

from grooming_risk.io.errors import InvalidRecordError, RecordError
from grooming_risk.io.readers import iter_raw_records, read_conversations
from grooming_risk.io.writers import RecordWriter, write_records

__all__ = [
    "InvalidRecordError",
    "RecordError",
    "RecordWriter",
    "iter_raw_records",
    "read_conversations",
    "write_records",
]
