"""Errors the store raises; the web app maps them to HTTP statuses, the CLI to one-line messages."""

from __future__ import annotations


class ReviewError(Exception):
    """Base class; the message is safe to show (no conversation text)."""

    http_status = 400


class NotFoundError(ReviewError):
    http_status = 404


class PermissionDeniedError(ReviewError):
    http_status = 403


class ConflictError(ReviewError):
    """The thread is held by someone else, or is in a state that does not allow the action."""

    http_status = 409


class InvalidInputError(ReviewError):
    http_status = 400
