"""Alembic migrations for the review store, run from code (no alembic.ini needed).

`upgrade(url)` brings a database to the newest schema (creating it if empty); `check_current(engine)`
tells a command that the database it was pointed at is missing or out of date, and what to run.
To write the next revision, autogenerate it from Python against an up-to-date database:

    from alembic import command
    command.revision(alembic_config("sqlite:///review.db"), "what changed", autogenerate=True)
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from grooming_risk.review.db import display_url, make_engine, resolve_url

MIGRATIONS_DIR = Path(__file__).resolve().parent


class SchemaError(RuntimeError):
    """The database is missing, empty or at an older schema than this code expects."""


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # configparser interpolates '%': escape it (URL-encoded passwords contain it).
        config.set_main_option("sqlalchemy.url", resolve_url(url).replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migration scripts found"
    return head


def revisions_between(before: str | None, after: str) -> list[str]:
    """The revisions an upgrade from `before` (None: empty database) to `after` applied, oldest first."""
    if before == after:
        return []
    scripts = ScriptDirectory.from_config(alembic_config())
    return [s.revision for s in reversed(list(scripts.iterate_revisions(after, before or "base")))]


def upgrade(url: str | None = None, revision: str = "head", *, engine: Engine | None = None) -> str:
    """Create or upgrade the schema at `url`; return the revision it is now at."""
    own = engine is None
    engine = engine or make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            current = MigrationContext.configure(connection).get_current_revision()
    finally:
        if own:
            engine.dispose()
    return current or ""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def check_current(engine: Engine) -> None:
    """Raise SchemaError unless the database is at the newest revision."""
    current = current_revision(engine)
    head = head_revision()
    where = display_url(engine.url.render_as_string(hide_password=False))
    if current is None:
        raise SchemaError(
            f"{where}: not a review database (no schema); create it with `grooming-risk review init-db --db URL`"
        )
    if current != head:
        raise SchemaError(
            f"{where}: schema revision {current} is not the current {head}; "
            "upgrade it with `grooming-risk review init-db --db URL`"
        )
