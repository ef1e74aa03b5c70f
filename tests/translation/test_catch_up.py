"""Catching up at start-up: content written without events, and jobs lost at a restart, get translated.

The demo seeds its week straight into the database (no ``post.created`` events), and
the in-process job queue forgets its jobs when the server stops. Both used to leave
posts "Translating…" for good; the pipeline now checks recent posts and messages
against the cache when it starts. Real Apertium (en→es).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from server.app import create_app
from server.cli.demo import DEMO_PASSWORD, seed_demo
from server.db.engine import Database
from server.db.migrate import upgrade
from server.db.models import User
from server.translation.pipeline import Pipeline
from tests.conftest import Clock, make_settings
from tests.factories import make_world
from tests.translation.fixtures import needs_apertium

pytestmark = needs_apertium


@asynccontextmanager
async def running(tmp: Path, url: str) -> AsyncIterator[Starlette]:
    """An app translating with Apertium only, started (and stopped at the end)."""
    settings = make_settings(tmp, url).with_(translation_engines=("apertium",))
    application = create_app(settings, clock=Clock())
    async with application.router.lifespan_context(application):
        yield application


@asynccontextmanager
async def client(application: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=application, client=("10.77.0.1", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
        yield api


async def until(check: Callable[[], Awaitable[Any]], seconds: float = 30.0) -> Any:
    """Poll ``check`` until it returns something true, or fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        found = await check()
        if found:
            return found
        assert time.monotonic() < deadline, "not translated in time"
        await asyncio.sleep(0.05)


async def test_demo_posts_and_messages_reach_a_spanish_parent_translated_on_first_start(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    try:
        async with db.session() as session:
            logins = await seed_demo(session)
            await session.commit()
        async with db.session() as session:
            emails = [email for _, email in logins.parents]
            spanish = await session.scalar(
                select(User.email).where(User.email.in_(emails), User.language == "es")
            )
    finally:
        await db.dispose()
    assert spanish is not None, "the demo prints a Spanish-reading parent"

    async with running(tmp_path, url) as application, client(application) as api:
        login = await api.post("/api/auth/login", json={"email": spanish, "password": DEMO_PASSWORD})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['token']}"}

        async def feed_translated() -> list[dict[str, Any]] | None:
            reply = await api.get("/api/feed?limit=100", headers=headers)
            assert reply.status_code == 200, reply.text
            items = reply.json()["items"]
            done = all(p["translation"]["status"] == "ready" and p["lang"] == "es" for p in items)
            return items if items and done else None

        posts = await until(feed_translated)
        assert all(p["original"]["lang"] == "en" and p["text"] != p["original"]["text"] for p in posts)

        conversations = (await api.get("/api/conversations", headers=headers)).json()["items"]
        assert conversations, "the demo gives the printed parents a conversation"

        async def messages_translated() -> bool:
            for conversation in conversations:
                reply = await api.get(f"/api/conversations/{conversation['id']}/messages", headers=headers)
                for message in reply.json()["items"]:
                    theirs = not message["system"] and message["sender"]["role"] != "parent"
                    if theirs and message["translation"]["status"] != "ready":
                        return False
            return True

        await until(messages_translated)

        children = (await api.get("/api/me", headers=headers)).json()["children"]

        async def comments_translated() -> bool:
            for child in children:
                reply = await api.get(f"/api/students/{child['id']}/portfolio", headers=headers)
                for item in reply.json()["items"]:
                    if item.get("comment") and item["comment_translation"]["status"] != "ready":
                        return False
            return True

        await until(comments_translated)

        async def events_translated() -> list[dict[str, Any]] | None:
            reply = await api.get("/api/school/events", headers=headers)
            assert reply.status_code == 200, reply.text
            items = reply.json()["items"]
            done = all(e["translation"]["status"] == "ready" for e in items)
            return items if items and done else None

        events = await until(events_translated)
        assert all(e["title"] != e["original"]["title"] for e in events)


async def test_a_post_whose_job_was_lost_at_a_restart_is_translated_after_it(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'restart.db'}"
    await asyncio.to_thread(upgrade, url)
    async with running(tmp_path, url) as first, client(first) as api:
        services = first.state.services
        world = await make_world(services)
        pupil = await world.add_student(world.classes[0], "Lola")
        parent = await world.add_parent(pupil, language="es")
        pipeline: Pipeline = services.translation.pipeline
        await pipeline.queue.stop()  # the server is going down: its job tasks are gone
        reply = await api.post(
            f"/api/classes/{world.classes[0].id}/posts",
            json={"text": "The school trip is on Friday."},
            headers=world.teacher.headers,
        )
        assert reply.status_code == 201, reply.text
        post_id = reply.json()["id"]
        await until(lambda: pipeline.queue.depth())  # the job was queued, and is never done
        assert (await api.get(f"/api/posts/{post_id}", headers=parent.headers)).json()["translation"][
            "status"
        ] == "pending"

    async with running(tmp_path, url) as second, client(second) as api:

        async def translated() -> dict[str, Any] | None:
            found = (await api.get(f"/api/posts/{post_id}", headers=parent.headers)).json()
            return found if found["translation"]["status"] == "ready" else None

        post = await until(translated)
        assert post["lang"] == "es" and post["original"]["text"] == "The school trip is on Friday."
