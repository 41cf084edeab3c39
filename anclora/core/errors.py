"""The one error type of the domain: services raise it, the API and pages show it."""

from __future__ import annotations


class ApplicationError(Exception):
    """A failure the caller can act on: a human message, a machine code, an HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        status: int = 400,
        details: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.message = str(message)
        self.code = code
        self.status = status
        self.details = details or {}
