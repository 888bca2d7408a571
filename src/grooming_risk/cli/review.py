"""`grooming-risk review ...`: the reviewer workspace (store, web app, audit, exports).

Every command takes --db: a SQLAlchemy URL (sqlite:///FILE, postgresql+psycopg://USER@HOST/DB) or a
plain file path for SQLite; default $GROOMING_RISK_REVIEW_DB, else sqlite:///review.db. Create or
upgrade the schema with `init-db` first; the other commands refuse a missing or outdated database.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from grooming_risk.review.auth import AccountInfo
    from grooming_risk.review.store import ReviewStore

app = typer.Typer(
    no_args_is_help=True, help="Reviewer workspace: ingest flagged threads, serve the app, audit, export."
)

DB_HELP = "Review store: sqlite:///FILE, postgresql+psycopg://USER@HOST/DB or a SQLite file path. Default: $GROOMING_RISK_REVIEW_DB or sqlite:///review.db."


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _open(db: str | None) -> ReviewStore:
    from sqlalchemy.exc import OperationalError

    from grooming_risk.review.db import display_url, resolve_url, sqlite_path
    from grooming_risk.review.migrations import SchemaError
    from grooming_risk.review.store import ReviewStore

    url = resolve_url(db)
    path = sqlite_path(url)
    if path is not None and not path.exists():
        _fail(f"{path}: no such review database; create it with `grooming-risk review init-db --db {url}`")
    try:
        return ReviewStore.open(url)
    except SchemaError as exc:
        _fail(str(exc))
    except OperationalError as exc:
        _fail(f"cannot open {display_url(url)}: {str(exc.orig).splitlines()[0] if exc.orig else exc}")
    except ValueError as exc:
        _fail(str(exc))


def _actor(store: ReviewStore, username: str | None) -> AccountInfo | None:
    if username is None:
        return None
    account = store.account_by_name(username)
    if account is None:
        _fail(f"--by {username!r}: no such account")
    return account


@app.command("init-db")
def init_db(db: str | None = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Create the review database, or upgrade it to the current schema (safe to run again)."""
    from sqlalchemy.exc import OperationalError

    from grooming_risk.review.db import display_url, make_engine, resolve_url, sqlite_path
    from grooming_risk.review.migrations import current_revision, revisions_between, upgrade

    url = resolve_url(db)
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = make_engine(url)
        try:
            before = current_revision(engine)
            revision = upgrade(engine=engine)
        finally:
            engine.dispose()
    except OperationalError as exc:
        _fail(f"cannot open {display_url(url)}: {str(exc.orig).splitlines()[0] if exc.orig else exc}")
    applied = revisions_between(before, revision)
    done = f"applied {', '.join(applied)}" if applied else "already current"
    typer.echo(f"{display_url(url)}: schema at revision {revision} ({done})")


@app.command("ingest")
def ingest(
    assessments: Path = typer.Argument(
        ..., help="Assessments from `grooming-risk score` (.jsonl, .jsonl.gz, .parquet)."
    ),
    conversations: Path = typer.Option(
        ..., "--conversations", "-c", help="The conversations that were scored."
    ),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    batch_size: int = typer.Option(
        100, min=1, help="Records per commit; a crash loses at most one uncommitted batch."
    ),
) -> None:
    """Store scored conversations; flagged ones enter the review queue.

    Joins the two files on conversation_id. Every pair is stored, only flagged ones are queued.
    Idempotent: the same pair again changes nothing; a new assessment of a known conversation becomes
    its current one and the old one is kept as history. Problems are reported per line; the exit code
    is 1 if there were any (the valid records are stored all the same).
    """
    from grooming_risk.review.ingest import ingest_files

    for path in (assessments, conversations):
        if not path.exists():
            _fail(f"{path}: no such file")
    store = _open(db)
    try:
        result = ingest_files(
            store,
            assessments,
            conversations,
            batch_size=batch_size,
            on_error=lambda problem: typer.echo(f"invalid: {problem}", err=True),
        )
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    finally:
        store.close()
    typer.echo(result.summary())
    if result.errors:
        raise typer.Exit(1)


@app.command("serve")
def serve(
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8600, help="Port."),
    secure_cookies: bool = typer.Option(
        False, "--secure-cookies", help="Mark cookies Secure (use whenever users reach the app over HTTPS)."
    ),
    session_hours: float = typer.Option(8.0, min=0.1, help="How long a sign-in lasts."),
    organisation: str | None = typer.Option(None, help="Reporting organisation named in escalation reports."),
    forwarded_allow_ips: str | None = typer.Option(
        None,
        help="Trust X-Forwarded-For from these proxy addresses (for the login rate limit behind a proxy).",
    ),
) -> None:
    """Run the reviewer web app."""
    from datetime import timedelta

    import uvicorn

    from grooming_risk.review.web import ReviewSettings, create_app

    store = _open(db)
    settings = ReviewSettings(
        db_url=db,
        secure_cookies=secure_cookies,
        session_ttl=timedelta(hours=session_hours),
        organisation=organisation,
    )
    application = create_app(settings, store=store)
    typer.echo(f"reviewer app on http://{host}:{port}/ (Ctrl+C to stop)", err=True)
    try:
        uvicorn.run(
            application,
            host=host,
            port=port,
            proxy_headers=forwarded_allow_ips is not None,
            forwarded_allow_ips=forwarded_allow_ips,
            server_header=False,
        )
    finally:
        store.close()


@app.command("add-user")
def add_user(
    name: str = typer.Argument(..., help="User name (a-z, 0-9, '.', '_', '-')."),
    role: str = typer.Option(..., "--role", help="reviewer, lead or admin."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin's first line."
    ),
    update: bool = typer.Option(False, "--update", help="Change the role and password of an existing user."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Create an account (the password is prompted for, or read with --password-stdin)."""
    from grooming_risk.review.auth import AuthError, normalize_username, parse_role

    try:
        normalize_username(name)
        parse_role(role)
    except AuthError as exc:
        _fail(str(exc))
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    store = _open(db)
    try:
        account = store.add_account(name, role, password, replace=update)
    except AuthError as exc:
        _fail(str(exc))
    finally:
        store.close()
    typer.echo(
        f"account {account.username} (id {account.id}, role {account.role.value}) {'updated' if update else 'created'}"
    )


@app.command("verify-audit")
def verify_audit(
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    expect_head: str | None = typer.Option(
        None,
        "--expect-head",
        metavar="HASH",
        help="Also require the chain's head to be this hash (one kept outside the database).",
    ),
) -> None:
    """Check the audit log's hash chain; print OK and the head, or the first broken entry (exit code 1).

    The chain proves that entries were not altered or removed from the middle, but whoever can write
    the database could rebuild the whole chain. To catch that, keep the head outside the database:
    the OK line ends with `head seq N hash H`; store H somewhere the database's users cannot change
    (a ticket, a signed e-mail, write-once storage), and later run `verify-audit --expect-head H`.
    It fails (exit code 1, one line) if the chain is broken or its head is not H; the message says
    whether H is still an earlier entry of the chain (the log grew since: record the new head) or
    is not in it at all (the log was rewritten or replaced).
    """
    import re

    if expect_head is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", expect_head.strip()):
        _fail("--expect-head: give the 64 hex digits of a head hash, as printed by verify-audit")
    store = _open(db)
    try:
        result = store.verify_audit()
        expected = expect_head.strip().lower() if expect_head else None
        earlier = (
            store.audit_seq_of_hash(expected)
            if expected and result.ok and result.head_hash != expected
            else None
        )
    finally:
        store.close()
    if not result.ok:
        typer.echo(str(result))
        raise typer.Exit(1)
    if expected is None or result.head_hash == expected:
        typer.echo(str(result) + ("; matches --expect-head" if expected else ""))
        return
    if earlier is not None:
        typer.echo(
            f"HEAD MISMATCH: head is seq {result.head_seq} hash {result.head_hash}; the expected hash is "
            f"entry seq {earlier}, so the log grew since it was recorded (chain intact)"
        )
    else:
        typer.echo(
            f"HEAD MISMATCH: head is seq {result.head_seq} hash {result.head_hash}; the expected hash is "
            "not in the chain: the log was rewritten or replaced"
        )
    raise typer.Exit(1)


@app.command("export-case")
def export_case(
    thread: str = typer.Argument(
        ..., metavar="ID", help="Conversation id (or the numeric thread id shown in the app)."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="The zip to write."),
    by: str | None = typer.Option(
        None, "--by", help="Account exporting (recorded in the audit log and report)."
    ),
    organisation: str | None = typer.Option(None, help="Reporting organisation named in report.json."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Write an escalation package: conversation, assessment, evidence, decisions, report.json, MANIFEST."""
    from grooming_risk.review.export_case import export_case as run_export

    store = _open(db)
    try:
        thread_id = store.find_thread(thread)
        if thread_id is None:
            _fail(f"no thread with conversation id or thread id {thread!r}")
        actor = _actor(store, by)
        result = run_export(
            store, thread_id, output, actor_id=actor.id if actor else None, organisation=organisation
        )
    finally:
        store.close()
    typer.echo(f"{result.path}: {len(result.files)} files, MANIFEST sha256 {result.files['MANIFEST']}")


@app.command("export-labels")
def export_labels(
    output: Path = typer.Option(
        ..., "--output", "-o", help="Labelled conversations (.jsonl, .jsonl.gz, .parquet)."
    ),
    by: str | None = typer.Option(None, "--by", help="Account exporting (recorded in the audit log)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Write reviewer-decided threads as training data (conversation contract + provenance) and its card.

    confirmed grooming/sextortion -> that label; not risky -> benign (hard negative); escalate -> the
    model's label if risky; threads waiting for a second review are skipped.
    """
    from grooming_risk.review.export_labels import export_labels as run_export

    store = _open(db)
    try:
        actor = _actor(store, by)
        try:
            result = run_export(store, output, actor_id=actor.id if actor else None)
        except ValueError as exc:
            _fail(str(exc))
    finally:
        store.close()
    labels = ", ".join(f"{k} {v}" for k, v in result.by_label.items()) or "none"
    typer.echo(
        f"{result.path}: {result.written} conversations ({labels}); skipped {result.skipped_open} awaiting second "
        f"review, {result.skipped_escalated_benign} escalated with a benign model label; card {result.card}"
    )
