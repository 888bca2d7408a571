"""The audit log page (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from grooming_risk.review.web.deps import MAX_PAGE, Viewer, admin_viewer, page_count, store_of
from grooming_risk.review.web.rendering import render

router = APIRouter()
PER_PAGE = 100


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    viewer: Viewer = Depends(admin_viewer),
) -> Response:
    store = store_of(request)
    total = store.audit_count()
    return render(
        request,
        "audit.html",
        viewer=viewer,
        entries=store.audit_log(limit=PER_PAGE, offset=(page - 1) * PER_PAGE),
        verify=store.verify_audit(),
        page_no=page,
        pages=page_count(total, PER_PAGE),
        accounts=store.accounts(),
    )
