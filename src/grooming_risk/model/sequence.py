"""The causal sequence model: after every message, risk, type and warning-sign probabilities.

A GRU carries the conversation so far in a fixed-size state, so streaming costs one step per
message whatever the chat's length, and the batch path (packed sequences) gives exactly the same
numbers as stepping message by message.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn


@dataclass(frozen=True)
class SequenceModelConfig:
    embed_dim: int
    feature_dim: int
    n_categories: int
    hidden: int = 128
    dropout: float = 0.2

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RiskSequenceModel(nn.Module):
    def __init__(self, config: SequenceModelConfig) -> None:
        super().__init__()
        self.config = config
        h = config.hidden
        self.input = nn.Sequential(
            nn.Linear(config.embed_dim + config.feature_dim, h),
            nn.GELU(),
            nn.LayerNorm(h),
            nn.Dropout(config.dropout),
        )
        self.gru = nn.GRU(h, h, batch_first=True)
        self.dropout = nn.Dropout(config.dropout)
        self.risk_head = nn.Linear(h, 1)
        # Sextortion vs grooming, meaningful once risk is present.
        self.type_head = nn.Linear(h, 1)
        # Per-message warning signs read from the message itself and its context.
        self.category_head = nn.Sequential(nn.Linear(2 * h, h), nn.GELU(), nn.Linear(h, config.n_categories))

    def _heads(self, projected: torch.Tensor, states: torch.Tensor) -> dict[str, torch.Tensor]:
        states = self.dropout(states)
        return {
            "risk_logit": self.risk_head(states).squeeze(-1),
            "type_logit": self.type_head(states).squeeze(-1),
            "category_logits": self.category_head(torch.cat([projected, states], dim=-1)),
        }

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        """x: [B, T, embed+features], lengths: [B] -> per-step outputs [B, T, ...]."""
        projected = self.input(x)
        packed = nn.utils.rnn.pack_padded_sequence(
            projected, lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        out, _ = self.gru(packed)
        states, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return self._heads(projected, states)

    def step(
        self, x: torch.Tensor, hidden: torch.Tensor | None
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """One message for each of B conversations: x [B, D], hidden [1, B, H] or None."""
        projected = self.input(x).unsqueeze(1)
        out, new_hidden = self.gru(projected, hidden)
        heads = self._heads(projected.squeeze(1), out.squeeze(1))
        return heads, new_hidden
