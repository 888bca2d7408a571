"""The web app over HTTP (FastAPI TestClient): access control, CSRF, reveal, decisions, lead pages."""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from grooming_risk.review.auth import AccountInfo
from grooming_risk.review.store import ReviewStore
from grooming_risk.review.web import ReviewSettings, create_app
from tests.review.conftest import PASSWORD
from tests.review.factories import ALL_TEXT

ClientFor = Callable[..., TestClient]
TEXT = [line for line in ALL_TEXT if len(line) > 6]


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the form; return the session's CSRF token."""
    page = client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text)
    assert token is not None
    response = client.post(
        "/login",
        data={"username": username, "password": password, "login_token": token.group(1), "next": "/queue"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    queue = client.get("/queue")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', queue.text)
    assert csrf is not None
    return csrf.group(1)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite unless a test asks for PostgreSQL: the HTTP layer does not depend on the back end
    (the store tests cover both), so only the end-to-end flow runs on each."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return f"sqlite:///{tmp_path / 'review.db'}"
    return str(request.getfixturevalue("pg_schema_url"))


BOTH_BACKENDS = pytest.mark.parametrize(
    "db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def client_for(store: ReviewStore, seeded: dict[str, int]) -> Iterator[ClientFor]:
    clients: list[TestClient] = []

    def make(settings: ReviewSettings | None = None) -> TestClient:
        settings = settings or ReviewSettings()
        # Secure cookies only travel over HTTPS, so such a client must speak it.
        base = "https://testserver" if settings.secure_cookies else "http://testserver"
        client = TestClient(create_app(settings, store=store), base_url=base)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def test_nothing_but_login_is_served_without_a_session(client_for: ClientFor, seeded: dict[str, int]) -> None:
    client = client_for()
    app = client.app
    checked = 0
    for route in app.routes:  # type: ignore[attr-defined]
        if not isinstance(route, APIRoute) or route.path in ("/login", "/healthz"):
            continue
        path = route.path.replace("{thread_id}", str(seeded["groom"]))
        for method in route.methods:
            response = client.request(method, path, headers={"accept": "text/html"}, follow_redirects=False)
            if method == "GET":
                assert response.status_code == 303, path
                assert response.headers["location"].startswith("/login?next=")
            else:
                assert response.status_code == 401, (method, path)
            assert "conv-groom-1" not in response.text
            assert "u_rex" not in response.text
            checked += 1
    assert checked >= 12
    api = client.post(f"/threads/{seeded['groom']}/reveal", data={"all": "1"})
    assert api.status_code == 401
    assert "how old" not in api.text


def test_roles_gate_the_lead_and_admin_pages(client_for: ClientFor) -> None:
    reviewer, lead, admin = client_for(), client_for(), client_for()
    login(reviewer, "alice")
    login(lead, "lena")
    login(admin, "ada")
    assert reviewer.get("/lead").status_code == 403
    assert reviewer.get("/audit").status_code == 403
    assert lead.get("/lead").status_code == 200
    assert lead.get("/audit").status_code == 403
    assert admin.get("/lead").status_code == 200
    page = admin.get("/audit")
    assert page.status_code == 200
    assert "chain intact" in page.text


def test_posts_without_the_csrf_token_are_refused(client_for: ClientFor, seeded: dict[str, int]) -> None:
    client = client_for()
    csrf = login(client, "alice")
    groom = seeded["groom"]
    assert client.post(f"/threads/{groom}/claim").status_code == 403
    assert client.post(f"/threads/{groom}/claim", data={"csrf_token": "wrong"}).status_code == 403
    assert client.post(f"/threads/{groom}/decision", data={"decision": "not_risky"}).status_code == 403
    assert client.post(f"/threads/{groom}/reveal", data={"all": "1"}).status_code == 403
    assert client.post("/logout").status_code == 403
    # Nothing happened.
    assert (
        client.post(f"/threads/{groom}/claim", data={"csrf_token": csrf}, follow_redirects=False).status_code
        == 303
    )
    assert all(e.action != "decide" for e in client.app.state.store.audit_log())  # type: ignore[attr-defined]


def test_login_form_needs_its_own_token(client_for: ClientFor) -> None:
    client = client_for()
    client.get("/login")
    response = client.post(
        "/login", data={"username": "alice", "password": PASSWORD, "login_token": "forged"}
    )
    assert response.status_code == 403
    assert "gr_review_session" not in response.cookies


def test_login_is_rate_limited(client_for: ClientFor) -> None:
    client = client_for()
    for _ in range(5):
        page = client.get("/login")
        token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        bad = client.post(
            "/login", data={"username": "alice", "password": "not the password", "login_token": token}
        )
        assert bad.status_code == 401
    page = client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    locked = client.post("/login", data={"username": "alice", "password": PASSWORD, "login_token": token})
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.text


def test_cookies_are_httponly_samesite_and_secure_when_asked(client_for: ClientFor) -> None:
    for secure in (False, True):
        client = client_for(ReviewSettings(secure_cookies=secure))
        page = client.get("/login")
        token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        response = client.post(
            "/login",
            data={"username": "alice", "password": PASSWORD, "login_token": token},
            follow_redirects=False,
        )
        cookie = next(
            v for k, v in response.headers.multi_items() if k == "set-cookie" and "gr_review_session=" in v
        )
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert ("Secure" in cookie) is secure


@BOTH_BACKENDS
def test_thread_page_holds_no_text_and_reveal_is_audited(
    client_for: ClientFor, seeded: dict[str, int]
) -> None:
    client = client_for()
    csrf = login(client, "alice")
    groom = seeded["groom"]
    page = client.get(f"/threads/{groom}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for line in TEXT:
        assert line not in page.text
    assert "Content warning" in page.text
    assert '<svg class="chart"' in page.text
    assert page.text.count('class="msg msg-evidence') == 3
    # Revealing needs the claim first.
    refused = client.post(f"/threads/{groom}/reveal", data={"index": "2"}, headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403
    assert "how old" not in refused.text
    client.post(f"/threads/{groom}/claim", data={"csrf_token": csrf})
    revealed = client.post(
        f"/threads/{groom}/reveal", data={"index": ["2", "5"]}, headers={"X-CSRF-Token": csrf}
    )
    assert revealed.status_code == 200
    assert revealed.headers["cache-control"] == "no-store"
    assert [m["index"] for m in revealed.json()["messages"]] == [2, 5]
    assert revealed.json()["messages"][0]["text"] == "how old are you btw"
    entry = client.app.state.store.audit_log(limit=1)[0]  # type: ignore[attr-defined]
    assert (entry.action, entry.details["indices"], entry.actor) == ("reveal", [2, 5], "alice")
    bad = client.post(f"/threads/{groom}/reveal", data={"index": "x"}, headers={"X-CSRF-Token": csrf})
    assert bad.status_code == 400


@BOTH_BACKENDS
def test_decision_flow_and_claim_conflicts(client_for: ClientFor, seeded: dict[str, int]) -> None:
    alice, bob = client_for(), client_for()
    csrf_a = login(alice, "alice")
    csrf_b = login(bob, "bob")
    groom = seeded["groom"]
    assert (
        alice.post(f"/threads/{groom}/claim", data={"csrf_token": csrf_a}, follow_redirects=False).status_code
        == 303
    )
    conflict = bob.post(
        f"/threads/{groom}/claim",
        data={"csrf_token": csrf_b},
        headers={"accept": "text/html"},
        follow_redirects=False,
    )
    assert conflict.status_code == 409
    assert "claimed by alice" in conflict.text
    assert "Held by <b>alice</b>" in bob.get(f"/threads/{groom}").text
    done = alice.post(
        f"/threads/{groom}/decision",
        data={
            "csrf_token": csrf_a,
            "decision": "confirmed_grooming",
            "categories": ["age_probing", "secrecy"],
            "note": "pattern is clear",
        },
    )
    assert done.status_code == 200
    assert "Decision recorded." in done.text
    assert "pattern is clear" in done.text
    queue = alice.get("/queue").text
    assert "conv-groom-1" not in queue
    assert "conv-sext-1" in queue
    assert "conv-groom-1" in alice.get("/queue?status=decided").text
    assert alice.get("/queue?category=secrecy&status=flagged").text.count("thread-link") == 1
    assert alice.get("/queue?status=bogus").status_code == 400


def test_lead_dashboard_and_case_export(
    client_for: ClientFor, seeded: dict[str, int], people: dict[str, AccountInfo]
) -> None:
    store: ReviewStore = client_for().app.state.store  # type: ignore[attr-defined]
    store.decide(seeded["sext"], people["alice"], "confirmed_sextortion", ["threat_coercion"])
    lead = client_for()
    csrf = login(lead, "lena")
    page = lead.get("/lead").text
    assert "Median time to decision" in page
    assert "100%" in page
    assert "threat coercion" in page
    response = lead.post(f"/threads/{seeded['sext']}/export", data={"csrf_token": csrf})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert "report.json" in archive.namelist()
    reviewer = client_for()
    csrf_r = login(reviewer, "alice")
    assert reviewer.post(f"/threads/{seeded['sext']}/export", data={"csrf_token": csrf_r}).status_code == 403


def test_login_redirects_only_to_local_paths(client_for: ClientFor) -> None:
    client = client_for()
    page = client.get("/login?next=//evil.example/x")
    assert 'name="next" value="/queue"' in page.text
    page = client.get("/login?next=/threads/1")
    assert 'name="next" value="/threads/1"' in page.text


def test_no_conversation_text_in_logs(
    client_for: ClientFor, seeded: dict[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = client_for()
    csrf = login(client, "alice")
    groom = seeded["groom"]
    client.post(f"/threads/{groom}/claim", data={"csrf_token": csrf})
    client.post(f"/threads/{groom}/reveal", data={"all": "1"}, headers={"X-CSRF-Token": csrf})
    client.post(f"/threads/{groom}/decision", data={"csrf_token": csrf, "decision": "not_risky"})
    assert caplog.records  # something was logged (SQL, HTTP), so the check below means something
    for line in TEXT:
        assert line not in caplog.text
