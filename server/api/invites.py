"""``GET /api/students/{id}/invites`` and ``DELETE /api/invites/{id}``: a pupil's invite codes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.http import authenticate, ok, path_id, services_of
from server.school import invites


async def list_invites(request: Request) -> Response:
    principal = await authenticate(request)
    services = services_of(request)
    async with services.read() as session:
        items = await invites.list_for(session, principal, path_id(request), services.clock())
    return ok({"items": items})


async def revoke_invite(request: Request) -> Response:
    principal = await authenticate(request)
    services = services_of(request)
    async with services.transaction() as session:
        found = await invites.revoke(session, principal, path_id(request), services.clock())
    return ok(found)


routes = [
    Route("/api/students/{id:int}/invites", list_invites, methods=["GET"]),
    Route("/api/invites/{id:int}", revoke_invite, methods=["DELETE"]),
]
