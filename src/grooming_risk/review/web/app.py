"""The reviewer web app: server-rendered pages (FastAPI + Jinja2), no build step, nothing from a CDN.

Access: every route except /login and /static needs a live session; HTML GETs without one redirect to
the login page, anything else gets 401. The lead dashboard needs the lead role, the audit and account
pages admin (403 otherwise). Every POST carries the session's CSRF token (form field `csrf_token`
or header `X-CSRF-Token`); a missing or wrong token is 403. The login form has its own signed token.

Message text is never rendered into a page: the thread view shows placeholders, and the text comes
from POST /threads/{id}/reveal, which records the reveal in the audit log first.

Responses carry a strict Content-Security-Policy (scripts and styles from this app only), and pages
are not cached (Cache-Control: no-store) so that a shared machine's browser cache holds no threads.
"""

from __future__ import annotations

import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData

from grooming_risk.contract.taxonomy import CATEGORY_DESCRIPTIONS, RISK_CATEGORIES
from grooming_risk.review.auth import AccountInfo, tokens_match
from grooming_risk.review.errors import ReviewError
from grooming_risk.review.models import DECISION_TITLES, DecisionKind, Role, ThreadStatus
from grooming_risk.review.store import QUEUE_STATUS_FILTERS, QueueFilters, ReviewStore
from grooming_risk.review.web.chart import risk_chart
from grooming_risk.review.web.settings import ReviewSettings

WEB_DIR = Path(__file__).resolve().parent
SESSION_COOKIE = "gr_review_session"
LOGIN_CSRF_COOKIE = "gr_review_login"
LOGIN_FORM_MAX_AGE_S = 3600

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

# Fixed notices chosen by a code in the redirect URL, so no user input is ever echoed from a URL.
NOTICES = {
    "claimed": "You hold this thread now. Others cannot claim it until you decide or release it.",
    "released": "Thread released back to the queue.",
    "assigned": "Thread assigned.",
    "decided": "Decision recorded.",
    "loggedout": "You are signed out.",
}

STATUS_TITLES = {
    "open": "Open (new + second review)",
    "new": "New",
    "second_review": "Second review",
    "escalated": "Escalated",
    "decided": "Decided",
    "flagged": "All flagged",
    "mine": "Held by me",
    ThreadStatus.NOT_FLAGGED.value: "Not flagged",
}

SHORTCUTS: list[tuple[str, str]] = [
    ("g", "Confirmed grooming"),
    ("s", "Confirmed sextortion"),
    ("n", "Not risky"),
    ("r", "Needs second review"),
    ("e", "Escalate"),
    ("v", "Reveal all messages"),
    ("h", "Hide revealed text again"),
    ("c", "Claim the thread"),
    ("Ctrl+Enter", "Record the decision"),
    ("?", "Show or hide this help"),
]
DECISION_KEYS = {
    DecisionKind.CONFIRMED_GROOMING: "g",
    DecisionKind.CONFIRMED_SEXTORTION: "s",
    DecisionKind.NOT_RISKY: "n",
    DecisionKind.NEEDS_SECOND_REVIEW: "r",
    DecisionKind.ESCALATE: "e",
}


class LoginRequiredError(Exception):
    pass


@dataclass(frozen=True)
class Viewer:
    account: AccountInfo
    csrf: str
    token: str

    @property
    def is_lead(self) -> bool:
        return self.account.can(Role.LEAD)

    @property
    def is_admin(self) -> bool:
        return self.account.can(Role.ADMIN)


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.method == "GET" and ("text/html" in accept or accept in ("", "*/*"))


def fmt_time(value: datetime | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        value = parsed
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def fmt_duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def fmt_pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def category_title(name: str) -> str:
    return name.replace("_", " ")


def risk_level(flagged: bool, urgent: bool) -> str:
    """The scorer's decisions as a colour band (no threshold is applied here)."""
    if urgent:
        return "high"
    return "medium" if flagged else "low"


def redaction_lines(length: int) -> list[int]:
    """Widths (in tenths) of the grey bars standing in for hidden text: shape only, no content."""
    per_line = 60
    full, rest = divmod(max(length, 1), per_line)
    lines = [10] * min(full, 3)
    if len(lines) < 4 and rest:
        lines.append(max(1, min(10, round(10 * rest / per_line + 0.5))))
    return lines or [2]


def create_app(settings: ReviewSettings | None = None, *, store: ReviewStore | None = None) -> FastAPI:
    """The reviewer app. Pass `store` to share an open store (tests); else it is opened from settings."""
    settings = settings or ReviewSettings()
    review_store = store or ReviewStore.open(settings.db_url)
    serializer = URLSafeTimedSerializer(settings.secret_key or secrets.token_urlsafe(32), salt="login-form")
    templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
    env = templates.env
    env.globals.update(
        fmt_time=fmt_time,
        fmt_duration=fmt_duration,
        fmt_pct=fmt_pct,
        category_title=category_title,
        category_descriptions=CATEGORY_DESCRIPTIONS,
        risk_level=risk_level,
        redaction_lines=redaction_lines,
        decision_titles={d.value: t for d, t in DECISION_TITLES.items()},
        status_titles=STATUS_TITLES,
    )

    app = FastAPI(title="grooming-risk review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = review_store
    app.state.settings = settings
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        if settings.secure_cookies:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name, context, status_code=status_code)

    @app.exception_handler(LoginRequiredError)
    async def _login_required(request: Request, _exc: LoginRequiredError) -> Response:
        if _wants_html(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        return JSONResponse({"detail": "not signed in"}, status_code=401)

    def error_response(request: Request, status: int, message: str) -> Response:
        if _wants_html(request) or "text/html" in request.headers.get("accept", ""):
            viewer = getattr(request.state, "viewer", None)
            return render(
                request, "error.html", status_code=status, status=status, message=message, viewer=viewer
            )
        return JSONResponse({"detail": message}, status_code=status)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        return error_response(request, exc.status_code, str(exc.detail))

    @app.exception_handler(ReviewError)
    async def _review_error(request: Request, exc: ReviewError) -> Response:
        return error_response(request, exc.http_status, str(exc))

    # --- dependencies ----------------------------------------------------------------------------

    def current_viewer(request: Request) -> Viewer:
        token = request.cookies.get(SESSION_COOKIE)
        found = review_store.session_account(token) if token else None
        if found is None or token is None:
            raise LoginRequiredError()
        viewer = Viewer(found[0], found[1], token)
        request.state.viewer = viewer
        return viewer

    def lead_viewer(viewer: Viewer = Depends(current_viewer)) -> Viewer:
        if not viewer.is_lead:
            raise HTTPException(403, "This page is for leads.")
        return viewer

    def admin_viewer(viewer: Viewer = Depends(current_viewer)) -> Viewer:
        if not viewer.is_admin:
            raise HTTPException(403, "This page is for admins.")
        return viewer

    async def form_of(request: Request) -> FormData:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            return await request.form()
        return FormData()

    async def posted(request: Request, viewer: Viewer = Depends(current_viewer)) -> tuple[Viewer, FormData]:
        """A signed-in viewer whose POST carries the session's CSRF token, and the parsed form."""
        form = await form_of(request)
        given = request.headers.get("x-csrf-token") or form.get("csrf_token")
        if not tokens_match(viewer.csrf, given if isinstance(given, str) else None):
            raise HTTPException(403, "Missing or invalid CSRF token. Reload the page and try again.")
        return viewer, form

    def set_session_cookie(response: Response, token: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=int(settings.session_ttl.total_seconds()),
            httponly=True,
            secure=settings.secure_cookies,
            samesite="strict",
            path="/",
        )

    def back_to_thread(thread_id: int, notice: str) -> RedirectResponse:
        return RedirectResponse(f"/threads/{thread_id}?{urlencode({'notice': notice})}", status_code=303)

    # --- login -----------------------------------------------------------------------------------

    def login_page(
        request: Request, status_code: int = 200, error: str | None = None, nxt: str = "/queue"
    ) -> Response:
        nonce = secrets.token_urlsafe(24)
        response = render(
            request,
            "login.html",
            status_code=status_code,
            viewer=None,
            login_token=serializer.dumps(nonce),
            error=error,
            next=nxt,
            notice=NOTICES.get(request.query_params.get("notice", "")),
        )
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            nonce,
            max_age=LOGIN_FORM_MAX_AGE_S,
            httponly=True,
            secure=settings.secure_cookies,
            samesite="strict",
            path="/login",
        )
        return response

    def safe_next(value: str | None) -> str:
        # Only local paths: never redirect to another site after login.
        if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
            return value
        return "/queue"

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> Response:
        return login_page(request, nxt=safe_next(request.query_params.get("next")))

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await form_of(request)
        nonce = request.cookies.get(LOGIN_CSRF_COOKIE)
        try:
            signed = serializer.loads(str(form.get("login_token", "")), max_age=LOGIN_FORM_MAX_AGE_S)
        except BadSignature:
            signed = None
        if not nonce or not tokens_match(nonce, signed if isinstance(signed, str) else None):
            return login_page(
                request, 403, "The sign-in form expired or was not sent from this site. Try again."
            )
        username = str(form.get("username", ""))
        password = str(form.get("password", ""))
        nxt = safe_next(str(form.get("next", "")))
        ip = request.client.host if request.client else "unknown"
        from starlette.concurrency import run_in_threadpool

        result = await run_in_threadpool(
            review_store.login, username, password, ip, settings.rate_limit, settings.session_ttl
        )
        if result.status == "locked":
            minutes = max(1, int(settings.rate_limit.window.total_seconds() // 60))
            return login_page(request, 429, f"Too many failed sign-ins. Try again in {minutes} minutes.", nxt)
        if result.status != "ok" or result.token is None:
            return login_page(request, 401, "Wrong user name or password.", nxt)
        response = RedirectResponse(nxt, status_code=303)
        set_session_cookie(response, result.token)
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return response

    @app.post("/logout")
    def logout(viewer_form: tuple[Viewer, FormData] = Depends(posted)) -> Response:
        viewer, _ = viewer_form
        review_store.logout(viewer.token)
        response = RedirectResponse("/login?notice=loggedout", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # --- pages -----------------------------------------------------------------------------------

    @app.get("/")
    def home(viewer: Viewer = Depends(current_viewer)) -> Response:
        return RedirectResponse("/queue", status_code=303)

    @app.get("/queue", response_class=HTMLResponse)
    def queue(
        request: Request,
        status: str = "open",
        category: str = "",
        platform: str = "",
        model_version: str = "",
        page: int = 1,
        viewer: Viewer = Depends(current_viewer),
    ) -> Response:
        if status not in QUEUE_STATUS_FILTERS:
            raise HTTPException(400, f"Unknown status filter; use one of {', '.join(QUEUE_STATUS_FILTERS)}.")
        if category and category not in RISK_CATEGORIES:
            raise HTTPException(400, "Unknown category.")
        filters = QueueFilters(category or None, platform or None, model_version or None, status)
        page = max(1, page)
        result = review_store.queue(
            filters, actor=viewer.account, limit=settings.page_size, offset=(page - 1) * settings.page_size
        )
        params = {
            "status": status,
            "category": category,
            "platform": platform,
            "model_version": model_version,
        }
        base = {k: v for k, v in params.items() if v}
        pages = max(1, -(-result.total // settings.page_size))
        return render(
            request,
            "queue.html",
            viewer=viewer,
            page=result,
            filters=filters,
            facets=review_store.facets(),
            page_no=page,
            pages=pages,
            prev_url=f"/queue?{urlencode({**base, 'page': page - 1})}" if page > 1 else None,
            next_url=f"/queue?{urlencode({**base, 'page': page + 1})}" if page < pages else None,
            status_options=list(QUEUE_STATUS_FILTERS),
        )

    @app.get("/threads/{thread_id}", response_class=HTMLResponse)
    def thread_view(request: Request, thread_id: int, viewer: Viewer = Depends(current_viewer)) -> Response:
        detail = review_store.thread(thread_id)
        holder = detail.assignee_id == viewer.account.id
        a = detail.assessment
        chart = risk_chart(a.risk_by_message, {e.index for e in a.evidence}, a.first_alert_index)
        senders = list(dict.fromkeys(m.sender for m in detail.messages))
        workable = detail.status in (ThreadStatus.NEW, ThreadStatus.SECOND_REVIEW) or viewer.is_lead
        return render(
            request,
            "thread.html",
            viewer=viewer,
            t=detail,
            a=a,
            chart=chart,
            sender_slot={s: i % 6 for i, s in enumerate(senders)},
            holder=holder,
            can_reveal=holder or viewer.is_lead,
            can_claim=workable and detail.status != ThreadStatus.NOT_FLAGGED and not holder,
            held_by_other=detail.assignee_id is not None and not holder,
            can_decide=workable
            and detail.status != ThreadStatus.NOT_FLAGGED
            and (detail.assignee_id in (None, viewer.account.id) or viewer.is_lead),
            decision_kinds=list(DecisionKind),
            decision_keys=DECISION_KEYS,
            categories=list(RISK_CATEGORIES),
            checked=set(detail.decisions[-1].categories if detail.decisions else detail.categories),
            activity=review_store.audit_log(thread_id=thread_id, limit=50),
            accounts=review_store.accounts() if viewer.is_lead else [],
            shortcuts=SHORTCUTS,
            notice=NOTICES.get(request.query_params.get("notice", "")),
            evidence_count=len(a.evidence),
        )

    @app.get("/lead", response_class=HTMLResponse)
    def lead_page(request: Request, viewer: Viewer = Depends(lead_viewer)) -> Response:
        return render(request, "lead.html", viewer=viewer, stats=review_store.lead_stats())

    @app.get("/audit", response_class=HTMLResponse)
    def audit_page(request: Request, page: int = 1, viewer: Viewer = Depends(admin_viewer)) -> Response:
        page = max(1, page)
        per_page = 100
        total = review_store.audit_count()
        return render(
            request,
            "audit.html",
            viewer=viewer,
            entries=review_store.audit_log(limit=per_page, offset=(page - 1) * per_page),
            verify=review_store.verify_audit(),
            page_no=page,
            pages=max(1, -(-total // per_page)),
            accounts=review_store.accounts(),
        )

    # --- actions ---------------------------------------------------------------------------------

    @app.post("/threads/{thread_id}/claim")
    def claim(thread_id: int, viewer_form: tuple[Viewer, FormData] = Depends(posted)) -> Response:
        viewer, form = viewer_form
        review_store.claim(thread_id, viewer.account, take_over=form.get("take_over") == "1")
        return back_to_thread(thread_id, "claimed")

    @app.post("/threads/{thread_id}/release")
    def release(thread_id: int, viewer_form: tuple[Viewer, FormData] = Depends(posted)) -> Response:
        viewer, _ = viewer_form
        review_store.release(thread_id, viewer.account)
        return back_to_thread(thread_id, "released")

    @app.post("/threads/{thread_id}/assign")
    def assign(thread_id: int, viewer_form: tuple[Viewer, FormData] = Depends(posted)) -> Response:
        viewer, form = viewer_form
        review_store.assign(thread_id, viewer.account, str(form.get("assignee", "")))
        return back_to_thread(thread_id, "assigned")

    @app.post("/threads/{thread_id}/reveal")
    def reveal(thread_id: int, viewer_form: tuple[Viewer, FormData] = Depends(posted)) -> Response:
        viewer, form = viewer_form
        if form.get("all") == "1":
            indices = None
        else:
            raw = form.getlist("index")
            try:
                indices = [int(str(v)) for v in raw]
            except ValueError:
                raise HTTPException(400, "index must be a message number") from None
            if not indices:
                raise HTTPException(400, "give index=N (repeatable) or all=1")
        revealed = review_store.reveal(thread_id, viewer.account, indices)
        return JSONResponse({"messages": [{"index": m.index, "text": m.text} for m in revealed]})

    @app.post("/threads/{thread_id}/decision")
    def decide(thread_id: int, viewer_form: tuple[Viewer, FormData] = Depends(posted)) -> Response:
        viewer, form = viewer_form
        decision = str(form.get("decision", ""))
        if not decision:
            raise HTTPException(400, "Choose a decision (g, s, n, r or e).")
        categories = [str(c) for c in form.getlist("categories")]
        review_store.decide(thread_id, viewer.account, decision, categories, str(form.get("note", "")))
        return back_to_thread(thread_id, "decided")

    @app.post("/threads/{thread_id}/export")
    def export(thread_id: int, viewer_form: tuple[Viewer, FormData] = Depends(posted)) -> Response:
        viewer, _ = viewer_form
        if not viewer.is_lead:
            raise HTTPException(403, "Only leads can export escalation packages.")
        from grooming_risk.review.export_case import case_zip_bytes

        with tempfile.TemporaryDirectory(prefix="gr-case-") as tmp:
            data, name = case_zip_bytes(
                review_store,
                thread_id,
                actor_id=viewer.account.id,
                organisation=settings.organisation,
                tmp_dir=tmp,
            )
        return Response(
            data,
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
