"""``/api/school``, ``/api/classes*``, ``/api/students*``, ``/api/staff*`` and ``/api/skills`` (read)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api import replies, shapes
from server.api.http import (
    Body,
    EmailAddress,
    Id,
    InUtcRange,
    LanguageCode,
    Password,
    authenticate,
    changes_of,
    ok,
    parse,
    path_id,
    services_of,
    text,
)
from server.api.openapi import describe
from server.auth.principal import require_role
from server.db.models import Skill
from server.errors import validation_error
from server.language.interface import N_
from server.media.uploads import discard_files
from server.privacy import erasure
from server.school import guardians, roster
from server.school import settings as school_domain
from server.school.access import (
    get_class,
    get_student,
    guardians_of,
    names_for_classes,
    sees_pupil_codes,
    visible_class_ids,
)
from server.stories import posts as stories

ClassName = Annotated[str, text(100)]
PersonName = Annotated[str, text(200)]
Role = Annotated[str, StringConstraints(pattern="^(admin|teacher|office)$")]


class SchoolPatch(Body):
    name: PersonName | None = None
    timezone: str | None = Field(default=None, max_length=64)
    language: LanguageCode | None = None
    working_hours: dict[str, list[str] | None] | None = Field(default=None, max_length=7)
    closure_days: list[str] | None = Field(default=None, max_length=400)
    allow_negative_points: bool | None = None
    office_phone: str | None = Field(default=None, max_length=64)
    office_email: EmailAddress | Literal[""] | None = None
    policy_text: str | None = Field(default=None, max_length=100_000)
    policy_version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    translation_glossary: list[str] | None = Field(default=None, max_length=500)


class ClassBody(Body):
    name: ClassName


class ClassPatch(Body):
    name: ClassName | None = None
    archived: bool | None = None

    @model_validator(mode="after")
    def _left_out_not_null(self) -> ClassPatch:
        """A field may be left out; sent, it must have a value (``null`` would change nothing silently)."""
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"'{name}' may be left out but not null.")
        return self


class StudentBody(Body):
    first_name: ClassName
    last_name: ClassName
    photo_consent: bool = False
    la_care: bool = False


class StudentPatch(Body):
    first_name: ClassName | None = None
    last_name: ClassName | None = None
    photo_consent: bool | None = None
    la_care: bool | None = None
    class_id: Id | None = None
    left_at: Annotated[datetime, InUtcRange] | None = None


class StaffBody(Body):
    name: PersonName
    email: EmailAddress
    role: Role
    password: Password
    class_ids: list[Id] = Field(default_factory=list, max_length=200)
    language: LanguageCode = "en"


class StaffPatch(Body):
    name: PersonName | None = None
    email: EmailAddress | None = None
    role: Role | None = None
    password: Password | None = None
    class_ids: list[Id] | None = Field(default=None, max_length=200)
    language: LanguageCode | None = None


async def get_school(request: Request) -> Response:
    principal = await authenticate(request)
    async with services_of(request).read() as session:
        found = await school_domain.get_school(session, principal.school_id)
        skills = await _skills(session, principal.school_id)
    shape = shapes.school(found)
    shape["skills"] = skills
    return ok(shape)


async def _skills(session: Any, school_id: int) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(Skill).where(Skill.school_id == school_id, Skill.archived.is_(False)).order_by(Skill.id)
    )
    return [{"id": s.id, "name": s.name, "icon": s.icon, "points": s.points} for s in rows]


async def patch_school(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "admin")
    body = await parse(request, SchoolPatch)
    changes = changes_of(body, clearable={"office_phone": "", "office_email": ""})
    services = services_of(request)
    async with services.transaction() as session:
        found = await school_domain.update_school(session, principal, changes)
        new_policy = found.policy_version != principal.policy_version
    if new_policy:  # parents must accept it before anything else, live updates included (P17)
        await services.school_access_changed(principal.school_id)
    return ok(shapes.school(found))


async def list_classes(request: Request) -> Response:
    principal = await authenticate(request)
    async with services_of(request).read() as session:
        only = None if principal.is_staff else await visible_class_ids(session, principal)
        archived = principal.is_admin and request.query_params.get("archived") == "true"
        found = await roster.list_classes(session, principal.school_id, only, archived=archived)
    return ok({"items": [shapes.school_class(c, staff=principal.is_staff) for c in found]})


async def create_class(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "admin")
    body = await parse(request, ClassBody)
    async with services_of(request).transaction() as session:
        found = await roster.create_class(session, principal, body.name.strip())
    return ok(shapes.school_class(found, staff=True), 201)


async def get_class_(request: Request) -> Response:
    principal = await authenticate(request)
    async with services_of(request).read() as session:
        found = await get_class(session, principal, path_id(request))
    return ok(shapes.school_class(found, staff=principal.is_staff))


async def patch_class(request: Request) -> Response:
    """Rename a class (``name``) and archive it or bring it back (``archived``)."""
    principal = await authenticate(request)
    require_role(principal, "admin")
    body = await parse(request, ClassPatch)
    async with services_of(request).transaction() as session:
        found = await get_class(session, principal, path_id(request))
        if body.name is not None:
            found.name = body.name.strip()
        if body.archived is not None:
            await roster.archive_class(session, principal, found, body.archived)
    return ok(shapes.school_class(found, staff=True))


async def delete_class(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "admin")
    async with services_of(request).transaction() as session:
        found = await get_class(session, principal, path_id(request))
        await roster.delete_class(session, principal, found)
    return ok({"deleted": True})


async def list_students(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "staff")
    async with services_of(request).read() as session:
        found = await get_class(session, principal, path_id(request))
        pupils = await roster.students_of(session, found.id)
        names = await names_for_classes(session, [found.id])
        code = await sees_pupil_codes(session, principal, found.id)
    return ok({"items": [shapes.student(p, names[p.id], full=True, staff=True, code=code) for p in pupils]})


@describe(creates="/api/students/{id}")
async def create_student(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "admin")
    body = await parse(request, StudentBody)
    async with services_of(request).transaction() as session:
        found = await get_class(session, principal, path_id(request))
        pupil = await roster.add_student(
            session,
            principal,
            found,
            first_name=body.first_name.strip(),
            last_name=body.last_name.strip(),
            photo_consent=body.photo_consent,
            la_care=body.la_care,
        )
        names = await names_for_classes(session, [found.id])
    return ok(shapes.student(pupil, names[pupil.id], full=True, staff=True, code=True), 201)


async def get_student_(request: Request) -> Response:
    principal = await authenticate(request)
    async with services_of(request).read() as session:
        pupil = await get_student(session, principal, path_id(request))
        names = await names_for_classes(session, [pupil.class_id])
        code = await sees_pupil_codes(session, principal, pupil.class_id)
    full = principal.is_staff or principal.role == "parent"
    return ok(shapes.student(pupil, names[pupil.id], full=full, staff=principal.is_staff, code=code))


async def patch_student(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "admin")
    body = await parse(request, StudentPatch)
    changes = changes_of(body, clearable={"left_at": None})
    if changes.get("left_at") is not None and changes["left_at"].tzinfo is None:
        raise validation_error(N_("left_at needs a time-zone offset."), fields={"left_at": "naive"})
    services = services_of(request)
    async with services.transaction() as session:
        pupil = await get_student(session, principal, path_id(request))
        was_shown = pupil.photo_consent and not pupil.la_care
        await roster.update_student(session, principal, pupil, changes)
        if was_shown != (pupil.photo_consent and not pupil.la_care):
            await session.flush()
            await stories.announce_consent_change(session, pupil.id)
        names = await names_for_classes(session, [pupil.class_id])
        moved_or_left = bool({"class_id", "left_at"} & changes.keys())
        # The family's access follows the pupil at once (API.md "Guardians and leavers").
        affected = await guardians.family_of(session, pupil) if moved_or_left else []
    for user_id in affected:
        await services.access_changed(user_id)
    return ok(shapes.student(pupil, names[pupil.id], full=True, staff=True, code=True))


async def rotate_student_code(request: Request) -> Response:
    """``POST /api/students/{id}/code`` (admin): a new pupil code; the old one and its sessions end."""
    principal = await authenticate(request)
    require_role(principal, "admin")
    services = services_of(request)
    async with services.transaction() as session:
        pupil = await get_student(session, principal, path_id(request))
        await roster.rotate_student_code(session, principal, pupil)
        names = await names_for_classes(session, [pupil.class_id])
    await services.access_changed(pupil.user_id)
    return ok(shapes.student(pupil, names[pupil.id], full=True, staff=True, code=True))


async def delete_student(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "admin")
    services = services_of(request)
    async with services.transaction() as session:
        pupil = await get_student(session, principal, path_id(request))
        affected = [pupil.user_id, *(g.id for g in await guardians_of(session, pupil.id))]
        channels = await erasure.live_channels_of(session, pupil)
        keys = await erasure.erase_student(session, pupil, principal.id)
    await discard_files(services, keys)
    await services.forget_history(channels)
    for user_id in affected:
        await services.access_changed(user_id)
    return ok({"deleted": True})


async def list_staff(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "staff")
    async with services_of(request).read() as session:
        found = await roster.list_staff(session, principal.school_id)
    items = [shapes.staff_member(u, c) for u, c in found]
    if not principal.is_admin:
        for item in items:
            item.pop("email")
            item.pop("suspended")
    return ok({"items": items})


async def create_staff(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "admin")
    body = await parse(request, StaffBody)
    async with services_of(request).transaction() as session:
        user, classes = await roster.create_staff(
            session,
            principal,
            name=body.name.strip(),
            email=body.email,
            role=body.role,
            password=body.password,
            class_ids=body.class_ids,
            language=body.language,
        )
    return ok(shapes.staff_member(user, classes), 201)


async def patch_staff(request: Request) -> Response:
    principal = await authenticate(request)
    require_role(principal, "admin")
    body = await parse(request, StaffPatch)
    changes = changes_of(body)
    services = services_of(request)
    async with services.transaction() as session:
        user, classes = await roster.update_staff(session, principal, path_id(request), changes)
    if {"role", "password", "class_ids"} & changes.keys():
        await services.access_changed(user.id)
    return ok(shapes.staff_member(user, classes))


@describe(responses={200: replies.SkillList})
async def list_skills(request: Request) -> Response:
    principal = await authenticate(request)
    async with services_of(request).read() as session:
        skills = await _skills(session, principal.school_id)
    return ok({"items": skills})


routes = [
    Route("/api/school", get_school, methods=["GET"]),
    Route("/api/school", patch_school, methods=["PATCH"]),
    Route("/api/classes", list_classes, methods=["GET"]),
    Route("/api/classes", create_class, methods=["POST"]),
    Route("/api/classes/{id:int}", get_class_, methods=["GET"]),
    Route("/api/classes/{id:int}", patch_class, methods=["PATCH"]),
    Route("/api/classes/{id:int}", delete_class, methods=["DELETE"]),
    Route("/api/classes/{id:int}/students", list_students, methods=["GET"]),
    Route("/api/classes/{id:int}/students", create_student, methods=["POST"]),
    Route("/api/students/{id:int}", get_student_, methods=["GET"]),
    Route("/api/students/{id:int}", patch_student, methods=["PATCH"]),
    Route("/api/students/{id:int}", delete_student, methods=["DELETE"]),
    Route("/api/students/{id:int}/code", rotate_student_code, methods=["POST"]),
    Route("/api/staff", list_staff, methods=["GET"]),
    Route("/api/staff", create_staff, methods=["POST"]),
    Route("/api/staff/{id:int}", patch_staff, methods=["PATCH"]),
    Route("/api/skills", list_skills, methods=["GET"]),
]
