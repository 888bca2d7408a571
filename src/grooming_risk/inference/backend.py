"""What a model kind must provide to `RiskScorer`: raw per-message outputs, batch and streaming.

Backends return *uncalibrated* risk logits; calibration, thresholds, labels and evidence are
applied once, in the scorer, from the artifact, so no front end can apply them differently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from grooming_risk.contract.conversation import Conversation, Message


@dataclass
class Trajectory:
    """Raw outputs after each message of one conversation."""

    risk_logit: np.ndarray  # [n]
    sextortion_prob: np.ndarray  # [n]
    category_probs: np.ndarray  # [n, C]
    # How strongly each message counts as a warning sign from its sender ([n], in [0, 1)), for a
    # model whose risk is tied to evidence; None for other models (the scorer then attributes each
    # message's rise in risk to its sender).
    message_evidence: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.risk_logit.shape[0])


class Backend(Protocol):
    supports_streaming: bool

    def trajectories(self, conversations: Sequence[Conversation]) -> list[Trajectory]: ...

    def init_state(self) -> dict[str, Any]: ...

    def warm_up(self) -> None: ...

    def advance(
        self, states: Sequence[dict[str, Any]], messages: Sequence[Sequence[Message]]
    ) -> list[tuple[dict[str, Any], Trajectory]]: ...
