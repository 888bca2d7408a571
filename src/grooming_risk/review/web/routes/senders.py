"""Sender pages: one sender across their threads (any reviewer, linked from a thread), and the
ranked list of senders (leads and admins).

Sender ids are user-controlled text of any length, with `/`, spaces or any unicode: links encode
them as one path segment (`formatting.sender_url`), the route reads them back with a path converter,
and the store looks them up by hash. Templates escape them; error messages never repeat them.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from grooming_risk.review.web.chart import timeline_chart
from grooming_risk.review.web.deps import MAX_PAGE, Viewer, current_viewer, lead_viewer, page_count, store_of
from grooming_risk.review.web.rendering import render

router = APIRouter()
PER_PAGE = 50


@router.get("/senders", response_class=HTMLResponse)
def senders_list(
    request: Request,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    viewer: Viewer = Depends(lead_viewer),
) -> Response:
    result = store_of(request).senders(limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    pages = page_count(result.total, PER_PAGE)
    return render(
        request,
        "senders.html",
        viewer=viewer,
        page=result,
        page_no=page,
        pages=pages,
        prev_url=f"/senders?{urlencode({'page': page - 1})}" if page > 1 else None,
        next_url=f"/senders?{urlencode({'page': page + 1})}" if page < pages else None,
    )


@router.get("/senders/{sender_id:path}", response_class=HTMLResponse)
def sender_page(request: Request, sender_id: str, viewer: Viewer = Depends(current_viewer)) -> Response:
    profile = store_of(request).sender_profile(sender_id)
    chart = timeline_chart(
        [t.risk for t in profile.threads],
        {i for i, t in enumerate(profile.threads) if t.is_suspected},
        [t.seen_at.strftime("%m-%d") for t in profile.threads],
    )
    return render(request, "sender.html", viewer=viewer, p=profile, chart=chart)
