"""The administration pages' API: a pupil's invite codes, the audit log with names, and reach."""

from __future__ import annotations

import csv
import io

import httpx

from server.services import Services
from tests.factories import World, error_of


async def test_invite_codes_are_listed_by_status_and_an_unused_one_can_be_revoked(
    api: httpx.AsyncClient, world: World
) -> None:
    pupil, _ = await world.add_family("Ava")
    assert pupil.student is not None
    made = [
        (
            await api.post("/api/invites", json={"student_id": pupil.student.id}, headers=world.admin.headers)
        ).json()
        for _ in range(2)
    ]
    listed = (
        await api.get(f"/api/students/{pupil.student.id}/invites", headers=world.teacher.headers)
    ).json()
    assert [i["status"] for i in listed["items"]] == ["open", "open"]
    assert all("code" not in i for i in listed["items"])  # codes are kept hashed: shown once, when made
    newest = listed["items"][0]["id"]
    revoked = await api.delete(f"/api/invites/{newest}", headers=world.admin.headers)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    refused = await api.post("/api/join/preview", json={"code": made[1]["code"]})
    assert refused.status_code == 422
    assert (await api.post("/api/join/preview", json={"code": made[0]["code"]})).status_code == 200
    error_of(await api.get(f"/api/students/{pupil.student.id}/invites", headers=world.office.headers), 403)
    other = await world.add_user("parent")
    error_of(await api.delete(f"/api/invites/{newest}", headers=other.headers), 403)


async def test_the_audit_log_names_who_acted_and_on_whom_and_filters_by_action(
    api: httpx.AsyncClient, world: World
) -> None:
    made = await api.post("/api/classes", json={"name": "Year 2 Willow"}, headers=world.admin.headers)
    class_id = made.json()["id"]
    pupil = await api.post(
        f"/api/classes/{class_id}/students",
        json={"first_name": "Zoë", "last_name": "Adams", "photo_consent": True},
        headers=world.admin.headers,
    )
    created = (await api.get("/api/audit?action=student.created", headers=world.admin.headers)).json()[
        "items"
    ]
    assert [(e["actor"]["name"], e["target"]["name"]) for e in created] == [("Mrs Adebayo", "Zoë")]
    assert created[0]["target"]["id"] == pupil.json()["id"]
    classes = (await api.get("/api/audit?action=class.created", headers=world.admin.headers)).json()["items"]
    assert classes[0]["target"] == {"type": "class", "id": class_id, "name": "Year 2 Willow"}
    actions = (await api.get("/api/audit/actions", headers=world.admin.headers)).json()["items"]
    assert {"class.created", "student.created"} <= set(actions)
    error_of(await api.get("/api/audit/actions", headers=world.teacher.headers), 403)


async def test_reach_counts_linked_families_lists_who_has_not_joined_and_exports_csv(
    api: httpx.AsyncClient, services: Services, world: World
) -> None:
    pupil, parent = await world.add_family("Maja", language="pl")
    lonely = await world.add_student(world.classes[0], "Omar", "Farouk")
    post = await api.post(
        f"/api/classes/{world.classes[0].id}/posts",
        json={"text": "PE tomorrow"},
        headers=world.teacher.headers,
    )
    assert post.status_code == 201
    await api.get("/api/feed", headers=parent.headers)  # the family has been in since
    report = (await api.get("/api/reach", headers=world.admin.headers)).json()
    row = next(c for c in report["classes"] if c["id"] == world.classes[0].id)
    assert row["pupils"] == 2 and row["guardians"] == {"0": 1, "1": 1, "2": 0}
    assert {item["student"]["name"] for item in row["not_joined"]} == {"Maja", "Omar"}
    assert row["languages"] == {"pl": 1}
    assert row["languages_not_translated"] == ["pl"]  # no engine in the tests
    assert row["posts"][0]["families"] == 1
    assert lonely.student is not None and pupil.student is not None
    exported = await api.get("/api/reach.csv", headers=world.admin.headers)
    assert exported.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert table[0][0] == "Class" and table[1][:5] == [world.classes[0].name, "2", "1", "1", "0"]
    error_of(await api.get("/api/reach", headers=world.teacher.headers), 403)


async def test_a_class_is_archived_only_without_current_pupils_and_then_takes_none(
    api: httpx.AsyncClient, world: World
) -> None:
    made = (await api.post("/api/classes", json={"name": "Year 6 Elm"}, headers=world.admin.headers)).json()
    url = f"/api/classes/{made['id']}"
    pupil = (
        await api.post(
            f"{url}/students", json={"first_name": "Leo", "last_name": "Hart"}, headers=world.admin.headers
        )
    ).json()
    error_of(await api.patch(url, json={"archived": True}, headers=world.admin.headers), 409, "not_empty")
    left = await api.patch(
        f"/api/students/{pupil['id']}",
        json={"left_at": "2026-07-20T12:00:00+00:00"},
        headers=world.admin.headers,
    )
    assert left.status_code == 200
    archived = await api.patch(url, json={"archived": True}, headers=world.admin.headers)
    assert archived.status_code == 200 and archived.json()["archived"] is True
    listed = (await api.get("/api/classes", headers=world.admin.headers)).json()["items"]
    assert made["id"] not in [c["id"] for c in listed]
    everything = (await api.get("/api/classes?archived=true", headers=world.admin.headers)).json()["items"]
    assert made["id"] in [c["id"] for c in everything]
    refused = await api.post(
        f"{url}/students", json={"first_name": "Mia", "last_name": "Hart"}, headers=world.admin.headers
    )
    error_of(refused, 409, "archived")
    back = await api.patch(
        url, json={"archived": False, "name": "Year 6 Elm 2025"}, headers=world.admin.headers
    )
    assert back.json() == {**back.json(), "archived": False, "name": "Year 6 Elm 2025"}
    audit = (await api.get("/api/audit/actions", headers=world.admin.headers)).json()["items"]
    assert {"class.archived", "class.unarchived"} <= set(audit)
