"""The artifact refuses to be written or loaded in an inconsistent state, with a clear message."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from grooming_risk.inference.scorer import RiskScorer
from grooming_risk.model.artifact import (
    META_FILE,
    WEIGHTS_FILE,
    ArtifactMeta,
    InvalidArtifactError,
    Thresholds,
    load_artifact,
    save_artifact,
)


def _copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "copy"
    shutil.copytree(src, dst)
    return dst


def test_round_trip_loads(tiny_artifact: Path) -> None:
    meta, tensors = load_artifact(tiny_artifact)
    assert meta.kind == "sequence"
    assert tensors
    assert not list(tiny_artifact.rglob("*.pkl"))
    assert not list(tiny_artifact.rglob("*.pickle"))


def test_tampered_weights_are_refused(tiny_artifact: Path, tmp_path: Path) -> None:
    art = _copy(tiny_artifact, tmp_path)
    with open(art / WEIGHTS_FILE, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(InvalidArtifactError, match="does not match the digest"):
        RiskScorer.load(art)


def test_missing_file_is_refused(tiny_artifact: Path, tmp_path: Path) -> None:
    art = _copy(tiny_artifact, tmp_path)
    (art / WEIGHTS_FILE).unlink()
    with pytest.raises(InvalidArtifactError, match="missing"):
        RiskScorer.load(art)


def test_inconsistent_thresholds_are_refused(tiny_artifact: Path, tmp_path: Path) -> None:
    art = _copy(tiny_artifact, tmp_path)
    meta = json.loads((art / META_FILE).read_text())
    meta["thresholds"] = {"review": 0.9, "urgent": 0.2}
    (art / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(
        InvalidArtifactError, match=r"urgent threshold 0\.2 is below the review threshold 0\.9"
    ):
        RiskScorer.load(art)


def test_changed_taxonomy_is_refused(tiny_artifact: Path, tmp_path: Path) -> None:
    art = _copy(tiny_artifact, tmp_path)
    meta = json.loads((art / META_FILE).read_text())
    meta["categories"] = meta["categories"][:-1]
    (art / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(InvalidArtifactError, match="taxonomy"):
        RiskScorer.load(art)


def test_wrong_encoder_is_refused(tiny_artifact: Path, tmp_path: Path) -> None:
    art = _copy(tiny_artifact, tmp_path)
    meta = json.loads((art / META_FILE).read_text())
    meta["encoder"]["weights_sha256"] = "0" * 64
    (art / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(InvalidArtifactError, match="not the one this model was trained with"):
        RiskScorer.load(art)


def test_not_an_artifact(tmp_path: Path) -> None:
    with pytest.raises(InvalidArtifactError, match="not a grooming-risk model"):
        RiskScorer.load(tmp_path)


def test_refuses_to_write_nan_weights(tmp_path: Path) -> None:
    meta = ArtifactMeta(kind="tfidf_lr", model_version="v", thresholds=Thresholds(review=0.3, urgent=0.8))
    with pytest.raises(InvalidArtifactError, match="NaN"):
        save_artifact(tmp_path / "a", meta, {"w": np.array([np.nan], dtype=np.float32)})


def test_refuses_to_overwrite_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "notes.txt").write_text("mine")
    meta = ArtifactMeta(kind="tfidf_lr", model_version="v", thresholds=Thresholds(review=0.3, urgent=0.8))
    with pytest.raises(InvalidArtifactError, match="not a grooming-risk artifact"):
        save_artifact(tmp_path / "a", meta, {"w": np.zeros(1, dtype=np.float32)})


def test_a_failed_save_leaves_the_previous_artifact_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grooming_risk.model import artifact as artifact_module

    meta = ArtifactMeta(kind="tfidf_lr", model_version="v1", thresholds=Thresholds(review=0.3, urgent=0.8))
    save_artifact(tmp_path / "a", meta, {"w": np.zeros(3, dtype=np.float32)})
    before = {p.name: p.read_bytes() for p in (tmp_path / "a").iterdir()}

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(artifact_module, "load_artifact", broken)
    with pytest.raises(OSError, match="disk full"):
        save_artifact(
            tmp_path / "a",
            meta.model_copy(update={"model_version": "v2"}),
            {"w": np.ones(3, dtype=np.float32)},
        )
    monkeypatch.undo()
    # The old artifact is untouched and loads; no staging directory is left behind.
    assert {p.name: p.read_bytes() for p in (tmp_path / "a").iterdir()} == before
    assert load_artifact(tmp_path / "a")[0].model_version == "v1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]
    # A successful save replaces it whole.
    save_artifact(
        tmp_path / "a", meta.model_copy(update={"model_version": "v2"}), {"w": np.ones(3, dtype=np.float32)}
    )
    assert load_artifact(tmp_path / "a")[0].model_version == "v2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]


def test_a_model_trained_on_other_text_preparation_loads_with_a_warning(
    tiny_artifact: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from grooming_risk.text.normalize import TEXT_PREP_VERSION

    assert load_artifact(tiny_artifact)[0].versions["text_prep"] == str(TEXT_PREP_VERSION)
    with caplog.at_level("WARNING", logger="grooming_risk.inference.scorer"):
        RiskScorer.load(tiny_artifact)
    assert "text prepared" not in caplog.text

    art = _copy(tiny_artifact, tmp_path)
    meta = json.loads((art / META_FILE).read_text())
    del meta["versions"]["text_prep"]  # written before the version was recorded
    (art / META_FILE).write_text(json.dumps(meta))
    with caplog.at_level("WARNING", logger="grooming_risk.inference.scorer"):
        RiskScorer.load(art)
    assert (
        f"trained on text prepared by version 1; this grooming-risk prepares text with version {TEXT_PREP_VERSION}"
        in caplog.text
    )
