"""Request parsing, authentication and JSON responses shared by every route module."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from server.auth.principal import Principal, resolve_token
from server.auth.tokens import csrf_matches
from server.errors import ApiError, bad_request, not_found, rate_limited, unauthenticated
from server.language.interface import N_
from server.services import Services
from server.settings import Settings

M = TypeVar("M", bound=BaseModel)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_COOKIE = "session"
"""The session cookie's name in development (plain ``http://``, where ``__Host-`` cannot be set)."""
SECURE_SESSION_COOKIE = "__Host-session"
"""Its name in production: ``__Host-`` makes browsers insist on ``Secure``, ``Path=/`` and no ``Domain``."""
MAX_LIMIT = 100
DEFAULT_LIMIT = 20
MAX_ID = 2**62


class Body(BaseModel):
    """Base of request bodies: JSON types are taken strictly (``"5"`` is not an id, ``1`` not a flag)."""

    model_config = ConfigDict(strict=True)


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
"""A row id in a body: positive and within the database's 64-bit range."""


EmailAddress = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]
LanguageCode = Annotated[str, StringConstraints(min_length=2, max_length=16)]
"""A language code; whether the server knows it is checked by ``server.language.languages``."""
Password = Annotated[str, StringConstraints(max_length=256)]
"""A password as typed; the length rules are checked (with a clear message) by ``server.auth.accounts``."""


def _in_utc_range(value: datetime) -> datetime:
    if value.tzinfo is not None:
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise ValueError("Time is outside the years 1 to 9999 in UTC.") from None
    return value


InUtcRange = AfterValidator(_in_utc_range)
"""For a datetime field stored as UTC: refuse an instant UTC cannot hold (``9999-12-31T23:00:00-14:00``)."""


def text(max_length: int, min_length: int = 1) -> StringConstraints:
    """A string field's constraints, for `Annotated[str, text(...)]`: trimmed of surrounding
    whitespace, then held to a length."""
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


class JSONResponse(Response):
    """A JSON response encoded with orjson."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def ok(content: Any, status: int = 200) -> JSONResponse:
    """A JSON reply that is never cached by shared caches."""
    return JSONResponse(content, status_code=status, headers={"Cache-Control": "no-store"})


def services_of(request: HTTPConnection) -> Services:
    services: Services = request.app.state.services
    return services


def session_cookie_name(settings: Settings) -> str:
    """``__Host-session`` in production; ``session`` in development, which may be plain http."""
    return SECURE_SESSION_COOKIE if settings.production else SESSION_COOKIE


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def parse(request: Request, model: type[M]) -> M:
    """Read and validate a JSON body; 400 when it is not a JSON object, 422 when it does not fit.

    Text may not hold NUL characters (PostgreSQL cannot store them, and no form needs one).
    A body must be declared JSON (415 ``unsupported_media_type`` otherwise): a page on
    another site can send ``text/plain`` or untyped bodies without asking first, JSON not.
    """
    raw = await request.body()
    if not raw.strip():
        raw = b"{}"
    elif not _is_json(request.headers.get("content-type", "")):
        raise ApiError(
            415,
            "unsupported_media_type",
            N_("Send the request body as JSON (Content-Type: application/json)."),
        )
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise bad_request(N_("The request body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise bad_request(N_("The request body must be a JSON object."))
    if _has_nul(data):
        raise ApiError(
            422, "validation_error", N_("Text may not contain NUL characters."), {"fields": {"body": "nul"}}
        )
    if _too_big(data):  # the database cannot bind it, and error details could not echo it
        raise ApiError(
            422, "validation_error", N_("Numbers must fit in 64 bits."), {"fields": {"body": "out_of_range"}}
        )
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise ApiError(
            422,
            "validation_error",
            N_("Some fields are missing or not valid."),
            _fields(exc),
        ) from None


def changes_of(body: BaseModel, *, clearable: dict[str, Any] | None = None) -> dict[str, Any]:
    """The fields a PATCH body actually sent; 422 for an explicit null, except on ``clearable``.

    A clearable field sent as null takes the value given for it (``{"office_phone": ""}``).
    """
    clearable = clearable or {}
    changes: dict[str, Any] = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        if value is None:
            if name not in clearable:
                raise ApiError(422, "validation_error", f"{name} cannot be null.", {"fields": {name: "null"}})
            value = clearable[name]
        changes[name] = value
    return changes


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _too_big(value: Any) -> bool:
    """A number outside the signed 64-bit range anywhere in a parsed body (orjson gives those as floats)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return not -(2**63) <= value < 2**63
    if isinstance(value, dict):
        return any(_too_big(v) for v in value.values())
    if isinstance(value, list):
        return any(_too_big(v) for v in value)
    return False


def _fields(exc: ValidationError) -> dict[str, Any]:
    problems: dict[str, str] = {}
    for err in exc.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in err["loc"]) or "body"
        problems.setdefault(location, err["msg"])
    return {"fields": problems}


def path_id(request: Request, name: str = "id") -> int:
    """An integer id from the path; 404 when out of range (ids never leak as 400s)."""
    value = request.path_params[name]
    if not isinstance(value, int) or value < 1 or value > MAX_ID:
        raise not_found()
    return value


def query_int(
    request: Request,
    name: str,
    default: int | None = None,
    *,
    low: int = 1,
    high: int = MAX_ID,
) -> int | None:
    """An optional integer query parameter within bounds; 400 otherwise."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw) if len(raw) <= 20 else None
    except ValueError:
        raise bad_request(f"'{name}' must be a whole number.", field=name) from None
    if value is None or not low <= value <= high:
        raise bad_request(f"'{name}' must be between {low} and {high}.", field=name)
    return value


def page_params(request: Request) -> tuple[int | None, int]:
    """``(before, limit)`` for newest-first pagination (limit ≤ 100, default 20)."""
    before = query_int(request, "before")
    limit = query_int(request, "limit", DEFAULT_LIMIT, high=MAX_LIMIT)
    assert limit is not None
    return before, limit


def request_token(request: HTTPConnection) -> tuple[str, str] | None:
    """The presented token and how it came (``bearer`` or ``cookie``), if any."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer " and header[7:].strip():
        return header[7:].strip(), "bearer"
    cookie = request.cookies.get(session_cookie_name(services_of(request).settings))
    if cookie:
        return cookie, "cookie"
    return None


async def authenticate(request: Request, *, allow_unaccepted: bool = False) -> Principal:
    """The signed-in user, with CSRF and policy acceptance checked (API.md: Auth)."""
    presented = request_token(request)
    if presented is None:
        raise unauthenticated()
    services = services_of(request)
    principal = await resolve_token(services, *presented)
    unsafe_cookie_request = principal.via == "cookie" and request.method not in SAFE_METHODS
    csrf = request.headers.get("x-csrf-token")
    if unsafe_cookie_request and not csrf_matches(services.settings.secret_key, principal.token, csrf):
        raise ApiError(403, "forbidden", N_("Missing or wrong X-CSRF-Token header."), {"reason": "csrf"})
    if principal.needs_policy and not allow_unaccepted:
        raise ApiError(
            403,
            "policy_not_accepted",
            N_("Please read and accept the school's code of conduct first."),
            {"policy_version": principal.policy_version},
        )
    request.state.principal = principal
    return principal


async def limit(request: Request, bucket: str, key: str, attempts: int, window: float = 60.0) -> None:
    """429 ``rate_limited`` after ``attempts`` hits of ``bucket:key`` within ``window`` seconds."""
    wait = await services_of(request).limiter.hit(f"{bucket}:{key}", attempts, window)
    if wait is not None:
        raise rate_limited(wait)


def client_ip(request: Request) -> str:
    """The client's address as rate limits count it: IPv6 by its /64, which one household gets whole."""
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
