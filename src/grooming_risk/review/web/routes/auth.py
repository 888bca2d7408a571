"""Sign-in and sign-out.

The login form carries its own CSRF token: a random nonce in a cookie scoped to /login, signed into
the form. Failed sign-ins are audited (user name as typed, truncated, and its hash; the client
address) and limited per (user name, address) and per address; over a limit the answer is 429 with
Retry-After.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from grooming_risk.review.auth import tokens_match
from grooming_risk.review.web.deps import SESSION_COOKIE, Viewer, form_of, posted, settings_of, store_of
from grooming_risk.review.web.rendering import notice_of, render

LOGIN_CSRF_COOKIE = "gr_review_login"
LOGIN_FORM_MAX_AGE_S = 3600

router = APIRouter()


def _serializer(request: Request) -> URLSafeTimedSerializer:
    serializer: URLSafeTimedSerializer = request.app.state.login_serializer
    return serializer


def login_page(
    request: Request,
    status_code: int = 200,
    error: str | None = None,
    nxt: str = "/queue",
    headers: dict[str, str] | None = None,
) -> Response:
    settings = settings_of(request)
    nonce = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        status_code=status_code,
        viewer=None,
        login_token=_serializer(request).dumps(nonce),
        error=error,
        next=nxt,
        notice=notice_of(request),
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
    if headers:
        response.headers.update(headers)
    return response


def safe_next(value: str | None) -> str:
    # Only local paths: never redirect to another site after login.
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/queue"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return login_page(request, nxt=safe_next(request.query_params.get("next")))


@router.post("/login")
async def login(request: Request) -> Response:
    settings = settings_of(request)
    form = await form_of(request)
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE)
    try:
        signed = _serializer(request).loads(str(form.get("login_token", "")), max_age=LOGIN_FORM_MAX_AGE_S)
    except BadSignature:
        signed = None
    if not nonce or not tokens_match(nonce, signed if isinstance(signed, str) else None):
        return login_page(request, 403, "The sign-in form expired or was not sent from this site. Try again.")
    username = str(form.get("username", ""))
    password = str(form.get("password", ""))
    nxt = safe_next(str(form.get("next", "")))
    ip = request.client.host if request.client else "unknown"
    result = await run_in_threadpool(
        store_of(request).login,
        username,
        password,
        ip,
        settings.rate_limit,
        settings.session_ttl,
        ip_limit=settings.ip_rate_limit,
    )
    if result.status == "locked":
        wait_s = result.retry_after_s or int(settings.rate_limit.window.total_seconds())
        minutes = max(1, -(-wait_s // 60))
        return login_page(
            request,
            429,
            f"Too many failed sign-ins. Try again in {minutes} minute{'' if minutes == 1 else 's'}.",
            nxt,
            headers={"Retry-After": str(wait_s)},
        )
    if result.status != "ok" or result.token is None:
        return login_page(request, 401, "Wrong user name or password.", nxt)
    response = RedirectResponse(nxt, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        result.token,
        max_age=int(settings.session_ttl.total_seconds()),
        httponly=True,
        secure=settings.secure_cookies,
        samesite="strict",
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, viewer_form: tuple[Viewer, FormData] = Depends(posted)) -> Response:
    viewer, _ = viewer_form
    store_of(request).logout(viewer.token)
    response = RedirectResponse("/login?notice=loggedout", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
