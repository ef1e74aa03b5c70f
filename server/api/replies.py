"""The shapes of API replies, declared for the OpenAPI document (``@describe(responses=...)``).

These models document and check replies; the routes still build them as dicts through
``server.api.shapes`` and the domain modules. The fuzz tests (``tests/api/test_fuzz.py``)
validate every reply of a described route against its model, so a shape that drifts
from its declaration fails there. Extra keys are allowed, as API.md allows new fields.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Reply(BaseModel):
    """Base of reply shapes: new fields may appear (API.md), so unknown keys are allowed."""

    model_config = ConfigDict(extra="allow")


class PersonRef(Reply):
    id: int | None
    name: str


class Text(Reply):
    text: str
    lang: str


class Translation(Reply):
    status: Literal["ready", "pending", "not_needed", "unavailable"]
    engine: str | None = None


class MediaRef(Reply):
    id: int
    kind: Literal["image", "pdf"]
    url: str


class Post(Reply):
    """A post as one reader sees it (API.md "Stories")."""

    id: int
    scope: Literal["class", "school"]
    class_id: int | None
    author: PersonRef
    text: str
    lang: str
    original: Text
    translation: Translation
    media: list[MediaRef]
    students: list[PersonRef]
    like_count: int = Field(ge=0)
    liked: bool
    created_at: AwareDatetime
    edited_at: AwareDatetime | None
    media_withheld: int | None = Field(default=None, ge=1, description="staff only")


class PostPage(Reply):
    items: list[Post]
    next_before: int | None


class Like(Reply):
    like_count: int = Field(ge=0)
    liked: bool


class Deleted(Reply):
    deleted: Literal[True]


class SchoolRef(Reply):
    id: int
    name: str
    language: str


class Me(Reply):
    """``GET /api/me``: the user, their school, and their children (parents) or pupil record (pupils)."""

    id: int
    name: str
    email: str | None
    role: Literal["admin", "teacher", "office", "parent", "student"]
    language: str
    school: SchoolRef
    policy_accepted_version: int | None
    policy_version: int
    needs_policy: bool


class SignedIn(Reply):
    """A new session: the bearer token, the CSRF token for cookie use, and the user."""

    token: str = Field(min_length=32)
    csrf_token: str
    user: Me


class Policy(Reply):
    """The code of conduct in the reader's language; ``original`` is the version accepted."""

    version: int
    text: str
    lang: str
    original: Text
    translation: Translation
    accepted_version: int | None


class Skill(Reply):
    id: int
    name: str
    icon: str
    points: int


class SkillList(Reply):
    items: list[Skill]
