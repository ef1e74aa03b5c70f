"""``/api/students/{id}/guardians*``: a pupil's linked guardians, and an admin's unlink of one.

API.md "Guardians and leavers". The rules are :mod:`server.school.guardians`'s.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.http import authenticate, ok, path_id, services_of
from server.school import guardians


async def list_guardians(request: Request) -> Response:
    principal = await authenticate(request)
    async with services_of(request).read() as session:
        items = await guardians.linked(session, principal, path_id(request))
    return ok({"items": items})


async def remove_guardian(request: Request) -> Response:
    principal = await authenticate(request)
    student_id, guardian_id = path_id(request), path_id(request, "user_id")
    services = services_of(request)
    async with services.transaction() as session:
        await guardians.unlink(session, principal, student_id, guardian_id)
    await services.access_changed(guardian_id)  # after the commit: every process re-checks their channels
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


routes = [
    Route("/api/students/{id:int}/guardians", list_guardians, methods=["GET"]),
    Route("/api/students/{id:int}/guardians/{user_id:int}", remove_guardian, methods=["DELETE"]),
]
