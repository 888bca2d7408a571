"""The one step loop: advance conversations message by message through any recurrent step.

A backend that streams provides a message encoder and a `Step` (torch or onnxruntime, same
inputs and outputs); `advance` does the rest, so both runtimes carry the same state
(`hidden`, `features`) the same way and a conversation begun on one can continue on the other.
`step_trajectories` runs the same step over whole conversations (the ONNX batch path).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from grooming_risk.contract.conversation import Message
from grooming_risk.inference.backend import Trajectory
from grooming_risk.model.encoder import TextEncoder
from grooming_risk.model.features import FeatureState, message_features
from grooming_risk.text.normalize import normalize

StepOutputs = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class Step(Protocol):
    """One recurrent step for B conversations: x [B, D], h [B, H] -> (risk logit [B], sextortion
    probability [B], category probabilities [B, C], h' [B, H]), all float32 numpy."""

    hidden: int
    n_categories: int
    # The last `evidence_slots` numbers of h are per-sender sums of log(1 - evidence) (an
    # evidence-tied model, model/sequence.py); 0 for a model without them. An ensemble of
    # `evidence_members` models (model/ensemble.py) holds one set of sums per member there.
    evidence_slots: int
    evidence_members: int

    def __call__(self, x: np.ndarray, h: np.ndarray) -> StepOutputs: ...


def message_evidence(step: Step, h_old: np.ndarray, h_new: np.ndarray) -> np.ndarray | None:
    """Each row's message evidence, read off the change in its sender's log-survival sum (only the
    sender's slot moves), so no graph needs an extra output; for an ensemble, the members' mean."""
    if not step.evidence_slots:
        return None
    k = step.evidence_slots
    change = (h_new[..., -k:] - h_old[..., -k:]).sum(axis=-1) / max(step.evidence_members, 1)
    return np.clip(-np.expm1(change), 0.0, 1.0).astype(np.float32)


def initial_state() -> dict[str, Any]:
    return {"hidden": None, "features": FeatureState().to_dict()}


def advance(
    encoder: TextEncoder,
    step: Step,
    states: Sequence[dict[str, Any]],
    messages: Sequence[Sequence[Message]],
) -> list[tuple[dict[str, Any], Trajectory]]:
    """Append messages to several conversations at once: one encoder batch for all of them, and
    one step call per position for the conversations that have a message there."""
    texts = [normalize(m.text).text for msgs in messages for m in msgs]
    vectors = encoder.encode(texts)
    feature_states = [FeatureState.from_dict(s["features"]) for s in states]
    hiddens = [
        np.asarray(s["hidden"], dtype=np.float32)
        if s["hidden"] is not None
        else np.zeros(step.hidden, dtype=np.float32)
        for s in states
    ]
    offsets = np.cumsum([0] + [len(m) for m in messages])
    per_conv: list[list[tuple[np.ndarray, np.ndarray, np.ndarray, float]]] = [[] for _ in messages]
    longest = max((len(m) for m in messages), default=0)
    for pos in range(longest):
        active = [i for i, msgs in enumerate(messages) if pos < len(msgs)]
        rows = [
            np.concatenate([vectors[offsets[i] + pos], message_features(messages[i][pos], feature_states[i])])
            for i in active
        ]
        h_old = np.stack([hiddens[i] for i in active])
        risk, sext, cats, h_new = step(np.stack(rows), h_old)
        evidence = message_evidence(step, h_old, h_new)
        for row, i in enumerate(active):
            hiddens[i] = h_new[row]
            per_conv[i].append((risk[row], sext[row], cats[row], 0.0 if evidence is None else evidence[row]))
    results = []
    for i, steps in enumerate(per_conv):
        state = {"hidden": hiddens[i].tolist(), "features": feature_states[i].to_dict()}
        trajectory = Trajectory(
            np.array([s[0] for s in steps], dtype=np.float32).reshape(-1),
            np.array([s[1] for s in steps], dtype=np.float32).reshape(-1),
            np.array([s[2] for s in steps], dtype=np.float32).reshape(len(steps), -1),
            np.array([s[3] for s in steps], dtype=np.float32) if step.evidence_slots else None,
        )
        results.append((state, trajectory))
    return results


def step_trajectories(step: Step, inputs: Sequence[np.ndarray], batch: int) -> list[Trajectory]:
    """Whole conversations' inputs ([n_i, D] each) through the step, `batch` conversations at a time."""
    results: list[Trajectory | None] = [None] * len(inputs)
    # Longest first: at each position the conversations still going are a prefix of the batch.
    # Rows are gathered per position rather than padded into one [B, T, D] array, which for a
    # batch with one 10,000-message chat would be gigabytes.
    order = sorted(range(len(inputs)), key=lambda i: -len(inputs[i]))
    for start in range(0, len(order), batch):
        idx = order[start : start + batch]
        outs = [
            (
                np.zeros(len(inputs[i]), dtype=np.float32),
                np.zeros(len(inputs[i]), dtype=np.float32),
                np.zeros((len(inputs[i]), step.n_categories), dtype=np.float32),
                np.zeros(len(inputs[i]), dtype=np.float32),
            )
            for i in idx
        ]
        h = np.zeros((len(idx), step.hidden), dtype=np.float32)
        for pos in range(len(inputs[idx[0]]) if idx else 0):
            active = sum(1 for i in idx if len(inputs[i]) > pos)
            x = np.stack([inputs[i][pos] for i in idx[:active]])
            risk, sext, cats, h_new = step(x, h[:active])
            evidence = message_evidence(step, h[:active], h_new)
            h[:active] = h_new
            for row in range(active):
                r, s, c, e = outs[row]
                r[pos], s[pos], c[pos] = risk[row], sext[row], cats[row]
                e[pos] = 0.0 if evidence is None else evidence[row]
        for row, i in enumerate(idx):
            r, s, c, e = outs[row]
            results[i] = Trajectory(r, s, c, e if step.evidence_slots else None)
    return [r for r in results if r is not None]
