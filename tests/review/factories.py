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
    cid: str, lines: list[tuple[str, str]], platform: str = "game_chat", **extra: Any
) -> Conversation:
    messages = [
        {"sender": s, "text": t, "sent_at": (T0 + timedelta(minutes=i)).isoformat()}
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
) -> Assessment:
    n = len(conv.messages)
    evidence = evidence if evidence is not None else []
    risks = [round(risk * (i + 1) / n, 4) for i in range(n)]
    cats: dict[str, float] = {}
    for _, _, names in evidence:
        for name in names:
            cats[name] = 0.8
    return Assessment.model_validate(
        {
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
    )


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
