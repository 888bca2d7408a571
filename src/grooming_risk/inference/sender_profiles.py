"""Aggregate per-participant risk across conversations into ranked sender profiles.

One implementation for the `senders` command and the HTTP service's profile store: a profile is
always computed from the latest appearance of the sender in each conversation, so a streamed
conversation re-assessed after every message counts once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.sender_profile import SenderAppearance, SenderProfile
from grooming_risk.contract.taxonomy import taxonomy_order

# A conversation adds to a sender's combined risk only from this risk on; below it an ordinary
# sender in hundreds of chats would add up to an alert.
PROFILE_FLOOR = 0.05
# And counts at most this much: a model's 0.999999 is not a thousand times surer than 0.999, and
# without a cap one saturated conversation would outrank a sender flagged in several.
PROFILE_CAP = 0.999
DECIMALS = 6


def appearances(assessment: Assessment) -> Iterator[tuple[str, SenderAppearance]]:
    """(sender, appearance) for every participant of one assessment."""
    for rank, entry in enumerate(assessment.senders):
        yield (
            entry.sender,
            SenderAppearance(
                conversation_id=assessment.conversation_id,
                role=entry.role,
                risk=entry.risk,
                suspected=assessment.flagged and rank == 0,
                conversation_flagged=assessment.flagged,
                categories=entry.categories,
                first_sent_at=entry.first_sent_at,
                last_sent_at=entry.last_sent_at,
                model_version=assessment.model_version,
            ),
        )


def log_survival(risk: float, floor: float = PROFILE_FLOOR) -> float:
    """What one conversation adds to log(1 - combined risk): nothing below the floor, at most
    log(1 - PROFILE_CAP). Every profile (command, HTTP service, review store) adds these up."""
    return math.log1p(-min(risk, PROFILE_CAP)) if risk >= floor else 0.0


def _log_survival(items: Iterable[SenderAppearance], floor: float) -> float:
    return sum(log_survival(a.risk, floor) for a in items)


def build_profile(
    sender: str, seen: Mapping[str, SenderAppearance], *, floor: float = PROFILE_FLOOR
) -> SenderProfile:
    """The profile of `sender` from its latest appearance in each conversation (conversation id -> appearance)."""
    if not seen:
        raise ValueError(f"sender {sender!r}: no conversations")
    items = sorted(seen.values(), key=lambda a: (-a.risk, a.conversation_id))
    found = {c for a in items for c in a.categories}
    times = [t for a in items for t in (a.first_sent_at, a.last_sent_at) if t is not None]
    return SenderProfile(
        sender=sender,
        conversations=len(items),
        suspected_in=sum(a.suspected for a in items),
        max_risk=items[0].risk,
        combined_risk=round(-math.expm1(_log_survival(items, floor)), DECIMALS),
        floor=floor,
        categories=taxonomy_order(found),
        first_seen=min(times, default=None),
        last_seen=max(times, default=None),
        conversation_ids=[a.conversation_id for a in items],
    )


def rank_key(profile: SenderProfile, seen: Mapping[str, SenderAppearance]) -> tuple[float, float, str]:
    """Combined risk first, on the unrounded log scale (two senders at 0.999999 still differ), then
    the single riskiest conversation, then the id."""
    return (_log_survival(seen.values(), profile.floor), -profile.max_risk, profile.sender)


class ProfileBook:
    """Sender profiles kept in memory: add assessments (a later one for the same conversation
    replaces the earlier), read one profile or the ranking."""

    def __init__(self, *, floor: float = PROFILE_FLOOR) -> None:
        self.floor = floor
        self._seen: dict[str, dict[str, SenderAppearance]] = {}

    def add(self, assessment: Assessment) -> None:
        for sender, appearance in appearances(assessment):
            self._seen.setdefault(sender, {})[appearance.conversation_id] = appearance

    def __len__(self) -> int:
        return len(self._seen)

    def profile(self, sender: str) -> SenderProfile | None:
        seen = self._seen.get(sender)
        return build_profile(sender, seen, floor=self.floor) if seen else None

    def ranked(self, *, min_combined_risk: float = 0.0, top: int | None = None) -> list[SenderProfile]:
        profiles = [
            (build_profile(sender, seen, floor=self.floor), seen) for sender, seen in self._seen.items()
        ]
        profiles = [(p, s) for p, s in profiles if p.combined_risk >= min_combined_risk]
        profiles.sort(key=lambda ps: rank_key(*ps))
        out = [p for p, _ in profiles]
        return out if top is None else out[:top]
