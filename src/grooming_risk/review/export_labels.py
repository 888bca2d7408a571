"""Reviewer decisions back to training, as conversation-contract records with provenance.

Mapping from a thread's final decision (its latest; a thread whose latest decision is "needs second
review" is still open and is skipped):
- confirmed_grooming   -> label grooming
- confirmed_sextortion -> label sextortion
- not_risky            -> label benign, hard_negative true (the model flagged it: exactly the kind of
                          conversation it must learn to leave alone)
- escalate             -> the model's label if that is grooming or sextortion (provenance says
                          label_basis "model_label_on_escalation"); skipped if the model said benign

Message categories: for a risky label, each evidence message keeps those of its categories the
reviewer confirmed (the decision's category checkboxes); every other message gets none, because no
one reviewed it at message level. first_risk_index is the first such evidence message (None if
none), the best position estimate available. For benign, no message has a category.

Each record is the conversation contract plus a `provenance` key that readers ignore:
{source: "review", decision, decided_at, reviewer_ids, model_version, assessment_id, label_basis}.
A dataset card (source "review-labels") is written beside the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grooming_risk.contract.conversation import Conversation
from grooming_risk.data.cards import CountAccumulator, DatasetCard, write_card
from grooming_risk.io.writers import RecordWriter
from grooming_risk.review.audit import AuditAction
from grooming_risk.review.db import display_url
from grooming_risk.review.models import DecisionKind
from grooming_risk.review.store import DecisionView, ReviewStore

DIRECT_LABELS = {
    DecisionKind.CONFIRMED_GROOMING: "grooming",
    DecisionKind.CONFIRMED_SEXTORTION: "sextortion",
    DecisionKind.NOT_RISKY: "benign",
}
RISKY = ("grooming", "sextortion")


@dataclass(frozen=True)
class LabelsExport:
    path: Path
    card: Path
    written: int
    by_label: dict[str, int]
    skipped_open: int  # latest decision is "needs second review"
    skipped_escalated_benign: int  # escalated, and the model's label gives nothing to train on


def label_record(
    conversation: dict[str, Any], assessment: dict[str, Any], decisions: list[DecisionView]
) -> dict[str, Any] | None:
    """The training record for one decided thread, or None if it has no usable final label."""
    final = decisions[-1]
    if final.decision is DecisionKind.NEEDS_SECOND_REVIEW:
        return None
    if final.decision is DecisionKind.ESCALATE:
        label = str(assessment.get("label"))
        if label not in RISKY:
            return None
        basis = "model_label_on_escalation"
    else:
        label = DIRECT_LABELS[final.decision]
        basis = "reviewer_decision"
    record = dict(conversation)
    messages = [dict(m, categories=[]) for m in conversation["messages"]]
    first_risk: int | None = None
    if label in RISKY:
        confirmed = set(final.categories)
        for item in assessment.get("evidence", []):
            kept = [c for c in item.get("categories", []) if c in confirmed]
            if kept:
                messages[item["index"]]["categories"] = kept
                first_risk = item["index"] if first_risk is None else min(first_risk, item["index"])
    record.update(
        messages=messages,
        label=label,
        first_risk_index=first_risk,
        hard_negative=label == "benign",
    )
    # Round-trip through the contract: what we write is what training will read.
    validated = Conversation.model_validate(record).model_dump(mode="json")
    validated["provenance"] = {
        "source": "review",
        "decision": final.decision.value,
        "label_basis": basis,
        "decided_at": final.decided_at.isoformat(),
        "reviewer_ids": sorted({d.reviewer_id for d in decisions}),
        "model_version": assessment.get("model_version"),
        "assessment_id": final.assessment_id,
        "confirmed_categories": final.categories,
    }
    return validated


def export_labels(store: ReviewStore, out: str | Path, *, actor_id: int | None = None) -> LabelsExport:
    path = Path(out)
    counter = CountAccumulator()
    skipped_open = skipped_escalated = 0
    with RecordWriter(path) as writer:
        for conversation, assessment, decisions, _status in store.decided_threads():
            record = label_record(conversation, assessment, decisions)
            if record is None:
                if decisions[-1].decision is DecisionKind.NEEDS_SECOND_REVIEW:
                    skipped_open += 1
                else:
                    skipped_escalated += 1
                continue
            writer.write(record)
            counter.add(Conversation.model_validate(record))
    counts = counter.counts()
    card = DatasetCard(
        name=path.name.split(".")[0],
        source="review-labels",
        counts=counts,
        parameters={
            "database": display_url(store.engine.url.render_as_string(hide_password=False)),
            "skipped_open": skipped_open,
            "skipped_escalated_benign": skipped_escalated,
            "mapping": "confirmed_grooming->grooming, confirmed_sextortion->sextortion, "
            "not_risky->benign (hard negative), escalate->model label if risky",
        },
        notes="Reviewer decisions from the grooming-risk review store; each record has a provenance key.",
    )
    card_path = write_card(path, card)
    digest = card.content_sha256 or ""
    store.record_export(
        AuditAction.EXPORT_LABELS,
        actor_id,
        None,
        {"file": path.name[-128:], "sha256": digest, "records": writer.count},
    )
    return LabelsExport(path, card_path, writer.count, counts.by_label, skipped_open, skipped_escalated)
