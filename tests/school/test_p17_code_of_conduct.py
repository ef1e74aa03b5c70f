"""P17: parents accept the school's current code of conduct before using anything else."""

from __future__ import annotations

import httpx

from tests.factories import PASSWORD, Actor, World, api_endpoints, error_of, fill, unique

# What a parent who has not accepted the current version may still do.
ALLOWED = {
    ("GET", "/api/me"),
    ("GET", "/api/policy"),
    ("POST", "/api/policy/accept"),
    ("POST", "/api/auth/logout"),
    ("GET", "/api/languages"),
}


async def _family(world: World) -> tuple[Actor, Actor]:
    pupil = await world.add_student(world.classes[0], "Maya", "Ali")
    return pupil, await world.add_parent(pupil)


async def _change_policy(api: httpx.AsyncClient, world: World, text: str) -> int:
    response = await api.patch("/api/school", json={"policy_text": text}, headers=world.admin.headers)
    assert response.status_code == 200, response.text
    return int(response.json()["policy_version"])


async def test_p17_after_a_policy_change_parents_are_refused_everything_else(
    api: httpx.AsyncClient, world: World
) -> None:
    pupil, parent = await _family(world)
    assert pupil.student is not None
    assert (await api.get("/api/school", headers=parent.headers)).status_code == 200
    version = await _change_policy(api, world, "New rules: be kind, and read every post twice.")
    assert version == 2

    refused: list[str] = []
    checked = 0
    for method, template in api_endpoints():
        if (method, template) in ALLOWED:
            continue
        # Ids the parent could otherwise reach: their own child (and the child's class).
        path = fill(template, pupil.student.class_id if "classes" in template else pupil.student.id)
        anonymous = await api.request(method, path, json={})
        if anonymous.status_code != 401:
            continue  # a public endpoint (login, join, health): nothing to gate
        response = await api.request(method, path, json={}, headers=parent.headers)
        checked += 1
        if response.status_code != 403 or response.json()["error"]["code"] != "policy_not_accepted":
            refused.append(f"{method} {template} -> {response.status_code} {response.text[:120]}")
    assert checked >= 20
    assert refused == []


async def test_p17_the_refusal_names_the_version_to_accept(api: httpx.AsyncClient, world: World) -> None:
    _, parent = await _family(world)
    await _change_policy(api, world, "Version two of our code.")
    error = error_of(await api.get("/api/school", headers=parent.headers), 403, "policy_not_accepted")
    assert error["details"]["policy_version"] == 2


async def test_p17_the_allowed_endpoints_still_answer(api: httpx.AsyncClient, world: World) -> None:
    _, parent = await _family(world)
    await _change_policy(api, world, "Version two of our code.")
    me = await api.get("/api/me", headers=parent.headers)
    assert me.status_code == 200
    assert me.json()["policy_accepted_version"] == 1
    assert me.json()["needs_policy"] is True
    policy = await api.get("/api/policy", headers=parent.headers)
    assert policy.status_code == 200
    assert policy.json()["version"] == 2 and policy.json()["text"] == "Version two of our code."
    assert (await api.get("/api/languages", headers=parent.headers)).status_code == 200
    assert (await api.post("/api/auth/logout", headers=parent.headers)).status_code == 200


async def test_p17_accepting_the_current_version_unlocks_the_rest(
    api: httpx.AsyncClient, world: World
) -> None:
    _, parent = await _family(world)
    await _change_policy(api, world, "Version two of our code.")
    stale = await api.post("/api/policy/accept", json={"version": 1}, headers=parent.headers)
    error_of(stale, 422, "validation_error")
    assert (await api.get("/api/school", headers=parent.headers)).status_code == 403
    accepted = await api.post("/api/policy/accept", json={"version": 2}, headers=parent.headers)
    assert accepted.status_code == 200
    assert accepted.json()["accepted_version"] == 2
    assert (await api.get("/api/school", headers=parent.headers)).status_code == 200
    me = (await api.get("/api/me", headers=parent.headers)).json()
    assert me["policy_accepted_version"] == 2 and me["needs_policy"] is False


async def test_p17_changing_only_the_version_also_asks_again(api: httpx.AsyncClient, world: World) -> None:
    _, parent = await _family(world)
    response = await api.patch("/api/school", json={"policy_version": 5}, headers=world.admin.headers)
    assert response.json()["policy_version"] == 5
    error_of(await api.get("/api/classes", headers=parent.headers), 403, "policy_not_accepted")
    lower = await api.patch("/api/school", json={"policy_version": 4}, headers=world.admin.headers)
    error_of(lower, 422, "validation_error")


async def test_p17_saving_the_same_text_keeps_the_version(api: httpx.AsyncClient, world: World) -> None:
    _, parent = await _family(world)
    text = (await api.get("/api/policy", headers=parent.headers)).json()["text"]
    response = await api.patch("/api/school", json={"policy_text": text}, headers=world.admin.headers)
    assert response.json()["policy_version"] == 1
    assert (await api.get("/api/school", headers=parent.headers)).status_code == 200


async def test_p17_staff_and_pupils_are_not_asked(api: httpx.AsyncClient, world: World) -> None:
    pupil, _ = await _family(world)
    await _change_policy(api, world, "Version two of our code.")
    for actor in (world.teacher, world.office, world.admin, pupil):
        assert (await api.get("/api/school", headers=actor.headers)).status_code == 200
    error_of(await api.post("/api/policy/accept", json={"version": 2}, headers=world.teacher.headers), 403)


async def test_p17_joining_means_accepting_the_current_version(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0], "Maya", "Ali")
    code = await world.add_invite(pupil)
    await world.set_policy(3, "Version three.")
    join = {
        "code": code,
        "name": "Sam Ali",
        "email": f"{unique('sam')}@example.test",
        "password": PASSWORD,
        "language": "en",
        "accept_policy_version": 2,
    }
    error = error_of(await api.post("/api/join", json=join), 422, "validation_error")
    assert error["details"]["policy_version"] == 3
    joined = await api.post("/api/join", json={**join, "accept_policy_version": 3})  # the code is still good
    assert joined.status_code == 201, joined.text
    token = joined.json()["token"]
    assert (await api.get("/api/school", headers={"Authorization": f"Bearer {token}"})).status_code == 200
