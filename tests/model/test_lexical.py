"""The lexical channel: hashed n-grams beside the sentence vector, the same in every runtime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grooming_risk.model.lexical import LexicalEncoder, hashed_ngrams, ngrams


def test_vectors_are_deterministic_unit_length_and_empty_text_is_zero() -> None:
    texts = ["how old are you?", "", "gg wp"]
    a, b = hashed_ngrams(texts, 64), hashed_ngrams(list(texts), 64)
    assert a.shape == (3, 64)
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert np.linalg.norm(a[0]) == pytest.approx(1.0, abs=1e-5)
    assert not a[1].any()


def test_shared_words_and_spellings_land_close() -> None:
    v = hashed_ngrams(["dont tell ur parents", "don't tell your parents", "the bus was late"], 256)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.2


def test_ngrams_cover_words_bigrams_and_characters() -> None:
    grams = ngrams("Snap me")
    assert "w:snap" in grams
    assert "b:snap me" in grams
    assert "c:<sn" in grams


class _Base:
    dim = 4

    def reference(self) -> dict[str, object]:
        return {"name": "base", "dim": 4}

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.ones((len(texts), 4), dtype=np.float32)


def test_the_wrapper_appends_the_channel_and_records_it() -> None:
    enc = LexicalEncoder(_Base(), 16)
    out = enc.encode(["hello there"])
    assert out.shape == (1, 20)
    np.testing.assert_array_equal(out[:, :4], 1.0)
    assert enc.reference() == {"name": "base", "dim": 4, "lexical_dim": 16}


@pytest.mark.slow
def test_a_lexical_model_trains_scores_and_exports(
    tiny_encoder_dir: Path, mlflow_tracking: str, tmp_path: Path
) -> None:
    pytest.importorskip("onnxruntime")
    from grooming_risk.inference.onnx_export import export_onnx
    from grooming_risk.inference.scorer import RiskScorer
    from grooming_risk.training.config import load_config
    from grooming_risk.training.pipeline import train
    from tests.conftest import toy_conversations
    from tests.model.test_end_to_end import CONFIGS, _write_splits
    from tests.parity import RISK_TOLERANCE

    paths = _write_splits(tmp_path)
    cfg = load_config(
        CONFIGS / "tiny.yaml",
        [
            f"encoder.name={tiny_encoder_dir}",
            "encoder.lexical_dim=32",
            f"data.train={paths['train']}",
            f"data.val={paths['val']}",
            "data.test=null",
            "data.handwritten=null",
            f"output_dir={tmp_path / 'model'}",
            f"cache_dir={tmp_path / 'cache'}",
            "mlflow.log_model=false",
        ],
    )
    train(cfg)
    scorer = RiskScorer.load(tmp_path / "model")
    assert scorer.meta.encoder is not None
    assert scorer.meta.encoder["lexical_dim"] == 32
    export_onnx(tmp_path / "model", tmp_path / "onnx", encoding="none")
    onnx = RiskScorer.load(tmp_path / "onnx")
    convs = toy_conversations(1)
    for a, b in zip(scorer.score(convs), onnx.score(convs), strict=True):
        assert np.allclose(a.risk_by_message, b.risk_by_message, atol=RISK_TOLERANCE)
