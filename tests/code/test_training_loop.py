"""Training-loop details that a tiny end-to-end run would not catch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from grooming_risk.model.sequence import RiskSequenceModel, SequenceModelConfig
from grooming_risk.training.config import OptimConfig
from grooming_risk.training.loop import Example, Trainer
from grooming_risk.training.targets import Targets

EMBED, FEATURES = 8, 3


def _trainer(noise: float) -> Trainer:
    model = RiskSequenceModel(SequenceModelConfig(EMBED, FEATURES, n_categories=2, hidden=4))
    return Trainer(model, OptimConfig(embedding_noise=noise), torch.device("cpu"))


def _batch() -> torch.Tensor:
    torch.manual_seed(0)
    vectors = torch.nn.functional.normalize(torch.randn(2, 5, EMBED), dim=-1)
    x = torch.cat([vectors, torch.randn(2, 5, FEATURES)], dim=-1)
    x[1, 3:] = 0.0  # padding after the second conversation's third message
    return x


def test_embedding_noise_moves_vectors_keeps_them_unit_and_leaves_features_and_padding() -> None:
    x = _batch()
    out = _trainer(0.05)._perturb(x)
    real = torch.ones(2, 5, dtype=torch.bool)
    real[1, 3:] = False
    assert torch.allclose(out[..., :EMBED][real].norm(dim=-1), torch.ones(int(real.sum())), atol=1e-5)
    cosine = (out[..., :EMBED][real] * x[..., :EMBED][real]).sum(-1)
    assert bool((cosine < 1 - 1e-4).all())  # every real vector moved ...
    assert bool((cosine > 0.8).all())  # ... but stayed near where it was
    assert torch.equal(out[..., EMBED:], x[..., EMBED:])
    assert torch.equal(out[1, 3:], torch.zeros_like(out[1, 3:]))


def _example(n: int) -> Example:
    targets = Targets(
        risk=np.zeros(n, np.float32),
        sextortion=np.zeros(n, np.float32),
        type_mask=np.zeros(n, np.float32),
        categories=np.zeros((n, 2), np.float32),
        category_mask=np.zeros(n, np.float32),
        evidence=np.zeros(n, np.float32),
    )
    return Example(inputs=np.zeros((n, EMBED + FEATURES), np.float32), targets=targets)


@pytest.mark.parametrize("noise", [0.0, 0.05])
def test_only_training_steps_see_noisy_inputs(noise: float, monkeypatch: pytest.MonkeyPatch) -> None:
    trainer = _trainer(noise)
    x = _batch()
    monkeypatch.setattr(trainer, "_inputs", lambda batch: x)
    seen: list[torch.Tensor] = []
    forward = trainer.model.forward
    monkeypatch.setattr(trainer.model, "forward", lambda x_, lengths: seen.append(x_) or forward(x_, lengths))
    batch = [_example(5), _example(3)]
    trainer.model.eval()
    trainer._loss(batch)
    assert torch.equal(seen[-1], x)
    trainer.model.train()
    trainer._loss(batch)
    assert torch.equal(seen[-1], x) == (noise == 0.0)
