"""Typed SQLAlchemy 2.0 models for the whole domain of API.md.

Only table shapes live here: no business rules. Relationships default to
``lazy="raise"`` so an accidental N+1 query fails loudly in tests instead of
slowing a feed; code loads what it needs with explicit ``select()`` options.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from server.db.types import UtcDateTime
from server.timeutil import utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Id = BigInteger().with_variant(Integer(), "sqlite")


def _id() -> Mapped[int]:
    return mapped_column(Id, primary_key=True, autoincrement=True)


def _fk(
    target: str,
    *,
    nullable: bool = False,
    ondelete: str = "CASCADE",
    index: bool = True,
) -> Any:
    return mapped_column(Id, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index)


def _created() -> Mapped[datetime]:
    return mapped_column(UtcDateTime(), default=utcnow, nullable=False)


class Base(DeclarativeBase):
    """Declarative base with stable constraint names for migrations."""

    metadata = MetaData(naming_convention=NAMING)


DEFAULT_WORKING_HOURS: dict[str, list[str] | None] = {
    "mon": ["08:00", "17:00"],
    "tue": ["08:00", "17:00"],
    "wed": ["08:00", "17:00"],
    "thu": ["08:00", "17:00"],
    "fri": ["08:00", "17:00"],
    "sat": None,
    "sun": None,
}


class School(Base):
    __tablename__ = "schools"
    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    language: Mapped[str] = mapped_column(String(16), default="en")
    working_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=lambda: dict(DEFAULT_WORKING_HOURS))
    closure_days: Mapped[list[str]] = mapped_column(JSON, default=list)
    allow_negative_points: Mapped[bool] = mapped_column(Boolean, default=False)
    office_phone: Mapped[str] = mapped_column(String(64), default="")
    office_email: Mapped[str] = mapped_column(String(254), default="")
    policy_text: Mapped[str] = mapped_column(Text, default="")
    policy_version: Mapped[int] = mapped_column(Integer, default=1)
    # Words kept exactly through translation, besides names, school ways and classes.
    translation_glossary: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = _created()


class User(Base):
    """Anyone who signs in: staff (admin, teacher, office), parents and pupils."""

    __tablename__ = "users"
    id: Mapped[int] = _id()
    school_id: Mapped[int] = _fk("schools.id")
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), unique=True, nullable=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    language: Mapped[str] = mapped_column(String(16), default="en")
    policy_accepted_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    suspended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    suspended_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = _created()


class SchoolClass(Base):
    __tablename__ = "classes"
    id: Mapped[int] = _id()
    school_id: Mapped[int] = _fk("schools.id")
    name: Mapped[str] = mapped_column(String(100))
    class_code: Mapped[str] = mapped_column(String(16), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # An archived class keeps its story and its leavers' records until they are erased, but is
    # out of the lists, takes no pupils and its code signs nobody in (it has no current pupils).
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[datetime] = _created()


class StaffClass(Base):
    """A member of staff assigned to a class."""

    __tablename__ = "staff_classes"
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    class_id: Mapped[int] = mapped_column(
        Id, ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Student(Base):
    """A pupil; signs in as the linked ``users`` row with role ``student``."""

    __tablename__ = "students"
    __table_args__ = (UniqueConstraint("class_id", "student_code"),)
    id: Mapped[int] = _id()
    school_id: Mapped[int] = _fk("schools.id")
    class_id: Mapped[int] = _fk("classes.id", ondelete="RESTRICT")
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    photo_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    la_care: Mapped[bool] = mapped_column(Boolean, default=False)
    student_code: Mapped[str] = mapped_column(String(16))
    avatar: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    left_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # From a roster import: the date of birth (tells two pupils of one name apart) and the
    # school's own MIS identifier (UPN or admission number), which keeps a renamed pupil the same.
    dob: Mapped[date | None] = mapped_column(Date, nullable=True)
    mis_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = _created()


class GuardianContact(Base):
    """A guardian the school knows of for a pupil (from a roster import), before they have joined.

    One row per guardian slot (1 or 2); it lends its name and language to that slot's invite
    letter. Joining is still done with an invite code: a contact is not an account.
    """

    __tablename__ = "guardian_contacts"
    __table_args__ = (UniqueConstraint("student_id", "slot"),)
    id: Mapped[int] = _id()
    student_id: Mapped[int] = _fk("students.id", index=False)
    slot: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = _created()


class RosterImport(Base):
    """A previewed roster import: the plan an admin saw, applied as it is on confirm."""

    __tablename__ = "roster_imports"
    id: Mapped[int] = _id()
    school_id: Mapped[int] = _fk("schools.id")
    created_by: Mapped[int | None] = _fk("users.id", nullable=True, ondelete="SET NULL", index=False)
    file_name: Mapped[str] = mapped_column(String(200), default="")
    mode: Mapped[str] = mapped_column(String(8), default="partial")
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    # A digest of the school's roster when previewed: confirm refuses (409 stale) if it moved since.
    fingerprint: Mapped[str] = mapped_column(String(64))
    applied_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[datetime] = _created()


class GuardianLink(Base):
    __tablename__ = "guardian_links"
    guardian_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    student_id: Mapped[int] = mapped_column(
        Id, ForeignKey("students.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = _created()


class Invite(Base):
    """A one-use code linking one guardian to one pupil; only its hash is kept."""

    __tablename__ = "invites"
    id: Mapped[int] = _id()
    school_id: Mapped[int] = _fk("schools.id")
    student_id: Mapped[int] = _fk("students.id")
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = _fk("users.id", nullable=True, ondelete="SET NULL", index=False)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    used_by: Mapped[int | None] = _fk("users.id", nullable=True, ondelete="SET NULL", index=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[datetime] = _created()


class GuardianRequest(Base):
    """A guardian past the limit of two, waiting for an admin (P15).

    A request from someone without an account keeps the account details so the
    account is only created when an admin approves.
    """

    __tablename__ = "guardian_requests"
    id: Mapped[int] = _id()
    school_id: Mapped[int] = _fk("schools.id")
    student_id: Mapped[int] = _fk("students.id")
    user_id: Mapped[int | None] = _fk("users.id", nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    language: Mapped[str] = mapped_column(String(16), default="en")
    policy_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[int | None] = _fk("users.id", nullable=True, ondelete="SET NULL", index=False)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[datetime] = _created()


class Session(Base):
    """A signed-in device; the token itself is never stored, only its SHA-256."""

    __tablename__ = "sessions"
    id: Mapped[int] = _id()
    user_id: Mapped[int] = _fk("users.id")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = _created()
    last_seen_at: Mapped[datetime] = _created()
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    user_agent: Mapped[str] = mapped_column(String(300), default="")


class PolicyAcceptance(Base):
    __tablename__ = "policy_acceptances"
    id: Mapped[int] = _id()
    user_id: Mapped[int] = _fk("users.id")
    version: Mapped[int] = mapped_column(Integer)
    accepted_at: Mapped[datetime] = _created()


class Skill(Base):
    """One of the school's values ("school ways") that points are awarded for."""

    __tablename__ = "skills"
    id: Mapped[int] = _id()
    school_id: Mapped[int] = _fk("schools.id")
    name: Mapped[str] = mapped_column(String(100))
    icon: Mapped[str] = mapped_column(String(64), default="star")
    points: Mapped[int] = mapped_column(Integer, default=1)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = _created()


class Award(Base):
    __tablename__ = "awards"
    __table_args__ = (Index("ix_awards_student_created", "student_id", "created_at"),)
    id: Mapped[int] = _id()
    school_id: Mapped[int] = _fk("schools.id")
    student_id: Mapped[int] = _fk("students.id", index=False)
    class_id: Mapped[int | None] = _fk("classes.id", nullable=True, ondelete="SET NULL")
    skill_id: Mapped[int | None] = _fk("skills.id", nullable=True, ondelete="SET NULL")
    points: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    awarded_by: Mapped[int | None] = _fk("users.id", nullable=True, ondelete="SET NULL")
    created_at: Mapped[datetime] = _created()


class Media(Base):
    """An uploaded file; ``key`` is a random secret that appears in its URL."""

    __tablename__ = "media"
    __table_args__ = (Index("ix_media_status_job_until", "status", "job_until"),)
    id: Mapped[int] = _id()
    school_id: Mapped[int] = _fk("schools.id")
    uploader_id: Mapped[int | None] = _fk("users.id", nullable=True, ondelete="SET NULL")
    key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    content_type: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Recordings (video, audio): "processing" until the transcoding job finishes, then
    # "ready" or "failed" (with ``failure``); images and PDFs are "ready" from the start.
    status: Mapped[str] = mapped_column(String(16), default="ready")
    duration: Mapped[float | None] = mapped_column(Float, nullable=True)
    has_poster: Mapped[bool] = mapped_column(Boolean, default=False)
    failure: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # A recording's caption or description from its uploader, shown under the player as plain text.
    caption: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # The transcoding job's lease (see server.media.processing): who holds it, until when.
    job_holder: Mapped[str | None] = mapped_column(String(64), nullable=True)
    job_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    job_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = _created()


class UploadCharge(Base):
    """The bytes of one upload, counted against its uploader's and school's daily quotas.

    Kept apart from ``media`` so deleting or sweeping a file does not give its bytes back;
    rows older than the quota window are purged by the media sweeper.
    """

    __tablename__ = "upload_charges"
    __table_args__ = (
        Index("ix_upload_charges_user_created", "user_id", "created_at"),
        Index("ix_upload_charges_school_created", "school_id", "created_at"),
    )
    id: Mapped[int] = _id()
    school_id: Mapped[int] = _fk("schools.id", index=False)
    user_id: Mapped[int] = _fk("users.id", index=False)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = _created()


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (Index("ix_posts_scope_class_id", "school_id", "scope", "class_id", "id"),)
    id: Mapped[int] = _id()
    school_id: Mapped[int] = _fk("schools.id", index=False)
    scope: Mapped[str] = mapped_column(String(8))
    class_id: Mapped[int | None] = _fk("classes.id", nullable=True, index=False)
    author_id: Mapped[int | None] = _fk("users.id", nullable=True, ondelete="SET NULL")
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(16), default="en")
    like_count: Mapped[int] = mapped_column(Integer, default=0)
    # True while a recording attached to it is still being processed: then only its
    # author sees it, and it is announced live when the last one is ready (server.media.processing).
    awaiting_media: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = _created()
    edited_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class PostMedia(Base):
    __tablename__ = "post_media"
    post_id: Mapped[int] = mapped_column(Id, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    media_id: Mapped[int] = mapped_column(
        Id, ForeignKey("media.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class PostStudent(Base):
    """A pupil tagged in a post."""

    __tablename__ = "post_students"
    post_id: Mapped[int] = mapped_column(Id, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    student_id: Mapped[int] = mapped_column(
        Id, ForeignKey("students.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Like(Base):
    __tablename__ = "likes"
    post_id: Mapped[int] = mapped_column(Id, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = _created()


class Conversation(Base):
    """One guardian and one member of staff, about one pupil."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("guardian_id", "staff_id", "student_id"),)
    id: Mapped[int] = _id()
    school_id: Mapped[int] = _fk("schools.id")
    student_id: Mapped[int | None] = _fk("students.id", nullable=True, ondelete="SET NULL")
    guardian_id: Mapped[int | None] = _fk("users.id", nullable=True, ondelete="SET NULL")
    staff_id: Mapped[int | None] = _fk("users.id", nullable=True, ondelete="SET NULL")
    last_message_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[datetime] = _created()


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("sender_id", "client_id"),
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
        Index("ix_messages_held", "delivery", "held_until"),
    )
    id: Mapped[int] = _id()
    conversation_id: Mapped[int] = _fk("conversations.id", index=False)
    sender_id: Mapped[int | None] = _fk("users.id", nullable=True, ondelete="SET NULL", index=False)
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(16), default="en")
    system: Mapped[bool] = mapped_column(Boolean, default=False)
    topic: Mapped[str | None] = mapped_column(String(32), nullable=True)
    delivery: Mapped[str] = mapped_column(String(24), default="live")
    held_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # True while a recording attached to it is still being processed: then only its
    # author sees it, and it is announced live when the last one is ready (server.media.processing).
    awaiting_media: Mapped[bool] = mapped_column(Boolean, default=False)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # A message routed to the office (P8) that the office has dealt with: when, and who.
    office_done_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    office_done_by: Mapped[int | None] = _fk("users.id", nullable=True, ondelete="SET NULL", index=False)
    created_at: Mapped[datetime] = _created()


class MessageMedia(Base):
    __tablename__ = "message_media"
    message_id: Mapped[int] = mapped_column(
        Id, ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    media_id: Mapped[int] = mapped_column(
        Id, ForeignKey("media.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Report(Base):
    __tablename__ = "reports"
    id: Mapped[int] = _id()
    school_id: Mapped[int] = _fk("schools.id")
    message_id: Mapped[int | None] = _fk("messages.id", nullable=True, ondelete="SET NULL")
    reporter_id: Mapped[int | None] = _fk("users.id", nullable=True, ondelete="SET NULL")
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    resolution: Mapped[str] = mapped_column(Text, default="")
    resolved_by: Mapped[int | None] = _fk("users.id", nullable=True, ondelete="SET NULL", index=False)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[datetime] = _created()


class Activity(Base):
    """A home-learning task set for a class."""

    __tablename__ = "activities"
    id: Mapped[int] = _id()
    school_id: Mapped[int] = _fk("schools.id")
    class_id: Mapped[int] = _fk("classes.id")
    title: Mapped[str] = mapped_column(String(200))
    instructions: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_by: Mapped[int | None] = _fk("users.id", nullable=True, ondelete="SET NULL", index=False)
    # True while a recording attached to it is still being processed: then only its
    # author sees it, and it is announced live when the last one is ready (server.media.processing).
    awaiting_media: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = _created()


class ActivityMedia(Base):
    __tablename__ = "activity_media"
    activity_id: Mapped[int] = mapped_column(
        Id, ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    media_id: Mapped[int] = mapped_column(
        Id, ForeignKey("media.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Submission(Base):
    """A pupil's portfolio item: pending, then approved or returned."""

    __tablename__ = "submissions"
    id: Mapped[int] = _id()
    school_id: Mapped[int] = _fk("schools.id")
    activity_id: Mapped[int | None] = _fk("activities.id", nullable=True, ondelete="SET NULL")
    student_id: Mapped[int] = _fk("students.id")
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[int | None] = _fk("users.id", nullable=True, ondelete="SET NULL", index=False)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # True while a recording attached to it is still being processed: then only its
    # author sees it, and it is announced live when the last one is ready (server.media.processing).
    awaiting_media: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = _created()


class SubmissionMedia(Base):
    __tablename__ = "submission_media"
    submission_id: Mapped[int] = mapped_column(
        Id, ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    media_id: Mapped[int] = mapped_column(
        Id, ForeignKey("media.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Translation(Base):
    """A cached translation, keyed by the SHA-256 of the source text."""

    __tablename__ = "translations"
    __table_args__ = (UniqueConstraint("content_hash", "source", "target"),)
    id: Mapped[int] = _id()
    content_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    engine: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = _created()


class TranslationReport(Base):
    """A reader's report of a bad translation, with both versions as they were when reported."""

    __tablename__ = "translation_reports"
    __table_args__ = (UniqueConstraint("reporter_id", "kind", "item_id", "lang"),)
    id: Mapped[int] = _id()
    school_id: Mapped[int] = _fk("schools.id")
    reporter_id: Mapped[int | None] = _fk("users.id", nullable=True, ondelete="SET NULL", index=False)
    kind: Mapped[str] = mapped_column(String(16))  # "post" or "message"
    item_id: Mapped[int] = mapped_column(Id)
    source: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(16))
    original_text: Mapped[str] = mapped_column(Text)
    translated_text: Mapped[str] = mapped_column(Text)
    engine: Mapped[str] = mapped_column(String(32), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = _created()


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_school_id_id", "school_id", "id"),)
    id: Mapped[int] = _id()
    school_id: Mapped[int] = _fk("schools.id", index=False)
    actor_id: Mapped[int | None] = _fk("users.id", nullable=True, ondelete="SET NULL")
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32), default="")
    target_id: Mapped[int | None] = mapped_column(Id, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = _created()


OUTBOX_LEASE = timedelta(seconds=5)  # see server.channels.outbox


def _outbox_lease() -> datetime:
    return utcnow() + OUTBOX_LEASE


class OutboxEvent(Base):
    """A live event written in the same transaction as the change it announces."""

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_unpublished", "published_at", "id"),)
    id: Mapped[int] = _id()
    channel: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(48))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = _created()
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # A lease on publishing this row: the committing process holds it for its fast path;
    # the outbox relay only takes rows whose lease ran out (or was released on failure).
    claimed_until: Mapped[datetime | None] = mapped_column(
        UtcDateTime(), nullable=True, default=_outbox_lease
    )


class JobLease(Base):
    """A named periodic job's lease, so one process runs it even when several do."""

    __tablename__ = "job_leases"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64), default="")
    until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class NotificationEvent(Base):
    """A deed that may notify people, written in the transaction of the deed (see ``server.notify``)."""

    __tablename__ = "notification_events"
    __table_args__ = (Index("ix_notification_events_pending", "done_at", "id"),)
    id: Mapped[int] = _id()
    channel: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(48))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = _created()
    # A worker's lease on fanning this event out; ``done_at`` once its deliveries are written.
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class PushSubscription(Base):
    """One browser's Web Push subscription (RFC 8030), handed to us by its signed-in owner."""

    __tablename__ = "push_subscriptions"
    id: Mapped[int] = _id()
    user_id: Mapped[int] = _fk("users.id")
    endpoint: Mapped[str] = mapped_column(Text)
    # SHA-256 of the endpoint: re-posting the same endpoint updates its row.
    endpoint_hash: Mapped[str] = mapped_column(String(64), unique=True)
    p256dh: Mapped[str] = mapped_column(String(128))
    auth: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = _created()
    last_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class PushDelivery(Base):
    """One notification for one device: pending until sent, failed or dropped (the push outbox)."""

    __tablename__ = "push_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_push_deliveries_due", "status", "send_after"),
    )
    id: Mapped[int] = _id()
    subscription_id: Mapped[int] = _fk("push_subscriptions.id")
    user_id: Mapped[int] = _fk("users.id")
    event_id: Mapped[int] = _fk("notification_events.id")
    # The newest event folded into this one (batched points, the staff's summary).
    last_event_id: Mapped[int] = mapped_column(Id)
    channel: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    batch_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    count: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    send_after: Mapped[datetime] = mapped_column(UtcDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Until when this push waits for the reader's translation (set at the first look).
    wait_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[datetime] = _created()
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class NotificationPreference(Base):
    """A reader's choices: push per kind, and email off, instant or a daily digest."""

    __tablename__ = "notification_preferences"
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    push: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    email: Mapped[str] = mapped_column(String(8), default="off")
    # The school-local date of the last daily digest sent (ISO), so each day's goes once.
    digest_sent_on: Mapped[str | None] = mapped_column(String(10), nullable=True)
    updated_at: Mapped[datetime] = _created()


class PasswordReset(Base):
    """A password-reset token sent by email: stored hashed, single use, short-lived."""

    __tablename__ = "password_resets"
    id: Mapped[int] = _id()
    user_id: Mapped[int] = _fk("users.id")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = _created()
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class EmailDelivery(Base):
    """One instant notification email for one reader (the email side of the push outbox)."""

    __tablename__ = "email_deliveries"
    __table_args__ = (
        UniqueConstraint("user_id", "event_id"),
        Index("ix_email_deliveries_due", "status", "send_after"),
    )
    id: Mapped[int] = _id()
    user_id: Mapped[int] = _fk("users.id")
    event_id: Mapped[int] = _fk("notification_events.id")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    send_after: Mapped[datetime] = mapped_column(UtcDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = _created()
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class SchoolEvent(Base):
    """A class or school event (a trip, an assembly, PE day), maybe weekly, maybe asking for replies."""

    __tablename__ = "school_events"
    __table_args__ = (Index("ix_school_events_school_id_starts_at", "school_id", "starts_at"),)
    id: Mapped[int] = _id()
    school_id: Mapped[int] = _fk("schools.id", index=False)
    scope: Mapped[str] = mapped_column(String(8))  # "class" or "school"
    class_id: Mapped[int | None] = _fk("classes.id", nullable=True)
    author_id: Mapped[int | None] = _fk("users.id", nullable=True, ondelete="SET NULL", index=False)
    title: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text, default="")
    # The language title and details were written in: their author's (what translation starts from).
    lang: Mapped[str] = mapped_column(String(16), default="en")
    location: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    rsvp: Mapped[str] = mapped_column(String(16), default="none")  # none, attendance, consent
    # Answers are taken until then; None: until the event starts.
    respond_by: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Reminders as seconds before each occurrence's start.
    reminders: Mapped[list[int]] = mapped_column(JSON, default=list)
    # "weekly" or None; a weekly event repeats until ``repeat_until`` (a school-local date).
    recurrence: Mapped[str | None] = mapped_column(String(16), nullable=True)
    repeat_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    # School-local dates an occurrence is skipped on (besides the school's closure days).
    exceptions: Mapped[list[str]] = mapped_column(JSON, default=list)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Bumped on each change: iCalendar's SEQUENCE, so phone calendars take the newest.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    nudged_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[datetime] = _created()
    edited_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class EventResponse(Base):
    """A guardian's answer for one pupil to an event asking for attendance or consent."""

    __tablename__ = "event_responses"
    __table_args__ = (UniqueConstraint("event_id", "student_id"),)
    id: Mapped[int] = _id()
    event_id: Mapped[int] = _fk("school_events.id", index=False)
    student_id: Mapped[int] = _fk("students.id")
    guardian_id: Mapped[int | None] = _fk("users.id", nullable=True, ondelete="SET NULL", index=False)
    answer: Mapped[str] = mapped_column(String(8))  # yes, no
    note: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ReminderSent(Base):
    """One reminder of one occurrence for one reader: its row is the guard that it goes out once."""

    __tablename__ = "event_reminders_sent"
    __table_args__ = (UniqueConstraint("event_id", "occurrence_at", "remind_at", "user_id"),)
    id: Mapped[int] = _id()
    event_id: Mapped[int] = _fk("school_events.id", index=False)
    occurrence_at: Mapped[datetime] = mapped_column(UtcDateTime())
    remind_at: Mapped[datetime] = mapped_column(UtcDateTime())
    user_id: Mapped[int] = _fk("users.id")
    sent_at: Mapped[datetime] = _created()


class CalendarFeed(Base):
    """A user's private iCalendar feed: the token is an HMAC of ``nonce``, so the row alone cannot open it."""

    __tablename__ = "calendar_feeds"
    id: Mapped[int] = _id()
    user_id: Mapped[int] = _fk("users.id")
    nonce: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = _created()
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class Absence(Base):
    """A guardian's report that a pupil is or will be away, for the office (P8)."""

    __tablename__ = "absences"
    __table_args__ = (Index("ix_absences_school_id_from_date", "school_id", "from_date"),)
    id: Mapped[int] = _id()
    school_id: Mapped[int] = _fk("schools.id", index=False)
    student_id: Mapped[int] = _fk("students.id")
    reporter_id: Mapped[int | None] = _fk("users.id", nullable=True, ondelete="SET NULL", index=False)
    from_date: Mapped[date] = mapped_column(Date)
    to_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(16))  # illness, medical, family, other
    note: Mapped[str] = mapped_column(Text, default="")
    lang: Mapped[str] = mapped_column(String(16), default="en")
    created_at: Mapped[datetime] = _created()
    acknowledged_by: Mapped[int | None] = _fk("users.id", nullable=True, ondelete="SET NULL", index=False)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
