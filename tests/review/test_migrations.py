"""The Alembic migrations create exactly the schema the ORM models describe, on both back ends."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from grooming_risk.review.db import make_engine
from grooming_risk.review.migrations import SchemaError, check_current, head_revision, upgrade
from grooming_risk.review.models import Base


def test_upgrade_creates_the_models_schema_and_is_repeatable(db_url: str) -> None:
    assert upgrade(db_url) == head_revision()
    assert upgrade(db_url) == head_revision()  # a second run is a no-op
    engine = make_engine(db_url)
    try:
        check_current(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_an_empty_database_is_refused_with_the_command_to_run(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with pytest.raises(SchemaError, match="review init-db"):
            check_current(engine)
    finally:
        engine.dispose()


def _downgrade(engine: object, revision: str) -> None:
    from alembic import command

    from grooming_risk.review.migrations import alembic_config

    with engine.begin() as connection:  # type: ignore[attr-defined]
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_0002_adds_sender_rows_to_a_populated_0001_store_and_downgrades(db_url: str) -> None:
    from sqlalchemy import inspect

    from grooming_risk.review.ingest import ingest_pairs
    from grooming_risk.review.migrations import current_revision
    from grooming_risk.review.store import ReviewStore
    from tests.review.factories import grooming_pair

    assert upgrade(db_url, "0001_initial") == "0001_initial"
    engine = make_engine(db_url)
    try:
        assert "thread_senders" not in inspect(engine).get_table_names()
        assert upgrade(db_url) == "0002_sender_profiles"
        assert "thread_senders" in inspect(engine).get_table_names()
        indexes = {ix["name"] for ix in inspect(engine).get_indexes("login_failures")}
        assert "ix_login_failures_ip" in indexes

        store = ReviewStore(engine)
        ingest_pairs(store, [grooming_pair(senders=True)])
        assert store.sender_profile("u_rex").conversations == 1

        _downgrade(engine, "0001_initial")
        assert current_revision(engine) == "0001_initial"
        assert "thread_senders" not in inspect(engine).get_table_names()
        indexes = {ix["name"] for ix in inspect(engine).get_indexes("login_failures")}
        assert "ix_login_failures_ip" not in indexes
        assert upgrade(db_url) == head_revision()
        check_current(engine)
        # Threads stored before 0002 keep working; their sender features are empty until re-ingested.
        assert store.thread(store.find_thread("conv-groom-1") or 0).sender_conversations == {}
        assert store.senders().total == 0
        ingest_pairs(store, [grooming_pair(senders=True, model_version="m-2")])
        assert store.senders().total == 2
    finally:
        engine.dispose()
