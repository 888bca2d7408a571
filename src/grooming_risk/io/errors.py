"""Record-level errors that say where the problem is without repeating conversation text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError


@dataclass(frozen=True)
class RecordError:
    """One rejected record: file, 1-based line (or row), conversation id if known, field, problem.

    The input value is deliberately never included: it may be conversation text.
    """

    source: str
    line: int
    conversation_id: str | None
    field: str | None
    problem: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}"
        who = f"conversation {self.conversation_id!r}" if self.conversation_id else "conversation ?"
        what = f"field {self.field}" if self.field else "record"
        return f"{where}: {who}: {what}: {self.problem}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "line": self.line,
            "conversation_id": self.conversation_id,
            "field": self.field,
            "problem": self.problem,
        }


class InvalidRecordError(ValueError):
    """Raised when a reader meets a bad record and the caller asked to stop on errors."""

    def __init__(self, error: RecordError) -> None:
        super().__init__(str(error))
        self.error = error


def _loc_to_field(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "record"


def errors_from_validation(
    exc: ValidationError, *, source: str, line: int, conversation_id: str | None
) -> list[RecordError]:
    """Turn pydantic's errors into RecordErrors, dropping the offending input values."""
    out = []
    for err in exc.errors(include_input=False, include_url=False):
        msg = str(err["msg"])
        if err["type"] == "missing":
            msg = "is required but missing"
        elif msg.startswith("Value error, "):
            msg = msg.removeprefix("Value error, ")
        out.append(
            RecordError(
                source=source,
                line=line,
                conversation_id=conversation_id,
                field=_loc_to_field(tuple(err["loc"])),
                problem=msg,
            )
        )
    return out
