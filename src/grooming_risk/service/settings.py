"""Service settings: one validated record, built by `grooming-risk serve` or by hand in tests.

A plain pydantic model rather than pydantic-settings: the CLI already maps each option to an
environment variable (typer's `envvar=`), so a second env-parsing layer would only add a dependency
and a second place where the same setting can come from.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from grooming_risk.contract.conversation import Limits

API_KEYS_ENV = "GROOMING_RISK_API_KEYS"


class ServiceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())

    model: str | None = Field(
        default=None,
        description="Artifact dir, runs:/RUN/model or models:/NAME@ALIAS; None: $GROOMING_RISK_MODEL, "
        "else artifacts/models/default. Ignored when a scorer is passed to create_app.",
    )
    # Auth ------------------------------------------------------------------------------------
    auth: bool = Field(
        default=True, description="Require API keys. Only turn off for local development (--no-auth)."
    )
    api_keys_file: Path | None = Field(
        default=None, description="File of `key_id:secret:scope1,scope2` lines (see service/auth.py)."
    )
    api_keys: str | None = Field(
        default=None,
        description=f"Keys in the same format, one per line or ';'-separated (the ${API_KEYS_ENV} variable).",
    )
    # Request limits --------------------------------------------------------------------------
    max_body_bytes: int = Field(default=2_000_000, ge=1, description="Largest request body (413 above).")
    max_conversations_per_request: int = Field(default=64, ge=1, description="Conversations per /v1/score.")
    max_messages_per_request: int = Field(
        default=100, ge=1, description="Messages per append to a streamed conversation."
    )
    max_messages_per_score_request: int = Field(
        default=10_000, ge=1, description="Messages in all the conversations of one /v1/score call."
    )
    max_messages_per_conversation: int = Field(
        default=10_000, ge=1, description="Messages in one conversation, scored whole or streamed."
    )
    max_message_chars: int = Field(default=4_000, ge=1, description="Characters in one message.")
    # Streaming state -------------------------------------------------------------------------
    state_store: str | None = Field(
        default=None,
        description="None or 'memory': in this process. 'redis://host:port/db': shared by replicas.",
    )
    state_ttl_s: float = Field(
        default=3600.0, gt=0, description="A conversation's state is dropped after this long unused."
    )
    max_conversations: int = Field(
        default=100_000, ge=1, description="Most conversations held in memory (least recently used go)."
    )
    # Sender profiles and recommended actions --------------------------------------------------
    sender_ttl_s: float = Field(
        default=30 * 24 * 3600.0,
        gt=0,
        description="A sender's profile is dropped after this long without a new conversation update.",
    )
    max_senders: int = Field(
        default=200_000, ge=1, description="Most sender profiles held in memory (least recently updated go)."
    )
    policy_file: Path | None = Field(
        default=None,
        description="Base policy for `?actions=true` (default: configs/policy/default.yaml when present).",
    )
    policy_country: str | None = Field(
        default=None, description="ISO 3166-1 alpha-2 code: that country's hotlines and helplines."
    )
    policy_overrides: tuple[Path, ...] = Field(default=(), description="Platform policy override files.")
    # Micro-batching --------------------------------------------------------------------------
    # 1 ms: requests that queue while a batch runs join the next one anyway; a longer wait only
    # adds latency when traffic is light (benchmarks/README.md has the measurements).
    batch_window_ms: float = Field(
        default=1.0, ge=0, description="How long the first request of a batch waits for company."
    )
    max_batch_items: int = Field(
        default=64, ge=1, description="Conversations per encoder call (one request may exceed it)."
    )
    # Fairness and backpressure -----------------------------------------------------------------
    # Bulk work is cut into model calls of at most this many messages; an append waits for at most
    # one of them (about 0.2 s at 1,500 messages/s), never for a whole bulk request.
    bulk_call_messages: int = Field(
        default=256, ge=1, description="Messages per model call for /v1/score (streaming goes first)."
    )
    max_queued_bulk_messages: int = Field(
        default=50_000,
        ge=1,
        description="Messages admitted to /v1/score and not yet scored; above it, 429 with Retry-After.",
    )
    max_queued_stream_messages: int = Field(
        default=5_000,
        ge=1,
        description="Messages admitted to appends and not yet scored; above it, 429 with Retry-After.",
    )
    # Review forwarding -----------------------------------------------------------------------
    review_db: str | None = Field(
        default=None,
        description="Review store URL (sqlite:///path.db or postgresql://...): flagged conversations "
        "from /v1/score are forwarded there. Streamed conversations are not (no text is kept).",
    )

    @model_validator(mode="after")
    def _state_store_scheme(self) -> ServiceSettings:
        store = self.state_store
        if store not in (None, "memory") and not str(store).startswith(("redis://", "rediss://", "unix://")):
            # The URL is not repeated: it may hold a password.
            raise ValueError("state_store: expected 'memory' or a redis://, rediss:// or unix:// URL")
        return self

    @property
    def limits(self) -> Limits:
        return Limits(
            max_messages=self.max_messages_per_conversation, max_message_chars=self.max_message_chars
        )
