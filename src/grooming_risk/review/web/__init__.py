"""The reviewer web app: `create_app(settings)` returns a FastAPI application."""

from grooming_risk.review.web.app import create_app
from grooming_risk.review.web.settings import ReviewSettings

__all__ = ["ReviewSettings", "create_app"]
