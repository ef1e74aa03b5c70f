"""The one error type of the server, raised anywhere, shaped once by the app.

Every failure reaches the client as
``{"error": {"code": "<snake_case>", "message": "<human text>", "details": {...}}}``.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A failure with an HTTP status, a stable snake_case code and a human message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}

    def body(self) -> dict[str, Any]:
        """The API.md error document."""
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "details": self.details,
            }
        }


def bad_request(message: str, **details: Any) -> ApiError:
    return ApiError(400, "bad_request", message, details)


def unauthenticated(message: str = "Please sign in.") -> ApiError:
    return ApiError(401, "unauthenticated", message)


def forbidden(message: str = "You are not allowed to do that.", **details: Any) -> ApiError:
    return ApiError(403, "forbidden", message, details)


def not_found(what: str = "That") -> ApiError:
    return ApiError(404, "not_found", f"{what} was not found.")


def conflict(code: str, message: str, **details: Any) -> ApiError:
    return ApiError(409, code, message, details)


def validation_error(message: str, **details: Any) -> ApiError:
    return ApiError(422, "validation_error", message, details)


def rate_limited(retry_after: float) -> ApiError:
    seconds = max(1, int(retry_after + 0.999))
    return ApiError(
        429,
        "rate_limited",
        "Too many attempts; please wait a moment.",
        {"retry_after": seconds},
    )
