"""Several copies of the sequence model, trained with different seeds, as one model.

Between seeds one recipe's hand-written figures move a lot (the hard-negative rate by eightfold), and
averaging seeds is the usual cure. Averaging inside the model, rather than outside it, keeps one
artifact, one step graph and one streaming state, so every front end reads the ensemble exactly as it
reads a single model:

* the heads are the members' logits averaged (risk: the geometric mean of their odds);
* the streaming state is the members' GRU states side by side, then their per-sender evidence sums
  side by side, so the evidence stays the last numbers of the state (inference/stepping.py);
* a message's evidence is 1 - exp(mean of the members' log-survivals), the same average the risk takes.
"""

from __future__ import annotations

import dataclasses
from typing import cast

import torch
from torch import nn

from grooming_risk.model.features import ROLE_SLOTS
from grooming_risk.model.sequence import RiskSequenceModel, SequenceModelConfig

MAX_MEMBERS = 8
_AVERAGED = ("risk_logit", "type_logit", "category_logits", "evidence_logit", "log_survival")


class EnsembleSequenceModel(nn.Module):
    def __init__(self, config: SequenceModelConfig) -> None:
        super().__init__()
        if not 2 <= config.members <= MAX_MEMBERS:
            raise ValueError(f"members: expected 2 to {MAX_MEMBERS}, got {config.members}")
        self.config = config
        member = dataclasses.replace(config, members=1)
        self.members = nn.ModuleList(RiskSequenceModel(member) for _ in range(config.members))

    @classmethod
    def of(cls, members: list[RiskSequenceModel]) -> EnsembleSequenceModel:
        """Trained single models (same config) -> one ensemble holding their weights."""
        configs = {m.config for m in members}
        if len(configs) != 1:
            raise ValueError("ensemble members must share one config")
        ensemble = cls(dataclasses.replace(members[0].config, members=len(members)))
        for target, source in zip(ensemble._members(), members, strict=True):
            target.load_state_dict(source.state_dict())
        return ensemble

    @property
    def _slots(self) -> int:
        return ROLE_SLOTS if self.config.score == "evidence" else 0

    @property
    def state_size(self) -> int:
        return self.config.members * (self.config.hidden + self._slots)

    def _average(self, outs: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        heads = {k: torch.stack([o[k] for o in outs]).mean(dim=0) for k in _AVERAGED if k in outs[0]}
        if "log_survival" in heads:
            heads["message_evidence"] = -torch.expm1(heads["log_survival"])
        return heads

    def _members(self) -> list[RiskSequenceModel]:
        return cast(list[RiskSequenceModel], list(self.members))

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        return self._average([m(x, lengths) for m in self._members()])

    def step(
        self, x: torch.Tensor, hidden: torch.Tensor | None
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """As RiskSequenceModel.step; hidden [1, B, state_size] = all GRU states, then all sums."""
        k, h, slots = self.config.members, self.config.hidden, self._slots
        if hidden is None:
            hidden = torch.zeros(1, x.shape[0], self.state_size, dtype=x.dtype)
        outs, grus, sums = [], [], []
        for i, member in enumerate(self._members()):
            own = hidden[..., i * h : (i + 1) * h]
            if slots:
                start = k * h + i * slots
                own = torch.cat([own, hidden[..., start : start + slots]], dim=-1)
            heads, new = member.step(x, own)
            outs.append(heads)
            grus.append(new[..., :h])
            sums.append(new[..., h:])
        return self._average(outs), torch.cat(grus + sums, dim=-1)


SequenceModel = RiskSequenceModel | EnsembleSequenceModel


def build(config: SequenceModelConfig) -> SequenceModel:
    """The model a config describes: one RiskSequenceModel, or an ensemble of `members` of them."""
    return RiskSequenceModel(config) if config.members == 1 else EnsembleSequenceModel(config)
