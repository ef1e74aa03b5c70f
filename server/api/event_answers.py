"""A guardian's own answers to an event: ``GET /api/events/{id}/responses/mine``.

The staff's list (``GET /api/events/{id}/responses``) is for staff only; a family needs just
its own children's answers to show the reply form as it stands, from any of its phones.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.http import authenticate, ok, path_id, services_of
from server.auth.principal import require_role
from server.calendar import events as calendar
from server.calendar.guardian_answers import answers_of_guardian
from server.timeutil import iso


async def my_answers(request: Request) -> Response:
    """The answers given for the reader's own children (guardians): ``{"items": [...]}``."""
    principal = await authenticate(request)
    require_role(principal, "parent")
    services = services_of(request)
    async with services.read() as session:
        event = await calendar.get_event(session, principal, path_id(request))
        items = await answers_of_guardian(session, principal, event)
    return ok({"event_id": event.id, "respond_by": iso(calendar.deadline(event)), "items": items})


routes = [
    Route("/api/events/{id:int}/responses/mine", my_answers, methods=["GET"]),
]
