"""Dependencies the routes share: who is signed in (and with which role), the store and settings,
and the CSRF check on every POST."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.exceptions import HTTPException
from starlette.datastructures import FormData

from grooming_risk.review.auth import AccountInfo, tokens_match
from grooming_risk.review.models import Role
from grooming_risk.review.store import ReviewStore
from grooming_risk.review.web.settings import ReviewSettings

SESSION_COOKIE = "gr_review_session"

# Page numbers beyond this are refused (400) rather than turned into an offset the database
# may not be able to hold.
MAX_PAGE = 100_000


def page_count(total: int, per_page: int) -> int:
    """Pages needed for `total` rows (at least one, so an empty list still has its page)."""
    return max(1, -(-total // per_page))


class LoginRequiredError(Exception):
    """No live session: HTML GETs are sent to the login page, everything else gets 401."""


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


def store_of(request: Request) -> ReviewStore:
    store: ReviewStore = request.app.state.store
    return store


def settings_of(request: Request) -> ReviewSettings:
    settings: ReviewSettings = request.app.state.settings
    return settings


def current_viewer(request: Request) -> Viewer:
    token = request.cookies.get(SESSION_COOKIE)
    found = store_of(request).session_account(token) if token else None
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
