"""Importers: PAN 2012 XML and message-per-row tables, on fixtures the tests write themselves."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import tempfile
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from grooming_risk.cli.data_import import import_app
from grooming_risk.contract import Conversation, Label
from grooming_risk.data.cards import file_sha256, read_card
from grooming_risk.data.importers import pan12 as pan12_module
from grooming_risk.data.importers.pan12 import Pan12Stats, import_pan12, iter_pan12, read_problem2
from grooming_risk.data.importers.tabular import (
    ColumnMap,
    TabularStats,
    import_tabular,
    iter_tabular,
    parse_label_map,
)
from grooming_risk.io import InvalidRecordError, RecordError, read_conversations

# Line numbers matter: the error tests refer to them.
PAN_XML = """<?xml version="1.0" encoding="UTF-8"?>
<conversations>
  <conversation id="c1">
    <message line="1">
      <author>
        alice01
      </author>
      <time>02:56</time>
      <text>hey, how was the game?</text>
    </message>
    <message line="2">
      <author>bob02</author>
      <time>02:57</time>
    </message>
    <message line="3">
      <author>alice01</author>
      <time>02:58</time>
      <text></text>
    </message>
  </conversation>
  <conversation id="c2">
    <message line="2">
      <author> pred77 </author>
      <time>23:10</time>
      <text>i &amp;lt;3 your drawings &amp;amp; you are so mature</text>
    </message>
    <message line="1">
      <author>kid05</author>
      <time>23:09</time>
      <text>hi</text>
    </message>
    <message line="3">
      <author>pred77</author>
      <time>23:11</time>
      <text>keep this between us, literally &amp;amp;lt; not escaped twice</text>
    </message>
  </conversation>
  <conversation id="c3">
    <message line="1">
      <author>carol03</author>
      <time>10:00</time>
      <text>anyone up for a match?</text>
    </message>
  </conversation>
</conversations>
"""

PREDATORS = "pred77\n  ghost99  \n\n"


@pytest.fixture
def pan_files(tmp_path: Path) -> tuple[Path, Path]:
    corpus = tmp_path / "pan12-training-corpus.xml"
    corpus.write_text(PAN_XML, encoding="utf-8")
    predators = tmp_path / "predators.txt"
    predators.write_text(PREDATORS, encoding="utf-8")
    return corpus, predators


def test_pan12_import_records(pan_files: tuple[Path, Path], tmp_path: Path) -> None:
    corpus, predators = pan_files
    out = tmp_path / "out" / "pan.jsonl"
    result = import_pan12(corpus, predators, out)
    assert (result.conversations, result.messages, result.skipped) == (3, 7, 0)
    c1, c2, c3 = read_conversations(out)

    assert [m.sender for m in c1.messages] == ["alice01", "bob02", "alice01"]
    assert [m.text for m in c1.messages] == ["hey, how was the game?", "", ""]
    assert [p.id for p in c1.participants] == ["alice01", "bob02"]
    assert c1.label is Label.BENIGN
    assert all(m.sent_at is None for c in (c1, c2, c3) for m in c.messages)
    assert {c.platform for c in (c1, c2, c3)} == {"pan2012"}
    assert {c.first_risk_index for c in (c1, c2, c3)} == {None}

    # Ordered by the line attribute, not document order; authors stripped; unescaped exactly once.
    assert [m.sender for m in c2.messages] == ["kid05", "pred77", "pred77"]
    assert c2.messages[1].text == "i <3 your drawings & you are so mature"
    assert c2.messages[2].text == "keep this between us, literally &lt; not escaped twice"
    assert c2.label is Label.GROOMING
    assert c3.label is Label.BENIGN


def test_pan12_card_and_predator_sidecar(pan_files: tuple[Path, Path], tmp_path: Path) -> None:
    corpus, predators = pan_files
    out = tmp_path / "pan.jsonl.gz"
    import_pan12(corpus, predators, out)
    card = read_card(out)
    assert card is not None
    assert card.source == "pan2012"
    assert card.counts.conversations == 3
    assert card.counts.by_label == {"benign": 2, "grooming": 1}
    assert card.content_sha256 == file_sha256(out)
    assert card.parameters["predators_listed"] == 2
    assert card.parameters["predators_in_output"] == 1
    assert card.parameters["skipped_conversations"] == 0
    assert card.parameters["empty_texts"] == 2
    # Only predators that occur in the output; ghost99 is listed but never chats here.
    assert (tmp_path / "pan.jsonl.gz.predators.txt").read_text(encoding="utf-8") == "pred77\n"
    assert not (tmp_path / "pan.jsonl.gz.partial").exists()


def test_pan12_problem2_is_counted(pan_files: tuple[Path, Path], tmp_path: Path) -> None:
    corpus, predators = pan_files
    problem2 = tmp_path / "problem2.txt"
    problem2.write_text("c2\t2\nc2\t3\nmissing\t1\n", encoding="utf-8")
    out = tmp_path / "pan.parquet"
    import_pan12(corpus, predators, out, problem2_file=problem2)
    card = read_card(out)
    assert card is not None
    assert card.parameters["problem2"] == {"file": "problem2.txt", "lines": 3, "matched_messages": 2}
    assert [c.conversation_id for c in read_conversations(out)] == ["c1", "c2", "c3"]


def test_pan12_bad_problem2_line(tmp_path: Path) -> None:
    path = tmp_path / "p2.txt"
    path.write_text("c1\t1\nc2 two\n", encoding="utf-8")
    with pytest.raises(InvalidRecordError, match=r"p2.txt:2: .*conversation_id<TAB>line"):
        read_problem2(path)


def _pan(body: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<conversations>\n{body}</conversations>\n'.encode()


def test_pan12_empty_author_names_line_and_field() -> None:
    corpus = io.BytesIO(
        _pan(
            '<conversation id="ok"><message line="1"><author>a</author><text>x</text></message></conversation>\n'
            '<conversation id="bad">\n'
            '<message line="1"><author>a</author><text>x</text></message>\n'
            '<message line="2"><author>   </author><text>secret words</text></message>\n'
            "</conversation>\n"
        )
    )
    stream = iter_pan12(corpus, frozenset())
    assert next(stream).conversation_id == "ok"
    with pytest.raises(InvalidRecordError) as caught:
        next(stream)
    assert str(caught.value) == "<stream>:6: conversation 'bad': field author: is empty"
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("message_xml", "field", "problem"),
    [
        ("<message><author>a</author><text>x</text></message>", "message@line", "is required but missing"),
        (
            '<message line="one"><author>a</author></message>',
            "message@line",
            "expected a non-negative integer",
        ),
        ('<message line="²"><author>a</author></message>', "message@line", "expected a non-negative integer"),
        ('<message line="1"><text>x</text></message>', "author", "is required but missing"),
        (
            '<message line="1"><author>a</author></message><message line="1"><author>b</author></message>',
            "message@line",
            "line 1 already used",
        ),
    ],
)
def test_pan12_message_errors(message_xml: str, field: str, problem: str) -> None:
    corpus = io.BytesIO(_pan(f'<conversation id="c9">\n{message_xml}\n</conversation>\n'))
    with pytest.raises(InvalidRecordError) as caught:
        list(iter_pan12(corpus, frozenset()))
    error = caught.value.error
    assert (error.line, error.conversation_id, error.field) == (4, "c9", field)
    assert problem in error.problem


def test_pan12_conversation_errors_and_skipping() -> None:
    corpus = io.BytesIO(
        _pan(
            '<conversation id="empty"></conversation>\n'
            '<conversation><message line="1"><author>a</author></message></conversation>\n'
            '<conversation id="long"><message line="1"><author>a</author><text>0123456789ab</text></message>'
            "</conversation>\n"
            '<conversation id="fine"><message line="1"><author>a</author><text>ok</text></message></conversation>\n'
        )
    )
    errors: list[RecordError] = []
    stats = Pan12Stats()
    limits = pan12_module.Limits(max_message_chars=10)
    got = list(iter_pan12(corpus, frozenset(), limits=limits, on_error=errors.append, stats=stats))
    assert [c.conversation_id for c in got] == ["fine"]
    assert [(e.line, e.conversation_id, e.field) for e in errors] == [
        (3, "empty", "message"),
        (4, None, "conversation@id"),
        (5, "long", "text"),
    ]
    assert "more than the limit of 10" in errors[2].problem
    assert (stats.conversations, stats.skipped_conversations) == (1, 3)


def test_pan12_invalid_xml_names_the_line() -> None:
    corpus = io.BytesIO(
        _pan('<conversation id="c1">\n<message line="1"><author>a</author>\n</conversation>\n')
    )
    with pytest.raises(InvalidRecordError, match=r"^<stream>:5: .*invalid XML: mismatched tag"):
        list(iter_pan12(corpus, frozenset()))


def test_pan12_wrong_root_is_an_error() -> None:
    corpus = io.BytesIO(b'<chats><conversation id="c1"></conversation></chats>')
    with pytest.raises(InvalidRecordError, match="expected the root element <conversations>"):
        list(iter_pan12(corpus, frozenset()))


def test_pan12_failed_import_leaves_no_output(pan_files: tuple[Path, Path], tmp_path: Path) -> None:
    _, predators = pan_files
    corpus = tmp_path / "broken.xml"
    corpus.write_bytes(
        _pan('<conversation id="c1"><message line="1"><author> </author></message></conversation>\n')
    )
    out = tmp_path / "out.jsonl"
    with pytest.raises(InvalidRecordError):
        import_pan12(corpus, predators, out)
    assert list(tmp_path.glob("out.jsonl*")) == []


class _GeneratedCorpus(io.RawIOBase):
    """A PAN corpus of `n` conversations made on demand, counting the bytes handed out."""

    def __init__(self, n: int) -> None:
        self.bytes_read = 0
        self._pending = b""
        self._parts = self._generate(n)

    @staticmethod
    def _generate(n: int) -> Iterator[bytes]:
        yield b'<?xml version="1.0" encoding="UTF-8"?>\n<conversations>\n'
        for i in range(n):
            yield (
                f'<conversation id="g{i}">'
                f'<message line="1"><author>u{i}</author><time>01:00</time><text>hello number {i}</text></message>'
                f'<message line="2"><author>v{i}</author><time>01:01</time><text>hi back {i}</text></message>'
                "</conversation>\n"
            ).encode()
        yield b"</conversations>\n"

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while len(self._pending) < len(buffer):
            part = next(self._parts, None)
            if part is None:
                break
            self._pending += part
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        self.bytes_read += size
        return size


def test_pan12_reads_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pan12_module, "CHUNK_BYTES", 512)
    corpus = _GeneratedCorpus(20_000)  # about 3 MB if it were read whole
    first = list(itertools.islice(iter_pan12(io.BufferedReader(corpus, 512), frozenset()), 3))
    assert [c.conversation_id for c in first] == ["g0", "g1", "g2"]
    assert corpus.bytes_read < 4_096


def _peak_bytes(n: int) -> int:
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_pan12(io.BufferedReader(_GeneratedCorpus(n), 4096), frozenset()))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == n
    return peak


def test_pan12_memory_does_not_grow_with_the_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pan12_module, "CHUNK_BYTES", 4096)
    small, large = _peak_bytes(300), _peak_bytes(6_000)
    # 20x the conversations; holding them (or a tree of them) would need many times the memory.
    assert large < 2 * small + 200_000, (small, large)


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(import_app, name="import")
    return app


def test_pan12_cli(pan_files: tuple[Path, Path], tmp_path: Path) -> None:
    corpus, predators = pan_files
    out = tmp_path / "pan.jsonl"
    result = CliRunner().invoke(
        _cli(), ["import", "pan12", "--corpus", str(corpus), "--predators", str(predators), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 3 conversations (7 messages)" in result.stdout
    assert out.exists()
    assert (tmp_path / "pan.jsonl.card.json").exists()


def test_pan12_cli_error_is_one_line(tmp_path: Path, pan_files: tuple[Path, Path]) -> None:
    _, predators = pan_files
    corpus = tmp_path / "bad.xml"
    corpus.write_bytes(
        _pan('<conversation id="c1"><message line="x"><author>a</author></message></conversation>\n')
    )
    args = [
        "import",
        "pan12",
        "--corpus",
        str(corpus),
        "--predators",
        str(predators),
        "-o",
        str(tmp_path / "o.jsonl"),
    ]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0
    assert "bad.xml:3: conversation 'c1': field message@line" in result.stderr

    skipped = CliRunner().invoke(_cli(), [*args, "--skip-invalid"])
    assert skipped.exit_code == 0, skipped.output
    assert "skipped: " in skipped.stderr
    assert "0 conversations" in skipped.stdout


# ---------------------------------------------------------------- tables


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


HEADER = ["chat", "from", "body", "ts", "y", "seq"]
ROWS = [
    ["t2", "u9", "first, with a comma", "1714557600", "1", "1"],
    ["t1", "u1", "hello\nover two lines", "2024-05-01T10:00:00Z", "0", "2"],
    ["t2", "u8", 'she said "hi"', "", "", "0"],
    ["t1", "u2", "", "1714557660", "0", "1"],
    ["t3", "u3", "solo", "", "0", "5"],
    ["t2", "u9", "last", "1714557700", "1", "2"],
]
COLUMNS = ColumnMap(conversation_id="chat", sender="from", text="body", sent_at="ts", label="y")
LABELS = parse_label_map("1=grooming, 0=benign")


@pytest.fixture
def table_csv(tmp_path: Path) -> Path:
    return _write_csv(tmp_path / "export.csv", HEADER, ROWS)


def test_table_groups_non_contiguous_rows(table_csv: Path) -> None:
    t1, t2, t3 = iter_tabular(table_csv, COLUMNS, label_map=LABELS)
    assert [c.conversation_id for c in (t1, t2, t3)] == ["t1", "t2", "t3"]
    # File order within a conversation; quoted commas, quotes and newlines survive.
    assert [m.text for m in t1.messages] == ["hello\nover two lines", ""]
    assert [m.text for m in t2.messages] == ["first, with a comma", 'she said "hi"', "last"]
    assert [m.sender for m in t2.messages] == ["u9", "u8", "u9"]
    assert [p.id for p in t2.participants] == ["u9", "u8"]
    assert (t1.label, t2.label, t3.label) == (Label.BENIGN, Label.GROOMING, Label.BENIGN)
    assert t2.messages[0].sent_at is not None
    assert t2.messages[0].sent_at.isoformat() == "2024-05-01T10:00:00+00:00"
    assert t2.messages[1].sent_at is None
    assert t1.messages[0].sent_at == t2.messages[0].sent_at


def test_table_order_column(table_csv: Path) -> None:
    columns = ColumnMap(conversation_id="chat", sender="from", text="body", order="seq")
    _, t2, _ = iter_tabular(table_csv, columns)
    assert [m.text for m in t2.messages] == ['she said "hi"', "first, with a comma", "last"]


def test_table_spilled_runs_give_the_same_result(
    table_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spill_root = tmp_path / "spill"
    spill_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spill_root))
    stats = TabularStats()
    spilled = list(iter_tabular(table_csv, COLUMNS, label_map=LABELS, max_rows_in_memory=2, stats=stats))
    assert stats.spilled_runs == 3
    assert spilled == list(iter_tabular(table_csv, COLUMNS, label_map=LABELS))
    assert list(spill_root.iterdir()) == []  # spill files (they hold text) are gone


def test_table_folds_runs_when_there_are_many(table_csv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from grooming_risk.data.importers import tabular

    monkeypatch.setattr(tabular, "MAX_OPEN_RUNS", 2)
    stats = TabularStats()
    folded = list(iter_tabular(table_csv, COLUMNS, label_map=LABELS, max_rows_in_memory=1, stats=stats))
    assert stats.spilled_runs > 6  # six runs plus the folds
    assert folded == list(iter_tabular(table_csv, COLUMNS, label_map=LABELS))


def test_table_import_writes_card(table_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "table.jsonl"
    result = import_tabular(table_csv, out, COLUMNS, label_map=LABELS)
    assert (result.conversations, result.messages, result.skipped) == (3, 6, 0)
    card = read_card(out)
    assert card is not None
    assert card.source == "tabular"
    assert card.counts.by_label == {"benign": 2, "grooming": 1}
    assert card.parameters["columns"] == {
        "conversation_id": "chat",
        "sender": "from",
        "text": "body",
        "sent_at": "ts",
        "label": "y",
    }
    assert card.parameters["label_map"] == {"1": "grooming", "0": "benign"}


def test_table_missing_column_lists_the_header(table_csv: Path) -> None:
    columns = ColumnMap(conversation_id="chat", sender="author", text="body")
    with pytest.raises(
        InvalidRecordError,
        match=r"export.csv:1: .*field author: column not in the header \(it has: chat, from",
    ):
        list(iter_tabular(table_csv, columns))


def test_table_row_errors_name_line_row_and_column(tmp_path: Path) -> None:
    rows = [["a", "u1", "multi\nline", "0", "1"], ["a", "", "private words", "0", "2"]]
    path = _write_csv(tmp_path / "e.csv", ["chat", "from", "body", "y", "seq"], rows)
    with pytest.raises(InvalidRecordError) as caught:
        list(iter_tabular(path, ColumnMap(conversation_id="chat", sender="from", text="body")))
    # Row 2 starts on line 4 because row 1's text spans two lines.
    assert (
        str(caught.value) == f"{path}:4: conversation 'a': field from: expected a non-empty sender id (row 2)"
    )


@pytest.mark.parametrize(
    ("rows", "column", "problem"),
    [
        ([["a", "u1", "x", "2", "1"]], "y", "value not in the label map"),
        ([["a", "u1", "x", "0", "first"]], "seq", "expected a number"),
        (
            [["a", "u1", "x", "0", "1"], ["a", "u2", "x", "1", "2"]],
            "y",
            "'grooming' conflicts with 'benign' on line 2",
        ),
        ([["", "u1", "x", "0", "1"]], "chat", "expected a non-empty text or integer id"),
        ([["a", "u1", "x", "0", "1", "1e20"]], "ts", "epoch seconds out of range"),
        ([["a", "u1", "x", "0", "1", "soon"]], "ts", "Input should be a valid datetime"),
    ],
)
def test_table_value_errors(tmp_path: Path, rows: list[list[str]], column: str, problem: str) -> None:
    rows = [row + [""] * (6 - len(row)) for row in rows]
    path = _write_csv(tmp_path / "e.csv", ["chat", "from", "body", "y", "seq", "ts"], rows)
    columns = ColumnMap(
        conversation_id="chat", sender="from", text="body", label="y", order="seq", sent_at="ts"
    )
    with pytest.raises(InvalidRecordError) as caught:
        list(iter_tabular(path, columns, label_map=LABELS))
    assert caught.value.error.field == column
    assert problem in caught.value.error.problem


def test_table_label_without_map_must_be_a_label(tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "e.csv",
        ["chat", "from", "body", "y"],
        [["a", "u1", "x", "Grooming"], ["b", "u2", "x", "yes"]],
    )
    errors: list[RecordError] = []
    columns = ColumnMap(conversation_id="chat", sender="from", text="body", label="y")
    (only,) = iter_tabular(path, columns, on_error=errors.append)
    assert only.label is Label.GROOMING
    assert [(e.conversation_id, e.field) for e in errors] == [("b", "y")]
    assert "expected one of grooming, sextortion, benign" in errors[0].problem


def test_table_too_many_messages_and_long_text(tmp_path: Path) -> None:
    rows = [
        ["a", "u1", "x"],
        ["a", "u2", "y"],
        ["a", "u1", "z"],
        ["b", "u3", "0123456789abc"],
        ["c", "u4", "fine"],
    ]
    path = _write_csv(tmp_path / "e.csv", ["chat", "from", "body"], rows)
    errors: list[RecordError] = []
    stats = TabularStats()
    limits = pan12_module.Limits(max_messages=2, max_message_chars=10)
    columns = ColumnMap(conversation_id="chat", sender="from", text="body")
    got = list(iter_tabular(path, columns, limits=limits, on_error=errors.append, stats=stats))
    assert [c.conversation_id for c in got] == ["c"]
    assert sorted((e.conversation_id, e.line, e.field) for e in errors) == [
        ("a", 2, "chat"),
        ("b", 5, "body"),
    ]
    assert stats.skipped_conversations == 2


def test_table_bad_row_skips_its_whole_conversation(tmp_path: Path) -> None:
    rows = [["a", "u1", "x"], ["b", "u2", "y"], ["a", "", "z"], ["a", "u1", "w"]]
    path = _write_csv(tmp_path / "e.csv", ["chat", "from", "body"], rows)
    out = tmp_path / "out.jsonl"
    errors: list[RecordError] = []
    result = import_tabular(
        path, out, ColumnMap(conversation_id="chat", sender="from", text="body"), on_error=errors.append
    )
    assert [c.conversation_id for c in read_conversations(out)] == ["b"]
    assert (result.skipped, len(errors), errors[0].line) == (1, 1, 4)
    card = read_card(out)
    assert card is not None
    assert (card.parameters["bad_rows"], card.parameters["skipped_conversations"]) == (1, 1)


def test_table_wrong_column_count_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("chat,from,body\na,u1,x\nb,u2\n", encoding="utf-8")
    with pytest.raises(InvalidRecordError, match=r"e.csv:3: .*row 2 has 2 columns, the header has 3"):
        list(iter_tabular(path, ColumnMap(conversation_id="chat", sender="from", text="body")))


def test_table_bom_and_gzip(tmp_path: Path) -> None:
    path = tmp_path / "e.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8-sig", newline="") as handle:
        handle.write("chat,from,body\r\na,u1,x\r\n")
    (only,) = iter_tabular(path, ColumnMap(conversation_id="chat", sender="from", text="body"))
    assert only.messages[0].text == "x"


def test_table_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    rows = [
        {"cid": 7, "who": 1, "msg": "hi", "at": 1714557600, "lab": True, "app": "game"},
        {"cid": 8, "who": "z", "msg": None, "lab": False},
        {"cid": 7, "who": 2, "msg": "yo", "at": "2024-05-01T10:01:00+00:00", "app": "game", "extra": [1]},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    columns = ColumnMap(
        conversation_id="cid", sender="who", text="msg", sent_at="at", label="lab", platform="app"
    )
    c7, c8 = iter_tabular(path, columns, label_map=parse_label_map("true=sextortion,false=benign"))
    assert (c7.conversation_id, c7.label, c7.platform) == ("7", Label.SEXTORTION, "game")
    assert [m.sender for m in c7.messages] == ["1", "2"]
    assert c8.messages[0].text == ""
    assert c8.label is Label.BENIGN
    assert c8.platform is None


def test_table_jsonl_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(
        '{"cid": "a", "who": "u", "msg": "x"}\n{"cid": "a", "who": "u", "msg": 5}\n', encoding="utf-8"
    )
    with pytest.raises(
        InvalidRecordError,
        match=r"rows.jsonl:2: conversation 'a': field msg: expected text, got int \(row 2\)",
    ):
        list(iter_tabular(path, ColumnMap(conversation_id="cid", sender="who", text="msg")))


@pytest.mark.parametrize("spec", ["1grooming", "1=grooming,0=fine", "=benign"])
def test_label_map_errors(spec: str) -> None:
    with pytest.raises(ValueError, match="label map entry"):
        parse_label_map(spec)


def test_table_cli(table_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.parquet"
    args = [
        "import", "table", str(table_csv), "-o", str(out),
        "--conversation-id", "chat", "--sender", "from", "--text", "body",
        "--sent-at", "ts", "--label", "y", "--label-map", "1=grooming,0=benign", "--order", "seq",
    ]  # fmt: skip
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 0, result.output
    assert "wrote 3 conversations (6 messages)" in result.stdout
    loaded = list(read_conversations(out))
    assert all(isinstance(c, Conversation) for c in loaded)
    assert next(m.text for m in loaded[1].messages) == 'she said "hi"'


def test_table_cli_bad_label_map(table_csv: Path, tmp_path: Path) -> None:
    args = ["import", "table", str(table_csv), "-o", str(tmp_path / "t.jsonl"), "--conversation-id", "chat",
            "--sender", "from", "--text", "body", "--label", "y", "--label-map", "1=bad"]  # fmt: skip
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 1
    assert "label must be one of grooming, sextortion, benign" in result.stderr


def test_table_cli_help_names_the_options() -> None:
    result = CliRunner().invoke(_cli(), ["import", "table", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--conversation-id", "--sender", "--text", "--label-map", "--order", "--format"):
        assert option in result.stdout
