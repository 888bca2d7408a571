"""API keys with scopes.

Key format, in a file (`--api-keys FILE`) or in $GROOMING_RISK_API_KEYS (one key per line, or keys
separated by ';'):

    # key_id:secret:scopes        ('#' starts a comment line; blank lines are ignored)
    ingest-1:3q2-P0Yd4cVw8mZ6l1Jx0tA5u9NeRk7b:score,stream
    prometheus:sha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08:admin

- key_id: a name for logs and metrics ([A-Za-z0-9_.-], unique). It is never a credential.
- secret: what clients send, at least 16 characters without ':', ';' or whitespace (generate one with
  `python -c "import secrets; print(secrets.token_urlsafe(32))"`), or `sha256=<64 hex digits>` of
  it so that the file holds no usable secret.
- scopes (comma-separated):
    score   POST /v1/score
    stream  POST/GET/DELETE /v1/conversations/{id}...
    admin   GET /metrics
  Scopes do not imply one another: a metrics scraper's key cannot score text.

Clients send the secret as `Authorization: Bearer <secret>` or `X-API-Key: <secret>`. Only the
SHA-256 of each secret is kept in memory, and every stored hash is compared with
`hmac.compare_digest`, so neither the comparison nor the number of keys tried reveals how much of a
guess was right. /healthz and /readyz need no key (probes).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from grooming_risk.service.settings import API_KEYS_ENV, ServiceSettings

log = logging.getLogger(__name__)

MIN_SECRET_CHARS = 16
_KEY_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_SECRET = re.compile(r"^[^\s:;]+$")
_HASHED = re.compile(r"^sha256=([0-9a-fA-F]{64})$")


class Scope(StrEnum):
    SCORE = "score"
    STREAM = "stream"
    # Reading sender profiles across conversations (GET /v1/senders/{id}): for trust-and-safety back ends.
    SENDERS = "senders"
    ADMIN = "admin"


class KeyFileError(ValueError):
    """A malformed key entry; the message names the source and line, never the secret."""


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    secret_sha256: bytes
    scopes: frozenset[Scope]


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def parse_keys(text: str, source: str) -> list[ApiKey]:
    """Parse `key_id:secret:scopes` entries; errors name `source` and the 1-based entry line."""
    keys: list[ApiKey] = []
    # ';' lets a single environment variable hold several keys.
    entries = [part for line in text.splitlines() for part in line.split(";")]
    for number, raw in enumerate(entries, start=1):
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        where = f"{source}: entry {number}"
        parts = entry.split(":")
        if len(parts) != 3:
            raise KeyFileError(f"{where}: expected key_id:secret:scope1,scope2 (3 fields), got {len(parts)}")
        key_id, secret, scope_text = (p.strip() for p in parts)
        if not _KEY_ID.match(key_id):
            raise KeyFileError(f"{where}: key_id must be 1-64 characters of A-Z a-z 0-9 _ . -")
        hashed = _HASHED.match(secret)
        if hashed:
            digest = bytes.fromhex(hashed.group(1))
        elif len(secret) < MIN_SECRET_CHARS or not _SECRET.match(secret):
            raise KeyFileError(
                f"{where} (key {key_id!r}): the secret must be at least {MIN_SECRET_CHARS} characters "
                "without ':', ';' or spaces, or sha256=<64 hex digits>"
            )
        else:
            digest = _digest(secret)
        names = [s.strip() for s in scope_text.split(",") if s.strip()]
        allowed = ", ".join(s.value for s in Scope)
        if not names:
            raise KeyFileError(f"{where} (key {key_id!r}): no scopes; expected some of: {allowed}")
        unknown = [n for n in names if n not in {s.value for s in Scope}]
        if unknown:
            raise KeyFileError(f"{where} (key {key_id!r}): unknown scope(s) {unknown}; expected: {allowed}")
        keys.append(ApiKey(key_id, digest, frozenset(Scope(n) for n in names)))
    return keys


class KeyRing:
    """The configured keys; `authenticate` maps a presented secret to its key, or None."""

    def __init__(self, keys: Iterable[ApiKey]) -> None:
        self.keys = list(keys)
        seen_ids: set[str] = set()
        seen_digests: set[bytes] = set()
        for key in self.keys:
            if key.key_id in seen_ids:
                raise KeyFileError(f"key_id {key.key_id!r} is defined twice")
            if key.secret_sha256 in seen_digests:
                # Two keys with one secret would make the granted scopes depend on file order.
                raise KeyFileError(f"key {key.key_id!r} reuses the secret of another key")
            seen_ids.add(key.key_id)
            seen_digests.add(key.secret_sha256)

    def __len__(self) -> int:
        return len(self.keys)

    def authenticate(self, presented: str | None) -> ApiKey | None:
        if not presented:
            return None
        digest = _digest(presented)
        found: ApiKey | None = None
        # No early exit: the time taken does not depend on which key (if any) matched.
        for key in self.keys:
            if hmac.compare_digest(digest, key.secret_sha256):
                found = key
        return found

    @classmethod
    def load(cls, path: Path | None = None, env_text: str | None = None) -> KeyRing:
        """Keys from a file and/or environment text (both may be given; ids must not collide)."""
        keys: list[ApiKey] = []
        if path is not None:
            if not path.is_file():
                raise KeyFileError(f"{path}: API key file not found")
            mode = path.stat().st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                log.warning("API key file %s is readable by group/others; chmod 600 it", path)
            keys.extend(parse_keys(path.read_text(encoding="utf-8"), str(path)))
        if env_text:
            keys.extend(parse_keys(env_text, f"${API_KEYS_ENV}"))
        return cls(keys)


def keyring_for(settings: ServiceSettings) -> KeyRing:
    """The keys the settings ask for: file and/or `settings.api_keys`, else $GROOMING_RISK_API_KEYS.

    With auth on, no keys at all is an error rather than a service nobody (or everybody) can use.
    """
    if not settings.auth:
        return KeyRing([])
    env_text = settings.api_keys if settings.api_keys is not None else os.environ.get(API_KEYS_ENV)
    keyring = KeyRing.load(settings.api_keys_file, env_text)
    if not len(keyring):
        raise KeyFileError(
            f"API keys are required but none are configured: give --api-keys FILE or set ${API_KEYS_ENV} "
            "(or --no-auth for local development only)"
        )
    return keyring
