"""The reviewer workspace: a store of flagged threads, a web app to decide on them, an audit trail.

Modules:
- `db`: engines and sessions from a URL (SQLite file by default, PostgreSQL by URL).
- `models`: the SQLAlchemy tables; `migrations`: Alembic scripts that create and upgrade them.
- `store`: `ReviewStore`, every read and write the app and the CLI make, one module per concern
  (`store/accounts`, `queue`, `threads`, `decisions`, `audit_trail`, `exports`, `stats`, `senders`;
  `store/views` holds what they return).
- `ingest`: `ingest_pairs` / `ingest_files`, how scored conversations enter the store (with each
  thread's participants from `Assessment.senders`, for sender profiles).
- `auth`: accounts, password hashing, roles, web sessions, login rate limits (per account, per address).
- `audit`: the hash-chained, append-only log and its verification.
- `export_case`, `export_labels`: the escalation package and the labels sent back to training.
- `web`: the FastAPI app (`create_app` in `web/app`, one router per page group in `web/routes/`,
  shared dependencies in `web/deps`, rendering and error pages in `web/rendering`).

Nothing here is imported by the scorer: the review extra (`pip install grooming-risk[review]`) brings
SQLAlchemy, Alembic, FastAPI and the rest.
"""
