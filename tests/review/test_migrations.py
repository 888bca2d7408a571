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
