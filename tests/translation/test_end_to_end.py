"""End to end on a real server: a teacher's English post reaches each family in its language.

One ``python -m server serve`` process (SQLite, embedded jobs) with argos (tiny en→ur
package) then Apertium (en↔es). Parents read Spanish, Urdu, English and Polish (no
engine): live over ``/ws`` and over REST. Needs the stories and live layers (skipped
until both are present and stories serves translations through ``server.language.view``).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from server.db.models import Translation
from server.services import Services
from server.translation.argos import install_package
from tests.factories import Actor, World, make_world
from tests.live.client import LiveClient
from tests.live.servers import LiveServer, live_database, running_servers, shared_services
from tests.translation.fixtures import ARGOS_LANG, needs_apertium, needs_argos

pytestmark = [pytest.mark.live, needs_argos, needs_apertium]


class Site:
    def __init__(self, server: LiveServer, services: Services) -> None:
        self.server = server
        self.services = services


@pytest.fixture(scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory, tiny_packages: dict) -> AsyncIterator[Site]:
    tmp = tmp_path_factory.mktemp("translation-e2e")
    install_package(tiny_packages[("en", ARGOS_LANG)], tmp)
    extra = {"HOMEROOM_TRANSLATION_ENGINES": "argos,apertium"}
    async with (
        live_database("sqlite", tmp) as url,
        shared_services(url, tmp) as services,
        running_servers(1, database_url=url, broker_url="memory://", data_dir=tmp, extra=extra) as servers,
    ):
        yield Site(servers[0], services)


async def family_class(site: Site) -> tuple[World, dict[str, Actor]]:
    world = await make_world(site.services)
    parents = {}
    for n, language in enumerate(("es", ARGOS_LANG, "en", "pl")):
        pupil = await world.add_student(world.classes[0], f"Child{n}", "Family")
        parents[language] = await world.add_parent(pupil, language=language)
    return world, parents


async def post(site: Site, world: World, text: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=site.server.http_url) as client:
        response = await client.post(
            f"/api/classes/{world.classes[0].id}/posts", json={"text": text}, headers=world.teacher.headers
        )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def read_post(site: Site, reader: Actor, post_id: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=site.server.http_url) as client:
        response = await client.get(f"/api/posts/{post_id}", headers=reader.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_p4_an_english_post_reaches_each_family_in_its_language_live_and_over_rest(site: Site) -> None:
    world, parents = await family_class(site)
    channel = f"class:{world.classes[0].id}"
    text = f"Tomorrow is PE day {secrets.token_hex(2)}. Please bring a water bottle."
    async with (
        LiveClient.connect(site.server.ws_url, parents["es"].token) as es,
        LiveClient.connect(site.server.ws_url, parents[ARGOS_LANG].token) as ur,
        LiveClient.connect(site.server.ws_url, parents["en"].token) as en,
        LiveClient.connect(site.server.ws_url, parents["pl"].token) as pl,
    ):
        for client in (es, ur, en, pl):
            assert (await client.subscribe(channel))["op"] == "subbed"
        created = await post(site, world, text)
        post_id = created["id"]

        def is_created(frame: dict[str, Any]) -> bool:
            return frame.get("type") == "post.created" and frame["data"]["post"]["id"] == post_id

        def is_translated(frame: dict[str, Any]) -> bool:
            return frame.get("type") == "post.translated" and frame["data"]["post_id"] == post_id

        first = {
            lang: (await client.wait_for(is_created))["data"]["post"]
            for lang, client in (("es", es), (ARGOS_LANG, ur), ("en", en), ("pl", pl))
        }
        assert first["en"]["translation"] == {"status": "not_needed"} and first["en"]["text"] == text
        assert first["pl"]["translation"] == {"status": "unavailable"} and first["pl"]["text"] == text
        for lang in ("es", ARGOS_LANG):
            assert first[lang]["translation"]["status"] in ("pending", "ready")
            assert first[lang]["original"] == {"text": text, "lang": "en"}
            assert "translations" not in first[lang]
        spanish = (await es.wait_for(is_translated, deadline=10))["data"]
        urdu = (await ur.wait_for(is_translated, deadline=10))["data"]
        assert spanish["lang"] == "es" and "Mañana" in spanish["text"]
        assert urdu["lang"] == ARGOS_LANG and urdu["text"]
        assert "audience" not in spanish
        await asyncio.sleep(0.3)  # nothing else arrives: English and Polish readers get no translation
        assert not any(is_translated(frame) for frame in en.frames + pl.frames)
        assert not any(is_translated(frame) and frame["data"]["lang"] != "es" for frame in es.frames)

    rest = {lang: await read_post(site, reader, post_id) for lang, reader in parents.items()}
    assert rest["es"]["translation"] == {"status": "ready", "engine": "apertium"}
    assert rest["es"]["text"] == spanish["text"] and rest["es"]["lang"] == "es"
    assert rest[ARGOS_LANG]["translation"] == {"status": "ready", "engine": "argos"}
    assert rest["en"]["translation"] == {"status": "not_needed"}
    assert rest["pl"]["translation"] == {"status": "unavailable"}
    for view in rest.values():
        assert view["original"] == {"text": text, "lang": "en"}


async def test_100_identical_posts_cause_one_translation_per_language(site: Site) -> None:
    from sqlalchemy import func, select

    from server.language.stored import content_hash

    world, parents = await family_class(site)
    text = f"Weekly reminder {secrets.token_hex(3)}: reading books go home every Monday."
    ids = [(await post(site, world, text))["id"] for _ in range(100)]
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        views = [await read_post(site, parents[lang], ids[-1]) for lang in ("es", ARGOS_LANG)]
        if all(view["translation"]["status"] == "ready" for view in views):
            break
        assert asyncio.get_running_loop().time() < deadline, views
        await asyncio.sleep(0.1)
    async with site.services.read() as session:
        rows = await session.scalar(
            select(func.count())
            .select_from(Translation)
            .where(Translation.content_hash == content_hash(text))
        )
    assert rows == 2  # one translation per language, stored once, served to all 100 posts
    for post_id in (ids[0], ids[49]):
        assert (await read_post(site, parents["es"], post_id))["translation"]["status"] == "ready"


async def test_p18_deleting_the_only_post_with_a_text_removes_its_translations(site: Site) -> None:
    from sqlalchemy import func, select

    from server.language.stored import content_hash

    world, parents = await family_class(site)
    text = f"Private note for deletion {secrets.token_hex(3)}."
    post_id = (await post(site, world, text))["id"]
    deadline = asyncio.get_running_loop().time() + 10
    while (await read_post(site, parents["es"], post_id))["translation"]["status"] != "ready":
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)
    async with httpx.AsyncClient(base_url=site.server.http_url) as client:
        response = await client.delete(f"/api/posts/{post_id}", headers=world.teacher.headers)
    assert response.status_code in (200, 204)
    async with site.services.read() as session:
        rows = await session.scalar(
            select(func.count())
            .select_from(Translation)
            .where(Translation.content_hash == content_hash(text))
        )
    assert rows == 0


async def test_p4_a_parents_spanish_message_is_read_by_the_teacher_in_english_over_rest(site: Site) -> None:
    world, parents = await family_class(site)
    # Working hours every day, so the message is not held for quiet hours whenever the test runs.
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    await world.update_school(working_hours={day: ["00:00", "23:59"] for day in days})
    parent = parents["es"]
    async with httpx.AsyncClient(base_url=site.server.http_url) as client:
        me = (await client.get("/api/me", headers=parent.headers)).json()
        opened = await client.post(
            "/api/conversations",
            json={"student_id": me["children"][0]["id"], "staff_id": world.teacher.id},
            headers=parent.headers,
        )
        assert opened.status_code in (200, 201), opened.text
        url = f"/api/conversations/{opened.json()['id']}/messages"
        text = f"Mi hijo tiene fiebre hoy {secrets.token_hex(2)}."
        sent = await client.post(url, json={"text": text}, headers=parent.headers)
        assert sent.status_code == 201, sent.text
        message_id = sent.json()["id"]
        deadline = asyncio.get_running_loop().time() + 15
        while True:
            items = (await client.get(url, headers=world.teacher.headers)).json()["items"]
            seen = next((m for m in items if m["id"] == message_id), None)
            if seen is not None and seen["translation"]["status"] == "ready":
                break
            assert asyncio.get_running_loop().time() < deadline, seen
            await asyncio.sleep(0.1)
    assert seen["lang"] == "en" and "fever" in seen["text"]
    assert seen["original"] == {"text": text, "lang": "es"}
