"""Engines and sessions for the review store: SQLite file by default, PostgreSQL by URL.

SQLite is configured for a small multi-user web app: WAL so that readers never block the writer,
a busy timeout so that concurrent writers queue instead of failing, foreign keys on, and Python's
sqlite3 driver told to stay out of transaction handling so that SQLAlchemy's BEGIN/SAVEPOINT work as
documented. Write sessions open with BEGIN IMMEDIATE on SQLite: a transaction that reads and then
writes (claim, decide, audit append) takes the write lock up front, so two of them serialise cleanly
instead of one failing with "database is locked" half-way.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///review.db"
DB_ENV = "GROOMING_RISK_REVIEW_DB"
SQLITE_BUSY_TIMEOUT_MS = 15_000


def resolve_url(url_or_path: str | None = None) -> str:
    """A SQLAlchemy URL from an explicit URL, a plain file path, $GROOMING_RISK_REVIEW_DB or the default.

    A value without '://' is taken as a SQLite file path, so `--db review.db` works.
    """
    value = url_or_path or os.environ.get(DB_ENV) or DEFAULT_URL
    if "://" not in value:
        return f"sqlite:///{value}"
    return value


def display_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL, None for other back ends and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level: SQLAlchemy emits BEGIN itself (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if sqlite_path(str(engine.url)) is not None:
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for the review store; SQLite gets the settings described in the module docstring."""
    resolved = resolve_url(url)
    backend = make_url(resolved).get_backend_name()
    if backend == "sqlite":
        engine = create_engine(resolved, connect_args={"check_same_thread": False}, **kwargs)
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        return create_engine(resolved, pool_pre_ping=True, **kwargs)
    raise ValueError(
        f"database URL {display_url(resolved)!r}: unsupported back end {backend!r}; "
        "use sqlite:///FILE or postgresql+psycopg://USER@HOST/DB"
    )


def session_factories(engine: Engine) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
    """(read sessions, write sessions); write sessions take SQLite's write lock when they begin."""
    read = sessionmaker(engine, expire_on_commit=False)
    write = sessionmaker(engine.execution_options(sqlite_immediate=True), expire_on_commit=False)
    return read, write
