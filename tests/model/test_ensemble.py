"""The seed ensemble inside one model: averaged heads, one state, the same step on every runtime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from grooming_risk.contract.taxonomy import RISK_CATEGORIES
from grooming_risk.inference.sequence_backend import TorchStep
from grooming_risk.inference.stepping import step_trajectories
from grooming_risk.model.ensemble import EnsembleSequenceModel, build
from grooming_risk.model.features import FEATURE_DIM, ROLE_SLOTS
from grooming_risk.model.sequence import RiskSequenceModel, SequenceModelConfig

EMBED = 12


def _config(score: str = "evidence", members: int = 1) -> SequenceModelConfig:
    return SequenceModelConfig(
        EMBED,
        FEATURE_DIM,
        len(RISK_CATEGORIES),
        hidden=8,
        score=score,  # type: ignore[arg-type]
        members=members,
    )


def _members(score: str = "evidence", k: int = 3) -> list[RiskSequenceModel]:
    out = []
    for seed in range(k):
        torch.manual_seed(seed)
        out.append(RiskSequenceModel(_config(score)).eval())
    return out


def _inputs(batch: int, length: int, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, length, EMBED + FEATURE_DIM, generator=g)
    roles = torch.zeros(batch, length, ROLE_SLOTS)
    roles[:, 0::2, 0] = 1.0  # two participants taking turns
    roles[:, 1::2, 1] = 1.0
    x[..., EMBED : EMBED + ROLE_SLOTS] = roles
    return x


def test_build_gives_one_model_or_an_ensemble() -> None:
    assert type(build(_config())) is RiskSequenceModel
    ensemble = build(_config(members=3))
    assert isinstance(ensemble, EnsembleSequenceModel)
    assert len(ensemble.members) == 3
    assert ensemble.state_size == 3 * (8 + ROLE_SLOTS)
    assert build(_config("gru", members=2)).state_size == 2 * 8
    with pytest.raises(ValueError, match="members"):
        RiskSequenceModel(_config(members=2))
    with pytest.raises(ValueError, match="members"):
        EnsembleSequenceModel(_config(members=1))


@pytest.mark.parametrize("score", ["evidence", "gru"])
def test_heads_are_the_members_mean_logits(score: str) -> None:
    members = _members(score)
    ensemble = EnsembleSequenceModel.of(members).eval()
    x, lengths = _inputs(3, 7), torch.tensor([7, 4, 2])
    with torch.no_grad():
        outs = [m(x, lengths) for m in members]
        got = ensemble(x, lengths)
    for key in ("risk_logit", "type_logit", "category_logits"):
        assert torch.allclose(got[key], torch.stack([o[key] for o in outs]).mean(0), atol=1e-6), key
    # Not a copy of one member: the members differ.
    assert not torch.allclose(outs[0]["risk_logit"], outs[1]["risk_logit"])
    if score == "evidence":
        survival = torch.stack([o["log_survival"] for o in outs]).mean(0)
        assert torch.allclose(got["message_evidence"], -torch.expm1(survival), atol=1e-6)


@pytest.mark.parametrize("score", ["evidence", "gru"])
def test_batch_and_step_by_step_agree(score: str) -> None:
    ensemble = EnsembleSequenceModel.of(_members(score)).eval()
    x, lengths = _inputs(3, 9), torch.tensor([9, 5, 2])
    with torch.no_grad():
        whole = ensemble(x, lengths)["risk_logit"]
        hidden = torch.zeros(1, 3, ensemble.state_size)
        for t in range(9):
            heads, hidden = ensemble.step(x[:, t], hidden)
            assert hidden.shape == (1, 3, ensemble.state_size)
            for row in range(3):
                if t < lengths[row]:
                    assert float(heads["risk_logit"][row]) == pytest.approx(float(whole[row, t]), abs=1e-4)


def test_the_shared_step_loop_reads_the_ensembles_evidence() -> None:
    # stepping.py reads message evidence off the state's tail (all members' sums): it must give the
    # members' mean, as the batch path does.
    ensemble = EnsembleSequenceModel.of(_members()).eval()
    x = _inputs(2, 8)
    with torch.no_grad():
        whole = ensemble(x, torch.tensor([8, 8]))
    step = TorchStep(ensemble)
    assert (step.evidence_slots, step.evidence_members) == (3 * ROLE_SLOTS, 3)
    trajectories = step_trajectories(step, [x[0].numpy(), x[1].numpy()], batch=2)
    for row, trajectory in enumerate(trajectories):
        assert trajectory.message_evidence is not None
        assert np.allclose(trajectory.message_evidence, whole["message_evidence"][row].numpy(), atol=1e-5)
        assert np.allclose(trajectory.risk_logit, whole["risk_logit"][row].numpy(), atol=1e-4)


@pytest.mark.slow
def test_onnx_export_of_an_ensemble_matches_torch(tiny_encoder_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from grooming_risk.inference.onnx_export import export_onnx
    from grooming_risk.inference.scorer import RiskScorer
    from grooming_risk.model.encoder import EncoderSettings, HFMessageEncoder
    from tests.conftest import save_tiny_artifact, toy_conversations
    from tests.parity import RISK_TOLERANCE, assert_same_senders

    encoder = HFMessageEncoder(EncoderSettings(name=str(tiny_encoder_dir), max_length=32))
    members = []
    for seed in (3, 4):
        torch.manual_seed(seed)
        config = SequenceModelConfig(
            encoder.dim, FEATURE_DIM, len(RISK_CATEGORIES), hidden=16, score="evidence"
        )
        members.append(RiskSequenceModel(config).eval())
    ensemble = EnsembleSequenceModel.of(members).eval()
    source = save_tiny_artifact(ensemble, tiny_encoder_dir, tmp_path / "torch", "tiny-ensemble-1")
    export_onnx(source, tmp_path / "onnx", encoding="none")
    convs = toy_conversations(1)
    torch_scorer, onnx_scorer = RiskScorer.load(source), RiskScorer.load(tmp_path / "onnx")
    for a, b in zip(torch_scorer.score(convs), onnx_scorer.score(convs), strict=True):
        assert np.allclose(a.risk_by_message, b.risk_by_message, atol=RISK_TOLERANCE)
        assert_same_senders(b, a)
    # One fixed-size state holds both members, the same layout on either runtime: a conversation
    # begun on ONNX continues on torch.
    conv = convs[3]
    state = onnx_scorer.new_state(conv.conversation_id)
    [(state, _)] = onnx_scorer.advance([(state, conv.messages[:3])])
    assert len(state.backend["hidden"]) == 2 * (16 + ROLE_SLOTS)
    rest = torch_scorer.advance([(state, conv.messages[3:])])[0][1]
    [whole] = torch_scorer.score([conv])
    assert np.allclose(rest.risk_by_message, whole.risk_by_message[3:], atol=RISK_TOLERANCE)


@pytest.mark.slow
def test_training_an_ensemble_logs_every_member_and_saves_one_model(
    tiny_encoder_dir: Path, mlflow_tracking: str, tmp_path: Path
) -> None:
    from grooming_risk.inference.scorer import RiskScorer
    from grooming_risk.io.readers import read_conversations
    from grooming_risk.training.config import load_config
    from grooming_risk.training.pipeline import train
    from tests.model.test_end_to_end import CONFIGS, _write_splits

    paths = _write_splits(tmp_path)
    cfg = load_config(
        CONFIGS / "tiny.yaml",
        [
            f"encoder.name={tiny_encoder_dir}",
            f"data.train={paths['train']}",
            f"data.val={paths['val']}",
            f"data.test={paths['test']}",
            "data.handwritten=null",
            f"data.real_val={paths['real_val']}",
            "model.score=evidence",
            "model.members=2",
            "calibration.balance=true",
            f"output_dir={tmp_path / 'model'}",
            f"cache_dir={tmp_path / 'cache'}",
            "mlflow.register_model=false",
        ],
    )
    metrics = train(cfg)
    assert "val_roc_auc" in metrics
    scorer = RiskScorer.load(tmp_path / "model")
    assert scorer.meta.model["members"] == 2
    backend_model = scorer.backend.model  # type: ignore[attr-defined]
    assert isinstance(backend_model, EnsembleSequenceModel)
    first, second = backend_model.members
    # Two seeds, two different members.
    assert not torch.equal(first.risk_head.weight, second.risk_head.weight)

    import mlflow

    run = mlflow.search_runs(experiment_names=[cfg.mlflow.experiment], output_format="list")[0]
    history = {k for k in run.data.metrics if k.startswith("member1_")}
    assert history == {"member1_train_loss", "member1_val_loss", "member1_val_final_auc"}
    assert len(scorer.score(list(read_conversations(paths["test"])))) > 0


def test_the_model_card_names_the_members_and_their_seeds() -> None:
    from grooming_risk.training.evaluate import _sequence_lines

    [line] = _sequence_lines({"score": "evidence", "hidden": 128, "members": 3}, seed=13)
    assert "3 members (seeds 13–15)" in line
    [single] = _sequence_lines({"score": "gru", "hidden": 16}, seed=13)
    assert "members" not in single
    assert _sequence_lines({"c": 4.0}, seed=13) == []
