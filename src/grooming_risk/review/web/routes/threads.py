"""One thread: the view (no message text), and the actions on it (claim, release, assign, reveal,
decide, export). Message text only leaves through POST /threads/{id}/reveal, audited first."""

from __future__ import annotations

import tempfile
from collections import defaultdict
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from grooming_risk.contract.assessment import Action, Assessment
from grooming_risk.contract.taxonomy import RISK_CATEGORIES
from grooming_risk.review.models import DecisionKind, ThreadStatus
from grooming_risk.review.store import ThreadDetail
from grooming_risk.review.store.base import MAX_ROW_ID
from grooming_risk.review.web.chart import risk_chart
from grooming_risk.review.web.deps import Viewer, current_viewer, posted, settings_of, store_of
from grooming_risk.review.web.formatting import AUDIENCE_TITLES
from grooming_risk.review.web.rendering import notice_of, render

router = APIRouter()

ThreadId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="Thread id")]

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


def back_to_thread(thread_id: int, notice: str) -> RedirectResponse:
    return RedirectResponse(f"/threads/{thread_id}?{urlencode({'notice': notice})}", status_code=303)


def participants_of(detail: ThreadDetail) -> list[dict[str, Any]]:
    """Everyone in the thread, riskiest first: the assessment's senders with their risk, then anyone
    it does not list (every participant, for assessments made before senders existed)."""
    a = detail.assessment
    rows: list[dict[str, Any]] = [
        {
            "sender": s.sender,
            "role": s.role,
            "risk": s.risk,
            "messages": s.messages,
            "categories": s.categories,
            "suspected": a.flagged and i == 0,
            "conversations": detail.sender_conversations.get(s.sender),
        }
        for i, s in enumerate(a.senders)
    ]
    listed = {s.sender for s in a.senders}
    counts: dict[str, int] = defaultdict(int)
    for m in detail.messages:
        counts[m.sender] += 1
    for sender, n in counts.items():
        if sender not in listed:
            rows.append(
                {
                    "sender": sender,
                    "role": None,
                    "risk": None,
                    "messages": n,
                    "categories": [],
                    "suspected": False,
                    "conversations": None,
                }
            )
    return rows


def actions_by_audience(assessment: Assessment) -> list[tuple[str, list[Action]]]:
    grouped: dict[str, list[Action]] = defaultdict(list)
    for action in assessment.actions or []:
        grouped[action.audience].append(action)
    return [(audience, grouped[audience]) for audience in AUDIENCE_TITLES if grouped.get(audience)]


@router.get("/threads/{thread_id}", response_class=HTMLResponse)
def thread_view(request: Request, thread_id: ThreadId, viewer: Viewer = Depends(current_viewer)) -> Response:
    store = store_of(request)
    detail = store.thread(thread_id)
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
        suspected=a.senders[0] if a.flagged and a.senders else None,
        participants=participants_of(detail),
        actions=actions_by_audience(a),
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
        activity=store.audit_log(thread_id=thread_id, limit=50),
        accounts=store.accounts() if viewer.is_lead else [],
        shortcuts=SHORTCUTS,
        notice=notice_of(request),
        evidence_count=len(a.evidence),
    )


@router.post("/threads/{thread_id}/claim")
def claim(
    request: Request, thread_id: ThreadId, viewer_form: tuple[Viewer, FormData] = Depends(posted)
) -> Response:
    viewer, form = viewer_form
    store_of(request).claim(thread_id, viewer.account, take_over=form.get("take_over") == "1")
    return back_to_thread(thread_id, "claimed")


@router.post("/threads/{thread_id}/release")
def release(
    request: Request, thread_id: ThreadId, viewer_form: tuple[Viewer, FormData] = Depends(posted)
) -> Response:
    viewer, _ = viewer_form
    store_of(request).release(thread_id, viewer.account)
    return back_to_thread(thread_id, "released")


@router.post("/threads/{thread_id}/assign")
def assign(
    request: Request, thread_id: ThreadId, viewer_form: tuple[Viewer, FormData] = Depends(posted)
) -> Response:
    viewer, form = viewer_form
    store_of(request).assign(thread_id, viewer.account, str(form.get("assignee", "")))
    return back_to_thread(thread_id, "assigned")


@router.post("/threads/{thread_id}/reveal")
def reveal(
    request: Request, thread_id: ThreadId, viewer_form: tuple[Viewer, FormData] = Depends(posted)
) -> Response:
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
    revealed = store_of(request).reveal(thread_id, viewer.account, indices)
    return JSONResponse({"messages": [{"index": m.index, "text": m.text} for m in revealed]})


@router.post("/threads/{thread_id}/decision")
def decide(
    request: Request, thread_id: ThreadId, viewer_form: tuple[Viewer, FormData] = Depends(posted)
) -> Response:
    viewer, form = viewer_form
    decision = str(form.get("decision", ""))
    if not decision:
        raise HTTPException(400, "Choose a decision (g, s, n, r or e).")
    categories = [str(c) for c in form.getlist("categories")]
    store_of(request).decide(thread_id, viewer.account, decision, categories, str(form.get("note", "")))
    return back_to_thread(thread_id, "decided")


@router.post("/threads/{thread_id}/export")
def export(
    request: Request, thread_id: ThreadId, viewer_form: tuple[Viewer, FormData] = Depends(posted)
) -> Response:
    viewer, _ = viewer_form
    if not viewer.is_lead:
        raise HTTPException(403, "Only leads can export escalation packages.")
    from grooming_risk.review.export_case import case_zip_bytes

    with tempfile.TemporaryDirectory(prefix="gr-case-") as tmp:
        data, name = case_zip_bytes(
            store_of(request),
            thread_id,
            actor_id=viewer.account.id,
            organisation=settings_of(request).organisation,
            tmp_dir=tmp,
        )
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
