"""Every shipped config loads and builds (lightning-hydra style), and bad configs say what is wrong."""

from pathlib import Path

import pytest

from grooming_risk.training.config import ConfigError, TrainConfig, flatten, load_config

CONFIGS = sorted(Path(__file__).resolve().parents[2].joinpath("configs").glob("*.yaml"))


def test_the_three_configs_ship() -> None:
    assert {p.stem for p in CONFIGS} >= {"baseline", "default", "tiny"}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_shipped_config_loads_and_builds(path: Path) -> None:
    cfg = load_config(path)
    assert isinstance(cfg, TrainConfig)
    params = flatten(cfg)
    assert params["name"] == cfg.name
    if cfg.model.kind == "sequence":
        from grooming_risk.contract.taxonomy import RISK_CATEGORIES
        from grooming_risk.model.features import FEATURE_DIM
        from grooming_risk.model.sequence import RiskSequenceModel, SequenceModelConfig

        model = RiskSequenceModel(
            SequenceModelConfig(384, FEATURE_DIM, len(RISK_CATEGORIES), cfg.model.hidden, cfg.model.dropout)
        )
        assert sum(p.numel() for p in model.parameters()) > 0


def test_overrides_apply(tmp_path: Path) -> None:
    cfg = load_config(CONFIGS[0], ["training.epochs=1", "output_dir=" + str(tmp_path)])
    assert cfg.training.epochs == 1
    assert cfg.output_dir == tmp_path


def test_unknown_key_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\noutput_dir: o\ndata: {train: a, val: b}\ntraining: {epochz: 3}\n")
    with pytest.raises(ConfigError, match=r"training\.epochz"):
        load_config(bad)


def test_bad_value_says_what_is_allowed(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\noutput_dir: o\ndata: {train: a, val: b}\nmodel: {kind: forest}\n")
    with pytest.raises(ConfigError, match=r"model\.kind"):
        load_config(bad)
