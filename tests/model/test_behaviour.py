"""Behavioural tests of a model trained with the real encoder (Made-With-ML style).

A small model is trained once per session on generated data with the bundled all-MiniLM-L6-v2,
then probed with conversations written here by hand (not by the generator):
- invariance: renaming senders or swapping emoji barely moves the score;
- directional: adding a secrecy request or a threat raises it;
- minimum functionality: clear grooming and sextortion scripts are flagged, ordinary chats are not.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grooming_risk.contract.conversation import Conversation
from grooming_risk.inference.scorer import RiskScorer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.fixture(scope="module")
def scorer(tmp_path_factory: pytest.TempPathFactory) -> RiskScorer:
    import os

    from grooming_risk.data.splits import split_conversations
    from grooming_risk.data.synth import generate
    from grooming_risk.io.writers import write_records
    from grooming_risk.training.config import load_config
    from grooming_risk.training.pipeline import train

    root = tmp_path_factory.mktemp("behaviour")
    splits = split_conversations(list(generate(1200, 101)), (0.8, 0.2, 0.0), seed=3)
    for name in ("train", "val"):
        write_records(root / f"{name}.jsonl", splits[name])
    cfg = load_config(
        CONFIGS / "default.yaml",
        [
            f"data.train={root / 'train.jsonl'}",
            f"data.val={root / 'val.jsonl'}",
            "data.test=null",
            "data.handwritten=null",
            # No real chats: these are behaviour checks of the recipe, and encoding the real chats
            # would multiply the fixture's cost (the real-chat figures come from `make demo`). The
            # committed hand-written training and validation sets stay in, as the recipe has them.
            "data.mix={}",
            "data.real_val=null",
            "data.reports={}",
            f"output_dir={root / 'model'}",
            # Shared with other integration runs on the same machine: vectors are keyed by text hash.
            f"cache_dir={Path('.cache/grooming-risk').resolve()}",
            "training.epochs=12",
            "mlflow.log_model=false",
            "sample_curves=0",
        ],
    )
    old = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{root / 'mlflow.db'}"
    try:
        train(cfg)
    finally:
        if old is None:
            os.environ.pop("MLFLOW_TRACKING_URI")
        else:
            os.environ["MLFLOW_TRACKING_URI"] = old
    return RiskScorer.load(root / "model")


def conv(cid: str, lines: list[tuple[str, str]]) -> Conversation:
    return Conversation.model_validate(
        {"conversation_id": cid, "messages": [{"sender": s, "text": t} for s, t in lines]}
    )


GROOMING = [
    ("jake_22", "hey saw u on the leaderboard, ur really good"),
    ("lily", "thanks!! i play every day after school"),
    ("jake_22", "how old r u anyway"),
    ("lily", "12"),
    ("jake_22", "wow ur way more mature than other people ur age tbh"),
    ("jake_22", "dont tell ur parents we talk ok? they wouldnt get it"),
    ("lily", "ok i guess"),
    ("jake_22", "i can get u the battle pass if u want, just between us"),
    ("jake_22", "add me on snap its easier to talk there"),
    ("jake_22", "send me a selfie so i know its really u"),
]

SEXTORTION = [
    ("emma.xo", "hiii u seem cool wanna be friends"),
    ("tom", "sure"),
    ("emma.xo", "send a pic of urself, video call with cam on?"),
    ("tom", "uh ok"),
    ("emma.xo", "i recorded everything. pay me $200 in gift cards in the next hour"),
    ("emma.xo", "or i send the video to all ur followers and ur school"),
    ("tom", "please dont i dont have money"),
    ("emma.xo", "u have 30 minutes. buy the cards and send codes now"),
]

ORDINARY = [
    ("sam", "did u do the science worksheet"),
    ("ria", "yeah q3 was so hard"),
    ("sam", "same lol. wanna do it together on call later"),
    ("ria", "sure after football practice"),
    ("sam", "cool, see u at 6"),
    ("ria", "bring ur notes"),
]

MILD = [
    ("noah", "that raid was so fun"),
    ("kid", "ya lol"),
    ("noah", "ur really good at this, better than my whole clan"),
    ("kid", "thx"),
]


def risk(scorer: RiskScorer, c: Conversation) -> float:
    return scorer.score([c])[0].risk


def test_minimum_functionality_grooming_is_flagged(scorer: RiskScorer) -> None:
    assert scorer.score([conv("g", GROOMING)])[0].flagged


def test_minimum_functionality_sextortion_is_flagged_and_labelled(scorer: RiskScorer) -> None:
    a = scorer.score([conv("s", SEXTORTION)])[0]
    assert a.flagged
    assert a.label.value == "sextortion"


def test_minimum_functionality_ordinary_chat_is_not_flagged(scorer: RiskScorer) -> None:
    assert not scorer.score([conv("o", ORDINARY)])[0].flagged


def test_invariance_sender_names(scorer: RiskScorer) -> None:
    names = {"jake_22": "xx_rider_91", "lily": "sunnyday.k"}
    renamed = [(names[s], t) for s, t in GROOMING]
    assert abs(risk(scorer, conv("a", GROOMING)) - risk(scorer, conv("b", renamed))) < 0.05
    renamed_ordinary = [({"sam": "x1", "ria": "y2"}[s], t) for s, t in ORDINARY]
    assert abs(risk(scorer, conv("c", ORDINARY)) - risk(scorer, conv("d", renamed_ordinary))) < 0.05


def test_invariance_emoji(scorer: RiskScorer) -> None:
    with_emoji = [(s, t + " 😂") for s, t in ORDINARY]
    other_emoji = [(s, t + " 😅") for s, t in ORDINARY]
    assert abs(risk(scorer, conv("e", with_emoji)) - risk(scorer, conv("f", other_emoji))) < 0.05


def test_directional_secrecy_raises_risk(scorer: RiskScorer) -> None:
    base = risk(scorer, conv("m", MILD))
    secret = risk(
        scorer, conv("m2", [*MILD, ("noah", "keep our chats secret ok, dont tell ur mom about me")])
    )
    assert secret > base


def test_directional_threat_raises_risk(scorer: RiskScorer) -> None:
    base = risk(scorer, conv("m", MILD))
    threat = risk(
        scorer, conv("m3", [*MILD, ("noah", "if u block me ill send ur pics to everyone at ur school")])
    )
    assert threat > base


def test_evidence_points_at_the_risky_messages(scorer: RiskScorer) -> None:
    a = scorer.score([conv("g", GROOMING)])[0]
    benign_openers = {0, 1}
    assert a.evidence
    assert a.evidence[0].index not in benign_openers


HANDWRITTEN = Path(__file__).resolve().parents[2] / "data" / "handwritten"


def _top_sender_share(scorer: RiskScorer, conversations: list[Conversation]) -> float:
    risky = [c for c in conversations if c.is_risky and c.first_risk_index is not None]
    hits = sum(
        a.senders[0].sender == c.messages[c.first_risk_index].sender  # type: ignore[index]
        for c, a in zip(risky, scorer.score(risky), strict=True)
    )
    return hits / len(risky)


@pytest.mark.parametrize(
    "source",
    ["generated", "eval_v1.jsonl", "eval_v2_multilingual.jsonl"],
    ids=["generated", "en", "es-fr-de"],
)
def test_the_suspected_sender_is_who_sent_the_first_warning_sign(scorer: RiskScorer, source: str) -> None:
    from grooming_risk.data.synth import generate
    from grooming_risk.io.readers import read_conversations

    if source == "generated":
        conversations = list(generate(400, 4242))  # a seed the fixture never trained on
    else:
        conversations = list(read_conversations(HANDWRITTEN / source))
    assert _top_sender_share(scorer, conversations) >= 0.9


def test_senders_ranks_a_planted_multi_conversation_offender_first(
    scorer: RiskScorer, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from grooming_risk.cli.main import app
    from grooming_risk.contract.sender_profile import SenderProfile
    from grooming_risk.data.synth import SynthConfig, generate
    from grooming_risk.io.writers import write_records

    # Background: every offender account used once; then one account planted in three chats
    # with three different children.
    conversations = list(generate(300, 5151, SynthConfig(repeat_offender_share=0.0)))
    risky = [i for i, c in enumerate(conversations) if c.is_risky and c.first_risk_index is not None]
    for i in risky[:3]:
        c = conversations[i]
        offender = c.messages[c.first_risk_index].sender  # type: ignore[index]
        planted = c.model_copy(deep=True)
        for m in planted.messages:
            if m.sender == offender:
                m.sender = "u_planted"
        planted.participants = [
            p.model_copy(update={"id": "u_planted"}) if p.id == offender else p for p in c.participants
        ]
        conversations[i] = planted
    write_records(tmp_path / "assessments.jsonl", scorer.score(conversations))
    out = tmp_path / "senders.jsonl"
    result = CliRunner().invoke(app, ["senders", str(tmp_path / "assessments.jsonl"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    top = SenderProfile.model_validate_json(out.read_text().splitlines()[0])
    assert top.sender == "u_planted"
    assert top.conversations == 3
