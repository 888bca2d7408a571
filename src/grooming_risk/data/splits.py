"""Leakage-safe train/val/test splits: no conversation and no person in two splits.

A model that has seen a sender's other chats in training can recognise the sender instead of the
behaviour, so splitting by conversation alone inflates test scores. Conversations that share any
person (a sender or a listed participant) are joined into one group (union-find); whole groups go
to one split. Groups are placed largest first (equal sizes in a seeded random order), each into the
split where it most reduces the squared gap between the split's per-label counts and its share of
each label's total, plus the gap in overall size: so each split's label mix tracks the whole.

When one group is bigger than a split's target (a chatty sender linking many conversations, common
in PAN 2012), the ratios cannot be met without leakage; the split still never leaks, and the
manifest and the command's output say how far the ratios are off and why.

Memory: the file-level `split_file` reads the input twice (it must know every group before placing
any) and holds only each conversation's id, label and the set of people in it, never the texts.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from grooming_risk import __version__
from grooming_risk.contract.conversation import DEFAULT_LIMITS, Conversation, Limits
from grooming_risk.data.cards import CountAccumulator, DatasetCard, file_sha256, read_card, write_card
from grooming_risk.io.formats import STDIO, Format, detect_format
from grooming_risk.io.readers import read_conversations
from grooming_risk.io.writers import RecordWriter

SPLIT_NAMES: tuple[str, str, str] = ("train", "val", "test")
DEFAULT_RATIOS: tuple[float, float, float] = (0.8, 0.1, 0.1)
DEFAULT_SEED = 13
UNLABELLED = "unlabelled"
_EXTENSIONS = {Format.JSONL: ".jsonl", Format.JSONL_GZ: ".jsonl.gz", Format.PARQUET: ".parquet"}
_LEAK_EXAMPLES = 10


def validate_ratios(ratios: Sequence[float]) -> tuple[float, float, float]:
    """Three non-negative shares for train, val, test that sum to 1 (within 0.001)."""
    values = tuple(float(r) for r in ratios)
    if len(values) != len(SPLIT_NAMES):
        raise ValueError(f"expected 3 ratios (train, val, test), got {len(values)}")
    if any(not math.isfinite(v) or v < 0 for v in values):
        raise ValueError(f"ratios must be non-negative numbers, got {values}")
    if abs(sum(values) - 1.0) > 1e-3:
        raise ValueError(f"ratios must sum to 1, got {values} (sum {sum(values):.4f})")
    if values[0] <= 0:
        raise ValueError("the train ratio must be positive")
    return values[0], values[1], values[2]


def parse_ratios(text: str) -> tuple[float, float, float]:
    """`"0.8,0.1,0.1"` -> (0.8, 0.1, 0.1)."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(
            f"ratios {text!r}: expected three numbers separated by commas, e.g. 0.8,0.1,0.1"
        ) from None
    return validate_ratios(values)


@dataclass(frozen=True)
class SplitKey:
    """What splitting needs to know about a conversation: no text."""

    conversation_id: str
    label: str
    people: frozenset[str]

    @classmethod
    def of(cls, conversation: Conversation) -> SplitKey:
        # Listed participants count too: a person who only reads is still the same person.
        people = {m.sender for m in conversation.messages} | {p.id for p in conversation.participants}
        label = conversation.label.value if conversation.label is not None else UNLABELLED
        return cls(conversation.conversation_id, label, frozenset(people))


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:  # path compression keeps later finds short
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller index becomes the root, so group identity does not depend on union order.
            self.parent[max(ra, rb)] = min(ra, rb)


def group_conversations(keys: Sequence[SplitKey]) -> list[list[int]]:
    """Indices of conversations linked by a shared person or a repeated id, in first-index order."""
    uf = _UnionFind(len(keys))
    first_seen: dict[str, int] = {}
    for index, key in enumerate(keys):
        # Ids and people live in one namespace here only as link keys; prefixes keep them apart.
        for token in (f"c:{key.conversation_id}", *(f"p:{p}" for p in key.people)):
            other = first_seen.setdefault(token, index)
            if other != index:
                uf.union(other, index)
    groups: dict[int, list[int]] = defaultdict(list)
    for index in range(len(keys)):
        groups[uf.find(index)].append(index)
    return sorted(groups.values(), key=lambda members: members[0])


@dataclass(frozen=True)
class SplitPlan:
    """Split name per input conversation (by position), with what the grouping forced."""

    assignment: tuple[str, ...]
    groups: int
    largest_group: int
    warnings: tuple[str, ...]


def plan_splits(
    keys: Sequence[SplitKey], ratios: Sequence[float] = DEFAULT_RATIOS, seed: int = DEFAULT_SEED
) -> SplitPlan:
    """Assign whole groups to splits, stratified by label; deterministic for a given seed."""
    shares = validate_ratios(ratios)
    n_splits = len(SPLIT_NAMES)
    total = len(keys)
    groups = group_conversations(keys)
    rng = random.Random(seed)
    rng.shuffle(groups)
    groups.sort(key=len, reverse=True)  # stable sort: equal sizes keep the seeded order

    label_totals = Counter(key.label for key in keys)
    counts: list[Counter[str]] = [Counter() for _ in range(n_splits)]
    sizes = [0] * n_splits
    assignment: list[str] = [""] * total
    for members in groups:
        group_labels = Counter(keys[i].label for i in members)

        def added_cost(
            split: int, members: list[int] = members, group_labels: Counter[str] = group_labels
        ) -> float:
            cost = 0.0
            for label, k in group_labels.items():
                target = shares[split] * label_totals[label]
                have = counts[split][label]
                cost += ((have + k - target) ** 2 - (have - target) ** 2) / label_totals[label] ** 2
            target_size = shares[split] * total
            cost += (
                (sizes[split] + len(members) - target_size) ** 2 - (sizes[split] - target_size) ** 2
            ) / total**2
            return cost

        best = min(range(n_splits), key=lambda s: (added_cost(s), s))
        counts[best].update(group_labels)
        sizes[best] += len(members)
        for index in members:
            assignment[index] = SPLIT_NAMES[best]

    largest = max((len(g) for g in groups), default=0)
    warnings = _plan_warnings(shares, sizes, counts, label_totals, total, largest)
    return SplitPlan(tuple(assignment), len(groups), largest, tuple(warnings))


def _plan_warnings(
    shares: Sequence[float],
    sizes: Sequence[int],
    counts: Sequence[Counter[str]],
    label_totals: Counter[str],
    total: int,
    largest: int,
) -> list[str]:
    if total == 0:
        return ["the input has no conversations"]
    warnings = []
    positive = [i for i, share in enumerate(shares) if share > 0]
    smallest = min(positive, key=lambda i: shares[i])
    if largest > shares[smallest] * total and largest > 1:
        warnings.append(
            f"the largest group of conversations linked by shared senders has {largest} conversations "
            f"({largest / total:.1%} of the data), more than the {SPLIT_NAMES[smallest]} split's target of "
            f"{shares[smallest] * total:.0f}; whole groups stay together, so the ratios may be off"
        )
    for i in positive:
        target = shares[i] * total
        if sizes[i] == 0:
            warnings.append(f"the {SPLIT_NAMES[i]} split is empty (target {target:.1f} conversations)")
        elif abs(sizes[i] - target) > max(2.0, 0.05 * total):
            warnings.append(
                f"the {SPLIT_NAMES[i]} split has {sizes[i]} conversations ({sizes[i] / total:.1%}), "
                f"target {shares[i]:.1%}"
            )
        for label, count in sorted(label_totals.items()):
            if count >= len(positive) and sizes[i] > 0 and counts[i][label] == 0:
                warnings.append(f"the {SPLIT_NAMES[i]} split has no {label!r} conversations")
    return warnings


def split_conversations(
    conversations: Iterable[Conversation],
    ratios: Sequence[float] = DEFAULT_RATIOS,
    seed: int = DEFAULT_SEED,
) -> dict[str, list[Conversation]]:
    """In-memory split: {"train": [...], "val": [...], "test": [...]}, input order kept in each."""
    items = list(conversations)
    plan = plan_splits([SplitKey.of(c) for c in items], ratios, seed)
    out: dict[str, list[Conversation]] = {name: [] for name in SPLIT_NAMES}
    for conversation, name in zip(items, plan.assignment, strict=True):
        out[name].append(conversation)
    return out


@dataclass(frozen=True)
class LeakageReport:
    """Ids found in more than one split (ids only: they are not conversation text)."""

    shared_conversation_ids: tuple[str, ...]
    shared_senders: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.shared_conversation_ids and not self.shared_senders

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "shared_conversations": len(self.shared_conversation_ids),
            "shared_senders": len(self.shared_senders),
            "example_conversation_ids": list(self.shared_conversation_ids[:_LEAK_EXAMPLES]),
            "example_senders": list(self.shared_senders[:_LEAK_EXAMPLES]),
        }


def check_leakage_keys(splits: Mapping[str, Iterable[SplitKey]]) -> LeakageReport:
    """Leakage between splits given their keys (for callers that stream the conversations)."""
    conversation_splits: dict[str, set[str]] = defaultdict(set)
    person_splits: dict[str, set[str]] = defaultdict(set)
    for name, keys in splits.items():
        for key in keys:
            conversation_splits[key.conversation_id].add(name)
            for person in key.people:
                person_splits[person].add(name)
    return LeakageReport(
        shared_conversation_ids=tuple(sorted(c for c, s in conversation_splits.items() if len(s) > 1)),
        shared_senders=tuple(sorted(p for p, s in person_splits.items() if len(s) > 1)),
    )


def check_leakage(splits: Mapping[str, Iterable[Conversation]]) -> LeakageReport:
    """Conversation ids and people (senders, participants) that occur in more than one split."""
    return check_leakage_keys({name: (SplitKey.of(c) for c in convs) for name, convs in splits.items()})


class SplitFileSummary(BaseModel):
    file: str
    sha256: str
    conversations: int
    messages: int
    share: float
    by_label: dict[str, int]


class SplitManifest(BaseModel):
    """DIR/manifest.json: what was split, how, into what, and the leakage check's result."""

    parent_file: str
    parent_sha256: str
    seed: int
    ratios: dict[str, float]
    splits: dict[str, SplitFileSummary]
    groups: int
    largest_group: int
    leakage: dict[str, Any]
    warnings: list[str] = Field(default_factory=list)
    created_by: str = f"grooming-risk {__version__}"


def _split_format(input_path: Path, fmt: str | None) -> Format:
    if fmt is not None:
        return detect_format("", fmt)
    return detect_format(input_path)


def split_file(
    input_path: str | Path,
    out_dir: str | Path,
    *,
    ratios: Sequence[float] = DEFAULT_RATIOS,
    seed: int = DEFAULT_SEED,
    fmt: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    wrap: Callable[[Iterable[Conversation], str], Iterable[Conversation]] | None = None,
) -> SplitManifest:
    """Split a conversation file into DIR/{train,val,test}.<ext> with cards and manifest.json.

    The output format follows the input's (`fmt` overrides: jsonl, jsonl.gz or parquet). `wrap`
    lets a front end add a progress bar around each pass; it receives the pass's description.
    """
    if str(input_path) == STDIO:
        raise ValueError("data split reads its input twice, so it needs a file, not '-'")
    source = Path(input_path)
    if not source.exists():
        raise FileNotFoundError(f"{source}: no such file")
    shares = validate_ratios(ratios)
    out_format = _split_format(source, fmt)
    extension = _EXTENSIONS[out_format]
    parent_sha = file_sha256(source)

    def passing(description: str) -> Iterable[Conversation]:
        stream = read_conversations(source, limits=limits)
        return wrap(stream, description) if wrap is not None else stream

    keys = [SplitKey.of(c) for c in passing("reading groups")]
    plan = plan_splits(keys, shares, seed)

    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {name: directory / f"{name}{extension}" for name in SPLIT_NAMES}
    accumulators = {name: CountAccumulator() for name in SPLIT_NAMES}
    written: dict[str, list[SplitKey]] = {name: [] for name in SPLIT_NAMES}
    writers = {name: RecordWriter(paths[name], fmt=out_format.value) for name in SPLIT_NAMES}
    try:
        for index, conversation in enumerate(passing("writing splits")):
            if index >= len(keys) or conversation.conversation_id != keys[index].conversation_id:
                raise RuntimeError(f"{source} changed while it was being split (record {index + 1})")
            name = plan.assignment[index]
            writers[name].write(conversation)
            accumulators[name].add(conversation)
            written[name].append(keys[index])
    except BaseException:
        for writer in writers.values():
            writer.close()
        for path in paths.values():  # half-written splits must not pass for real ones
            path.unlink(missing_ok=True)
        raise
    for writer in writers.values():
        writer.close()

    # Checked on what was written, not on the plan, so a bug in planning cannot hide here.
    leakage = check_leakage_keys(written)
    parent_card = read_card(source)
    summaries: dict[str, SplitFileSummary] = {}
    for share, name in zip(shares, SPLIT_NAMES, strict=True):
        counts = accumulators[name].counts()
        card = DatasetCard(
            name=f"{source.name.split('.')[0]}-{name}",
            source="split",
            seed=seed,
            parameters={
                "parent_file": source.name,
                "parent_sha256": parent_sha,
                "parent_source": parent_card.source if parent_card else None,
                "split": name,
                "ratio": share,
                "ratios": dict(zip(SPLIT_NAMES, shares, strict=True)),
            },
            counts=counts,
        )
        write_card(paths[name], card)
        summaries[name] = SplitFileSummary(
            file=paths[name].name,
            sha256=card.content_sha256 or file_sha256(paths[name]),
            conversations=counts.conversations,
            messages=counts.messages,
            share=counts.conversations / len(keys) if keys else 0.0,
            by_label=counts.by_label,
        )
    manifest = SplitManifest(
        parent_file=source.name,
        parent_sha256=parent_sha,
        seed=seed,
        ratios=dict(zip(SPLIT_NAMES, shares, strict=True)),
        splits=summaries,
        groups=plan.groups,
        largest_group=plan.largest_group,
        leakage=leakage.to_dict(),
        warnings=list(plan.warnings),
    )
    (directory / "manifest.json").write_text(
        json.dumps(manifest.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8"
    )
    return manifest
