"""PAN 2012 predator-identification corpus -> canonical conversation records.

The corpus is licensed by its authors (on request) and never shipped; this module only reads a copy
the user holds. Format (see docs/METRICS_AND_FORMATS): `<conversations><conversation id=..>
<message line=..><author/><time/><text/></message>...`.

Decisions, so that a reader of an imported dataset knows what it holds:

- Streaming: the training file is hundreds of MB. The file is fed to expat (the parser under
  `xml.etree`) in 1 MiB chunks through SAX-style callbacks, so no element tree is built at all
  and memory holds one conversation plus the conversations finished in the current chunk. Expat
  rather than `ElementTree.iterparse` because its callbacks know the file line of every element,
  so an error names the line, not only the conversation.
- `<author>` is stripped; a missing or empty `<text>` becomes ""; text is HTML-unescaped once
  (the XML parser has already undone the XML escaping; some PAN text was escaped twice).
- Messages are ordered by their `line` attribute, which must be a unique integer within the
  conversation.
- `<time>` is HH:MM with no date. It is dropped and `sent_at` stays null: inventing a date would
  fabricate gaps (and day roll-overs) that the model would learn from.
- label = "grooming" when any author of the conversation is in the predator list, else "benign";
  `first_risk_index` stays null (PAN has no training positions); participants are the authors,
  in order of first message, so author-level scoring (PAN problem 1) can use their ids.
- The contract has no per-author label, so the importer writes `<out>.predators.txt`: the
  predator ids that occur in the output, one per line, sorted.
- Problem-2 ground truth (`conversation_id<TAB>line`, test set only) has no categories to map
  to; the importer reports in the card how many of its lines matched an imported message.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from pydantic import ValidationError

from grooming_risk.contract.conversation import DEFAULT_LIMITS, Conversation, Limits
from grooming_risk.data.cards import DatasetCard
from grooming_risk.data.importers.output import ImportResult, check_output_path, write_dataset
from grooming_risk.io.errors import InvalidRecordError, RecordError

PLATFORM = "pan2012"
CHUNK_BYTES = 1 << 20

# Contract field -> the XML element it came from, for error messages.
_XML_NAME = {"sender": "author", "text": "text", "sent_at": "time"}


def _is_number(text: str) -> bool:
    # str.isdigit alone accepts "²", which int() rejects.
    return text.isascii() and text.isdigit()


def read_id_list(path: str | Path) -> frozenset[str]:
    """Author ids, one per line (PAN problem-1 ground truth); surrounding whitespace ignored."""
    with open(path, encoding="utf-8") as handle:
        return frozenset(stripped for line in handle if (stripped := line.strip()))


def read_problem2(path: str | Path) -> frozenset[tuple[str, int]]:
    """(conversation id, message line) pairs from a PAN problem-2 file (`id<TAB>line`)."""
    pairs: set[tuple[str, int]] = set()
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            parts = line.strip().split("\t")
            if len(parts) != 2 or not parts[0].strip() or not _is_number(parts[1].strip()):
                raise InvalidRecordError(
                    RecordError(str(path), line_no, None, None, "expected 'conversation_id<TAB>line number'")
                )
            pairs.add((parts[0].strip(), int(parts[1])))
    return frozenset(pairs)


@dataclass
class Pan12Stats:
    """What one pass over a corpus saw; ids and counts only."""

    conversations: int = 0
    messages: int = 0
    skipped_conversations: int = 0
    empty_texts: int = 0
    grooming_conversations: int = 0
    predators_seen: set[str] = field(default_factory=set)
    problem2_matched: int = 0


@dataclass
class _PendingMessage:
    file_line: int
    line_attr: str | None
    author: str | None = None
    text: str | None = None


@dataclass
class _PendingConversation:
    file_line: int
    conversation_id: str | None
    messages: list[_PendingMessage] = field(default_factory=list)


class _Handler:
    """Expat callbacks that assemble one conversation at a time into `ready`."""

    def __init__(
        self,
        parser: Any,
        *,
        source: str,
        predators: Collection[str],
        problem2: Collection[tuple[str, int]],
        limits: Limits,
        stats: Pan12Stats,
    ) -> None:
        self._parser = parser
        self._source = source
        self._predators = predators
        self._problem2 = problem2
        self._limits = limits
        self._stats = stats
        self._stack: list[str] = []
        self._conversation: _PendingConversation | None = None
        self._message: _PendingMessage | None = None
        self._buffer: list[str] | None = None
        # Finished conversations (or their errors), drained by the reader after every chunk.
        self.ready: list[Conversation | list[RecordError]] = []
        # A problem that makes the rest of the file meaningless (wrong root element).
        self.fatal: RecordError | None = None

    def _error(self, line: int, cid: str | None, field_name: str, problem: str) -> RecordError:
        return RecordError(self._source, line, cid, field_name, problem)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        parent = self._stack[-1] if self._stack else None
        self._stack.append(name)
        line = self._parser.CurrentLineNumber
        if parent is None and name != "conversations":
            self.fatal = self._error(line, None, name, "expected the root element <conversations>")
        elif name == "conversation":
            if parent != "conversations":
                self.ready.append(
                    [self._error(line, None, name, f"expected inside <conversations>, not <{parent}>")]
                )
                return
            cid = (attrs.get("id") or "").strip() or None
            self._conversation = _PendingConversation(line, cid)
        elif name == "message":
            if parent != "conversation" or self._conversation is None:
                cid = self._conversation.conversation_id if self._conversation else None
                self.ready.append(
                    [self._error(line, cid, name, f"expected inside <conversation>, not <{parent}>")]
                )
                return
            self._message = _PendingMessage(line, attrs.get("line"))
        elif name in ("author", "text") and parent == "message" and self._message is not None:
            self._buffer = []

    def characters(self, data: str) -> None:
        if self._buffer is not None:
            self._buffer.append(data)

    def end(self, name: str) -> None:
        self._stack.pop()
        parent = self._stack[-1] if self._stack else None
        if name in ("author", "text") and parent == "message" and self._buffer is not None and self._message:
            value = "".join(self._buffer)
            self._buffer = None
            if name == "author":
                self._message.author = value
            else:
                self._message.text = value
        elif name == "message" and parent == "conversation" and self._message and self._conversation:
            self._conversation.messages.append(self._message)
            self._message = None
        elif name == "conversation" and parent == "conversations" and self._conversation is not None:
            self.ready.append(self._finish(self._conversation))
            self._conversation = None

    def _finish(self, pending: _PendingConversation) -> Conversation | list[RecordError]:
        cid = pending.conversation_id
        if cid is None:
            return [
                self._error(pending.file_line, None, "conversation@id", "is required but missing or empty")
            ]
        if not pending.messages:
            return [self._error(pending.file_line, cid, "message", "the conversation has no messages")]
        errors: list[RecordError] = []
        numbered: list[tuple[int, _PendingMessage]] = []
        seen_lines: dict[int, int] = {}
        for message in pending.messages:
            raw = (message.line_attr or "").strip()
            if not _is_number(raw):
                problem = "is required but missing" if not raw else "expected a non-negative integer"
                errors.append(self._error(message.file_line, cid, "message@line", problem))
                continue
            number = int(raw)
            if number in seen_lines:
                errors.append(
                    self._error(
                        message.file_line,
                        cid,
                        "message@line",
                        f"line {number} already used by the message on file line {seen_lines[number]}",
                    )
                )
                continue
            seen_lines[number] = message.file_line
            if message.author is None or not message.author.strip():
                problem = "is required but missing" if message.author is None else "is empty"
                errors.append(self._error(message.file_line, cid, "author", problem))
                continue
            numbered.append((number, message))
        if errors:
            return errors
        numbered.sort(key=lambda pair: pair[0])
        ordered = [message for _, message in numbered]
        authors = list(dict.fromkeys((m.author or "").strip() for m in ordered))
        is_grooming = any(author in self._predators for author in authors)
        record = {
            "conversation_id": cid,
            "platform": PLATFORM,
            "label": "grooming" if is_grooming else "benign",
            "participants": [{"id": author} for author in authors],
            "messages": [
                {"sender": (m.author or "").strip(), "text": html.unescape(m.text or "")} for m in ordered
            ],
        }
        try:
            conversation = Conversation.model_validate(record, context={"limits": self._limits})
        except ValidationError as exc:
            return self._validation_errors(exc, pending, ordered)
        self._stats.empty_texts += sum(1 for m in conversation.messages if not m.text)
        self._stats.predators_seen.update(a for a in authors if a in self._predators)
        self._stats.grooming_conversations += int(is_grooming)
        if self._problem2:
            self._stats.problem2_matched += sum(
                1 for number, _ in numbered if (cid, number) in self._problem2
            )
        return conversation

    def _validation_errors(
        self, exc: ValidationError, pending: _PendingConversation, ordered: list[_PendingMessage]
    ) -> list[RecordError]:
        out = []
        for err in exc.errors(include_input=False, include_url=False):
            loc = tuple(err["loc"])
            problem = str(err["msg"]).removeprefix("Value error, ")
            if len(loc) >= 2 and loc[0] == "messages" and isinstance(loc[1], int) and loc[1] < len(ordered):
                message = ordered[loc[1]]
                name = _XML_NAME.get(str(loc[2]), str(loc[2])) if len(loc) > 2 else "message"
                out.append(self._error(message.file_line, pending.conversation_id, name, problem))
            else:
                name = "message" if loc and loc[0] == "messages" else ".".join(str(p) for p in loc)
                out.append(self._error(pending.file_line, pending.conversation_id, name, problem))
        return out


def _source_name(corpus: str | Path | IO[bytes]) -> str:
    if isinstance(corpus, str | Path):
        return str(corpus)
    return str(getattr(corpus, "name", "<stream>"))


def iter_pan12(
    corpus: str | Path | IO[bytes],
    predators: Collection[str],
    *,
    problem2: Collection[tuple[str, int]] = frozenset(),
    limits: Limits = DEFAULT_LIMITS,
    on_error: Callable[[RecordError], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    stats: Pan12Stats | None = None,
) -> Iterator[Conversation]:
    """Stream conversations from a PAN 2012 corpus file (path or binary file object).

    A bad conversation raises `InvalidRecordError` unless `on_error` is given, in which case each
    problem goes to it and the conversation is skipped (counted in `stats`). Malformed XML always
    raises: the parser cannot resynchronise after it. `on_progress` receives bytes read.
    """
    stats = stats if stats is not None else Pan12Stats()
    source = _source_name(corpus)
    parser = expat.ParserCreate(encoding=None)
    parser.buffer_text = True
    handler = _Handler(
        parser, source=source, predators=predators, problem2=problem2, limits=limits, stats=stats
    )
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.characters

    def drain() -> Iterator[Conversation]:
        if handler.fatal is not None:
            raise InvalidRecordError(handler.fatal)
        ready, handler.ready = handler.ready, []
        for item in ready:
            if isinstance(item, Conversation):
                stats.conversations += 1
                stats.messages += len(item.messages)
                yield item
                continue
            stats.skipped_conversations += 1
            if on_error is None:
                raise InvalidRecordError(item[0])
            for problem in item:
                on_error(problem)

    def feed(data: bytes, final: bool) -> None:
        try:
            parser.Parse(data, final)
        except expat.ExpatError as exc:
            message = expat.ErrorString(exc.code) if exc.code is not None else str(exc)
            raise InvalidRecordError(
                RecordError(source, exc.lineno, None, None, f"invalid XML: {message} (column {exc.offset})")
            ) from None

    handle: IO[bytes] = open(corpus, "rb") if isinstance(corpus, str | Path) else corpus  # noqa: SIM115
    try:
        while chunk := handle.read(CHUNK_BYTES):
            feed(chunk, False)
            if on_progress is not None:
                on_progress(len(chunk))
            yield from drain()
        feed(b"", True)
        yield from drain()
    finally:
        if handle is not corpus:
            handle.close()


def _sha256_of_lines(ids: Collection[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode("utf-8")).hexdigest()


def predators_sidecar_path(out: str | Path) -> Path:
    return Path(f"{out}.predators.txt")


def import_pan12(
    corpus: str | Path,
    predators_file: str | Path,
    out: str | Path,
    *,
    problem2_file: str | Path | None = None,
    limits: Limits = DEFAULT_LIMITS,
    on_error: Callable[[RecordError], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import a PAN 2012 corpus to `out` (.jsonl, .jsonl.gz or .parquet) with its card and sidecar."""
    target = check_output_path(out)
    predators = read_id_list(predators_file)
    problem2 = read_problem2(problem2_file) if problem2_file is not None else frozenset()
    stats = Pan12Stats()
    conversations = iter_pan12(
        corpus,
        predators,
        problem2=problem2,
        limits=limits,
        on_error=on_error,
        on_progress=on_progress,
        stats=stats,
    )

    def make_card() -> DatasetCard:
        parameters: dict[str, Any] = {
            "corpus_file": Path(corpus).name,
            "predators_file": Path(predators_file).name,
            "predators_listed": len(predators),
            "predators_listed_sha256": _sha256_of_lines(predators),
            "predators_in_output": len(stats.predators_seen),
            "predators_sidecar": predators_sidecar_path(target).name,
            "skipped_conversations": stats.skipped_conversations,
            "empty_texts": stats.empty_texts,
            "max_messages": limits.max_messages,
            "max_message_chars": limits.max_message_chars,
        }
        if problem2_file is not None:
            parameters["problem2"] = {
                "file": Path(problem2_file).name,
                "lines": len(problem2),
                "matched_messages": stats.problem2_matched,
            }
        return DatasetCard(
            name=target.name.split(".")[0],
            source="pan2012",
            parameters=parameters,
            notes=(
                "label is 'grooming' when any author is in the predator list, else 'benign'; "
                "per-author truth is in the predators sidecar. <time> (HH:MM, no date) is dropped, "
                "so sent_at is null. first_risk_index is null: PAN has no risk positions for training."
            ),
        )

    result = write_dataset(target, conversations, make_card)
    sidecar = predators_sidecar_path(target)
    sidecar.write_text("".join(f"{pid}\n" for pid in sorted(stats.predators_seen)), encoding="utf-8")
    return ImportResult(
        output=result.output,
        card=result.card,
        conversations=result.conversations,
        messages=result.messages,
        skipped=stats.skipped_conversations,
    )
