"""The reviewer web app: server-rendered pages (FastAPI + Jinja2), no build step, nothing from a CDN.

`create_app` only assembles: settings and store on `app.state`, security headers, error handlers,
and one router per page group (`routes/`). Shared dependencies live in `deps`, rendering and error
pages in `rendering`.

Access: every route except /login, /healthz and /static needs a live session; HTML GETs without one
redirect to the login page, anything else gets 401. The lead dashboard and the senders list need the
lead role, the audit and account pages admin (403 otherwise). Every POST carries the session's CSRF
token (form field `csrf_token` or header `X-CSRF-Token`); a missing or wrong token is 403. The login
form has its own signed token. Malformed or out-of-range parameters (a thread id past any row, a
page number of 10**30) answer 400, never a server error.

Message text is never rendered into a page: the thread view shows placeholders, and the text comes
from POST /threads/{id}/reveal, which records the reveal in the audit log first.

Responses carry a strict Content-Security-Policy (scripts and styles from this app only), and pages
are not cached (Cache-Control: no-store) so that a shared machine's browser cache holds no threads.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from itsdangerous import URLSafeTimedSerializer

from grooming_risk.review.errors import ReviewError
from grooming_risk.review.store import ReviewStore
from grooming_risk.review.web.deps import LoginRequiredError
from grooming_risk.review.web.rendering import WEB_DIR, error_response, make_templates, wants_html
from grooming_risk.review.web.routes import ROUTERS
from grooming_risk.review.web.settings import ReviewSettings

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def _validation_message(exc: RequestValidationError) -> str:
    # Only where and what kind of problem: the offending value is user input (maybe kilobytes).
    parts = []
    for error in exc.errors()[:3]:
        where = " ".join(str(p) for p in error.get("loc", ()) if p not in ("path", "query", "body"))
        parts.append(f"{where or 'request'}: {error.get('msg', 'invalid')}")
    return "Invalid request: " + "; ".join(parts)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequiredError)
    async def _login_required(request: Request, _exc: LoginRequiredError) -> Response:
        if wants_html(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        return JSONResponse({"detail": "not signed in"}, status_code=401)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        return error_response(request, exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, 400, _validation_message(exc))

    @app.exception_handler(ReviewError)
    async def _review_error(request: Request, exc: ReviewError) -> Response:
        return error_response(request, exc.http_status, str(exc))


def create_app(settings: ReviewSettings | None = None, *, store: ReviewStore | None = None) -> FastAPI:
    """The reviewer app. Pass `store` to share an open store (tests); else it is opened from settings."""
    settings = settings or ReviewSettings()
    app = FastAPI(title="grooming-risk review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.store = store or ReviewStore.open(settings.db_url)
    app.state.templates = make_templates()
    app.state.login_serializer = URLSafeTimedSerializer(
        settings.secret_key or secrets.token_urlsafe(32), salt="login-form"
    )
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

    _install_error_handlers(app)
    for router in ROUTERS:
        _add_routes(app, router)
    return app


def _add_routes(app: FastAPI, router: APIRouter) -> None:
    """Put a router's routes on the app itself, one entry each.

    Recent FastAPI releases include a router lazily, as one opaque entry in `app.routes`; flat
    routes keep `app.routes` a list of every page on every supported release, which is what the
    access-control test walks to prove that no page is served without a session.
    """
    for route in router.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"{route!r}: review routers hold API routes only")
        app.add_api_route(
            route.path,
            route.endpoint,
            methods=sorted(route.methods or ()),
            response_class=route.response_class,
            name=route.name,
            include_in_schema=route.include_in_schema,
        )
