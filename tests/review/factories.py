"""Hand-built conversations and assessments for review tests (behavioural warning signs only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.conversation import Conversation

T0 = datetime(2025, 3, 1, 18, 0, tzinfo=UTC)

GROOMING_LINES: list[tuple[str, str]] = [
    ("u_rex", "hey nice build, you play a lot?"),
    ("u_mia", "thanks! every day after school"),
    ("u_rex", "how old are you btw"),
    ("u_mia", "13"),
    ("u_rex", "you seem really mature for your age"),
    ("u_rex", "keep this between us ok, your parents would not get it"),
    ("u_mia", "ok i guess"),
    ("u_rex", "i can send you skins for your account"),
    ("u_rex", "add me on snap, it is easier there"),
    ("u_rex", "send me a selfie so i know it is really you"),
]

SEXTORTION_LINES: list[tuple[str, str]] = [
    ("u_vex", "hi, saw your stream"),
    ("u_kai", "hey thanks"),
    ("u_vex", "send a selfie"),
    ("u_kai", "why"),
    ("u_vex", "i will share our chats with your school unless you pay 100 in gift cards tonight"),
]

BENIGN_LINES: list[tuple[str, str]] = [
    ("u_ana", "gg that round was wild"),
    ("u_ben", "lol yeah rematch?"),
    ("u_ana", "sure after dinner"),
]


def conversation(
    cid: str,
    lines: list[tuple[str, str]],
    platform: str = "game_chat",
    *,
    start: datetime = T0,
    **extra: Any,
) -> Conversation:
    messages = [
        {"sender": s, "text": t, "sent_at": (start + timedelta(minutes=i)).isoformat()}
        for i, (s, t) in enumerate(lines)
    ]
    participants = [{"id": s} for s in dict.fromkeys(s for s, _ in lines)]
    return Conversation.model_validate(
        {
            "conversation_id": cid,
            "messages": messages,
            "platform": platform,
            "participants": participants,
            **extra,
        }
    )


# Shaped like `configs/policy/default.yaml`'s entries: one or more per audience, some with links.
ACTIONS: list[dict[str, Any]] = [
    {
        "id": "platform.restrict_minor_contact",
        "audience": "platform",
        "title": "Restrict the suspected account from messaging minors until reviewed",
        "url": None,
    },
    {
        "id": "platform.report_hotline",
        "audience": "platform",
        "title": "Report to the national hotline or the police",
        "url": "https://www.inhope.org/",
    },
    {
        "id": "reviewer.check_sender_history",
        "audience": "reviewer",
        "title": "Check the suspected sender's other conversations",
        "url": None,
    },
    {
        "id": "child.talk_to_trusted_adult",
        "audience": "child",
        "title": "Talk to an adult you trust; you are not in trouble",
        "url": "https://www.childhelplineinternational.org/",
    },
    {
        "id": "caregiver.guide",
        "audience": "caregiver",
        "title": "How to talk with your child about what happened",
        "url": "https://example.org/caregivers",
    },
]
ROLES = ("initiator", "second", "other")


def sender_risks(
    conv: Conversation,
    risk: float,
    evidence: list[tuple[int, float, list[str]]],
    suspected: str | None = None,
) -> list[dict[str, Any]]:
    """`Assessment.senders` for a hand-built conversation, riskiest first: the suspected sender
    (default: whoever sent the most evidence weight) carries the conversation's risk, the others a
    little each."""
    order = list(dict.fromkeys(m.sender for m in conv.messages))
    weight = dict.fromkeys(order, 0.0)
    for i, score, _ in evidence:
        weight[conv.messages[i].sender] += score
    suspected = suspected or max(order, key=lambda s: weight[s])
    rows = []
    for k, sender in enumerate(order):
        sent = [m for m in conv.messages if m.sender == sender]
        mine = [(i, sc, c) for i, sc, c in evidence if conv.messages[i].sender == sender]
        rows.append(
            {
                "sender": sender,
                "role": ROLES[min(k, 2)],
                "risk": risk if sender == suspected else round(min(risk, 0.02 + 0.01 * k), 4),
                "messages": len(sent),
                "categories": sorted({c for _, _, cs in mine for c in cs}),
                "evidence": [{"index": i, "score": sc, "categories": c} for i, sc, c in mine][:5],
                "first_sent_at": sent[0].sent_at.isoformat() if sent[0].sent_at else None,
                "last_sent_at": sent[-1].sent_at.isoformat() if sent[-1].sent_at else None,
            }
        )
    return sorted(rows, key=lambda r: -r["risk"])


def assessment(
    conv: Conversation,
    *,
    label: str = "grooming",
    risk: float = 0.9,
    flagged: bool = True,
    urgent: bool = False,
    evidence: list[tuple[int, float, list[str]]] | None = None,
    first_alert_index: int | None = None,
    model_version: str = "m-1",
    senders: bool | list[dict[str, Any]] = False,
    suspected: str | None = None,
    actions: bool | list[dict[str, Any]] = False,
) -> Assessment:
    """`senders=True` fills `senders` from the conversation (see `sender_risks`), a list is used as
    given; `actions=True` attaches `ACTIONS`. Without them the record looks like an older scorer's."""
    n = len(conv.messages)
    evidence = evidence if evidence is not None else []
    risks = [round(risk * (i + 1) / n, 4) for i in range(n)]
    cats: dict[str, float] = {}
    for _, _, names in evidence:
        for name in names:
            cats[name] = 0.8
    record: dict[str, Any] = {
        "conversation_id": conv.conversation_id,
        "risk": risk,
        "label": label,
        "flagged": flagged,
        "urgent": urgent,
        "categories": cats,
        "first_alert_index": first_alert_index,
        "evidence": [{"index": i, "score": s, "categories": c} for i, s, c in evidence],
        "model_version": model_version,
        "risk_by_message": risks,
    }
    if senders is True:
        record["senders"] = sender_risks(conv, risk, evidence, suspected)
    elif senders:
        record["senders"] = senders
    if actions is True:
        record["actions"] = ACTIONS
    elif actions:
        record["actions"] = actions
    return Assessment.model_validate(record)


def grooming_pair(cid: str = "conv-groom-1", **kw: Any) -> tuple[Conversation, Assessment]:
    conv = conversation(cid, GROOMING_LINES)
    kw.setdefault(
        "evidence",
        [(2, 0.2, ["age_probing"]), (5, 0.25, ["secrecy", "isolation"]), (8, 0.15, ["platform_migration"])],
    )
    kw.setdefault("first_alert_index", 5)
    return conv, assessment(conv, **kw)


def sextortion_pair(cid: str = "conv-sext-1", **kw: Any) -> tuple[Conversation, Assessment]:
    conv = conversation(cid, SEXTORTION_LINES, platform="social_dm")
    kw.setdefault("label", "sextortion")
    kw.setdefault("urgent", True)
    kw.setdefault("risk", 0.97)
    kw.setdefault(
        "evidence", [(2, 0.3, ["image_request"]), (4, 0.5, ["threat_coercion", "financial_demand"])]
    )
    kw.setdefault("first_alert_index", 4)
    return conv, assessment(conv, **kw)


def benign_pair(cid: str = "conv-benign-1", **kw: Any) -> tuple[Conversation, Assessment]:
    conv = conversation(cid, BENIGN_LINES)
    kw.setdefault("label", "benign")
    kw.setdefault("flagged", False)
    kw.setdefault("risk", 0.05)
    return conv, assessment(conv, **kw)


ALL_TEXT = [t for _, t in GROOMING_LINES + SEXTORTION_LINES + BENIGN_LINES]


def with_child(lines: list[tuple[str, str]], child: str) -> list[tuple[str, str]]:
    """The same chat with another child: one suspected sender across several conversations."""
    return [(child if s == "u_mia" else s, t) for s, t in lines]
