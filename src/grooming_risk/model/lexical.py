"""A lexical channel beside the sentence vector: hashed word and character n-grams of each message.

Sentence encoders smooth away spelling, slang and the exact words that give a warning sign away
("snap", "ur age", "dont tell"); the n-gram baseline keeps them and generalises to unseen writers
better. `LexicalEncoder` appends a small signed feature-hashing vector (word 1-2-grams, character
3-5-grams inside words) to any encoder's output, so the sequence model reads both. Per message,
numpy only, no vocabulary to ship: streaming stays one message's work, and the ONNX path computes it
the same way. Hashing uses CRC32, stable across processes and machines (Python's `hash` is not).
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from grooming_risk.model.encoder import MessageEncoder, warm_up

_WORD = re.compile(r"\w+", re.UNICODE)


def ngrams(text: str) -> list[str]:
    words = _WORD.findall(text.lower())
    grams = [f"w:{w}" for w in words]
    grams += [f"b:{a} {b}" for a, b in itertools.pairwise(words)]
    for w in words:
        padded = f"<{w}>"
        for n in (3, 4, 5):
            grams += [f"c:{padded[i : i + n]}" for i in range(len(padded) - n + 1)]
    return grams


def hashed_ngrams(texts: Sequence[str], dim: int) -> np.ndarray:
    """[len(texts), dim] float32: signed hashed n-gram counts, L2-normalised per message."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for row, text in enumerate(texts):
        for gram in ngrams(text):
            h = zlib.crc32(gram.encode("utf-8"))
            out[row, h % dim] += 1.0 if (h >> 31) & 1 else -1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-12)


class LexicalEncoder:
    """`base` vectors with `dim` hashed n-gram features appended (a `MessageEncoder`)."""

    def __init__(self, base: Any, dim: int) -> None:
        if dim < 1:
            raise ValueError(f"lexical dim must be >= 1, got {dim}")
        self.base = base
        self.lexical_dim = dim

    @property
    def dim(self) -> int:
        return int(self.base.dim) + self.lexical_dim

    def reference(self) -> dict[str, Any]:
        return {**self.base.reference(), "lexical_dim": self.lexical_dim}

    def warm_up(self) -> None:
        warm_up(self.base)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        # Chat repeats itself ("ok", "lol"): hash each distinct text once.
        unique = list(dict.fromkeys(texts))
        index = {t: i for i, t in enumerate(unique)}
        lexical = hashed_ngrams(unique, self.lexical_dim)[[index[t] for t in texts]]
        return np.concatenate(
            [self.base.encode(texts), lexical.reshape(len(texts), self.lexical_dim)], axis=1
        )


def with_lexical(encoder: Any, reference: dict[str, Any] | None) -> MessageEncoder:
    """Wrap `encoder` when the artifact's encoder reference asks for a lexical channel."""
    dim = int((reference or {}).get("lexical_dim", 0) or 0)
    return LexicalEncoder(encoder, dim) if dim else encoder
