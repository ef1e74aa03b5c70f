"""Uploads count against daily quotas per account and per school; unattached uploads go within an hour."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from server.db.models import Media
from server.media import sweeper
from server.media.sweeper import sweep_once
from server.services import Services
from server.settings import Settings, load_settings
from server.timeutil import utcnow
from tests.conftest import Clock
from tests.factories import World, error_of, image_bytes, upload

PHOTO = image_bytes()
README = Path(__file__).resolve().parents[2] / "README.md"
QUOTA_SETTINGS = [
    "upload_quota_staff_bytes",
    "upload_quota_parent_bytes",
    "upload_quota_pupil_bytes",
    "upload_quota_school_bytes",
    "unattached_upload_seconds",
]


@pytest.fixture
def quotas(services: Services, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Set quotas (in photos of ``PHOTO``'s size) for one test."""

    def set_(**photos: float) -> None:
        changes = {f"upload_quota_{who}_bytes": int(n * len(PHOTO)) for who, n in photos.items()}
        monkeypatch.setattr(services, "settings", services.settings.with_(**changes))

    return set_


async def _uploads_of(services: Services, user_id: int) -> int:
    async with services.read() as session:
        return int(await session.scalar(select(func.count()).where(Media.uploader_id == user_id)) or 0)


async def test_a_pupil_past_their_daily_allowance_is_refused_with_413_quota_exceeded(
    api: httpx.AsyncClient, world: World, quotas: Callable[..., None]
) -> None:
    quotas(pupil=2.5)
    pupil = await world.add_student(world.classes[0])
    for _ in range(2):
        assert (await upload(api, pupil, PHOTO)).status_code == 201
    error = error_of(await upload(api, pupil, PHOTO), 413, "quota_exceeded")
    assert error["details"] == {
        "scope": "user",
        "limit_bytes": int(2.5 * len(PHOTO)),
        "used_bytes": 2 * len(PHOTO),
    }
    assert await _uploads_of(world.services, pupil.id) == 2
    assert (await upload(api, world.teacher, PHOTO)).status_code == 201  # staff have their own allowance


async def test_an_account_with_nothing_left_is_refused_before_its_file_is_read(
    api: httpx.AsyncClient, world: World, quotas: Callable[..., None]
) -> None:
    quotas(parent=1)
    parent = await world.add_parent(await world.add_student(world.classes[0]))
    assert (await upload(api, parent, PHOTO)).status_code == 201
    refused = await api.post(
        "/api/media", content=b"x" * 100, headers={**parent.headers, "content-type": "text/plain"}
    )
    error_of(refused, 413, "quota_exceeded")


async def test_the_school_has_one_allowance_for_all_its_accounts_together(
    api: httpx.AsyncClient, world: World, quotas: Callable[..., None]
) -> None:
    quotas(school=2.5)
    assert (await upload(api, world.teacher, PHOTO)).status_code == 201
    assert (await upload(api, world.office, PHOTO)).status_code == 201
    error = error_of(await upload(api, world.admin, PHOTO), 413, "quota_exceeded")
    assert error["details"]["scope"] == "school"


async def test_the_allowance_is_for_any_24_hours(
    api: httpx.AsyncClient, world: World, clock: Clock, quotas: Callable[..., None]
) -> None:
    quotas(pupil=1.5)
    pupil = await world.add_student(world.classes[0])
    clock.set(utcnow() - timedelta(days=1))  # sessions made by the factories last a day from now
    assert (await upload(api, pupil, PHOTO)).status_code == 201
    clock.advance(hours=23, minutes=59)
    error_of(await upload(api, pupil, PHOTO), 413, "quota_exceeded")
    clock.advance(minutes=1, seconds=1)
    assert (await upload(api, pupil, PHOTO)).status_code == 201


async def test_sweeping_or_deleting_uploads_gives_no_allowance_back(
    api: httpx.AsyncClient, world: World, clock: Clock, quotas: Callable[..., None]
) -> None:
    quotas(staff=2.5)
    clock.set(utcnow())
    for _ in range(2):
        assert (await upload(api, world.teacher, PHOTO)).status_code == 201
    clock.advance(hours=2)
    assert await sweep_once(world.services) >= 2
    assert await _uploads_of(world.services, world.teacher.id) == 0
    error_of(await upload(api, world.teacher, PHOTO), 413, "quota_exceeded")


async def test_simultaneous_uploads_cannot_both_take_the_last_room(
    api: httpx.AsyncClient, world: World, quotas: Callable[..., None]
) -> None:
    quotas(pupil=3.5)
    pupil = await world.add_student(world.classes[0])
    answers = await asyncio.gather(*(upload(api, pupil, PHOTO) for _ in range(8)))
    assert sorted(a.status_code for a in answers) == [201] * 3 + [413] * 5
    assert await _uploads_of(world.services, pupil.id) == 3


async def test_unattached_uploads_are_swept_within_an_hour(
    api: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    defaults = Settings()
    assert defaults.unattached_upload_seconds + sweeper.sweep_interval(defaults) <= 3600
    fresh = (await upload(api, world.teacher, PHOTO)).json()
    clock.set(utcnow() + timedelta(minutes=10))
    await sweep_once(world.services)
    assert (await api.get(fresh["url"], headers=world.teacher.headers)).status_code == 200
    clock.set(utcnow() + timedelta(seconds=defaults.unattached_upload_seconds + 1))
    assert await sweep_once(world.services) >= 1
    clock.fixed = None
    assert (await api.get(fresh["url"], headers=world.teacher.headers)).status_code == 404


def test_pupils_get_far_less_than_parents_and_parents_less_than_staff() -> None:
    defaults = Settings()
    assert 4 * defaults.upload_quota_pupil_bytes <= defaults.upload_quota_parent_bytes
    assert 4 * defaults.upload_quota_parent_bytes <= defaults.upload_quota_staff_bytes
    assert defaults.upload_quota_staff_bytes < defaults.upload_quota_school_bytes
    assert defaults.upload_quota_pupil_bytes < 27 * 1024 * 1024  # what one pupil account sent in 0.2 s


def test_quota_settings_come_from_the_environment_and_are_documented(tmp_path: Path) -> None:
    environ = {
        "HOMEROOM_DATA_DIR": str(tmp_path),
        **{f"HOMEROOM_{name.upper()}": "1234" for name in QUOTA_SETTINGS},
    }
    settings = load_settings(environ)
    assert all(getattr(settings, name) == 1234 for name in QUOTA_SETTINGS)
    readme = README.read_text()
    for name in QUOTA_SETTINGS:
        assert f"`HOMEROOM_{name.upper()}`" in readme, name
