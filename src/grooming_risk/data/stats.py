"""Dataset statistics: what is in a file, how varied it is, and how much it overlaps another.

Synthetic data is only useful if it is varied: a generator that repeats a few templates teaches
a model the templates. The distinct-message ratio (distinct normalised message texts / messages)
and the n-gram overlap between two files (the share of OTHER's word n-grams that also occur in
FILE, e.g. test against train) make template leakage visible.

Everything streams: texts are kept only as 8-byte digests, so memory grows with the number of
distinct messages and n-grams, not with their text.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, Field

from grooming_risk.contract.conversation import Conversation
from grooming_risk.text.normalize import normalize

PERCENTILES: tuple[int, ...] = (0, 5, 25, 50, 75, 95, 100)
DEFAULT_NGRAM = 4

_WORD = re.compile(r"\w+", re.UNICODE)


def percentiles(values: Sequence[float], qs: Sequence[int] = PERCENTILES) -> dict[str, float]:
    """Linearly interpolated percentiles ({"p50": ...}), as numpy's default method; {} when empty."""
    if not values:
        return {}
    ordered = sorted(values)
    last = len(ordered) - 1
    out: dict[str, float] = {}
    for q in qs:
        if not 0 <= q <= 100:
            raise ValueError(f"percentile must be between 0 and 100, got {q}")
        pos = last * q / 100
        lo = math.floor(pos)
        hi = min(lo + 1, last)
        value = ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)
        out[f"p{q}"] = round(float(value), 3)
    return out


def message_key(text: str) -> str:
    """The form two messages must share to count as the same: normalised, case-folded, words only.

    Punctuation, emoji and spacing are dropped, so "Hey!!" and "hey" are one message; typos and
    different words are not folded, because they are real variety.
    """
    return " ".join(_WORD.findall(normalize(text).text.casefold()))


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def word_ngrams(text: str, n: int = DEFAULT_NGRAM) -> list[tuple[str, ...]]:
    """Word n-grams of the message key; a message shorter than n words gives none."""
    if n < 1:
        raise ValueError(f"n-gram size must be >= 1, got {n}")
    words = message_key(text).split()
    return [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]


class WriterOverlap(BaseModel):
    """How much two writers' banks share: shared word n-grams over the smaller bank's n-grams."""

    a: str
    b: str
    ngram: int
    shared: int
    share: float


def writer_overlap(writers: Iterable[str], n: int = 3) -> list[WriterOverlap]:
    """Pairwise n-gram overlap of the shipped banks of `writers` (same language only)."""
    from grooming_risk.data.synth.writers import load_writers

    banks = load_writers()
    grams: dict[str, set[int]] = {}
    for writer in sorted(set(writers) & set(banks)):
        lines = [t for group in banks[writer].all_lines().values() for t in group]
        grams[writer] = {_digest(" ".join(g)) for line in lines for g in word_ngrams(line, n)}
    out = []
    ids = sorted(grams)
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            if a.split("_")[0] != b.split("_")[0]:
                continue
            shared = len(grams[a] & grams[b])
            smaller = min(len(grams[a]), len(grams[b])) or 1
            out.append(WriterOverlap(a=a, b=b, ngram=n, shared=shared, share=round(shared / smaller, 4)))
    return out


class DatasetStats(BaseModel):
    conversations: int = 0
    messages: int = 0
    senders: int = 0
    hard_negatives: int = 0
    by_label: dict[str, int] = Field(default_factory=dict)
    by_platform: dict[str, int] = Field(default_factory=dict)
    by_category: dict[str, int] = Field(default_factory=dict, description="messages showing each category")
    conversations_by_category: dict[str, int] = Field(default_factory=dict)
    participants: dict[str, int] = Field(
        default_factory=dict, description="conversations by participant count"
    )
    message_chars: dict[str, float] = Field(default_factory=dict)
    message_words: dict[str, float] = Field(default_factory=dict)
    conversation_messages: dict[str, float] = Field(default_factory=dict)
    first_risk_index: dict[str, float] = Field(default_factory=dict, description="risky conversations only")
    with_timestamps: int = 0
    obfuscated_messages: int = 0
    distinct_messages: int = 0
    distinct_message_ratio: float = 0.0
    by_language: dict[str, int] = Field(default_factory=dict)
    by_writer: dict[str, int] = Field(
        default_factory=dict, description="conversations drawing on each phrase-bank writer"
    )
    writer_ngram_overlap: list[WriterOverlap] = Field(
        default_factory=list, description="word n-gram overlap between the banks of the writers present"
    )


class StatsAccumulator:
    """Collects statistics one conversation at a time; with `ngram`, also the n-grams for `overlap`."""

    def __init__(self, ngram: int | None = None) -> None:
        if ngram is not None and ngram < 1:
            raise ValueError(f"n-gram size must be >= 1, got {ngram}")
        self.ngram = ngram
        self.ngrams: set[int] = set()
        self.stats = DatasetStats()
        self._labels: Counter[str] = Counter()
        self._platforms: Counter[str] = Counter()
        self._languages: Counter[str] = Counter()
        self._writers: Counter[str] = Counter()
        self._categories: Counter[str] = Counter()
        self._conv_categories: Counter[str] = Counter()
        self._participants: Counter[str] = Counter()
        self._chars: list[int] = []
        self._words: list[int] = []
        self._lengths: list[int] = []
        self._onsets: list[int] = []
        self.sender_ids: set[str] = set()
        self.message_digests: set[int] = set()

    def add(self, conversation: Conversation) -> None:
        s = self.stats
        s.conversations += 1
        s.messages += len(conversation.messages)
        s.hard_negatives += int(conversation.hard_negative)
        self._labels[conversation.label.value if conversation.label else "unlabelled"] += 1
        self._platforms[conversation.platform or "unknown"] += 1
        self._languages[conversation.language or "unknown"] += 1
        self._writers.update(conversation.writers)
        count = len(conversation.participants) or len(conversation.senders())
        self._participants[str(count)] += 1
        self._lengths.append(len(conversation.messages))
        if conversation.first_risk_index is not None:
            self._onsets.append(conversation.first_risk_index)
        seen: set[str] = set()
        timed = False
        for message in conversation.messages:
            self.sender_ids.add(message.sender)
            normalized = normalize(message.text)
            key = " ".join(_WORD.findall(normalized.text.casefold()))
            self.message_digests.add(_digest(key))
            words = key.split()
            if self.ngram is not None:
                n = self.ngram
                self.ngrams.update(_digest(" ".join(words[i : i + n])) for i in range(len(words) - n + 1))
            self._chars.append(len(message.text))
            self._words.append(len(words))
            s.obfuscated_messages += int(normalized.obfuscated)
            timed = timed or message.sent_at is not None
            for category in message.categories:
                self._categories[category.value] += 1
                seen.add(category.value)
        s.with_timestamps += int(timed)
        for name in seen:
            self._conv_categories[name] += 1

    def result(self) -> DatasetStats:
        s = self.stats.model_copy()
        s.by_label = dict(sorted(self._labels.items()))
        s.by_platform = dict(sorted(self._platforms.items()))
        s.by_language = dict(sorted(self._languages.items()))
        s.by_writer = dict(sorted(self._writers.items()))
        s.writer_ngram_overlap = writer_overlap(self._writers)
        s.by_category = dict(sorted(self._categories.items()))
        s.conversations_by_category = dict(sorted(self._conv_categories.items()))
        s.participants = dict(sorted(self._participants.items(), key=lambda kv: int(kv[0])))
        s.message_chars = percentiles(self._chars)
        s.message_words = percentiles(self._words)
        s.conversation_messages = percentiles(self._lengths)
        s.first_risk_index = percentiles(self._onsets)
        s.senders = len(self.sender_ids)
        s.distinct_messages = len(self.message_digests)
        s.distinct_message_ratio = round(len(self.message_digests) / s.messages, 4) if s.messages else 0.0
        return s


def compute_stats(conversations: Iterable[Conversation]) -> DatasetStats:
    acc = StatsAccumulator()
    for conversation in conversations:
        acc.add(conversation)
    return acc.result()


class Overlap(BaseModel):
    """How much of OTHER already occurs in FILE (e.g. OTHER = test, FILE = train)."""

    ngram: int
    other_ngrams: int = Field(description="distinct word n-grams in OTHER")
    shared_ngrams: int
    ngram_share: float = Field(description="shared_ngrams / other_ngrams")
    other_messages: int = Field(description="distinct normalised messages in OTHER")
    shared_messages: int
    message_share: float = Field(description="shared_messages / other_messages")
    shared_senders: int = Field(description="sender ids present in both files")


def overlap_of(base: StatsAccumulator, other: StatsAccumulator) -> Overlap:
    """Share of OTHER's distinct n-grams and messages that also occur in BASE (both built with `ngram`)."""
    if base.ngram is None or base.ngram != other.ngram:
        raise ValueError(f"both accumulators need the same n-gram size, got {base.ngram} and {other.ngram}")
    shared_ngrams = len(other.ngrams & base.ngrams)
    shared_messages = len(other.message_digests & base.message_digests)
    return Overlap(
        ngram=base.ngram,
        other_ngrams=len(other.ngrams),
        shared_ngrams=shared_ngrams,
        ngram_share=round(shared_ngrams / len(other.ngrams), 4) if other.ngrams else 0.0,
        other_messages=len(other.message_digests),
        shared_messages=shared_messages,
        message_share=round(shared_messages / len(other.message_digests), 4)
        if other.message_digests
        else 0.0,
        shared_senders=len(base.sender_ids & other.sender_ids),
    )


def overlap(base: Iterable[Conversation], other: Iterable[Conversation], n: int = DEFAULT_NGRAM) -> Overlap:
    """Share of OTHER's distinct word n-grams and messages that also appear in BASE."""
    a = StatsAccumulator(ngram=n)
    for conversation in base:
        a.add(conversation)
    b = StatsAccumulator(ngram=n)
    for conversation in other:
        b.add(conversation)
    return overlap_of(a, b)
