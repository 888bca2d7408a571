"""The lead dashboard."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from grooming_risk.review.web.deps import Viewer, lead_viewer, store_of
from grooming_risk.review.web.rendering import render

router = APIRouter()


@router.get("/lead", response_class=HTMLResponse)
def lead_page(request: Request, viewer: Viewer = Depends(lead_viewer)) -> Response:
    return render(request, "lead.html", viewer=viewer, stats=store_of(request).lead_stats())
