"""End to end in a real browser: Debian's Chromium driven by Playwright against the app under uvicorn.

Screenshots go to pytest's tmp dir and are copied to build/screenshots/ (thread_view.png, queue.png,
lead.png, sender.png, ...) so people can look at the app without running it.

The seed has one suspected sender, u_rex, in three conversations with three different children, and
every assessment carries `senders` and `actions`, as the scorer writes them with `--actions`.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

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
    T0,
    assessment,
    benign_pair,
    conversation,
    grooming_pair,
    sextortion_pair,
    with_child,
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


REX_THREADS = ("conv-groom-1", "conv-002", "conv-004")


def _seed(store: ReviewStore) -> None:
    extras: dict[str, Any] = {"senders": True, "actions": True}
    pairs = [grooming_pair(**extras), sextortion_pair(**extras), benign_pair(**extras)]
    # A fuller queue for the screenshot: more platforms, model versions and risks.
    for k, (risk, platform, version) in enumerate(
        [
            (0.83, "game_chat", "m-2"),
            (0.71, "social_dm", "m-1"),
            (0.64, "forum", "m-2"),
            (0.58, "game_chat", "m-1"),
        ]
    ):
        # u_rex again, each time with another child; other extortion accounts, one chat each.
        if k % 2 == 0:
            lines = with_child(GROOMING_LINES[: 6 + k], f"u_child{k}")
        else:
            names = {"u_vex": f"u_vex{k}", "u_kai": f"u_kid{k}"}
            lines = [(names[sender], text) for sender, text in SEXTORTION_LINES]
        conv = conversation(f"conv-{k + 2:03d}", lines, platform, start=T0 + timedelta(days=k + 1))

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
                    **extras,
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

    # Who the risk comes from, and what to do about it.
    suspected = page.locator("#suspected-sender")
    assert suspected.locator(".suspected-link").inner_text() == "u_rex"
    assert "started the chat" in suspected.inner_text()
    assert "0.90" in suspected.inner_text()
    assert "3 stored conversations" in suspected.inner_text()
    assert page.locator("table.participants tbody tr").count() == 2
    actions = page.locator("#actions")
    assert "platform actions" in actions.inner_text().lower()  # headings are upper-cased by CSS
    assert "for the child" in actions.inner_text().lower()
    links = actions.locator("a[target=_blank]")
    assert links.count() == 3
    for i in range(links.count()):
        assert links.nth(i).get_attribute("rel") == "noopener noreferrer"
    # After the decision the page was reloaded: all text is hidden again until revealed.
    assert page.locator(".msg .redacted").count() == len(GROOMING_LINES)

    suspected.locator(".suspected-link").click()
    page.wait_for_url(f"{live_app}/senders/u_rex")
    page.wait_for_selector("svg.chart")
    threads = page.locator("table.sender-threads tbody tr")
    assert threads.count() == 3
    listed = page.inner_text("table.sender-threads")
    for cid in REX_THREADS:
        assert cid in listed
    assert page.locator("svg.chart .pt-ev").count() == 3
    assert "Confirmed grooming" in page.inner_text(".decision-list")
    assert "how old are you" not in page.content()
    shot = _save(page, tmp_path, "sender.png")
    assert shot.stat().st_size > 10_000
    assert (SCREENSHOTS / "sender.png").stat().st_size > 10_000
    page.click("a.sender-thread-link:text('conv-002')")
    page.wait_for_selector("#suspected-sender")
    assert page.locator("#suspected-sender .suspected-link").inner_text() == "u_rex"
    context.close()

    lead = browser.new_context(viewport={"width": 1440, "height": 900})  # type: ignore[attr-defined]
    page = lead.new_page()
    _login(page, live_app, "lena")
    page.goto(f"{live_app}/lead")
    assert page.locator(".stat-value").first.inner_text() == "5"
    assert "100%" in page.inner_text("table")
    _save(page, tmp_path, "lead.png")
    page.goto(f"{live_app}/senders")
    assert page.locator("table.senders tbody tr").first.locator(".sender-link").inner_text() == "u_rex"
    _save(page, tmp_path, "senders.png")
    lead.close()

    admin = browser.new_context(viewport={"width": 1440, "height": 900})  # type: ignore[attr-defined]
    page = admin.new_page()
    _login(page, live_app, "ada")
    page.goto(f"{live_app}/audit")
    assert "chain intact" in page.inner_text(".alert-ok")
    assert "reveal" in page.inner_text("table.audit").lower()
    _save(page, tmp_path, "audit.png")
    admin.close()


DEMO_DIR_ENV = "GROOMING_RISK_DEMO_DIR"


def _demo_dir() -> Path:
    import os

    demo = Path(os.environ.get(DEMO_DIR_ENV, Path(__file__).resolve().parents[2] / "artifacts" / "demo"))
    if not (demo / "assessments.jsonl").exists() or not (demo / "sample_conversations.jsonl").exists():
        pytest.skip(f"no make demo output in {demo} (run `make demo`, or set ${DEMO_DIR_ENV})")
    return demo


def test_make_demo_output_in_chromium(browser: object, tmp_path: Path) -> None:
    """What `make demo` scored, as a reviewer sees it: the thread of the returning offender with
    its suspected sender and recommended actions, and that sender's page with their other threads."""
    import json

    import uvicorn

    from grooming_risk.review.ingest import ingest_files

    demo = _demo_dir()
    assessments = [json.loads(line) for line in (demo / "assessments.jsonl").read_text().splitlines()]
    suspected: dict[str, list[str]] = {}
    for a in assessments:
        if a["flagged"] and a.get("senders"):
            suspected.setdefault(a["senders"][0]["sender"], []).append(a["conversation_id"])
    returning = max(suspected.items(), key=lambda kv: len(kv[1]), default=("", []))
    assert len(returning[1]) >= 2, "the demo sample should hold a sender suspected in two or more chats"
    sender, threads = returning
    assert all(a.get("actions") is not None for a in assessments), "make demo scores with --actions"

    url = f"sqlite:///{tmp_path / 'review.db'}"
    upgrade(url)
    store = ReviewStore.open(url)
    ingest_files(store, demo / "assessments.jsonl", demo / "sample_conversations.jsonl")
    store.add_account("alice", "reviewer", PASSWORD)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(ReviewSettings(), store=store), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        context = browser.new_context(viewport={"width": 1440, "height": 1000})  # type: ignore[attr-defined]
        page = context.new_page()
        _login(page, base, "alice")
        page.goto(f"{base}/threads/{store.find_thread(threads[0])}")
        page.wait_for_selector("#suspected-sender")
        assert page.locator("#suspected-sender .suspected-link").inner_text() == sender
        assert "platform actions" in page.inner_text("#actions").lower()
        _save(page, tmp_path, "demo_thread.png")
        page.locator("#suspected-sender .suspected-link").click()
        page.wait_for_selector("table.sender-threads")
        listed = page.inner_text("table.sender-threads")
        assert all(cid in listed for cid in threads)
        _save(page, tmp_path, "demo_sender.png")
        context.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()
