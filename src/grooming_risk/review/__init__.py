"""The reviewer workspace: a store of flagged threads, a web app to decide on them, an audit trail.

Modules:
- `db`: engines and sessions from a URL (SQLite file by default, PostgreSQL by URL).
- `models`: the SQLAlchemy tables; `migrations`: Alembic scripts that create and upgrade them.
- `store`: `ReviewStore`, every read and write the app and the CLI make.
- `ingest`: `ingest_pairs` / `ingest_files`, how scored conversations enter the store.
- `auth`: accounts, password hashing, roles, web sessions, login rate limit.
- `audit`: the hash-chained, append-only log and its verification.
- `export_case`, `export_labels`: the escalation package and the labels sent back to training.
- `web`: the FastAPI app (`create_app`).

Nothing here is imported by the scorer: the review extra (`pip install grooming-risk[review]`) brings
SQLAlchemy, Alembic, FastAPI and the rest.
"""
