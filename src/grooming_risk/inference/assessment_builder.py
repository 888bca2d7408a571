"""Turn raw per-message outputs into an `Assessment`, one message at a time.

Batch scoring and streaming both feed messages through the same builder, so a conversation
scored whole and the same conversation streamed message by message get the same assessment.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grooming_risk.contract.assessment import Assessment, Evidence
from grooming_risk.contract.taxonomy import Label
from grooming_risk.inference.backend import Trajectory
from grooming_risk.model.artifact import ArtifactMeta

MAX_EVIDENCE = 5
# A message must raise the risk by at least this much to be shown as evidence.
MIN_EVIDENCE_DELTA = 0.01
# A warning sign is present in a conversation (and named on an evidence message) from this
# probability on. Applied here only: every reader uses `Assessment.categories_present`.
CATEGORY_PRESENT = 0.5
DECIMALS = 6


def calibrate(logit: float, temperature: float) -> float:
    z = float(logit) / temperature
    # Numerically stable sigmoid.
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    ez = math.exp(z)
    return ez / (1.0 + ez)


@dataclass
class BuilderState:
    """What the builder remembers between messages: constant-size, whatever the conversation's length.

    The per-message risks are not kept here: `push` returns each one and the caller keeps what it
    needs (batch scoring all of them, streaming only the messages of the current append), so a
    streamed conversation's stored state does not grow with every message.
    """

    n_messages: int = 0
    last_risk: float = 0.0
    category_max: list[float] = field(default_factory=list)
    sextortion_prob: float = 0.0
    first_alert_index: int | None = None
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_messages": self.n_messages,
            "last_risk": self.last_risk,
            "category_max": self.category_max,
            "sextortion_prob": self.sextortion_prob,
            "first_alert_index": self.first_alert_index,
            "evidence": self.evidence,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BuilderState:
        return cls(
            n_messages=int(data.get("n_messages", 0)),
            last_risk=float(data.get("last_risk", 0.0)),
            category_max=[float(x) for x in data.get("category_max", [])],
            sextortion_prob=float(data.get("sextortion_prob", 0.0)),
            first_alert_index=data.get("first_alert_index"),
            evidence=list(data.get("evidence", [])),
        )


class AssessmentBuilder:
    def __init__(self, meta: ArtifactMeta) -> None:
        self.meta = meta
        self.temperature = meta.calibration.temperature if meta.calibration.method == "temperature" else 1.0
        self.review = meta.thresholds.review
        self.urgent = meta.thresholds.urgent
        self.categories = list(meta.categories)

    def push(
        self, state: BuilderState, risk_logit: float, sextortion_prob: float, category_probs: np.ndarray
    ) -> float:
        """Account for one more message; returns its calibrated risk."""
        index = state.n_messages
        risk = round(calibrate(risk_logit, self.temperature), DECIMALS)
        previous = state.last_risk if index else 0.0
        state.n_messages += 1
        state.last_risk = risk
        cats = [round(float(p), DECIMALS) for p in category_probs]
        state.category_max = (
            cats
            if not state.category_max
            else [max(a, b) for a, b in zip(state.category_max, cats, strict=True)]
        )
        state.sextortion_prob = round(float(sextortion_prob), DECIMALS)
        if state.first_alert_index is None and risk >= self.review:
            state.first_alert_index = index
        delta = round(risk - previous, DECIMALS)
        if delta >= MIN_EVIDENCE_DELTA:
            present = [c for c, p in zip(self.categories, cats, strict=True) if p >= CATEGORY_PRESENT]
            state.evidence.append({"index": index, "score": delta, "categories": present})
            # Highest delta first; earlier message wins a tie so the order is deterministic.
            state.evidence.sort(key=lambda e: (-e["score"], e["index"]))
            del state.evidence[MAX_EVIDENCE:]
        return risk

    def extend(self, state: BuilderState, trajectory: Trajectory) -> list[float]:
        """Account for a run of messages (a whole conversation, or one append); returns their risks."""
        return [
            self.push(
                state,
                float(trajectory.risk_logit[i]),
                float(trajectory.sextortion_prob[i]),
                trajectory.category_probs[i],
            )
            for i in range(len(trajectory))
        ]

    def assessment(
        self, conversation_id: str, state: BuilderState, recent_risks: Sequence[float] | None = None
    ) -> Assessment:
        """The assessment after the latest message. `recent_risks` are the risks of the last
        `len(recent_risks)` messages (all of them for a whole conversation; default: the last one)."""
        if not state.n_messages:
            raise ValueError(f"conversation {conversation_id!r}: no messages to assess")
        risk = state.last_risk
        recent = [risk] if recent_risks is None else [float(r) for r in recent_risks]
        if not 0 < len(recent) <= state.n_messages:
            raise ValueError(
                f"conversation {conversation_id!r}: {len(recent)} recent risks for {state.n_messages} messages"
            )
        flagged = risk >= self.review
        if not flagged:
            label = Label.BENIGN
        else:
            label = Label.SEXTORTION if state.sextortion_prob >= 0.5 else Label.GROOMING
        return Assessment(
            conversation_id=conversation_id,
            risk=risk,
            label=label,
            flagged=flagged,
            urgent=risk >= self.urgent,
            categories=dict(zip(self.categories, state.category_max, strict=True)),
            categories_present=[
                c for c, p in zip(self.categories, state.category_max, strict=True) if p >= CATEGORY_PRESENT
            ],
            first_alert_index=state.first_alert_index,
            evidence=[Evidence(**e) for e in state.evidence],
            model_version=self.meta.model_version,
            risk_by_message=recent,
            risk_by_message_start=state.n_messages - len(recent),
        )
