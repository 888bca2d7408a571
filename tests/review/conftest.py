"""Review-store fixtures: every store test runs on SQLite and, where reachable, on PostgreSQL.

PostgreSQL comes from $GROOMING_RISK_TEST_POSTGRES_URL, else postgresql+psycopg://postgres@127.0.0.1:5432/test.
Each test gets a fresh schema (dropped afterwards), selected through the connection's search_path,
so tests never see each other's rows. If the server is unreachable the postgres tests skip with the
reason, unless $GROOMING_RISK_REQUIRE_SERVICES=1 (CI), where they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from grooming_risk.review import auth
from grooming_risk.review.auth import AccountInfo
from grooming_risk.review.ingest import ingest_pairs
from grooming_risk.review.migrations import upgrade
from grooming_risk.review.store import ReviewStore
from tests.conftest import skip_or_fail_without
from tests.review.factories import benign_pair, grooming_pair, sextortion_pair

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Argon2 with production parameters costs ~50 ms a hash; tests need the code path, not the cost.
    monkeypatch.setattr(auth, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(scope="session")
def postgres_url() -> str:
    from sqlalchemy import create_engine, text

    url = os.environ.get("GROOMING_RISK_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        reason = f"PostgreSQL not reachable at {engine.url.render_as_string(hide_password=True)}: {type(exc).__name__}"
        skip_or_fail_without(
            "PostgreSQL", reason + "; set GROOMING_RISK_TEST_POSTGRES_URL to run these tests"
        )
    finally:
        engine.dispose()
    return url


@pytest.fixture
def pg_schema_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A URL whose connections see only a fresh, empty schema."""
    from sqlalchemy import create_engine, text

    base = request.getfixturevalue("postgres_url")
    schema = f"t_review_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'review.db'}"
    return str(request.getfixturevalue("pg_schema_url"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'review.db'}"


@pytest.fixture
def store(db_url: str) -> Iterator[ReviewStore]:
    upgrade(db_url)
    opened = ReviewStore.open(db_url)
    yield opened
    opened.close()


@pytest.fixture
def people(store: ReviewStore) -> dict[str, AccountInfo]:
    return {
        "alice": store.add_account("alice", "reviewer", PASSWORD),
        "bob": store.add_account("bob", "reviewer", PASSWORD),
        "lena": store.add_account("lena", "lead", PASSWORD),
        "ada": store.add_account("ada", "admin", PASSWORD),
    }


@pytest.fixture
def seeded(store: ReviewStore, people: dict[str, AccountInfo]) -> dict[str, int]:
    """Three conversations: grooming (flagged), sextortion (flagged, urgent), benign (not flagged)."""
    ingest_pairs(store, [grooming_pair(), sextortion_pair(), benign_pair()])
    ids = {}
    for key, cid in (("groom", "conv-groom-1"), ("sext", "conv-sext-1"), ("benign", "conv-benign-1")):
        found = store.find_thread(cid)
        assert found is not None
        ids[key] = found
    return ids
