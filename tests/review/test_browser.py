"""End to end in a real browser: Debian's Chromium driven by Playwright against the app under uvicorn.

Screenshots go to pytest's tmp dir and are copied to build/screenshots/ (thread_view.png, queue.png,
lead.png) so people can look at the app without running it.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from grooming_risk.review.ingest import ingest_pairs
from grooming_risk.review.migrations import upgrade
from grooming_risk.review.store import ReviewStore
from grooming_risk.review.web import ReviewSettings, create_app
from tests.conftest import skip_or_fail_without
from tests.review.conftest import PASSWORD
from tests.review.factories import (
    GROOMING_LINES,
    SEXTORTION_LINES,
    benign_pair,
    conversation,
    grooming_pair,
    sextortion_pair,
)

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _seed(store: ReviewStore) -> None:
    pairs = [grooming_pair(), sextortion_pair(), benign_pair()]
    # A fuller queue for the screenshot: more platforms, model versions and risks.
    for k, (risk, platform, version) in enumerate(
        [
            (0.83, "game_chat", "m-2"),
            (0.71, "social_dm", "m-1"),
            (0.64, "forum", "m-2"),
            (0.58, "game_chat", "m-1"),
        ]
    ):
        conv = conversation(
            f"conv-{k + 2:03d}", GROOMING_LINES[: 6 + k] if k % 2 == 0 else SEXTORTION_LINES, platform
        )
        from tests.review.factories import assessment

        evidence = (
            [(2, 0.2, ["age_probing"]), (5, 0.2, ["secrecy"])]
            if k % 2 == 0
            else [(4, 0.4, ["threat_coercion"])]
        )
        pairs.append(
            (
                conv,
                assessment(
                    conv,
                    label="grooming" if k % 2 == 0 else "sextortion",
                    risk=risk,
                    evidence=evidence,
                    first_alert_index=evidence[-1][0],
                    model_version=version,
                ),
            )
        )
    ingest_pairs(store, pairs)
    store.add_account("alice", "reviewer", PASSWORD)
    store.add_account("lena", "lead", PASSWORD)
    store.add_account("ada", "admin", PASSWORD)


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[str]:
    import uvicorn

    url = f"sqlite:///{tmp_path / 'review.db'}"
    upgrade(url)
    store = ReviewStore.open(url)
    _seed(store)
    port = _free_port()
    config = uvicorn.Config(
        create_app(ReviewSettings(), store=store), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    store.close()


@pytest.fixture
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        skip_or_fail_without(
            "Chromium",
            f"{CHROMIUM} not found; install Debian's chromium package (apt-get install -y chromium)",
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


def _save(page: object, tmp_path: Path, name: str) -> Path:
    shot = tmp_path / name
    page.screenshot(path=str(shot), full_page=True)  # type: ignore[attr-defined]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, SCREENSHOTS / name)
    return shot


def _login(page: object, base: str, user: str) -> None:
    page.goto(f"{base}/queue")  # type: ignore[attr-defined]
    assert "/login" in page.url  # type: ignore[attr-defined]
    page.fill("input[name=username]", user)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(f"{base}/queue")  # type: ignore[attr-defined]


def test_review_flow_in_chromium(live_app: str, browser: object, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})  # type: ignore[attr-defined]
    page = context.new_page()
    _login(page, live_app, "alice")

    # Queue: most urgent first; the unflagged conversation is not listed.
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 6
    assert "conv-sext-1" in rows.nth(0).inner_text()
    assert page.locator("text=conv-benign-1").count() == 0
    _save(page, tmp_path, "queue.png")

    page.click("a.thread-link:text('conv-groom-1')")
    page.wait_for_selector("svg.chart")
    # Text is not in the page before a reveal: only placeholders.
    assert "how old are you" not in page.content()
    assert page.locator(".msg .redacted").count() == len(GROOMING_LINES)
    assert page.locator(".msg.msg-evidence").count() == 3
    assert page.locator("svg.chart .alert-line").count() == 1

    page.keyboard.press("c")  # claim
    page.wait_for_selector("text=You hold this thread")
    page.click("#m2 .reveal-one")
    page.wait_for_selector("#m2 .revealed")
    assert page.inner_text("#m2 .revealed") == "how old are you btw"
    page.click("#m5 .reveal-one")
    page.wait_for_selector("#m5 .revealed")
    assert page.locator(".msg .redacted").count() == len(GROOMING_LINES) - 2
    page.keyboard.press("g")
    assert page.is_checked("input[value=confirmed_grooming]")
    page.fill("textarea[name=note]", "Age probing then secrecy and a move to another app.")
    page.locator("#decision-form").scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, 0)")
    shot = _save(page, tmp_path, "thread_view.png")
    assert shot.stat().st_size > 10_000

    page.keyboard.press("Control+Enter")
    page.wait_for_selector("text=Decision recorded")
    assert page.locator(".decision-list .dec").first.inner_text() == "Confirmed grooming"
    activity = page.inner_text("#activity-list").lower()
    assert "reveal" in activity
    assert "decide" in activity
    assert "claim" in activity
    assert "message #2" in activity
    assert "confirmed grooming" in activity
    _save(page, tmp_path, "thread_decided.png")
    context.close()

    lead = browser.new_context(viewport={"width": 1440, "height": 900})  # type: ignore[attr-defined]
    page = lead.new_page()
    _login(page, live_app, "lena")
    page.goto(f"{live_app}/lead")
    assert page.locator(".stat-value").first.inner_text() == "5"
    assert "100%" in page.inner_text("table")
    _save(page, tmp_path, "lead.png")
    lead.close()

    admin = browser.new_context(viewport={"width": 1440, "height": 900})  # type: ignore[attr-defined]
    page = admin.new_page()
    _login(page, live_app, "ada")
    page.goto(f"{live_app}/audit")
    assert "chain intact" in page.inner_text(".alert-ok")
    assert "reveal" in page.inner_text("table.audit").lower()
    _save(page, tmp_path, "audit.png")
    admin.close()
