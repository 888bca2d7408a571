"""Sender pages, the thread view's participants and actions, the queue's distinguishing columns, and
what the app answers to hostile ids and page numbers (400/404, never 500)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from grooming_risk.review.auth import AccountInfo
from grooming_risk.review.ingest import ingest_pairs
from grooming_risk.review.store import ReviewStore
from grooming_risk.review.web import ReviewSettings, create_app
from tests.review.factories import (
    ACTIONS,
    ALL_TEXT,
    GROOMING_LINES,
    T0,
    assessment,
    conversation,
    sextortion_pair,
    with_child,
)
from tests.review.test_senders import rex_pairs
from tests.review.test_web import login

# User-controlled ids with everything that could break a route or a page.
ODD_SENDER = "<b>grüße</b> a/b ?x=1#frag 😀"
TEXT = [line for line in ALL_TEXT if len(line) > 6]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    # The HTTP layer does not depend on the back end; the store tests run on both.
    return f"sqlite:///{tmp_path / 'review.db'}"


@pytest.fixture
def ids(store: ReviewStore, people: dict[str, AccountInfo]) -> dict[str, int]:
    lines = [(ODD_SENDER if s == "u_rex" else s, t) for s, t in with_child(GROOMING_LINES, "u_olive")]
    odd = conversation("conv-odd", lines[:6], start=T0 + timedelta(days=5))
    bad_link = {
        "id": "bad.link",
        "audience": "reviewer",
        "title": "Not a real link",
        "url": "javascript:alert(1)",
    }
    odd_assessment = assessment(
        odd, risk=0.75, evidence=[(2, 0.3, ["age_probing"])], senders=True, actions=[bad_link]
    )
    ingest_pairs(store, [*rex_pairs(), sextortion_pair(senders=True, actions=True), (odd, odd_assessment)])
    found = {cid: store.find_thread(cid) for cid in ("rex-1", "rex-2", "rex-3", "conv-sext-1", "conv-odd")}
    assert all(v is not None for v in found.values())
    return found  # type: ignore[return-value]


@pytest.fixture
def client(store: ReviewStore, ids: dict[str, int]) -> Iterator[TestClient]:
    with TestClient(create_app(ReviewSettings(), store=store)) as made:
        yield made


def _fresh(store: ReviewStore, settings: ReviewSettings | None = None) -> TestClient:
    return TestClient(create_app(settings or ReviewSettings(), store=store))


def test_sender_pages_need_a_session_and_the_list_needs_a_lead(
    client: TestClient, store: ReviewStore
) -> None:
    for path in ("/senders", "/senders/u_rex", "/senders/" + quote(ODD_SENDER, safe="")):
        page = client.get(path, headers={"accept": "text/html"}, follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"].startswith("/login?next=")
        assert client.get(path, headers={"accept": "application/json"}).status_code == 401
    login(client, "alice")
    refused = client.get("/senders")
    assert refused.status_code == 403
    assert "u_rex" not in refused.text
    assert client.get("/senders/u_rex").status_code == 200  # reviewers follow links from threads
    lead = _fresh(store)
    login(lead, "lena")
    assert lead.get("/senders").status_code == 200
    admin = _fresh(store)
    login(admin, "ada")
    assert admin.get("/senders").status_code == 200


def test_senders_list_ranks_the_repeat_sender_first(client: TestClient, store: ReviewStore) -> None:
    login(client, "lena")
    page = client.get("/senders").text
    names = re.findall(r'class="sender-link[^"]*" href="([^"]+)"', page)
    assert names[0] == "/senders/u_rex"
    assert names[1] == "/senders/u_vex"
    assert html.escape(ODD_SENDER) in page
    assert ODD_SENDER not in page  # escaped, never raw markup
    assert '<nav class="mainnav">' in page
    assert 'href="/senders"' in page


def test_sender_page_shows_threads_timeline_categories_and_decisions(
    client: TestClient, store: ReviewStore, people: dict[str, AccountInfo], ids: dict[str, int]
) -> None:
    store.decide(ids["rex-1"], people["bob"], "confirmed_grooming", ["age_probing"])
    login(client, "alice")
    page = client.get("/senders/u_rex")
    assert page.status_code == 200
    text = page.text
    for cid in ("rex-1", "rex-2", "rex-3"):
        assert f'href="/threads/{ids[cid]}"' in text
        assert cid in text
    assert '<svg class="chart"' in text
    assert text.count('class="pt-ev"') == 3  # suspected in all three
    assert "platform migration" in text
    assert "Confirmed grooming" in text
    assert "0.99" in text  # combined: 1 - 0.1 * 0.2 * 0.4
    for line in TEXT:
        assert line not in text


def test_odd_sender_ids_are_escaped_and_routed(client: TestClient, ids: dict[str, int]) -> None:
    login(client, "alice")
    thread = client.get(f"/threads/{ids['conv-odd']}").text
    link = "/senders/" + quote(ODD_SENDER, safe="")
    assert f'href="{link}"' in thread
    assert ODD_SENDER not in thread
    assert html.escape(ODD_SENDER) in thread
    profile = client.get(link)
    assert profile.status_code == 200
    assert html.escape(ODD_SENDER) in profile.text
    assert "conv-odd" in profile.text
    # A policy URL that is not http(s) is shown as text, never as a link.
    assert "javascript:" not in thread
    assert "Not a real link" in thread


@pytest.mark.parametrize(
    ("who", "path", "statuses"),
    [
        ("alice", "/threads/99999999999999999999999", {400}),
        ("alice", "/threads/0", {400}),
        ("alice", "/threads/-5", {400}),
        ("alice", "/threads/abc", {400}),
        ("alice", "/threads/2147483647", {404}),
        ("alice", "/queue?page=-1", {400}),
        ("alice", "/queue?page=0", {400}),
        ("alice", f"/queue?page={10**30}", {400}),
        ("alice", "/queue?page=x", {400}),
        ("alice", "/senders/" + "x" * 4096, {400, 404}),
        ("alice", "/senders/", {404}),
        ("alice", "/senders/u_nobody", {404}),
        ("lena", f"/senders?page={10**30}", {400}),
        ("lena", "/senders?page=-1", {400}),
        ("ada", f"/audit?page={10**30}", {400}),
        ("ada", "/audit?page=-1", {400}),
        ("ada", "/audit?page=999", {200}),  # past the end: an empty page
    ],
)
def test_huge_or_bad_ids_and_pages_answer_400_or_404(
    store: ReviewStore, ids: dict[str, int], who: str, path: str, statuses: set[int]
) -> None:
    client = _fresh(store)
    login(client, who)
    for accept in ("text/html", "application/json"):
        response = client.get(path, headers={"accept": accept})
        assert response.status_code in statuses, (path, response.status_code)
        assert "x" * 200 not in response.text  # the id is not echoed back


def test_posts_with_huge_thread_ids_answer_400(client: TestClient) -> None:
    csrf = login(client, "alice")
    for action in ("claim", "release", "reveal", "decision"):
        response = client.post(
            f"/threads/99999999999999999999999/{action}", data={"csrf_token": csrf, "all": "1"}
        )
        assert response.status_code == 400, action
    huge_index = client.post(
        f"/threads/{store_id(client, 'rex-1')}/reveal", data={"csrf_token": csrf, "index": str(10**30)}
    )
    assert huge_index.status_code in (400, 403)


def store_id(client: TestClient, cid: str) -> int:
    found = client.app.state.store.find_thread(cid)  # type: ignore[attr-defined]
    assert found is not None
    return int(found)


def test_thread_view_shows_suspected_sender_participants_and_actions(
    client: TestClient, ids: dict[str, int]
) -> None:
    login(client, "alice")
    page = client.get(f"/threads/{ids['conv-sext-1']}")
    text = page.text
    start = text.index('id="suspected-sender"')
    block = text[start : text.index('<table class="participants">', start)]
    assert 'href="/senders/u_vex"' in block
    assert "started the chat" in block  # role: initiator
    assert "0.97" in block
    # Each participant with their own risk, linked.
    assert 'href="/senders/u_kai"' in text
    assert "0.03" in text
    # Actions grouped by audience, links in a new tab without referrer or opener.
    for title in ("Platform actions", "For you (reviewer)", "For the child", "For parents and caregivers"):
        assert title in text
    assert text.index("For you (reviewer)") < text.index("Platform actions")
    links = re.findall(r'<a href="(https://[^"]+)" target="_blank" rel="noopener noreferrer">', text)
    assert sorted(links) == sorted(a["url"] for a in ACTIONS if a["url"])
    assert html.escape(ACTIONS[0]["title"]) in text
    # Still no conversation text before a reveal.
    assert "Content warning" in text
    for line in TEXT:
        assert line not in text
    # A repeat sender's thread says how many conversations they are in.
    rex = client.get(f"/threads/{ids['rex-2']}").text
    assert "3 stored conversations" in rex


def test_thread_view_of_an_old_record_lists_participants_without_risk(
    store: ReviewStore, people: dict[str, AccountInfo]
) -> None:
    conv = conversation("conv-old", GROOMING_LINES)
    ingest_pairs(store, [(conv, assessment(conv, evidence=[(2, 0.2, ["age_probing"])]))])
    thread_id = store.find_thread("conv-old")
    client = _fresh(store)
    login(client, "alice")
    text = client.get(f"/threads/{thread_id}").text
    assert "does not say which participant" in text
    assert 'href="/senders/u_rex"' in text
    assert "Recommended actions" not in text


def test_queue_rows_show_two_decimals_top_sender_and_leading_signs(client: TestClient) -> None:
    login(client, "alice")
    text = client.get("/queue").text
    rows = re.findall(r"<tr class=\"[^\"]*\">(.*?)</tr>", text, re.S)
    assert len(rows) == 5
    first = rows[0]
    assert "conv-sext-1" in first
    assert ">0.97<" in first
    assert 'href="/senders/u_vex"' in first
    assert first.index("threat coercion") < first.index("financial demand")
    risks = re.findall(r'<span class="risk risk-\w+">(\d\.\d\d)</span>', text)
    assert len(set(risks)) > 1  # the rows are told apart, not a wall of one figure
    assert text.count('class="thread-link"') == 5
