"""``/api/conversations*``, ``/api/messages/*``, ``/api/reports*``, ``/api/users/*/suspend`` and
``/api/office/messages``: API.md's "Messages" rows.

Thin routes: parse, authenticate, call one function of :mod:`server.messaging`,
shape. Pupils are refused first, before their body is read (P5).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.http import Body, authenticate, limit, ok, page_params, parse, path_id, services_of, text
from server.api.openapi import describe
from server.auth.principal import Principal
from server.errors import bad_request
from server.language.interface import N_
from server.messaging import conversations, delivery, office, office_replies, reports, suspension
from server.messaging.conversations import in_reader_language, refuse_pupils, translating, translation_routes

Id = Field(ge=1, le=2**62)
MESSAGES_PER_MINUTE = 60


class ConversationBody(Body):
    student_id: int = Id
    staff_id: int | None = Field(default=None, ge=1, le=2**62)
    guardian_id: int | None = Field(default=None, ge=1, le=2**62)


class MessageBody(Body):
    text: str = Field(default="", max_length=5000)
    media_ids: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(default_factory=list, max_length=10)
    client_id: str | None = Field(default=None, min_length=1, max_length=64)

    @field_validator("text")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()


class ReadBody(Body):
    message_id: int = Id


class ReportBody(Body):
    reason: str = Field(min_length=1, max_length=2000)


class ResolveBody(Body):
    resolution: str = Field(default="", max_length=2000)


class SuspendBody(Body):
    reason: str = Field(min_length=1, max_length=2000)


async def _member(request: Request) -> Principal:
    principal = await authenticate(request)
    refuse_pupils(principal)
    return principal


async def list_conversations(request: Request) -> Response:
    principal = await _member(request)
    before, count = page_params(request)
    services = services_of(request)
    async with services.read() as session:
        items = await conversations.list_for(
            session, principal, before, count, routes=translation_routes(services)
        )
    return ok({"items": items})


async def start_conversation(request: Request) -> Response:
    principal = await _member(request)
    body = await parse(request, ConversationBody)
    services = services_of(request)
    found, created = await conversations.start(
        services,
        principal,
        student_id=body.student_id,
        staff_id=body.staff_id,
        guardian_id=body.guardian_id,
    )
    async with services.read() as session:
        shaped = (
            await conversations.views(session, principal, [found], routes=translation_routes(services))
        )[0]
    return ok(shaped, 201 if created else 200)


async def student_contacts(request: Request) -> Response:
    principal = await _member(request)
    async with services_of(request).read() as session:
        items = await conversations.contacts(session, principal, path_id(request))
    return ok({"items": items})


async def get_conversation(request: Request) -> Response:
    principal = await _member(request)
    services = services_of(request)
    async with services.read() as session:
        found = await conversations.member_conversation(session, principal, path_id(request))
        shaped = (
            await conversations.views(session, principal, [found], routes=translation_routes(services))
        )[0]
    return ok(shaped)


async def list_messages(request: Request) -> Response:
    principal = await _member(request)
    before, count = page_params(request)
    items = await conversations.messages_page(
        services_of(request), principal, path_id(request), before, count
    )
    return ok({"items": items})


async def send_message(request: Request) -> Response:
    principal = await _member(request)
    body = await parse(request, MessageBody)
    await limit(request, "message", str(principal.id), MESSAGES_PER_MINUTE)
    message, created = await delivery.send(
        services_of(request),
        principal,
        path_id(request),
        text=body.text,
        media_ids=body.media_ids,
        client_id=body.client_id,
    )
    return ok(message, 201 if created else 200)


async def mark_read(request: Request) -> Response:
    principal = await _member(request)
    body = await parse(request, ReadBody)
    receipt = await conversations.mark_read(
        services_of(request), principal, path_id(request), body.message_id
    )
    return ok(receipt)


async def report_message(request: Request) -> Response:
    principal = await _member(request)
    body = await parse(request, ReportBody)
    found, created = await reports.report_message(
        services_of(request), principal, path_id(request), body.reason.strip()
    )
    return ok(found, 201 if created else 200)


async def list_reports(request: Request) -> Response:
    principal = await _member(request)
    before, count = page_params(request)
    status = request.query_params.get("status", "open")
    if status not in (*reports.STATUSES, "all"):
        raise bad_request(N_("'status' is open, resolved or all."), field="status")
    services = services_of(request)
    async with services.read() as session:
        items = await reports.list_reports(
            session,
            principal,
            None if status == "all" else status,
            before,
            count,
            translating=translating(services),
        )
    return ok({"items": items})


async def resolve_report(request: Request) -> Response:
    principal = await _member(request)
    body = await parse(request, ResolveBody)
    found = await reports.resolve(services_of(request), principal, path_id(request), body.resolution.strip())
    return ok(found)


async def suspend_user(request: Request) -> Response:
    principal = await _member(request)
    body = await parse(request, SuspendBody)
    found = await suspension.suspend(services_of(request), principal, path_id(request), body.reason.strip())
    return ok(found)


async def unsuspend_user(request: Request) -> Response:
    principal = await _member(request)
    found = await suspension.unsuspend(services_of(request), principal, path_id(request))
    return ok(found)


async def office_messages(request: Request) -> Response:
    principal = await _member(request)
    before, count = page_params(request)
    services = services_of(request)
    async with services.read() as session:
        items = await office.office_inbox(
            session,
            principal,
            before,
            count,
            translating=translating(services),
            rules=office.office_rules(services),
        )
    if translating(services) and items:
        shown = await in_reader_language(services, [i["message"] for i in items], principal.user.language)
        items = [{**item, "message": message} for item, message in zip(items, shown, strict=True)]
    return ok({"items": items})


class OfficeReplyBody(Body):
    text: Annotated[str, text(5000)]


@describe(creates="")
async def office_reply(request: Request) -> Response:
    """``POST /api/office/messages/{id}/reply`` (office, admin): answer the family as the office."""
    principal = await authenticate(request)
    body = await parse(request, OfficeReplyBody)
    services = services_of(request)
    async with services.transaction() as session:
        shaped = await office_replies.reply(
            session,
            principal,
            path_id(request),
            body.text,
            services.clock(),
            translating=translating(services),
        )
    return ok(shaped, 201)


async def office_done(request: Request) -> Response:
    """``POST /api/office/messages/{id}/done`` (office, admin): the office has dealt with it."""
    principal = await authenticate(request)
    services = services_of(request)
    async with services.transaction() as session:
        event = await office_replies.mark_done(session, principal, path_id(request), services.clock())
    return ok(event)


routes = [
    Route("/api/conversations", list_conversations, methods=["GET"]),
    Route("/api/conversations", start_conversation, methods=["POST"]),
    Route("/api/conversations/{id:int}", get_conversation, methods=["GET"]),
    Route("/api/students/{id:int}/contacts", student_contacts, methods=["GET"]),
    Route("/api/conversations/{id:int}/messages", list_messages, methods=["GET"]),
    Route("/api/conversations/{id:int}/messages", send_message, methods=["POST"]),
    Route("/api/conversations/{id:int}/read", mark_read, methods=["POST"]),
    Route("/api/messages/{id:int}/report", report_message, methods=["POST"]),
    Route("/api/reports", list_reports, methods=["GET"]),
    Route("/api/reports/{id:int}/resolve", resolve_report, methods=["POST"]),
    Route("/api/users/{id:int}/suspend", suspend_user, methods=["POST"]),
    Route("/api/users/{id:int}/unsuspend", unsuspend_user, methods=["POST"]),
    Route("/api/office/messages", office_messages, methods=["GET"]),
    Route("/api/office/messages/{id:int}/reply", office_reply, methods=["POST"]),
    Route("/api/office/messages/{id:int}/done", office_done, methods=["POST"]),
]
