"""The training embedding cache: evaluation and promotion read the vectors training computed."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np

from grooming_risk.inference.sequence_backend import SequenceBackend
from grooming_risk.model.encoder import CachedEncoder
from grooming_risk.model.features import FEATURE_DIM
from grooming_risk.model.lexical import LexicalEncoder
from grooming_risk.model.sequence import RiskSequenceModel, SequenceModelConfig
from grooming_risk.training.embeddings import EmbeddingTable, table_tag
from grooming_risk.training.evaluate import use_vector_cache


class CountingEncoder(CachedEncoder):
    """A frozen encoder like USE: a digest, no torch, and a record of every text it encoded."""

    def __init__(self, prefix: str = "") -> None:
        super().__init__(cache_size=0)  # no LRU: every miss reaches _encode_uncached
        self.encoded: list[str] = []
        self.prefix = prefix

    @property
    def dim(self) -> int:
        return 4

    def reference(self) -> dict[str, Any]:
        return {"name": "counting", "weights_sha256": "ab" * 32, "max_length": 64, "prefix": self.prefix}

    def _encode_uncached(self, texts: list[str]) -> np.ndarray:
        self.encoded += texts
        return np.array([[len(t), t.count("o"), 1.0, float(len(self.prefix))] for t in texts], np.float32)


def scorer_with(encoder: Any) -> Any:
    config = SequenceModelConfig(embed_dim=int(encoder.dim), feature_dim=FEATURE_DIM, n_categories=3)
    return cast(Any, SimpleNamespace(backend=SequenceBackend(RiskSequenceModel(config), encoder)))


def test_evaluation_reads_a_frozen_encoders_vectors_from_the_training_cache(tmp_path: Path) -> None:
    trained = CountingEncoder()
    EmbeddingTable(trained, tmp_path).ensure(["hello", "how old are you"])
    cache_file = next((tmp_path / "embeddings").glob("*.safetensors"))
    written = cache_file.stat().st_mtime_ns

    fresh = CountingEncoder()
    scorer = scorer_with(LexicalEncoder(fresh, 8))  # the lexical channel keeps hashing beside it
    use_vector_cache(scorer, tmp_path)
    got = scorer.backend.encoder.encode(["how old are you", "hello", "new text"])

    assert fresh.encoded == ["new text"]  # only what training never saw is encoded
    expected = CountingEncoder().encode(["how old are you", "hello", "new text"])
    np.testing.assert_array_equal(got[:, :4], expected)
    assert got.shape == (3, 4 + 8)
    # Evaluation's own additions stay in memory: rewriting the whole file per batch costs more.
    assert cache_file.stat().st_mtime_ns == written


def test_a_plain_frozen_encoder_is_wrapped_and_a_missing_cache_dir_leaves_it_alone(tmp_path: Path) -> None:
    encoder = CountingEncoder()
    scorer = scorer_with(encoder)
    use_vector_cache(scorer, None)
    assert scorer.backend.encoder is encoder
    use_vector_cache(scorer, tmp_path)
    assert scorer.backend.encoder is not encoder
    scorer.backend.encoder.encode(["hi", "hi"])
    assert encoder.encoded == ["hi"]


def test_a_different_prefix_never_reads_another_prefixs_vectors() -> None:
    plain, prefixed = CountingEncoder().reference(), CountingEncoder("query: ").reference()
    assert table_tag(plain) != table_tag(prefixed)
    assert table_tag(plain) == table_tag(CountingEncoder().reference())
