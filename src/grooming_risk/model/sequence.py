"""The causal sequence model: after every message, risk, type and warning-sign probabilities.

A GRU carries the conversation so far in a fixed-size state, so streaming costs one step per
message whatever the chat's length, and the batch path (packed sequences) gives exactly the same
numbers as stepping message by message.

Two ways to turn the state into a conversation risk (`score`):

* `gru`: a linear head on the GRU state. Anything in the conversation can move it, off-topic
  text included.
* `evidence`: tied to evidence. A per-message head reads each message in its context (the GRU
  state, the speaker's role among the features) and says how likely it carries a warning sign;
  only the part of that probability above `EVIDENCE_FLOOR` counts, accumulated per sender as a
  noisy-OR (a sum of log-survivals, three role slots carried beside the GRU state). The risk is the
  most suspicious sender's: it rises only through messages that carry warning signs, and a message
  below the floor cannot raise it at all.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import torch
from torch import nn

from grooming_risk.model.features import ROLE_SLOTS

# Evidence below this probability adds nothing: ordinary messages cannot add up to an alert.
EVIDENCE_FLOOR = 0.3
# Keep log(1 - g) finite and the risk logit in about [-11.5, 30] (-11.5: no evidence at all).
_EPS = 1e-5
_MAX_SUM = 30.0


@dataclass(frozen=True)
class SequenceModelConfig:
    embed_dim: int
    feature_dim: int
    n_categories: int
    hidden: int = 128
    dropout: float = 0.2
    score: Literal["gru", "evidence"] = "gru"
    # Copies of this model averaged in one graph (model/ensemble.py); 1: a single model.
    members: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RiskSequenceModel(nn.Module):
    def __init__(self, config: SequenceModelConfig) -> None:
        super().__init__()
        if config.members != 1:
            raise ValueError(
                f"RiskSequenceModel is one member; members={config.members} is built by model.ensemble.build"
            )
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
        if config.score == "evidence":
            self.evidence_head = nn.Sequential(nn.Linear(2 * h, h), nn.GELU(), nn.Linear(h, 1))
            # How much one clear warning sign counts (sigmoid: 0.88 at the start).
            self.evidence_scale = nn.Parameter(torch.tensor(2.0))

    @property
    def state_size(self) -> int:
        """Numbers carried between messages: the GRU state, plus the per-sender evidence sums."""
        return self.config.hidden + (ROLE_SLOTS if self.config.score == "evidence" else 0)

    def _roles(self, x: torch.Tensor) -> torch.Tensor:
        start = self.config.embed_dim
        return x[..., start : start + ROLE_SLOTS]

    def _evidence(
        self, projected: torch.Tensor, states: torch.Tensor, roles: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Evidence logit per message, and its log-survival by sender slot (<= 0)."""
        logit = self.evidence_head(torch.cat([projected, states], dim=-1)).squeeze(-1)
        above = torch.relu(torch.sigmoid(logit) - EVIDENCE_FLOOR) / (1 - EVIDENCE_FLOOR)
        g = (above * torch.sigmoid(self.evidence_scale)).clamp(max=1 - _EPS)
        return logit, torch.log1p(-g).unsqueeze(-1) * roles

    @staticmethod
    def _risk_from_sums(sums: torch.Tensor) -> torch.Tensor:
        """Risk logit of the most suspicious sender: risk = 1 - exp(min over senders of the sums)."""
        m = sums.min(dim=-1).values.clamp(min=-_MAX_SUM, max=-_EPS)
        # log(risk / (1 - risk)) = log(exp(-m) - 1); written without expm1, which ONNX lacks.
        return torch.log(torch.exp(-m) - 1.0)

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
        heads = self._heads(projected, states)
        if self.config.score == "evidence":
            # Padding rows have no role, so they add nothing to the sums.
            logit, log_survival = self._evidence(projected, self.dropout(states), self._roles(x))
            heads["evidence_logit"] = logit
            heads["risk_logit"] = self._risk_from_sums(torch.cumsum(log_survival, dim=1))
            # What each message adds to its sender's noisy-OR: the scorer's per-participant risk.
            heads["log_survival"] = log_survival.sum(dim=-1)
            heads["message_evidence"] = -torch.expm1(heads["log_survival"])
        return heads

    def step(
        self, x: torch.Tensor, hidden: torch.Tensor | None
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """One message for each of B conversations: x [B, D], hidden [1, B, state_size] or None."""
        h = self.config.hidden
        if hidden is None:
            hidden = torch.zeros(1, x.shape[0], self.state_size, dtype=x.dtype)
        projected = self.input(x).unsqueeze(1)
        out, new_gru = self.gru(projected, hidden[..., :h].contiguous())
        heads = self._heads(projected.squeeze(1), out.squeeze(1))
        if self.config.score != "evidence":
            return heads, new_gru
        logit, log_survival = self._evidence(
            projected.squeeze(1), self.dropout(out.squeeze(1)), self._roles(x)
        )
        sums = hidden[0, :, h:] + log_survival
        heads["evidence_logit"] = logit
        heads["risk_logit"] = self._risk_from_sums(sums)
        return heads, torch.cat([new_gru, sums.unsqueeze(0)], dim=-1)
