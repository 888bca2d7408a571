"""Loading the datasets a training config names, with the errors a researcher can act on."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from grooming_risk.contract.conversation import Conversation
from grooming_risk.io.readers import read_conversations
from grooming_risk.training.config import DataConfig


@dataclass
class Datasets:
    train: list[Conversation]
    val: list[Conversation]
    test: list[Conversation] = field(default_factory=list)
    handwritten: list[Conversation] = field(default_factory=list)
    paths: dict[str, Path] = field(default_factory=dict)

    def evaluation_sets(self) -> dict[str, list[Conversation]]:
        sets = {"val": self.val, "test": self.test, "handwritten": self.handwritten}
        return {k: v for k, v in sets.items() if v}


def load(path: Path, role: str) -> list[Conversation]:
    if not path.exists():
        raise FileNotFoundError(
            f"{role} data {path} not found; generate it with `make data` "
            "(grooming-risk synth ... && grooming-risk data split ...) or point data.{role} at your files"
        )
    conversations = list(read_conversations(path))
    if not conversations:
        raise ValueError(f"{role} data {path} holds no conversations")
    return conversations


def load_datasets(cfg: DataConfig) -> Datasets:
    train = load(cfg.train, "train")
    if cfg.max_train is not None:
        train = train[: cfg.max_train]
    paths = {"train": cfg.train, "val": cfg.val}
    for i, extra in enumerate(cfg.extra):
        train.extend(load(extra, "extra"))
        paths[f"extra{i}"] = extra
    out = Datasets(train=train, val=load(cfg.val, "val"), paths=paths)
    if cfg.test is not None:
        out.test = load(cfg.test, "test")
        paths["test"] = cfg.test
    if cfg.handwritten is not None and cfg.handwritten.exists():
        out.handwritten = load(cfg.handwritten, "handwritten")
        paths["handwritten"] = cfg.handwritten
    train_ids = {c.conversation_id for c in train}
    hw_overlap = train_ids & {c.conversation_id for c in out.handwritten}
    if hw_overlap:
        raise ValueError(
            f"{len(hw_overlap)} hand-written evaluation conversations are in the training data; "
            "the hand-written set must never be trained on"
        )
    return out
