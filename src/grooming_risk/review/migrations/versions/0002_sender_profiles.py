"""Sender profiles: per-thread participants, and a per-address index for the login limit.

Revision ID: 0002_sender_profiles
Revises: 0001_initial
Create Date: 2025-06-01

`thread_senders` is filled by ingest from each thread's current assessment (`Assessment.senders`).
Threads ingested before this revision have no rows until they are ingested again: their sender
features are empty, nothing else changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_sender_profiles"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "thread_senders",
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("sender_sha256", sa.String(64), nullable=False),
        sa.Column("sender", sa.Text(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("log_complement", sa.Float(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("categories_json", sa.Text(), nullable=False),
        _ts("first_sent_at", nullable=True),
        _ts("last_sent_at", nullable=True),
        sa.Column("is_suspected", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.id"], name=op.f("fk_thread_senders_thread_id_threads")
        ),
        sa.ForeignKeyConstraint(
            ["assessment_id"], ["assessments.id"], name=op.f("fk_thread_senders_assessment_id_assessments")
        ),
        sa.PrimaryKeyConstraint("thread_id", "sender_sha256", name=op.f("pk_thread_senders")),
    )
    op.create_index(op.f("ix_thread_senders_sender_sha256"), "thread_senders", ["sender_sha256"])
    op.create_index("ix_login_failures_ip", "login_failures", ["ip", "at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_ip", table_name="login_failures")
    op.drop_index(op.f("ix_thread_senders_sender_sha256"), table_name="thread_senders")
    op.drop_table("thread_senders")
