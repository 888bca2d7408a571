"""Which on-disk format a path means."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path


class Format(StrEnum):
    JSONL = "jsonl"
    JSONL_GZ = "jsonl.gz"
    PARQUET = "parquet"


STDIO = "-"


def detect_format(path: str | Path, explicit: str | None = None) -> Format:
    """Format from an explicit name, else from the file name; stdin/stdout are JSON Lines."""
    if explicit:
        try:
            return Format(explicit)
        except ValueError:
            allowed = ", ".join(f.value for f in Format)
            raise ValueError(f"unknown format {explicit!r}; expected one of {allowed}") from None
    name = str(path).lower()
    if name == STDIO:
        return Format.JSONL
    if name.endswith((".jsonl.gz", ".json.gz", ".ndjson.gz")):
        return Format.JSONL_GZ
    if name.endswith((".parquet", ".pq")):
        return Format.PARQUET
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return Format.JSONL
    raise ValueError(f"{path}: cannot tell the format from the file name; use .jsonl, .jsonl.gz or .parquet")


_DATA_SUFFIXES = (".jsonl.gz", ".jsonl", ".parquet", ".pq", ".json", ".ndjson")


def dataset_name(path: str | Path) -> str:
    """A data file's name without its data extension: `data/real/chitchat.val.jsonl` -> `chitchat.val`."""
    name = Path(path).name
    for suffix in _DATA_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)] or name
    return name
