"""P18: erasing a pupil leaves nothing of them in any table or in the media folder."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from server.db.models import AuditEntry, Base, Message, User
from server.services import Services
from tests.factories import World, error_of
from tests.privacy.conftest import Family, walk_json

ID_KEYS = {"student_id", "student_ids", "pupil_id", "user_id", "user_ids"}


async def _leftovers(services: Services, family: Family, sid: int, uid: int) -> list[str]:
    """Walk every table of the schema: names, file names, keys and id references of the pupil."""
    words = [w.lower() for w in family.words]
    found: list[str] = []
    async with services.read() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).mappings().all()
            for row in rows:
                for column in table.columns:
                    value = row[column.key]
                    for fk in column.foreign_keys:
                        target = fk.target_fullname
                        if (target == "students.id" and value == sid) or (
                            target == "users.id" and value == uid
                        ):
                            found.append(f"{table.name}.{column.key} -> {target} {value}")
                    if isinstance(value, str):
                        text = value.lower()
                    elif isinstance(value, dict | list):
                        text = json.dumps(value).lower()
                        for key, item in walk_json(value):
                            wanted = sid if "student" in key or "pupil" in key else uid
                            if key in ID_KEYS and (
                                item == wanted or (isinstance(item, list) and wanted in item)
                            ):
                                found.append(f"{table.name}.{column.key} has {key}={item}")
                    else:
                        continue
                    found += [f"{table.name}.{column.key} holds {w!r}" for w in words if w in text]
            if table.name == "audit_entries":
                for row in rows:
                    about = (row["target_type"], row["target_id"]) in (("student", sid), ("user", uid))
                    if about and row["action"] != "student.erased":
                        found.append(f"audit entry {row['action']} about the pupil")
    return found


def _files(root: Path) -> list[str]:
    return [name for _, _, names in os.walk(root) for name in names]


async def test_p18_erased_pupil_leaves_nothing_in_any_table_or_folder(
    api: httpx.AsyncClient, services: Services, world: World, family: Family
) -> None:
    assert family.pupil.student is not None
    sid, uid = family.pupil.student.id, family.pupil.id
    media_root = Path(services.settings.media_dir)
    before = _files(media_root)
    assert any(name.startswith(key) for key in family.media_keys for name in before)
    assert await _leftovers(services, family, sid, uid), "the scan must see the pupil before erasure"

    response = await api.delete(f"/api/students/{sid}", headers=world.admin.headers)
    assert response.status_code == 200, response.text

    assert await _leftovers(services, family, sid, uid) == []
    after = _files(media_root)
    assert [n for n in after for key in family.media_keys if key in n] == []
    async with services.read() as session:
        entries = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "student.erased"))
        ).all()
    erased = [e for e in entries if e.target_id == sid and e.school_id == world.school.id]
    assert len(erased) == 1 and erased[0].details == {} and erased[0].actor_id == world.admin.id
    # the pupil's classmates' post stays, without the tag; the pupil's session is gone
    assert (await api.get("/api/me", headers=family.pupil.headers)).status_code == 401
    post = await api.get(f"/api/posts/{family.post_id}", headers=world.teacher.headers)
    assert post.status_code == 200


async def test_erasing_a_pupil_is_for_admins_only(
    api: httpx.AsyncClient, world: World, family: Family
) -> None:
    assert family.pupil.student is not None
    response = await api.delete(f"/api/students/{family.pupil.student.id}", headers=world.teacher.headers)
    error_of(response, 403)


async def test_files_left_by_a_crash_after_erasure_are_swept(services: Services, world: World) -> None:
    from server.media.uploads import storage_of
    from server.privacy.erasure import sweep_orphan_files

    storage = storage_of(services)
    key = "orphan" + os.urandom(8).hex()
    with storage.writer(key) as out:
        out.write(b"left behind")
    path = storage.local_path(key)
    assert path is not None and path.exists()
    await sweep_orphan_files(services, grace=3600.0)
    assert path.exists(), "a fresh upload without its row yet is spared"
    await sweep_orphan_files(services, grace=-1.0)
    assert not path.exists()


async def test_deleted_adult_messages_stay_as_deleted_user(
    api: httpx.AsyncClient, services: Services, world: World, family: Family
) -> None:
    response = await api.request(
        "DELETE", "/api/me", json={"password": "wrong password"}, headers=family.parent.headers
    )
    error_of(response, 403)
    from tests.factories import PASSWORD

    response = await api.request(
        "DELETE", "/api/me", json={"password": PASSWORD}, headers=family.parent.headers
    )
    assert response.status_code == 200, response.text
    assert (await api.get("/api/me", headers=family.parent.headers)).status_code == 401
    async with services.read() as session:
        assert await session.get(User, family.parent.id) is None
        kept: list[Any] = list(
            (
                await session.scalars(select(Message).where(Message.sender_id.is_(None), Message.text == ""))
            ).all()
        )
    assert kept, "the parent's message stays for the teacher, without its text"


async def test_pupils_and_the_last_admin_cannot_erase_themselves(
    api: httpx.AsyncClient, world: World, family: Family
) -> None:
    from tests.factories import PASSWORD

    response = await api.request("DELETE", "/api/me", json={"password": "x"}, headers=family.pupil.headers)
    error_of(response, 403)
    response = await api.request(
        "DELETE", "/api/me", json={"password": PASSWORD}, headers=world.admin.headers
    )
    error_of(response, 409, "last_admin")


async def test_p18_erased_account_has_its_live_access_rechecked_after_commit(
    api: httpx.AsyncClient, services: Services, world: World, family: Family
) -> None:
    from tests.factories import PASSWORD

    seen: list[tuple[int, bool]] = []
    original = services.access_changed

    async def record(user_id: int) -> None:
        async with services.read() as session:
            seen.append((user_id, await session.get(User, user_id) is None))

    services.access_changed = record
    try:
        response = await api.request(
            "DELETE", "/api/me", json={"password": PASSWORD}, headers=family.parent.headers
        )
    finally:
        services.access_changed = original
    assert response.status_code == 200, response.text
    assert seen == [(family.parent.id, True)], "called once, after the account is gone"


async def test_p18_erasure_drops_the_live_history_that_mentions_the_pupil(
    api: httpx.AsyncClient, services: Services, world: World, family: Family
) -> None:
    """A reconnecting client must not be replayed the erased pupil's awards, tags or messages."""
    assert family.pupil.student is not None
    broker = services.live.broker
    school_class = world.classes[0]
    channels = [
        f"student:{family.pupil.student.id}",
        f"class:{school_class.id}",
        f"class:{school_class.id}:staff",
        f"user:{family.parent.id}",
    ]

    async def held(channel: str, epoch: str | None = None) -> tuple[str, str]:
        """The channel's epoch and its whole held history, as text."""
        position = await broker.history(channel, None, None)
        replay = await broker.history(channel, 0, epoch or position.epoch)
        return position.epoch, json.dumps([event.data for event in replay.events])

    before = {channel: await held(channel) for channel in channels}
    mentions = [channel for channel, (_, text) in before.items() if family.first in text]
    assert mentions == channels[:3], before  # awards, the tagged post, staff views

    response = await api.delete(f"/api/students/{family.pupil.student.id}", headers=world.admin.headers)
    assert response.status_code == 200, response.text
    for channel, (epoch, _) in before.items():
        assert not (await broker.history(channel, 0, epoch)).recovered, channel  # clients reload
        new_epoch, text = await held(channel)
        assert new_epoch != epoch and family.first not in text, channel


async def test_p18_erasing_a_pupil_erases_their_absences_and_event_answers(
    api: httpx.AsyncClient, services: Services, world: World, family: Family
) -> None:
    assert family.pupil.student is not None
    sid, uid = family.pupil.student.id, family.pupil.id
    note = f"{family.first} has the flu"
    family.words.append(note.lower())
    reported = await api.post(
        "/api/absences",
        json={"student_id": sid, "from": "2026-03-09", "to": "2026-03-10", "reason": "illness", "note": note},
        headers=family.parent.headers,
    )
    assert reported.status_code == 201, reported.text
    event = await api.post(
        f"/api/classes/{family.pupil.student.class_id}/events",
        json={"title": "Farm trip", "starts_at": "2099-06-10T09:00:00+01:00", "rsvp": "consent"},
        headers=world.teacher.headers,
    )
    answered = await api.put(
        f"/api/events/{event.json()['id']}/responses/{sid}",
        json={"answer": "yes", "note": f"{family.first} is vegetarian"},
        headers=family.parent.headers,
    )
    assert answered.status_code == 200, answered.text
    assert (await api.delete(f"/api/students/{sid}", headers=world.admin.headers)).status_code == 200
    assert await _leftovers(services, family, sid, uid) == []
