"""Fixed subsets of a dataset: the same ids are kept on every machine and in every run."""

from __future__ import annotations

import hashlib


def in_share(conversation_id: str, share: float) -> bool:
    """Whether a conversation belongs to the first `share` of ids, ordered by their SHA-256."""
    if share >= 1.0:
        return True
    digest = hashlib.sha256(conversation_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share
