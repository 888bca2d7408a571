"""Message vectors for training, computed once per distinct normalised text and cached on disk.

With a frozen encoder, the vectors of a dataset never change, so retraining the sequence model
(another seed, another hidden size) costs seconds instead of re-encoding every message. The cache
is keyed by text hashes, never by text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from grooming_risk.model.encoder import MessageEncoder


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def table_tag(reference: dict[str, object]) -> str:
    """The cache file's name for an encoder: its weights, length limit and prefix (each changes vectors)."""
    tag = f"{str(reference['weights_sha256'])[:16]}-len{reference['max_length']}"
    prefix = str(reference.get("prefix") or "")
    if prefix:
        tag += "-p" + hashlib.sha1(prefix.encode("utf-8")).hexdigest()[:8]
    return tag


class EmbeddingTable:
    """text hash -> vector, backed by one safetensors file per encoder (weights, max_length, prefix)."""

    def __init__(self, encoder: MessageEncoder, cache_dir: Path | None) -> None:
        self.encoder = encoder
        self.vectors: dict[str, np.ndarray] = {}
        self.path: Path | None = None
        if cache_dir is not None:
            tag = table_tag(encoder.reference())
            self.path = Path(cache_dir) / "embeddings" / f"{tag}.safetensors"
            self._load()

    def _load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        from safetensors.numpy import load_file

        keys = json.loads(self.path.with_suffix(".keys.json").read_text())
        matrix = load_file(str(self.path))["vectors"]
        self.vectors = dict(zip(keys, matrix, strict=True))

    def save(self) -> None:
        if self.path is None or not self.vectors:
            return
        from safetensors.numpy import save_file

        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = list(self.vectors)
        save_file({"vectors": np.stack([self.vectors[k] for k in keys])}, str(self.path))
        self.path.with_suffix(".keys.json").write_text(json.dumps(keys))

    def ensure(self, texts: Iterable[str], chunk: int = 4096, *, save: bool = True) -> int:
        """Encode the texts not cached yet; return how many were encoded.

        With `save`, new vectors are written to the cache file at once; without, they live for this
        process only (rewriting the whole file after every small batch would cost more than encoding).
        """
        missing = {text_key(t): t for t in texts}
        todo = [(k, t) for k, t in missing.items() if k not in self.vectors]
        for start in tqdm(
            range(0, len(todo), chunk), desc="encoding messages", unit="chunk", disable=not todo
        ):
            part = todo[start : start + chunk]
            vectors = self.encoder.encode([t for _, t in part])
            for (k, _), vec in zip(part, vectors, strict=True):
                self.vectors[k] = vec
        if todo and save:
            self.save()
        return len(todo)

    def as_encoder(self) -> TableEncoder:
        return TableEncoder(self)


class TableEncoder:
    """A MessageEncoder that answers from the table and encodes only what it has not seen.

    Training evaluates the model it just trained on val/test/hand-written sets whose messages are
    already in the table: this saves re-encoding them (minutes on a CPU) with identical vectors.
    """

    def __init__(self, table: EmbeddingTable) -> None:
        self.table = table

    @property
    def dim(self) -> int:
        return self.table.encoder.dim

    def reference(self) -> dict[str, object]:
        return self.table.encoder.reference()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.table.ensure(texts, save=False)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.table.vectors[text_key(t)] for t in texts])
