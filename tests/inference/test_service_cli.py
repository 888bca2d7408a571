"""`grooming-risk serve`: options reach the app, bad inputs fail before listening."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

pytest.importorskip("fastapi")

from grooming_risk.cli.serve import serve

KEY = "cli-secret-0123456789abc"


def _cli() -> typer.Typer:
    # A one-command app: the same function the lead registers as `grooming-risk serve`.
    app = typer.Typer()
    app.command("serve")(serve)

    @app.command("noop")
    def noop() -> None:  # a second command keeps typer from collapsing the app into `serve`
        """Nothing."""

    return app


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(_cli(), ["serve", "--help"], terminal_width=200, env={"COLUMNS": "240"})
    assert result.exit_code == 0
    for option in (
        "--model",
        "--host",
        "--port",
        "--api-keys",
        "--no-auth",
        "--state-ttl",
        "--max-conversations",
        "--review-db",
        "--state-store",
        "--workers",
        "--bulk-call-messages",
        "--max-queued-bulk-messages",
        "--max-queued-stream-messages",
        "--max-messages-per-score-request",
    ):
        assert option in result.output
    assert "KEY_ID:KEY_SECRET" in result.output  # not turned into an emoji by rich


def test_serve_builds_the_app_and_hands_it_to_uvicorn(
    tiny_artifact: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    monkeypatch.delenv("GROOMING_RISK_API_KEYS", raising=False)
    keys = tmp_path / "keys.txt"
    keys.write_text(f"ops:{KEY}:score,stream,admin\n", encoding="utf-8")
    keys.chmod(0o600)
    result = CliRunner().invoke(
        _cli(),
        [
            "serve",
            "--model",
            str(tiny_artifact),
            "--api-keys",
            str(keys),
            "--port",
            "8123",
            "--state-ttl",
            "120",
            "--max-conversations",
            "7",
        ],
    )
    assert result.exit_code == 0, result.output
    [call] = calls
    assert call["port"] == 8123
    assert call["host"] == "127.0.0.1"
    settings = call["app"].state.runtime.settings
    assert settings.state_ttl_s == 120
    assert settings.max_conversations == 7
    assert settings.auth is True


def test_serve_without_keys_or_with_a_bad_model_exits_2(
    tiny_artifact: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: pytest.fail("must not start"))
    monkeypatch.delenv("GROOMING_RISK_API_KEYS", raising=False)
    # Keys are checked before the model is loaded: the key error shows even with a missing model.
    no_keys = CliRunner().invoke(_cli(), ["serve", "--model", str(tmp_path / "missing")])
    assert no_keys.exit_code == 2
    assert "API keys are required" in no_keys.output
    bad_model = CliRunner().invoke(_cli(), ["serve", "--model", str(tmp_path / "missing"), "--no-auth"])
    assert bad_model.exit_code == 2
    assert "not found" in bad_model.output


def test_several_workers_need_a_shared_store_and_get_their_settings_from_the_environment(
    tiny_artifact: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from grooming_risk.service.app import SETTINGS_ENV, create_app_from_env

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    monkeypatch.delenv(SETTINGS_ENV, raising=False)
    alone = CliRunner().invoke(
        _cli(), ["serve", "--model", str(tiny_artifact), "--no-auth", "--workers", "2"]
    )
    assert alone.exit_code == 2
    assert "needs a shared state store" in alone.output
    shared = CliRunner().invoke(
        _cli(),
        ["serve", "--model", str(tiny_artifact), "--no-auth", "--workers", "3",
         "--state-store", "redis://127.0.0.1:6379/15", "--bulk-call-messages", "128"],
    )  # fmt: skip
    assert shared.exit_code == 0, shared.output
    [call] = calls
    assert call["app"] == "grooming_risk.service.app:create_app_from_env"
    assert call["factory"] is True
    assert call["workers"] == 3
    # What each worker builds: the same settings, the model resolved to one directory.
    app = create_app_from_env()
    settings = app.state.runtime.settings
    assert settings.bulk_call_messages == 128
    assert settings.model == str(tiny_artifact.resolve())
    assert settings.state_store == "redis://127.0.0.1:6379/15"
