"""``POST /api/join/preview``: the policy and languages a family sees before joining (P14, P17)."""

from __future__ import annotations

import httpx

from tests.factories import PASSWORD, World


async def _invite(api: httpx.AsyncClient, world: World, first_name: str = "Amir") -> tuple[str, int]:
    school_class = world.classes[0]
    pupil = await world.add_student(school_class, first_name)
    assert pupil.student is not None
    reply = await api.post(
        "/api/invites", json={"student_id": pupil.student.id}, headers=world.teacher.headers
    )
    assert reply.status_code == 201
    return reply.json()["code"], pupil.student.id


async def test_p17_preview_shows_the_current_policy_before_joining(
    api: httpx.AsyncClient, world: World
) -> None:
    code, _ = await _invite(api, world)
    reply = await api.post("/api/join/preview", json={"code": code.lower()})
    assert reply.status_code == 200
    body = reply.json()
    assert body["school"]["name"] == world.school.name
    assert body["student"] == {"name": "Amir"}
    assert body["policy"]["version"] == world.school.policy_version
    assert "code of conduct" in body["policy"]["text"].lower()
    codes = [lang["code"] for lang in body["languages"]]
    assert codes[0] == "en" and "es" in codes and "ur" in codes
    assert next(lang for lang in body["languages"] if lang["code"] == "ar")["rtl"] is True


async def test_preview_does_not_use_up_the_code(api: httpx.AsyncClient, world: World) -> None:
    code, _ = await _invite(api, world)
    assert (await api.post("/api/join/preview", json={"code": code})).status_code == 200
    joined = await api.post(
        "/api/join",
        json={
            "code": code,
            "name": "Sarah Khan",
            "email": f"sarah-{world.school.id}@families.test",
            "password": PASSWORD,
            "language": "en",
            "accept_policy_version": world.school.policy_version,
        },
    )
    assert joined.status_code == 201
    again = await api.post("/api/join/preview", json={"code": code})
    assert again.status_code == 422
    assert again.json()["error"] == {
        "code": "invalid_code",
        "message": "That code has already been used. Ask the school for a new one.",
        "details": {"reason": "used"},
    }


async def test_p14_unknown_codes_are_refused_and_rate_limited(api: httpx.AsyncClient, world: World) -> None:
    unknown = await api.post("/api/join/preview", json={"code": "ABCDE-FGHJK"})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"] == {"reason": "unknown"}
    limit = world.services.settings.code_attempts_per_minute
    statuses = [
        (await api.post("/api/join/preview", json={"code": "ZZZZZ-ZZZZZ"})).status_code for _ in range(limit)
    ]
    assert statuses[-1] == 429


async def test_bad_preview_bodies_are_4xx(api: httpx.AsyncClient, world: World) -> None:
    json_type = {"content-type": "application/json"}
    assert (await api.post("/api/join/preview", content=b"not json", headers=json_type)).status_code == 400
    assert (await api.post("/api/join/preview", content=b"not json")).status_code == 415  # JSON only
    assert (await api.post("/api/join/preview", json={"code": "abc"})).status_code == 422
    assert (await api.post("/api/join/preview", json={})).status_code == 422
