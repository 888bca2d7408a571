"""`grooming-risk serve`: the HTTP scoring service under uvicorn."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

err = Console(stderr=True, soft_wrap=True)


def serve(
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        envvar="GROOMING_RISK_MODEL",
        help="Model: artifact dir, runs:/RUN/model or models:/NAME@ALIAS. "
        "Default: $GROOMING_RISK_MODEL, else the model `make demo` trains: its ONNX export "
        "(artifacts/models/default-onnx, the fast path) when it is current, else artifacts/models/default.",
    ),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (0.0.0.0 for all)."),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
    api_keys: Path | None = typer.Option(
        None,
        "--api-keys",
        envvar="GROOMING_RISK_API_KEYS_FILE",
        help="API key file: one 'KEY_ID:KEY_SECRET:SCOPES' per line (SCOPES comma-separated), scopes score, stream, admin; "
        "KEY_SECRET may be 'sha256=<hex>'. Keys can also come from $GROOMING_RISK_API_KEYS (';'-separated).",
    ),
    no_auth: bool = typer.Option(
        False, "--no-auth", help="Serve without API keys. For local development only: anyone can score."
    ),
    state_ttl: float = typer.Option(
        3600.0, "--state-ttl", min=1, help="Seconds a streamed conversation's state is kept without requests."
    ),
    max_conversations: int = typer.Option(
        100_000, "--max-conversations", min=1, help="Streamed conversations kept in memory (LRU beyond)."
    ),
    state_store: str | None = typer.Option(
        None,
        "--state-store",
        envvar="GROOMING_RISK_STATE_STORE",
        help="'memory' (default) or redis://HOST:PORT/DB to share streaming state between replicas "
        "(needs the 'redis' package; route each conversation to one replica).",
    ),
    review_db: str | None = typer.Option(
        None,
        "--review-db",
        envvar="GROOMING_RISK_REVIEW_DB",
        help="Forward flagged conversations from /v1/score to this review store "
        "(sqlite:///review.db or postgresql://...). Streamed conversations are not forwarded.",
    ),
    max_body_bytes: int = typer.Option(2_000_000, min=1, help="Largest request body in bytes (413 above)."),
    max_conversations_per_request: int = typer.Option(64, min=1, help="Conversations per /v1/score call."),
    max_messages_per_request: int = typer.Option(100, min=1, help="Messages per streaming append."),
    max_messages: int = typer.Option(10_000, min=1, help="Messages in one conversation."),
    max_chars: int = typer.Option(4_000, min=1, help="Characters in one message."),
    batch_window_ms: float = typer.Option(
        1.0, min=0, help="Milliseconds a request waits for others to share an encoder batch."
    ),
    max_batch_items: int = typer.Option(64, min=1, help="Conversations per streaming encoder batch."),
    max_messages_per_score_request: int = typer.Option(
        10_000, min=1, help="Messages in all the conversations of one /v1/score call (422 above)."
    ),
    bulk_call_messages: int = typer.Option(
        256,
        min=1,
        help="Messages per model call for /v1/score; streaming appends go between such calls, so this "
        "bounds how long an append can wait behind bulk work.",
    ),
    max_queued_bulk_messages: int = typer.Option(
        50_000, min=1, help="Bulk messages admitted and not yet scored before /v1/score answers 429."
    ),
    max_queued_stream_messages: int = typer.Option(
        5_000, min=1, help="Appended messages admitted and not yet scored before appends answer 429."
    ),
    workers: int = typer.Option(
        1,
        min=1,
        envvar="GROOMING_RISK_WORKERS",
        help="Worker processes, each with its own model copy. More than 1 needs --state-store redis://... "
        "so that every worker sees every streamed conversation.",
    ),
    policy: Path | None = typer.Option(
        None, "--policy", help="Base policy file for ?actions=true (default: configs/policy/default.yaml)."
    ),
    country: str | None = typer.Option(
        None, "--country", help="ISO 3166-1 alpha-2 code for ?actions=true: that country's hotlines."
    ),
    policy_override: list[Path] = typer.Option(
        [], "--policy-override", help="Platform policy override file(s), applied in order."
    ),
    sender_ttl: float = typer.Option(
        30 * 24 * 3600.0, min=1, help="Seconds a sender profile is kept without a new update."
    ),
    log_level: str = typer.Option("info", help="uvicorn/app log level: debug, info, warning, error."),
) -> None:
    """Serve risk scoring over HTTP: /v1/score, per-conversation streaming, /metrics, /docs.

    The model loads before the server starts listening, so a bad --model fails here with a clear
    message. Conversation text is never logged: logs carry ids, counts and timings only.
    """
    import logging

    import uvicorn

    from grooming_risk.inference.scorer import RiskScorer
    from grooming_risk.service.app import create_app
    from grooming_risk.service.auth import KeyFileError, keyring_for
    from grooming_risk.service.settings import ServiceSettings

    try:
        settings = ServiceSettings(
            model=model,
            auth=not no_auth,
            api_keys_file=api_keys,
            state_store=state_store,
            state_ttl_s=state_ttl,
            max_conversations=max_conversations,
            review_db=review_db,
            max_body_bytes=max_body_bytes,
            max_conversations_per_request=max_conversations_per_request,
            max_messages_per_request=max_messages_per_request,
            max_messages_per_conversation=max_messages,
            max_message_chars=max_chars,
            batch_window_ms=batch_window_ms,
            max_batch_items=max_batch_items,
            max_messages_per_score_request=max_messages_per_score_request,
            bulk_call_messages=bulk_call_messages,
            max_queued_bulk_messages=max_queued_bulk_messages,
            max_queued_stream_messages=max_queued_stream_messages,
            policy_file=policy,
            policy_country=country,
            policy_overrides=tuple(policy_override),
            sender_ttl_s=sender_ttl,
        )
    except ValueError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    if workers > 1 and settings.state_store in (None, "memory"):
        err.print(
            f"[red]error:[/] --workers {workers} needs a shared state store (--state-store redis://HOST:PORT/DB): "
            "with in-process state, each worker would know only the conversations it happened to receive"
        )
        raise typer.Exit(2)
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if workers > 1:
        _serve_workers(settings, workers, host, port, log_level)
        return
    try:
        keyring_for(settings)  # checked before the (slower) model load so a key mistake fails fast
        # Warm: the encoder's weights (and for the bundled USE its batch workers) load before the
        # first request rather than inside it.
        scorer = RiskScorer.load(model).warm_up()
        app = create_app(settings, scorer)
    except (FileNotFoundError, ValueError, RuntimeError, KeyFileError) as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    if no_auth:
        err.print("[yellow]warning:[/] --no-auth: anyone who can reach this port can use the service")
    err.print(f"model {scorer.model_version}: serving on http://{host}:{port} (docs at /docs)")
    uvicorn.run(app, host=host, port=port, log_level=log_level.lower())


def _serve_workers(settings: object, workers: int, host: str, port: int, log_level: str) -> None:
    """uvicorn's worker processes, each building the app from the settings passed in the environment."""
    import os

    import uvicorn

    from grooming_risk.inference.scorer import default_model_uri, resolve_model_uri
    from grooming_risk.model.encoder import THREADS_ENV
    from grooming_risk.service.app import SETTINGS_ENV
    from grooming_risk.service.auth import KeyFileError, keyring_for
    from grooming_risk.service.runtime import build_policy
    from grooming_risk.service.settings import ServiceSettings

    assert isinstance(settings, ServiceSettings)
    try:
        keyring_for(settings)
        build_policy(settings)  # a bad policy file fails here, not in every worker
        # Resolved once here, so every worker loads the same directory and a bad path fails now.
        model_dir = resolve_model_uri(settings.model or default_model_uri())
    except (FileNotFoundError, ValueError, RuntimeError, KeyFileError) as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    os.environ[SETTINGS_ENV] = settings.model_copy(update={"model": str(model_dir)}).model_dump_json()
    # Each worker's model gets its share of the cores, not all of them (oversubscription costs more
    # than it gains); torch reads the same variable through OMP_NUM_THREADS.
    share = str(max(1, (os.cpu_count() or 1) // workers))
    os.environ.setdefault(THREADS_ENV, share)
    os.environ.setdefault("OMP_NUM_THREADS", share)
    err.print(
        f"{workers} workers serving {model_dir} on http://{host}:{port} (each loads the model; see /readyz)"
    )
    uvicorn.run(
        "grooming_risk.service.app:create_app_from_env",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level=log_level.lower(),
    )
