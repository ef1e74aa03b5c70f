"""How model objects look in API replies: one function per shape, used by every route."""

from __future__ import annotations

from typing import Any

from server.db.models import GuardianRequest, School, SchoolClass, Student, User
from server.timeutil import iso


def user_ref(user: User | None) -> dict[str, Any]:
    """``{id, name, role}``; a removed account shows as "deleted user"."""
    if user is None:
        return {"id": None, "name": "deleted user", "role": None}
    return {"id": user.id, "name": user.name, "role": user.role}


def school(found: School) -> dict[str, Any]:
    return {
        "id": found.id,
        "name": found.name,
        "timezone": found.timezone,
        "language": found.language,
        "working_hours": found.working_hours,
        "closure_days": found.closure_days,
        "allow_negative_points": found.allow_negative_points,
        "office_phone": found.office_phone,
        "office_email": found.office_email,
        "policy_version": found.policy_version,
        "translation_glossary": list(found.translation_glossary or []),
    }


def school_class(found: SchoolClass, *, staff: bool) -> dict[str, Any]:
    shape: dict[str, Any] = {"id": found.id, "name": found.name}
    if staff:
        shape["class_code"] = found.class_code
        shape["archived"] = found.archived_at is not None
    return shape


def student(found: Student, name: str, *, full: bool, staff: bool, code: bool = False) -> dict[str, Any]:
    """A pupil: display name for everyone; surname for staff and their own family (P11).

    ``student_code`` (the pupil's sign-in) only with ``code``: admins and the staff of the
    pupil's class (:func:`server.school.access.sees_pupil_codes`), never the rest of the staff.
    """
    shape: dict[str, Any] = {
        "id": found.id,
        "name": name,
        "class_id": found.class_id,
        "avatar": found.avatar,
    }
    if full:
        shape["first_name"] = found.first_name
        shape["last_name"] = found.last_name
    if staff:
        shape.update(
            photo_consent=found.photo_consent,
            la_care=found.la_care,
            left_at=iso(found.left_at),
        )
    if code:
        shape["student_code"] = found.student_code
    return shape


def staff_member(user: User, class_ids: list[int]) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "language": user.language,
        "class_ids": class_ids,
        "suspended": user.suspended_at is not None,
    }


def guardian_request(request: GuardianRequest, student_name: str) -> dict[str, Any]:
    return {
        "id": request.id,
        "student": {"id": request.student_id, "name": student_name},
        "user_id": request.user_id,
        "name": request.name,
        "email": request.email,
        "status": request.status,
        "created_at": iso(request.created_at),
        "decided_at": iso(request.decided_at),
    }
