"""The escalation package: one zip with everything a safety team or a hotline needs for a case.

Contents (all JSON except the manifest):
- conversation.json  the conversation as stored at ingest (the validated contract record)
- assessment.json    the model's assessment the case rests on (the thread's current one)
- evidence.json      the evidence messages: index, sender, time, score, categories and text
- decisions.json     every reviewer decision with its note, time and account
- history.json       every assessment received for the conversation (hashes, model versions)
- audit.json         the thread's audit entries (ids and hashes only)
- report.json        a report modelled on the structure of NCMEC's CyberTipline report: incident
                     type, incident time, platform, reported accounts, reporter, categories. It is a
                     starting point for a submission through the official channel, not a submission.
                     It also carries the model's per-participant risk (`senders`, with the
                     `suspected_sender`) and its recommended actions (`recommended_actions`, null when
                     the scorer was not asked for them).
- MANIFEST           SHA-256 of every other file, in `sha256sum -c` format

The export itself is audited (thread, actor, file digests). The zip is written under a temporary
name and moved into place only after its audit entry has committed.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grooming_risk.review.audit import AuditAction
from grooming_risk.review.models import DecisionKind
from grooming_risk.review.store import CaseMaterial, DecisionView, ReviewStore

REPORT_SCHEMA = "grooming-risk/case-report@1"
MODELLED_ON = "NCMEC CyberTipline report (structure only; not an official submission format)"

INCIDENT_TYPES: dict[str, tuple[str, str]] = {
    # label -> (incident type, description). NCMEC files both under online enticement of children.
    "grooming": ("online_enticement", "Online enticement of a child: grooming"),
    "sextortion": ("online_enticement", "Online enticement of a child: sextortion (threats, demands)"),
}


@dataclass(frozen=True)
class CaseExport:
    path: Path
    files: dict[str, str]  # name -> sha256


def _final_decision(decisions: list[DecisionView]) -> DecisionView | None:
    for decision in reversed(decisions):
        if decision.decision is not DecisionKind.NEEDS_SECOND_REVIEW:
            return decision
    return None


def _incident_type(final: DecisionView | None, model_label: str) -> dict[str, Any]:
    if final is not None and final.decision is DecisionKind.CONFIRMED_GROOMING:
        label, basis = "grooming", "reviewer decision: confirmed_grooming"
    elif final is not None and final.decision is DecisionKind.CONFIRMED_SEXTORTION:
        label, basis = "sextortion", "reviewer decision: confirmed_sextortion"
    elif final is not None and final.decision is DecisionKind.NOT_RISKY:
        return {
            "type": "none",
            "description": "Reviewed: not risky",
            "subtype": None,
            "basis": "reviewer decision: not_risky",
        }
    elif final is not None and final.decision is DecisionKind.ESCALATE:
        label, basis = model_label, "escalated by reviewer; type from the model's label"
    else:
        label, basis = model_label, "not yet decided by a reviewer; type from the model's label"
    if label not in INCIDENT_TYPES:
        return {"type": "undetermined", "description": "Undetermined", "subtype": None, "basis": basis}
    kind, description = INCIDENT_TYPES[label]
    return {"type": kind, "description": description, "subtype": label, "basis": basis}


def _sender_block(item: dict[str, Any], ages: dict[str, Any], suspected: str | None) -> dict[str, Any]:
    """One participant as the model saw them: ids, scores and message indices, no text."""
    return {
        "account_identifier": item["sender"],
        "suspected": item["sender"] == suspected,
        "role": item.get("role"),
        "risk": item.get("risk"),
        "messages": item.get("messages"),
        "categories": item.get("categories", []),
        "evidence_message_indices": [e["index"] for e in item.get("evidence", [])],
        "first_sent_at": item.get("first_sent_at"),
        "last_sent_at": item.get("last_sent_at"),
        "declared_age": ages.get(item["sender"]),
    }


def build_report(material: CaseMaterial, exported_by: int | None, organisation: str | None) -> dict[str, Any]:
    conversation = material.conversation
    assessment = material.assessment
    messages = conversation.get("messages", [])
    evidence = assessment.get("evidence", [])
    final = _final_decision(material.decisions)
    confirmed = set(final.categories) if final and final.decision.confirms_risk else set()

    # Incident time: the earliest of the evidence messages and the first alert that has a time.
    candidates = sorted({e["index"] for e in evidence} | ({assessment["first_alert_index"]} - {None}))
    incident_time, time_basis = None, "no message in the evidence or at the first alert has a timestamp"
    for index in candidates:
        sent_at = messages[index].get("sent_at") if index < len(messages) else None
        if sent_at:
            which = "first alert" if index == assessment.get("first_alert_index") else "evidence message"
            incident_time, time_basis = sent_at, f"{which} #{index}"
            break

    # Reported accounts: senders of evidence messages; if the reviewer confirmed categories, only
    # of evidence messages showing one of them (a child's reply can move the score too).
    implicated: dict[str, list[int]] = {}
    for item in evidence:
        if confirmed and not confirmed.intersection(item.get("categories", [])):
            continue
        sender = messages[item["index"]]["sender"]
        implicated.setdefault(sender, []).append(item["index"])
    ages = {p["id"]: p.get("declared_age") for p in conversation.get("participants", [])}
    senders = list(dict.fromkeys(m["sender"] for m in messages))
    reviewers = sorted({d.reviewer_id for d in material.decisions})
    model_categories = sorted(
        {c for e in evidence for c in e.get("categories", [])} | set(assessment.get("categories_present", []))
    )
    sender_risks = assessment.get("senders") or []
    suspected = sender_risks[0]["sender"] if sender_risks and assessment.get("flagged") else None
    return {
        "schema": REPORT_SCHEMA,
        "modelled_on": MODELLED_ON,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "reporting_party": {
            "organisation": organisation,
            "reviewer_account_ids": reviewers,
            "reviewers": sorted({d.reviewer for d in material.decisions}),
            "exported_by_account_id": exported_by,
        },
        "incident": {
            **_incident_type(final, str(assessment.get("label"))),
            "incident_time": incident_time,
            "incident_time_basis": time_basis,
            "platform": conversation.get("platform"),
            "conversation_id": conversation.get("conversation_id"),
            "language": conversation.get("language"),
            "message_count": len(messages),
        },
        "reported_accounts": [
            {
                "platform": conversation.get("platform"),
                "account_identifier": sender,
                "role": "sender of evidence messages (suspected)",
                "evidence_message_indices": indices,
                "declared_age": ages.get(sender),
            }
            for sender, indices in implicated.items()
        ],
        "other_participants": [
            {"account_identifier": s, "declared_age": ages.get(s)} for s in senders if s not in implicated
        ],
        "suspected_sender": suspected,
        "senders": [_sender_block(item, ages, suspected) for item in sender_risks],
        "recommended_actions": assessment.get("actions"),
        "summary_categories": sorted(confirmed) if confirmed else model_categories,
        "summary_categories_basis": "reviewer" if confirmed else "model",
        "detection": {
            "model_version": assessment.get("model_version"),
            "risk": assessment.get("risk"),
            "label": assessment.get("label"),
            "urgent": assessment.get("urgent"),
            "first_alert_index": assessment.get("first_alert_index"),
        },
        "review": {
            "status": material.thread["status"],
            "final_decision": final.decision.value if final else None,
            "decided_at": final.decided_at.isoformat() if final else None,
            "reviewer_account_id": final.reviewer_id if final else None,
            "decisions": len(material.decisions),
        },
    }


def _dump(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8")


def case_files(material: CaseMaterial, exported_by: int | None, organisation: str | None) -> dict[str, bytes]:
    messages = material.conversation.get("messages", [])
    evidence = [
        {
            "index": e["index"],
            "sender": messages[e["index"]]["sender"],
            "sent_at": messages[e["index"]].get("sent_at"),
            "score": e["score"],
            "categories": e.get("categories", []),
            "text": messages[e["index"]]["text"],
        }
        for e in material.assessment.get("evidence", [])
    ]
    decisions = [
        {
            "decision_id": d.id,
            "decision": d.decision.value,
            "categories": d.categories,
            "note": d.note,
            "reviewer_account_id": d.reviewer_id,
            "reviewer": d.reviewer,
            "decided_at": d.decided_at.isoformat(),
            "assessment_id": d.assessment_id,
        }
        for d in material.decisions
    ]
    audit_rows = [
        {
            "id": a.id,
            "seq": a.seq,
            "at": a.at,
            "actor_account_id": a.actor_id,
            "action": a.action,
            "details": a.details,
            "hash": a.hash,
        }
        for a in material.audit
    ]
    files = {
        "conversation.json": _dump(material.conversation),
        "assessment.json": _dump({"assessment_id": material.assessment_id, **material.assessment}),
        "evidence.json": _dump(evidence),
        "decisions.json": _dump({"thread": material.thread, "decisions": decisions}),
        "history.json": _dump(material.history),
        "audit.json": _dump(audit_rows),
    }
    report = build_report(material, exported_by, organisation)
    report["files"] = [*files, "report.json", "MANIFEST"]
    files["report.json"] = _dump(report)
    manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in files.items())
    files["MANIFEST"] = manifest.encode("utf-8")
    return files


def export_case(
    store: ReviewStore,
    thread_id: int,
    out: str | Path,
    *,
    actor_id: int | None = None,
    organisation: str | None = None,
    via: str = "cli",
) -> CaseExport:
    material = store.case_material(thread_id)
    files = case_files(material, actor_id, organisation)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    # A fixed timestamp inside the zip keeps the archive's bytes a function of its contents.
    stamp = (1980, 1, 1, 0, 0, 0)
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            archive.writestr(info, data)
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    try:
        store.record_export(
            AuditAction.EXPORT_CASE,
            actor_id,
            thread_id,
            {
                "via": via,
                "file": path.name[-128:],
                "manifest_sha256": digests["MANIFEST"],
                "zip_sha256": hashlib.sha256(tmp.read_bytes()).hexdigest(),
                "assessment_id": material.assessment_id,
            },
        )
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    return CaseExport(path, digests)


def case_zip_bytes(
    store: ReviewStore, thread_id: int, *, actor_id: int, organisation: str | None, tmp_dir: str | Path
) -> tuple[bytes, str]:
    """(zip bytes, download file name) for the web app; audited like the CLI export."""
    material_name = f"case-{thread_id}.zip"
    result = export_case(
        store,
        thread_id,
        Path(tmp_dir) / material_name,
        actor_id=actor_id,
        organisation=organisation,
        via="web",
    )
    data = result.path.read_bytes()
    result.path.unlink(missing_ok=True)
    return data, material_name
