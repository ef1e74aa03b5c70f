"""The one error type of the server, raised anywhere, shaped once by the app.

Every failure reaches the client as
``{"error": {"code": "<snake_case>", "message": "<human text>", "details": {...}}}``.
The ``code`` is for programs and never changes; the ``message`` is written in English where
raised (marked with ``N_`` for the catalogs) and given in the reader's language when the
response is shaped (:meth:`ApiError.body`): the signed-in user's ``language``, else the
request's ``Accept-Language``. A message built with values keeps its English template and
the values (``template``/``values``) so it can be translated whole.
"""

from __future__ import annotations

from typing import Any

from server.language.interface import N_, text


class ApiError(Exception):
    """A failure with an HTTP status, a stable snake_case code and a human message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        template: str | None = None,
        values: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.template = template
        self.values = values or {}

    def message_in(self, language: str | None) -> str:
        """The human message in ``language`` (English when the catalog lacks it)."""
        if self.template is None:
            return text(language, self.message)
        values = {name: text(language, value) for name, value in self.values.items()}
        return text(language, self.template, **values)

    def body(self, language: str | None = None) -> dict[str, Any]:
        """The API.md error document, its message in ``language``."""
        return {
            "error": {
                "code": self.code,
                "message": self.message_in(language),
                "details": self.details,
            }
        }


def bad_request(message: str, **details: Any) -> ApiError:
    return ApiError(400, "bad_request", message, details)


def unauthenticated(message: str = "Please sign in.") -> ApiError:
    return ApiError(401, "unauthenticated", message)


def forbidden(message: str = "You are not allowed to do that.", **details: Any) -> ApiError:
    return ApiError(403, "forbidden", message, details)


def not_found(what: str = N_("That")) -> ApiError:
    """404; ``what`` ("That post") is marked with ``N_`` by callers and translated with the rest."""
    return ApiError(
        404,
        "not_found",
        f"{what} was not found.",
        template=N_("{what} was not found."),
        values={"what": what},
    )


def conflict(code: str, message: str, **details: Any) -> ApiError:
    return ApiError(409, code, message, details)


def validation_error(message: str, **details: Any) -> ApiError:
    return ApiError(422, "validation_error", message, details)


def rate_limited(retry_after: float) -> ApiError:
    seconds = max(1, int(retry_after + 0.999))
    return ApiError(
        429,
        "rate_limited",
        N_("Too many attempts; please wait a moment."),
        {"retry_after": seconds},
    )
