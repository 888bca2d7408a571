"""The evidence-tied score: risk rises only through messages that carry warning signs.

Plumbing and properties on small random models: batch equals streaming, the risk never falls and
stays at its floor when no message carries evidence, the state has a fixed size, ONNX agrees.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from grooming_risk.contract.taxonomy import RISK_CATEGORIES
from grooming_risk.model.features import FEATURE_DIM, ROLE_SLOTS
from grooming_risk.model.sequence import RiskSequenceModel, SequenceModelConfig

EMBED = 12


def _model(seed: int = 0) -> RiskSequenceModel:
    torch.manual_seed(seed)
    config = SequenceModelConfig(EMBED, FEATURE_DIM, len(RISK_CATEGORIES), hidden=8, score="evidence")
    return RiskSequenceModel(config).eval()


def _inputs(batch: int, length: int, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, length, EMBED + FEATURE_DIM, generator=g)
    roles = torch.zeros(batch, length, ROLE_SLOTS)
    roles[:, 0::2, 0] = 1.0  # two participants taking turns
    roles[:, 1::2, 1] = 1.0
    x[..., EMBED : EMBED + ROLE_SLOTS] = roles
    return x


def test_batch_and_step_by_step_agree() -> None:
    model = _model()
    x = _inputs(3, 9)
    lengths = torch.tensor([9, 5, 2])
    with torch.no_grad():
        whole = model(x, lengths)["risk_logit"]
        hidden = torch.zeros(1, 3, model.state_size)
        for t in range(9):
            heads, hidden = model.step(x[:, t], hidden)
            for row in range(3):
                if t < lengths[row]:
                    assert float(heads["risk_logit"][row]) == pytest.approx(float(whole[row, t]), abs=1e-4)
    assert model.state_size == 8 + ROLE_SLOTS


def test_the_risk_never_falls() -> None:
    for seed in range(5):
        with torch.no_grad():
            risk = _model(seed)(_inputs(4, 30, seed), torch.tensor([30] * 4))["risk_logit"]
        assert bool((risk[:, 1:] >= risk[:, :-1] - 1e-5).all()), seed


def test_no_evidence_means_no_risk_whatever_the_context() -> None:
    model = _model()
    with torch.no_grad():
        model.evidence_head[-1].bias.fill_(-20.0)  # no message carries a warning sign
        risk = model(_inputs(4, 40), torch.tensor([40] * 4))["risk_logit"]
    assert float(risk.max()) < -11.0  # the floor: probability ~1e-5, whatever else the GRU saw


def test_one_sender_with_evidence_makes_the_risk() -> None:
    model = _model()
    x = _inputs(1, 10)
    with torch.no_grad():
        model.evidence_head[-1].bias.fill_(-20.0)
        quiet = model(x, torch.tensor([10]))["risk_logit"][0]
        # The second participant's messages now all carry evidence.
        model.evidence_head[-1].bias.fill_(20.0)
        loud = model(x, torch.tensor([10]))["risk_logit"][0]
    assert float(loud[-1]) > float(quiet[-1]) + 10
    # The first message is the first participant's: evidence from both counts per sender, so the
    # risk after it is that sender's alone and grows with each further message of the same sender.
    assert float(loud[2]) > float(loud[0])


@pytest.mark.slow
def test_onnx_export_of_an_evidence_model_matches_torch(tiny_encoder_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from grooming_risk.inference.onnx_export import export_onnx
    from grooming_risk.inference.scorer import RiskScorer
    from grooming_risk.model.encoder import EncoderSettings, HFMessageEncoder
    from tests.conftest import save_tiny_artifact, toy_conversations
    from tests.parity import RISK_TOLERANCE, assert_same_senders

    torch.manual_seed(2)
    encoder = HFMessageEncoder(EncoderSettings(name=str(tiny_encoder_dir), max_length=32))
    config = SequenceModelConfig(encoder.dim, FEATURE_DIM, len(RISK_CATEGORIES), hidden=16, score="evidence")
    model = RiskSequenceModel(config).eval()
    source = save_tiny_artifact(model, tiny_encoder_dir, tmp_path / "torch", "tiny-evidence-1")
    export_onnx(source, tmp_path / "onnx", encoding="none")
    convs = toy_conversations(1)
    torch_scorer, onnx_scorer = RiskScorer.load(source), RiskScorer.load(tmp_path / "onnx")
    for a, b in zip(torch_scorer.score(convs), onnx_scorer.score(convs), strict=True):
        assert np.allclose(a.risk_by_message, b.risk_by_message, atol=RISK_TOLERANCE)
        # Per-participant risk: the ONNX step's evidence is read off its state, torch's off the
        # model's head; they agree, and the riskiest participant carries the conversation's risk.
        assert_same_senders(b, a)
        assert b.senders[0].risk == pytest.approx(b.risk, abs=RISK_TOLERANCE)
    # Streaming on either runtime carries the same fixed-size state.
    state = onnx_scorer.new_state("s")
    [(state, _)] = onnx_scorer.advance([(state, convs[0].messages)])
    assert len(state.backend["hidden"]) == 16 + ROLE_SLOTS
