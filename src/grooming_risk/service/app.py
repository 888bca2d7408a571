"""`create_app(settings, scorer=None) -> FastAPI`: the scoring service.

Routes (see /docs when running):
    POST   /v1/score                               score whole conversations        scope: score
    POST   /v1/conversations/{id}/messages         append messages, get assessment  scope: stream
    GET    /v1/conversations/{id}                  current assessment               scope: stream
    DELETE /v1/conversations/{id}                  forget the conversation          scope: stream
    GET    /metrics                                Prometheus text                  scope: admin
    GET    /healthz, /readyz                       probes                           no key

Run it under uvicorn with the lifespan enabled (uvicorn's default; `with TestClient(app)` in tests):
the model thread, batchers and, when no scorer is passed, the model load start there.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from grooming_risk import __version__
from grooming_risk.inference.scorer import RiskScorer
from grooming_risk.service.auth import keyring_for
from grooming_risk.service.metrics import ServiceMetrics
from grooming_risk.service.middleware import BodyLimitMiddleware, ObservabilityMiddleware
from grooming_risk.service.routes import router
from grooming_risk.service.runtime import (
    ReviewSink,
    ServiceRuntime,
    build_policy,
    build_sender_store,
    build_state_store,
    review_sink_for,
)
from grooming_risk.service.schemas import AppendRequest, ScoreRequest
from grooming_risk.service.settings import ServiceSettings
from grooming_risk.service.state import StateStore

log = logging.getLogger("grooming_risk.service")

DESCRIPTION = """\
Scores chat conversations for grooming and sextortion risk, early, with evidence for reviewers.

* **Whole conversations**: `POST /v1/score`.
* **As they happen**: `POST /v1/conversations/{id}/messages` with the new messages; the service
  carries the model's state (never the text) so each message is encoded once.

Send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`. Scopes: `score`
(/v1/score), `stream` (/v1/conversations/...), `admin` (/metrics). Errors name the field
(`loc`) and never repeat the submitted text.
"""


def _clean_msg(msg: str) -> str:
    return msg.removeprefix("Value error, ")


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    # Pydantic's default error body includes the offending `input`: that may be conversation text.
    assert isinstance(exc, RequestValidationError)
    detail = [
        {
            "loc": list(err.get("loc", ())),
            "msg": _clean_msg(str(err.get("msg", ""))),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]
    return JSONResponse(status_code=422, content={"detail": detail})


def create_app(
    settings: ServiceSettings,
    scorer: RiskScorer | None = None,
    *,
    state_store: StateStore | None = None,
    review_sink: ReviewSink | None = None,
) -> FastAPI:
    """Build the service. Without `scorer`, `settings.model` is loaded in the background at startup
    (/readyz says when it is ready). `state_store` and `review_sink` replace the ones the settings
    describe (for tests, or a store of your own)."""
    keyring = keyring_for(settings)
    if not settings.auth:
        log.warning("authentication is OFF (--no-auth): use this only for local development")
    metrics = ServiceMetrics()
    if review_sink is None and settings.review_db:
        review_sink = review_sink_for(settings.review_db)
    store = state_store if state_store is not None else build_state_store(settings, metrics)
    rt = ServiceRuntime(
        settings=settings,
        keyring=keyring,
        metrics=metrics,
        store=store,
        senders=build_sender_store(settings, store),
        scorer=scorer,
        review_sink=review_sink,
        policy=build_policy(settings),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await rt.start()
        try:
            yield
        finally:
            await rt.stop()

    app = FastAPI(
        title="grooming-risk",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # FastAPI's own pages load Swagger UI and ReDoc from a CDN: blank on an offline network.
        docs_url=None,
        redoc_url=None,
    )
    _offline_docs(app)
    app.state.runtime = rt
    app.include_router(router)
    app.add_exception_handler(RequestValidationError, _validation_error)
    # Added last = outermost: requests rejected for size are still counted and logged.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    docs = [app.openapi_url, DOCS_URL]
    app.add_middleware(ObservabilityMiddleware, metrics=metrics, fixed_paths=frozenset(p for p in docs if p))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            # The hand-validated request bodies reference their nested models by name.
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in (ScoreRequest, AppendRequest):
                defs = model.model_json_schema(ref_template="#/components/schemas/{model}").get("$defs", {})
                for name, definition in defs.items():
                    components.setdefault(name, definition)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


# `grooming-risk serve --workers N` passes the settings to its worker processes in this variable.
SETTINGS_ENV = "GROOMING_RISK_SERVICE_SETTINGS"


def create_app_from_env() -> FastAPI:
    """The app of one `serve --workers N` worker: settings from $GROOMING_RISK_SERVICE_SETTINGS, the
    model loaded in the background (/readyz answers 503 until it is ready)."""
    raw = os.environ.get(SETTINGS_ENV)
    if not raw:
        raise RuntimeError(
            f"${SETTINGS_ENV} is not set: start workers with `grooming-risk serve --workers N`"
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return create_app(ServiceSettings.model_validate_json(raw))


DOCS_URL = "/docs"
DOCS_ASSETS = "/docs-assets"


def _offline_docs(app: FastAPI) -> None:
    """Swagger UI at /docs, its script and styles served from the `swagger-ui-bundle` package."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
        )
