"""The review queue."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from grooming_risk.contract.taxonomy import RISK_CATEGORIES
from grooming_risk.review.store import QUEUE_STATUS_FILTERS, QueueFilters
from grooming_risk.review.web.deps import MAX_PAGE, Viewer, current_viewer, page_count, settings_of, store_of
from grooming_risk.review.web.rendering import render

router = APIRouter()


@router.get("/")
def home(viewer: Viewer = Depends(current_viewer)) -> Response:
    return RedirectResponse("/queue", status_code=303)


@router.get("/queue", response_class=HTMLResponse)
def queue(
    request: Request,
    status: str = "open",
    category: str = "",
    platform: str = "",
    model_version: str = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    viewer: Viewer = Depends(current_viewer),
) -> Response:
    store, settings = store_of(request), settings_of(request)
    if status not in QUEUE_STATUS_FILTERS:
        raise HTTPException(400, f"Unknown status filter; use one of {', '.join(QUEUE_STATUS_FILTERS)}.")
    if category and category not in RISK_CATEGORIES:
        raise HTTPException(400, "Unknown category.")
    filters = QueueFilters(category or None, platform or None, model_version or None, status)
    result = store.queue(
        filters, actor=viewer.account, limit=settings.page_size, offset=(page - 1) * settings.page_size
    )
    params = {"status": status, "category": category, "platform": platform, "model_version": model_version}
    base = {k: v for k, v in params.items() if v}
    pages = page_count(result.total, settings.page_size)
    return render(
        request,
        "queue.html",
        viewer=viewer,
        page=result,
        filters=filters,
        facets=store.facets(),
        page_no=page,
        pages=pages,
        prev_url=f"/queue?{urlencode({**base, 'page': page - 1})}" if page > 1 else None,
        next_url=f"/queue?{urlencode({**base, 'page': page + 1})}" if page < pages else None,
        status_options=list(QUEUE_STATUS_FILTERS),
    )
