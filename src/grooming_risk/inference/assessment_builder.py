"""Turn raw per-message outputs into an `Assessment`, one message at a time.

Batch scoring and streaming both feed messages through the same builder, so a conversation
scored whole and the same conversation streamed message by message get the same assessment.

Per-participant risk: each message's evidence (how strongly it counts as a warning sign) is
credited to its sender and accumulated as a noisy-OR, 1 - prod(1 - e), on the conversation's
calibrated scale. For an evidence-tied model the evidence is the model's own (the same sums its
risk is made of, so a two-person chat's riskiest participant has the conversation's risk); for
any other model it is the message's relative rise in risk, (r - r_prev) / (1 - r_prev).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grooming_risk.contract.assessment import Assessment, Evidence, Role, SenderRisk
from grooming_risk.contract.conversation import Message
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
ROLES: tuple[Role, ...] = ("initiator", "second", "other")
# Keep log(1 - e) finite, as the model does (model/sequence.py).
_EPS = 1e-5
_MAX_SUM = 30.0


def calibrate(logit: float, temperature: float, bias: float = 0.0) -> float:
    z = float(logit) / temperature + bias
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
    # One entry per participant (grows with participants, not messages): see `SenderState`.
    senders: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_messages": self.n_messages,
            "last_risk": self.last_risk,
            "category_max": self.category_max,
            "sextortion_prob": self.sextortion_prob,
            "first_alert_index": self.first_alert_index,
            "evidence": self.evidence,
            "senders": self.senders,
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
            senders={str(k): dict(v) for k, v in dict(data.get("senders", {})).items()},
        )


def _sender_entry(order: int) -> dict[str, Any]:
    """A participant's running totals: order of first appearance, message count, sum of
    log(1 - evidence), last risk, category maxima, top evidence, first and last message time."""
    return {"order": order, "n": 0, "log_survival": 0.0, "risk": 0.0, "category_max": [], "evidence": []}


def _keep_top(evidence: list[dict[str, Any]], item: dict[str, Any]) -> None:
    evidence.append(item)
    # Highest score first; earlier message wins a tie so the order is deterministic.
    evidence.sort(key=lambda e: (-e["score"], e["index"]))
    del evidence[MAX_EVIDENCE:]


class AssessmentBuilder:
    def __init__(self, meta: ArtifactMeta) -> None:
        self.meta = meta
        calibrated = meta.calibration.method != "none"
        self.temperature = meta.calibration.temperature if calibrated else 1.0
        self.bias = meta.calibration.bias if calibrated else 0.0
        self.review = meta.thresholds.review
        self.urgent = meta.thresholds.urgent
        self.categories = list(meta.categories)

    def push(
        self,
        state: BuilderState,
        risk_logit: float,
        sextortion_prob: float,
        category_probs: np.ndarray,
        message: Message | None = None,
        message_evidence: float | None = None,
    ) -> float:
        """Account for one more message; returns its calibrated risk. `message` (its sender and
        time) feeds the per-participant risk; `message_evidence` is the model's, when it has one."""
        index = state.n_messages
        risk = round(calibrate(risk_logit, self.temperature, self.bias), DECIMALS)
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
        present = [c for c, p in zip(self.categories, cats, strict=True) if p >= CATEGORY_PRESENT]
        if delta >= MIN_EVIDENCE_DELTA:
            _keep_top(state.evidence, {"index": index, "score": delta, "categories": present})
        if message is not None:
            if message_evidence is None:
                rise = max(0.0, risk - previous) / max(1.0 - previous, _EPS)
                self._credit(state, message, index, cats, present, rise, calibrated=True)
            else:
                self._credit(state, message, index, cats, present, message_evidence, calibrated=False)
        return risk

    def _credit(
        self,
        state: BuilderState,
        message: Message,
        index: int,
        cats: list[float],
        present: list[str],
        evidence: float,
        *,
        calibrated: bool,
    ) -> None:
        """Add one message's evidence to its sender's noisy-OR."""
        entry = state.senders.get(message.sender)
        if entry is None:
            entry = state.senders[message.sender] = _sender_entry(len(state.senders))
        entry["n"] += 1
        entry["log_survival"] = max(
            -_MAX_SUM, entry["log_survival"] + math.log1p(-min(max(evidence, 0.0), 1.0 - _EPS))
        )
        before = entry["risk"]
        survival = -min(entry["log_survival"], -_EPS)
        if calibrated:
            entry["risk"] = round(-math.expm1(-survival), DECIMALS)
        else:
            # The model's scale: the same logit its conversation risk is computed from, calibrated.
            entry["risk"] = round(
                calibrate(math.log(math.expm1(survival)), self.temperature, self.bias), DECIMALS
            )
        entry["category_max"] = (
            cats
            if not entry["category_max"]
            else [max(a, b) for a, b in zip(entry["category_max"], cats, strict=True)]
        )
        moved = round(entry["risk"] - before, DECIMALS)
        if moved >= MIN_EVIDENCE_DELTA:
            _keep_top(entry["evidence"], {"index": index, "score": moved, "categories": present})
        if message.sent_at is not None:
            stamp = message.sent_at.isoformat()
            entry.setdefault("first_sent_at", stamp)
            entry["last_sent_at"] = stamp

    def extend(
        self, state: BuilderState, trajectory: Trajectory, messages: Sequence[Message] | None = None
    ) -> list[float]:
        """Account for a run of messages (a whole conversation, or one append); returns their risks.
        Without `messages` there is no per-participant risk."""
        if messages is not None and len(messages) != len(trajectory):
            raise ValueError(f"{len(messages)} messages for a trajectory of {len(trajectory)}")
        evidence = trajectory.message_evidence
        return [
            self.push(
                state,
                float(trajectory.risk_logit[i]),
                float(trajectory.sextortion_prob[i]),
                trajectory.category_probs[i],
                None if messages is None else messages[i],
                None if evidence is None else float(evidence[i]),
            )
            for i in range(len(trajectory))
        ]

    def senders(self, state: BuilderState) -> list[SenderRisk]:
        """Participants, riskiest first; nobody above the conversation.

        Equal risks (most often 0: no message crossed the evidence floor) are broken by how much the
        sender's strongest message looked like a warning sign (the model's per-message category
        probabilities), then by who appeared first. A reviewer who opens a thread flagged by other
        means then sees the likelier suspect first, not whoever happened to speak first.
        """
        ranked = sorted(
            state.senders.items(),
            key=lambda kv: (-kv[1]["risk"], -max(kv[1]["category_max"], default=0.0), kv[1]["order"]),
        )
        return [
            SenderRisk(
                sender=sender,
                role=ROLES[min(entry["order"], len(ROLES) - 1)],
                risk=min(entry["risk"], state.last_risk),
                messages=entry["n"],
                categories=[
                    c
                    for c, p in zip(self.categories, entry["category_max"], strict=True)
                    if p >= CATEGORY_PRESENT
                ],
                evidence=[Evidence(**e) for e in entry["evidence"]],
                first_sent_at=entry.get("first_sent_at"),
                last_sent_at=entry.get("last_sent_at"),
            )
            for sender, entry in ranked
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
            senders=self.senders(state),
        )
