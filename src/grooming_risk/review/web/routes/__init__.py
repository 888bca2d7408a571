"""One APIRouter per page group; `create_app` includes them all."""

from __future__ import annotations

from fastapi import APIRouter

from grooming_risk.review.web.routes import audit, auth, health, lead, queue, senders, threads

ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    queue.router,
    threads.router,
    senders.router,
    lead.router,
    audit.router,
    health.router,
)

__all__ = ["ROUTERS"]
