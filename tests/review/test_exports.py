"""Escalation packages and labels for training."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from grooming_risk.contract.taxonomy import Label
from grooming_risk.data.cards import read_card
from grooming_risk.io.readers import read_conversations
from grooming_risk.review.auth import AccountInfo
from grooming_risk.review.export_case import export_case
from grooming_risk.review.export_labels import export_labels
from grooming_risk.review.ingest import ingest_pairs
from grooming_risk.review.store import ReviewStore
from tests.review.factories import grooming_pair, sextortion_pair

People = dict[str, AccountInfo]


def test_case_package_contents_manifest_and_report(
    store: ReviewStore, people: People, seeded: dict[str, int], tmp_path: Path
) -> None:
    sext = seeded["sext"]
    store.claim(sext, people["alice"])
    store.decide(
        sext, people["alice"], "confirmed_sextortion", ["threat_coercion", "financial_demand"], "pay demand"
    )
    out = export_case(
        store, sext, tmp_path / "case.zip", actor_id=people["lena"].id, organisation="Example Safety"
    )
    with zipfile.ZipFile(out.path) as archive:
        names = set(archive.namelist())
        files = {name: archive.read(name) for name in names}
    assert names == {
        "conversation.json",
        "assessment.json",
        "evidence.json",
        "decisions.json",
        "history.json",
        "audit.json",
        "report.json",
        "MANIFEST",
    }
    manifest = dict(reversed(line.split("  ", 1)) for line in files["MANIFEST"].decode().splitlines())
    assert set(manifest) == names - {"MANIFEST"}
    for name, digest in manifest.items():
        assert hashlib.sha256(files[name]).hexdigest() == digest

    conversation = json.loads(files["conversation.json"])
    assert conversation["conversation_id"] == "conv-sext-1"
    assert len(conversation["messages"]) == 5
    decisions = json.loads(files["decisions.json"])["decisions"]
    assert decisions[0]["note"] == "pay demand"
    assert decisions[0]["reviewer_account_id"] == people["alice"].id
    report = json.loads(files["report.json"])
    assert report["incident"]["type"] == "online_enticement"
    assert report["incident"]["subtype"] == "sextortion"
    assert report["incident"]["platform"] == "social_dm"
    # Incident time: the first evidence message (#2, the selfie request), before the first alert (#4).
    assert report["incident"]["incident_time"] == "2025-03-01T18:02:00Z"
    assert report["reported_accounts"][0]["evidence_message_indices"] == [4]  # only confirmed categories
    assert [a["account_identifier"] for a in report["reported_accounts"]] == ["u_vex"]
    assert report["reporting_party"] == {
        "organisation": "Example Safety",
        "reviewer_account_ids": [people["alice"].id],
        "reviewers": ["alice"],
        "exported_by_account_id": people["lena"].id,
    }
    assert report["summary_categories"] == ["financial_demand", "threat_coercion"]
    assert report["review"]["final_decision"] == "confirmed_sextortion"

    last = store.audit_log(limit=1)[0]
    assert last.action == "export_case"
    assert last.thread_id == sext
    assert last.actor_id == people["lena"].id
    assert last.details["manifest_sha256"] == out.files["MANIFEST"]


def test_incident_time_falls_back_to_the_earliest_evidence(
    store: ReviewStore, seeded: dict[str, int], tmp_path: Path
) -> None:
    out = export_case(store, seeded["groom"], tmp_path / "g.zip")
    with zipfile.ZipFile(out.path) as archive:
        report = json.loads(archive.read("report.json"))
    assert report["incident"]["incident_time"] == "2025-03-01T18:02:00Z"
    assert report["incident"]["incident_time_basis"] == "evidence message #2"
    assert report["incident"]["basis"].startswith("not yet decided")
    assert report["summary_categories_basis"] == "model"


def test_labels_export_maps_decisions_and_round_trips(
    store: ReviewStore, people: People, tmp_path: Path
) -> None:
    ingest_pairs(
        store,
        [
            grooming_pair("l-groom"),
            grooming_pair("l-benign"),
            sextortion_pair("l-escalated"),
            grooming_pair("l-escalated-benign", label="benign"),
            grooming_pair("l-open"),
            grooming_pair("l-undecided"),
        ],
    )
    ids = {
        cid: store.find_thread(cid)
        for cid in ("l-groom", "l-benign", "l-escalated", "l-escalated-benign", "l-open")
    }
    alice = people["alice"]
    store.decide(ids["l-groom"], alice, "confirmed_grooming", ["age_probing", "secrecy"])  # type: ignore[arg-type]
    store.decide(ids["l-benign"], alice, "not_risky")  # type: ignore[arg-type]
    store.decide(ids["l-escalated"], alice, "escalate", ["threat_coercion"])  # type: ignore[arg-type]
    store.decide(ids["l-escalated-benign"], alice, "escalate")  # type: ignore[arg-type]
    store.decide(ids["l-open"], alice, "needs_second_review")  # type: ignore[arg-type]

    out = tmp_path / "labels.jsonl"
    result = export_labels(store, out, actor_id=people["lena"].id)
    assert (result.written, result.skipped_open, result.skipped_escalated_benign) == (3, 1, 1)
    conversations = {c.conversation_id: c for c in read_conversations(out)}
    assert set(conversations) == {"l-groom", "l-benign", "l-escalated"}

    groom = conversations["l-groom"]
    assert groom.label is Label.GROOMING
    assert [m.categories for m in groom.messages][2] == ["age_probing"]
    assert [m.categories for m in groom.messages][5] == ["secrecy"]  # isolation not confirmed
    assert groom.messages[8].categories == []  # platform_migration not confirmed
    assert groom.first_risk_index == 2
    benign = conversations["l-benign"]
    assert benign.label is Label.BENIGN
    assert benign.hard_negative
    assert benign.first_risk_index is None
    assert all(not m.categories for m in benign.messages)
    assert conversations["l-escalated"].label is Label.SEXTORTION

    rows = {json.loads(line)["conversation_id"]: json.loads(line) for line in out.read_text().splitlines()}
    provenance = rows["l-escalated"]["provenance"]
    assert provenance["source"] == "review"
    assert provenance["label_basis"] == "model_label_on_escalation"
    assert provenance["reviewer_ids"] == [alice.id]
    assert provenance["model_version"] == "m-1"

    card = read_card(out)
    assert card is not None
    assert card.source == "review-labels"
    assert card.counts.conversations == 3
    assert card.counts.by_label == {
        "benign": 1,
        "grooming": 1,
        "sextortion": 1,
    }
    last = store.audit_log(limit=1)[0]
    assert last.action == "export_labels"
    assert last.details["records"] == 3


def test_case_report_carries_senders_and_recommended_actions(store: ReviewStore, tmp_path: Path) -> None:
    from grooming_risk.review.ingest import ingest_pairs
    from tests.review.factories import ACTIONS

    ingest_pairs(store, [sextortion_pair(senders=True, actions=True), grooming_pair()])
    sext = store.find_thread("conv-sext-1")
    groom = store.find_thread("conv-groom-1")
    assert sext is not None
    assert groom is not None
    with zipfile.ZipFile(export_case(store, sext, tmp_path / "s.zip").path) as archive:
        report = json.loads(archive.read("report.json"))
        assessment = json.loads(archive.read("assessment.json"))
    assert report["suspected_sender"] == "u_vex"
    assert [(s["account_identifier"], s["suspected"], s["role"]) for s in report["senders"]] == [
        ("u_vex", True, "initiator"),
        ("u_kai", False, "second"),
    ]
    assert report["senders"][0]["risk"] == 0.97
    assert report["senders"][0]["evidence_message_indices"] == [2, 4]
    assert "text" not in report["senders"][0]
    assert report["recommended_actions"] == ACTIONS
    assert assessment["actions"] == ACTIONS
    assert assessment["senders"][0]["sender"] == "u_vex"
    # An assessment from before senders and actions: empty block, no actions asked for.
    with zipfile.ZipFile(export_case(store, groom, tmp_path / "g.zip").path) as archive:
        old = json.loads(archive.read("report.json"))
    assert (old["suspected_sender"], old["senders"], old["recommended_actions"]) == (None, [], None)
