"""Domain errors raised by services and mapped to HTTP in ``views/errors.py``."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a request that cannot be honoured as asked."""

    status = 400

    def __init__(self, message: str = "", *, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationError(DomainError):
    status = 400


class NotFound(DomainError):
    status = 404

    def __init__(self, message: str = "Unable to find requested asset.", **kw):
        super().__init__(message, **kw)


class PermissionDenied(DomainError):
    status = 403

    def __init__(self, message: str = "You do not have permission to do that.", **kw):
        super().__init__(message, **kw)


class Conflict(DomainError):
    status = 409
