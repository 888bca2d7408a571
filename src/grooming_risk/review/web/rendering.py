"""Templates, page rendering and error pages, shared by every route module."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from grooming_risk.contract.taxonomy import CATEGORY_DESCRIPTIONS
from grooming_risk.review.models import DECISION_TITLES
from grooming_risk.review.web import formatting

WEB_DIR = Path(__file__).resolve().parent

# Fixed notices chosen by a code in the redirect URL, so no user input is ever echoed from a URL.
NOTICES = {
    "claimed": "You hold this thread now. Others cannot claim it until you decide or release it.",
    "released": "Thread released back to the queue.",
    "assigned": "Thread assigned.",
    "decided": "Decision recorded.",
    "loggedout": "You are signed out.",
}


def notice_of(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("notice", ""))


def make_templates() -> Jinja2Templates:
    # Jinja2Templates autoescapes: sender ids, notes and every other stored string are user input.
    templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
    templates.env.globals.update(
        fmt_time=formatting.fmt_time,
        fmt_duration=formatting.fmt_duration,
        fmt_pct=formatting.fmt_pct,
        category_title=formatting.category_title,
        category_descriptions=CATEGORY_DESCRIPTIONS,
        risk_level=formatting.risk_level,
        risk_band=formatting.risk_band,
        redaction_lines=formatting.redaction_lines,
        sender_url=formatting.sender_url,
        safe_link=formatting.safe_link,
        decision_titles={d.value: t for d, t in DECISION_TITLES.items()},
        status_titles=formatting.STATUS_TITLES,
        audience_titles=formatting.AUDIENCE_TITLES,
        role_titles=formatting.ROLE_TITLES,
    )
    return templates


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.method == "GET" and ("text/html" in accept or accept in ("", "*/*"))


def error_response(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    """An error page for browsers, JSON for scripts; `message` must be safe to show (no text)."""
    if wants_html(request) or "text/html" in request.headers.get("accept", ""):
        viewer = getattr(request.state, "viewer", None)
        response: Response = render(
            request, "error.html", status_code=status, status=status, message=message, viewer=viewer
        )
    else:
        response = JSONResponse({"detail": message}, status_code=status)
    if headers:
        response.headers.update(headers)
    return response
