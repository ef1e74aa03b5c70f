"""Invite codes, parents joining, linking more children, and the guardian limit (P14, P15, P17).

A pupil has at most two guardians. A third valid code does not link: it becomes a
guardian request that an admin approves or rejects ("special circumstances"). A
request from someone new keeps their details (password already hashed) so the
account only comes into being when an admin approves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.accounts import (
    check_language,
    check_password_rules,
    find_by_email,
    normalise_email,
)
from server.auth.passwords import hash_password
from server.auth.principal import Principal
from server.auth.tokens import digest, new_code, normalise_code
from server.db.engine import rowcount
from server.db.models import (
    GuardianLink,
    GuardianRequest,
    Invite,
    PolicyAcceptance,
    School,
    Student,
    User,
)
from server.errors import ApiError, conflict, not_found
from server.events import emit, school_staff_channel
from server.language.interface import N_
from server.school import audit

GUARDIAN_LIMIT = 2
INVITE_CODE_LENGTH = 10  # 31^10 ≈ 8e14 codes, and attempts are rate-limited


@dataclass(frozen=True)
class NewInvite:
    code: str
    invite: Invite


@dataclass(frozen=True)
class JoinOutcome:
    """Either a linked guardian or a queued guardian request."""

    user: User | None
    request: GuardianRequest | None


def format_code(code: str) -> str:
    """``ABCDE-FGHJK``: easier to read out and type."""
    return f"{code[:5]}-{code[5:]}"


async def create_invite(
    session: AsyncSession,
    principal: Principal,
    student: Student,
    days: int,
    now: datetime,
) -> NewInvite:
    """A fresh one-use code for one guardian of ``student``; only its hash is stored."""
    code = new_code(INVITE_CODE_LENGTH)
    invite = Invite(
        school_id=student.school_id,
        student_id=student.id,
        code_hash=digest(code),
        created_by=principal.id,
        expires_at=now + timedelta(days=days),
        created_at=now,
    )
    session.add(invite)
    await session.flush()
    audit.record(
        session,
        student.school_id,
        principal.id,
        "invite.created",
        "student",
        student.id,
    )
    return NewInvite(code=format_code(code), invite=invite)


async def claim_invite(session: AsyncSession, code: str, now: datetime) -> Invite:
    """Mark a code used and return it; 422 ``invalid_code`` if unknown, used or expired.

    The update is conditional on the code still being unused, so two requests racing
    with one code cannot both claim it. A failed request rolls back and frees the code.
    """
    invite = await session.scalar(select(Invite).where(Invite.code_hash == digest(normalise_code(code))))
    if invite is None:
        raise _invalid_code(
            "unknown",
            "That code is not right. Check it, or ask the school for a new one.",
        )
    if invite.used_at is not None:
        raise _invalid_code("used", "That code has already been used. Ask the school for a new one.")
    if invite.expires_at <= now or invite.revoked_at is not None:
        raise _invalid_code("expired", "That code has expired. Ask the school for a new one.")
    claimed = await session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None), Invite.revoked_at.is_(None))
        .values(used_at=now)
    )
    if rowcount(claimed) != 1:
        raise _invalid_code("used", "That code has already been used. Ask the school for a new one.")
    return invite


async def lock_student(session: AsyncSession, student_id: int) -> Student:
    """The pupil row, locked until commit on PostgreSQL (SQLite serialises writers anyway).

    Everything that counts a pupil's guardians and then links one holds this lock, so
    two joins racing for the last place cannot both see one guardian and link a third.
    ``FOR NO KEY UPDATE``, not ``FOR UPDATE``: it still queues the joins one behind the
    other but does not clash with the key-share locks that foreign-key checks take on
    the pupil row (two joins each holding one and wanting ``FOR UPDATE`` deadlock).
    """
    student = await session.scalar(
        select(Student)
        .where(Student.id == student_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if student is None or student.left_at is not None:
        raise _invalid_code("unknown", "That code is no longer valid. Ask the school for a new one.")
    return student


def _invalid_code(reason: str, message: str) -> ApiError:
    return ApiError(422, "invalid_code", message, {"reason": reason})


async def guardian_count(session: AsyncSession, student_id: int) -> int:
    count = await session.scalar(select(func.count()).where(GuardianLink.student_id == student_id))
    return int(count or 0)


async def join(
    session: AsyncSession,
    *,
    code: str,
    name: str,
    email: str,
    password: str,
    language: str,
    accept_policy_version: int,
    now: datetime,
) -> JoinOutcome:
    """Create a parent account from an invite code and link the child (or queue a request).

    The code is checked first, so only someone holding a valid code learns whether an
    email already has an account. The password is hashed before the pupil row is locked.
    """
    check_password_rules(password)
    check_language(language)
    invite = await claim_invite(session, code, now)
    if await find_by_email(session, email) is not None:
        raise conflict(
            "already_exists",
            N_("An account with that email already exists. Sign in and add the child there."),
        )
    school = await session.get(School, invite.school_id)
    assert school is not None
    if accept_policy_version != school.policy_version:
        raise ApiError(
            422,
            "validation_error",
            N_("Please accept the school's current code of conduct."),
            {
                "fields": {"accept_policy_version": "not current"},
                "policy_version": school.policy_version,
            },
        )
    password_hash = await hash_password(password)
    student = await lock_student(session, invite.student_id)
    if await guardian_count(session, student.id) >= GUARDIAN_LIMIT:
        request = GuardianRequest(
            school_id=student.school_id,
            student_id=student.id,
            name=name,
            email=normalise_email(email),
            password_hash=password_hash,
            language=language,
            policy_version=accept_policy_version,
        )
        return JoinOutcome(user=None, request=await _queue(session, request))
    user = User(
        school_id=student.school_id,
        role="parent",
        name=name,
        email=normalise_email(email),
        password_hash=password_hash,
        language=language,
        policy_accepted_version=accept_policy_version,
    )
    session.add(user)
    await session.flush()
    invite.used_by = user.id
    session.add(PolicyAcceptance(user_id=user.id, version=accept_policy_version))
    session.add(GuardianLink(guardian_id=user.id, student_id=student.id))
    audit.record(session, student.school_id, user.id, "guardian.joined", "student", student.id)
    return JoinOutcome(user=user, request=None)


async def link_child(session: AsyncSession, principal: Principal, code: str, now: datetime) -> JoinOutcome:
    """Link another child to a signed-in parent with a new code (same limit of two)."""
    invite = await claim_invite(session, code, now)
    if invite.school_id != principal.school_id:
        raise _invalid_code("unknown", "That code belongs to another school.")
    student = await lock_student(session, invite.student_id)
    existing = await session.get(GuardianLink, (principal.id, student.id))
    if existing is not None:
        raise conflict("already_exists", N_("That child is already linked to your account."))
    invite.used_by = principal.id
    if await guardian_count(session, student.id) >= GUARDIAN_LIMIT:
        request = GuardianRequest(
            school_id=student.school_id,
            student_id=student.id,
            user_id=principal.id,
            name=principal.user.name,
            email=principal.user.email or "",
            language=principal.user.language,
        )
        return JoinOutcome(user=None, request=await _queue(session, request))
    session.add(GuardianLink(guardian_id=principal.id, student_id=student.id))
    audit.record(
        session,
        student.school_id,
        principal.id,
        "guardian.linked",
        "student",
        student.id,
    )
    return JoinOutcome(user=principal.user, request=None)


async def _queue(session: AsyncSession, request: GuardianRequest) -> GuardianRequest:
    session.add(request)
    await session.flush()
    audit.record(
        session,
        request.school_id,
        request.user_id,
        "guardian_request.created",
        "student",
        request.student_id,
    )
    emit(
        session,
        school_staff_channel(request.school_id),
        "guardian_request.created",
        {"request_id": request.id, "student_id": request.student_id},
    )
    return request


async def list_requests(
    session: AsyncSession,
    school_id: int,
    status: str | None,
    *,
    before: int | None = None,
    limit: int = 20,
) -> list[GuardianRequest]:
    """A school's guardian requests, newest first, one page at a time."""
    query = select(GuardianRequest).where(GuardianRequest.school_id == school_id)
    if status:
        query = query.where(GuardianRequest.status == status)
    if before is not None:
        query = query.where(GuardianRequest.id < before)
    return list((await session.scalars(query.order_by(GuardianRequest.id.desc()).limit(limit))).all())


async def classes_of_students(session: AsyncSession, student_ids: set[int]) -> set[int]:
    """The classes the given pupils are in (for naming them in one query)."""
    if not student_ids:
        return set()
    rows = await session.scalars(select(Student.class_id).where(Student.id.in_(student_ids)))
    return set(rows.all())


async def decide_request(
    session: AsyncSession,
    principal: Principal,
    request_id: int,
    approve: bool,
    now: datetime,
) -> GuardianRequest:
    """Approve (link, creating the account if needed) or reject a pending request."""
    request = await session.get(GuardianRequest, request_id, with_for_update=True)
    if request is None or request.school_id != principal.school_id:
        raise not_found(N_("That request"))
    if request.status != "pending":
        raise conflict("already_decided", f"That request was already {request.status}.")
    request.status = "approved" if approve else "rejected"
    request.decided_by = principal.id
    request.decided_at = now
    if approve:
        user_id = request.user_id
        if user_id is None:
            if await find_by_email(session, request.email) is not None:
                raise conflict(
                    "already_exists",
                    N_("An account with that email exists now; ask them for a new code."),
                )
            user = User(
                school_id=request.school_id,
                role="parent",
                name=request.name,
                email=request.email,
                password_hash=request.password_hash,
                language=request.language,
                policy_accepted_version=request.policy_version,
            )
            session.add(user)
            await session.flush()
            if request.policy_version is not None:
                session.add(PolicyAcceptance(user_id=user.id, version=request.policy_version))
            request.user_id = user_id = user.id
        if await session.get(GuardianLink, (user_id, request.student_id)) is None:
            session.add(GuardianLink(guardian_id=user_id, student_id=request.student_id))
    request.password_hash = None
    action = "guardian_request.approved" if approve else "guardian_request.rejected"
    audit.record(
        session,
        principal.school_id,
        principal.id,
        action,
        "guardian_request",
        request.id,
    )
    return request
