"""The HTTP endpoints. Handlers only move records: thresholds, labels and evidence come from RiskScorer."""

from __future__ import annotations

import logging
from typing import Annotated, Any, TypeVar

from fastapi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    Security,
)
from fastapi.exceptions import RequestValidationError
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ValidationError

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.sender_profile import SenderProfile
from grooming_risk.service.auth import Scope
from grooming_risk.service.runtime import NotReadyError, OverloadedError, ServiceRuntime
from grooming_risk.service.scheduler import Lane
from grooming_risk.service.schemas import (
    AppendRequest,
    ConversationStatus,
    ErrorResponse,
    Health,
    Readiness,
    ScoreRequest,
    ScoreResponse,
    ValidationErrorResponse,
)
from grooming_risk.service.state import ConversationEntry, append_digest

log = logging.getLogger("grooming_risk.service")
M = TypeVar("M", bound=BaseModel)

_api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key's secret (alternative to Bearer)."
)
_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <API key secret>`.")

ConversationId = Annotated[
    str,
    Path(min_length=1, max_length=256, description="Your id for the conversation.", examples=["chat-123"]),
]

SenderId = Annotated[
    str,
    Path(min_length=1, max_length=256, description="A participant's sender id.", examples=["u_8f3a2c1d"]),
]
WithActions = Annotated[
    bool,
    Query(
        description="Add recommended actions and resources (the service's policy file) to each assessment."
    ),
]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "No API key, or an unknown one."},
    403: {"model": ErrorResponse, "description": "The key lacks the scope this route needs."},
    413: {"model": ErrorResponse, "description": "The request body is over the size limit."},
    429: {
        "model": ErrorResponse,
        "description": "Too much work queued: retry after the `Retry-After` header's seconds.",
    },
    422: {
        "model": ValidationErrorResponse,
        "description": "Invalid fields, named by `loc`; input is never echoed.",
    },
    503: {"model": ErrorResponse, "description": "The model is not loaded (yet)."},
}


def runtime(request: Request) -> ServiceRuntime:
    rt: ServiceRuntime = request.app.state.runtime
    return rt


def require(scope: Scope) -> Any:
    """A dependency that lets a request through only with a key holding `scope` (or auth off)."""

    async def check(
        request: Request,
        api_key: Annotated[str | None, Security(_api_key_header)] = None,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
    ) -> str | None:
        rt = runtime(request)
        if not rt.settings.auth:
            return None
        key = rt.keyring.authenticate(bearer.credentials if bearer else api_key)
        if key is None:
            raise HTTPException(
                401,
                "missing or unknown API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        request.state.key_id = key.key_id
        if scope not in key.scopes:
            raise HTTPException(
                403, f"API key {key.key_id!r} lacks the {scope.value!r} scope this route needs"
            )
        return key.key_id

    return Depends(check)


def body_openapi(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI for a JSON body validated by hand (see `parse_body`); nested $defs go to components."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    examples = schema.get("examples") or []
    content: dict[str, Any] = {"schema": schema}
    if examples:
        content["example"] = examples[0]
    return {"requestBody": {"required": True, "content": {"application/json": content}}}


async def parse_body(request: Request, model: type[M], context: dict[str, Any]) -> M:
    """Validate the JSON body with the service's limits in the validation context.

    FastAPI's own body parsing cannot pass a context, and the contract's limits live there.
    """
    raw = await request.body()
    try:
        return model.model_validate_json(raw or b"null", context=context)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False, include_context=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None


def _scorer_or_503(rt: ServiceRuntime) -> None:
    try:
        rt.ready_scorer()
    except NotReadyError as exc:
        raise HTTPException(503, str(exc)) from None


def _context(rt: ServiceRuntime) -> dict[str, Any]:
    s = rt.settings
    return {
        "limits": s.limits,
        "max_conversations": s.max_conversations_per_request,
        "max_messages": s.max_messages_per_request,
        "max_score_messages": s.max_messages_per_score_request,
    }


def _require_policy(rt: ServiceRuntime, actions: bool) -> None:
    """Refuse `actions=true` before any work when there is no policy to answer it."""
    if actions and rt.policy is None:
        raise HTTPException(
            501, "no policy file is configured for actions=true (set policy_file, see configs/policy/)"
        )


def _with_actions(rt: ServiceRuntime, assessment: Assessment, actions: bool) -> Assessment:
    if not actions or rt.policy is None:
        return assessment
    return rt.policy.apply(assessment)


def _overloaded(exc: OverloadedError) -> HTTPException:
    return HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after_s)})


# Appends that lose a compare-and-set to another worker are recomputed on the new state this often.
APPEND_ATTEMPTS = 3


async def _update_active(rt: ServiceRuntime) -> None:
    n = await rt.store.count()
    if n is not None:
        rt.metrics.active.set(n)


router = APIRouter()


@router.get("/healthz", response_model=Health, tags=["operations"], summary="The process is up")
async def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    response_model=Readiness,
    tags=["operations"],
    summary="The model is loaded and requests can be scored",
    responses={503: {"model": Readiness, "description": "Still loading, or the load failed."}},
)
async def readyz(request: Request, response: Response) -> Readiness:
    rt = runtime(request)
    try:
        scorer = rt.ready_scorer()
    except NotReadyError as exc:
        response.status_code = 503
        return Readiness(status="failed" if rt.load_error else "loading", detail=str(exc))
    return Readiness(status="ready", model_version=scorer.model_version)


@router.get(
    "/metrics",
    tags=["operations"],
    summary="Prometheus metrics (scope: admin)",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format."}},
    dependencies=[require(Scope.ADMIN)],
)
async def metrics(request: Request) -> Response:
    rt = runtime(request)
    await _update_active(rt)
    return Response(rt.metrics.render(), media_type=CONTENT_TYPE_LATEST)


@router.post(
    "/v1/score",
    response_model=ScoreResponse,
    tags=["scoring"],
    summary="Score whole conversations (scope: score)",
    description=(
        "One assessment per conversation, in request order. `flagged` and `urgent` come from the "
        "model's own thresholds. When the service has a review store, flagged conversations are "
        "forwarded to it after the response is sent; a forwarding failure never fails the request. "
        "Bulk work runs in model calls of a bounded size, behind streaming appends; when too many "
        "messages are already queued the service answers 429 with `Retry-After`."
    ),
    responses=ERRORS,
    openapi_extra=body_openapi(ScoreRequest),
    dependencies=[require(Scope.SCORE)],
)
async def score(request: Request, background: BackgroundTasks, actions: WithActions = False) -> ScoreResponse:
    rt = runtime(request)
    body = await parse_body(request, ScoreRequest, _context(rt))
    _scorer_or_503(rt)
    _require_policy(rt, actions)
    n_messages = sum(len(c.messages) for c in body.conversations)
    try:
        async with rt.admit(Lane.BULK, n_messages):
            assessments = await rt.score_conversations(body.conversations)
    except NotReadyError as exc:
        raise HTTPException(503, str(exc)) from None
    except OverloadedError as exc:
        raise _overloaded(exc) from None
    rt.metrics.scored(assessments)
    rt.metrics.messages.labels(path="score").inc(n_messages)
    for assessment in assessments:
        await rt.senders.record(assessment)
    flagged = [(c, a) for c, a in zip(body.conversations, assessments, strict=True) if a.flagged]
    log.info("scored %d conversation(s), %d flagged", len(assessments), len(flagged))
    if flagged and rt.review_sink is not None:
        background.add_task(rt.forward, flagged)
    return ScoreResponse(
        model_version=assessments[0].model_version,
        assessments=[_with_actions(rt, a, actions) for a in assessments],
    )


@router.post(
    "/v1/conversations/{conversation_id}/messages",
    response_model=ConversationStatus,
    tags=["streaming"],
    summary="Append messages to a conversation and get its updated assessment (scope: stream)",
    description=(
        "The first append creates the conversation. Only the new messages are encoded: the model's "
        "state is carried between requests, so the result equals scoring the whole conversation at "
        "once; `risk_by_message` holds the appended messages' risks, from `risk_by_message_start`. "
        "Requests for one conversation are applied one at a time, in arrival order. Send "
        "`start_index` (the number of messages sent before these): a retry of an append that was "
        "applied but whose answer was lost is then recognised and answered from the stored state, "
        "never applied twice, and an append that does not follow the messages held is refused (409) "
        "rather than silently starting over. The state (no message text) is dropped after the "
        "service's state TTL without requests, or when the least recently used conversations make "
        "room for new ones. Streamed conversations are not forwarded to the review store, because "
        "their text is not kept: send flagged ones to /v1/score or the review store yourself. When "
        "too many appended messages are queued the service answers 429 with `Retry-After`."
    ),
    responses={
        **ERRORS,
        409: {
            "model": ErrorResponse,
            "description": "`start_index` does not match the messages held, or the conversation kept "
            "changing under concurrent appends.",
        },
        501: {"model": ErrorResponse, "description": "The loaded model cannot stream."},
    },
    openapi_extra=body_openapi(AppendRequest),
    dependencies=[require(Scope.STREAM)],
)
async def append_messages(
    conversation_id: ConversationId, request: Request, actions: WithActions = False
) -> ConversationStatus:
    rt = runtime(request)
    body = await parse_body(request, AppendRequest, _context(rt))
    _scorer_or_503(rt)
    _require_policy(rt, actions)
    digest = append_digest(body.messages)
    try:
        async with rt.admit(Lane.STREAM, len(body.messages)):
            for _ in range(APPEND_ATTEMPTS):
                async with rt.locks.hold(conversation_id):
                    result = await _append_once(rt, conversation_id, body, digest)
                if result is not None:
                    break
            else:
                raise HTTPException(
                    409,
                    f"conversation {conversation_id!r} kept changing under concurrent appends from "
                    "other workers; send its appends in order (with start_index) and retry",
                )
    except OverloadedError as exc:
        raise _overloaded(exc) from None
    before, status, replayed = result
    if replayed:
        rt.metrics.replays.inc()
    else:
        rt.metrics.streamed(before, status.assessment, len(body.messages))
        await rt.senders.record(status.assessment)
    await _update_active(rt)
    log.info(
        "conversation %s: +%d message(s)%s, %d held, flagged=%s",
        conversation_id,
        len(body.messages),
        " (a retry, answered from state)" if replayed else "",
        status.message_count,
        status.assessment.flagged,
    )
    return status.model_copy(update={"assessment": _with_actions(rt, status.assessment, actions)})


async def _append_once(
    rt: ServiceRuntime, conversation_id: str, body: AppendRequest, digest: str
) -> tuple[Assessment | None, ConversationStatus, bool] | None:
    """Apply one append: (assessment before, status after, was it a retry), or None when another
    worker stored an append in between (the caller tries again on the new state)."""
    scorer = rt.ready_scorer()
    assert rt.advance_batcher is not None
    entry = await rt.store.get(conversation_id)
    held = entry.message_count if entry else 0
    if entry is not None and body.start_index is not None and entry.replays(body.start_index, digest):
        status = ConversationStatus(
            conversation_id=conversation_id, message_count=held, assessment=entry.assessment
        )
        return entry.assessment, status, True
    if body.start_index is not None and body.start_index != held:
        raise HTTPException(
            409,
            f"conversation {conversation_id!r}: start_index is {body.start_index} but the service holds "
            f"{held} message(s) (state expired or messages missing); resend from index {held} or "
            "score the whole conversation with /v1/score",
        )
    limit = rt.settings.max_messages_per_conversation
    if held + len(body.messages) > limit:
        raise RequestValidationError(
            [
                {
                    "loc": ("body", "messages"),
                    "msg": f"conversation would have {held + len(body.messages)} messages, more than "
                    f"the limit of {limit}",
                    "type": "too_long",
                }
            ]
        )
    try:
        state = entry.state if entry else scorer.new_state(conversation_id)
    except NotImplementedError as exc:
        raise HTTPException(501, str(exc)) from None
    [(new_state, assessment)] = await rt.advance_batcher.submit([(state, body.messages)])
    if not await rt.store.put(conversation_id, ConversationEntry(new_state, assessment, digest), held):
        return None
    status = ConversationStatus(
        conversation_id=conversation_id, message_count=new_state.n_messages, assessment=assessment
    )
    return (entry.assessment if entry else None), status, False


@router.get(
    "/v1/conversations/{conversation_id}",
    response_model=ConversationStatus,
    tags=["streaming"],
    summary="The current assessment of a streamed conversation (scope: stream)",
    responses={**ERRORS, 404: {"model": ErrorResponse, "description": "Unknown or expired conversation."}},
    dependencies=[require(Scope.STREAM)],
)
async def get_conversation(
    conversation_id: ConversationId, request: Request, actions: WithActions = False
) -> ConversationStatus:
    rt = runtime(request)
    _require_policy(rt, actions)
    async with rt.locks.hold(conversation_id):
        entry = await rt.store.get(conversation_id)
    if entry is None:
        raise HTTPException(404, f"conversation {conversation_id!r} is unknown or its state expired")
    return ConversationStatus(
        conversation_id=conversation_id,
        message_count=entry.message_count,
        assessment=_with_actions(rt, entry.assessment, actions),
    )


@router.delete(
    "/v1/conversations/{conversation_id}",
    status_code=204,
    response_class=Response,
    tags=["streaming"],
    summary="Forget a streamed conversation's state (scope: stream)",
    responses={**ERRORS, 404: {"model": ErrorResponse, "description": "Unknown or expired conversation."}},
    dependencies=[require(Scope.STREAM)],
)
async def delete_conversation(conversation_id: ConversationId, request: Request) -> Response:
    rt = runtime(request)
    # Under the lock so that an append in flight cannot write the state back after the delete.
    async with rt.locks.hold(conversation_id):
        deleted = await rt.store.delete(conversation_id)
    if not deleted:
        raise HTTPException(404, f"conversation {conversation_id!r} is unknown or its state expired")
    await _update_active(rt)
    log.info("conversation %s deleted", conversation_id)
    return Response(status_code=204)


@router.get(
    "/v1/senders/{sender_id}",
    response_model=SenderProfile,
    tags=["senders"],
    summary="A sender's profile across the conversations this service assessed (scope: senders)",
    description=(
        "Kept incrementally from /v1/score and streamed appends, in the state store (memory or "
        "Redis): conversation count, conversations where the sender is the suspected party, max and "
        "combined risk (1 - prod(1 - risk) over conversations at or above the floor), warning signs, "
        "first and last message time, conversation ids riskiest first. No message text. Dropped "
        "after the service's sender TTL without a new update."
    ),
    responses={**ERRORS, 404: {"model": ErrorResponse, "description": "No conversation of this sender."}},
    dependencies=[require(Scope.SENDERS)],
)
async def get_sender(sender_id: SenderId, request: Request) -> SenderProfile:
    profile = await runtime(request).senders.profile(sender_id)
    if profile is None:
        raise HTTPException(404, f"sender {sender_id!r}: no assessed conversation (or its profile expired)")
    return profile
