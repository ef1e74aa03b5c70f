"""Push benchmark: one school post to N subscribed devices, against a local push service.

    . tools/test-services.sh
    .venv/bin/python bench/notify.py --devices 5000 --database postgresql

It starts the local push service of the tests (``tests/notify/push_service.py``) in its own
process with N fake devices (real P-256 keys and auth secrets; every push's VAPID JWT is
verified and its payload decrypted there), builds a school with N guardians each subscribed
on one device in a fresh database, starts Homeroom's app in this process with its push
worker running as in production, posts once to the school story through the HTTP API,
and waits until the push service has accepted N pushes. It prints the time from the
post to the last delivery, the server's CPU seconds (this process only: the push
service's verification and decryption are not counted) and CPU per push, and checks that
every device got exactly one push and that nothing more is sent afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.procstat import cpu_seconds, loop_runner  # noqa: E402


async def serve_push(devices: int, port_file: Path, subscriptions_file: Path) -> None:
    """The push-service process: N devices, their subscriptions written for the server side."""
    from tests.notify.push_service import PushService

    async with PushService() as service:
        subscriptions = [service.device(f"d{i}").subscription() for i in range(devices)]
        await asyncio.to_thread(subscriptions_file.write_text, json.dumps(subscriptions))
        await asyncio.to_thread(port_file.write_text, service.base)
        await asyncio.Event().wait()  # serve until the benchmark terminates this process


async def seed(database_url: str, subscriptions: list[dict[str, Any]]) -> tuple[int, str]:
    """A school with one class and a guardian per device, each subscribed; returns (school, admin token)."""
    import hashlib
    import secrets

    from sqlalchemy import insert, select

    from server.auth.tokens import digest, new_token
    from server.db.engine import Database
    from server.db.models import GuardianLink, PushSubscription, School, SchoolClass, Session, Student, User
    from server.timeutil import utcnow

    db = Database(database_url)
    now = utcnow()
    token = new_token()
    async with db.session() as session:
        school = School(name="Bench Primary", policy_version=1, policy_text="Be kind.")
        session.add(school)
        await session.flush()
        school_class = SchoolClass(
            school_id=school.id, name="Year 4 Oak", class_code=secrets.token_hex(5).upper()
        )
        admin = User(
            school_id=school.id, role="admin", name="Head", email=f"head-{secrets.token_hex(4)}@bench.test"
        )
        session.add_all([school_class, admin])
        await session.flush()
        session.add(
            Session(user_id=admin.id, token_hash=digest(token), expires_at=now.replace(year=now.year + 1))
        )
        n = len(subscriptions)
        await session.execute(
            insert(User),
            [
                {"school_id": school.id, "role": "student", "name": f"Pupil{i}", "language": "en"}
                for i in range(n)
            ],
        )
        await session.execute(
            insert(User),
            [
                {
                    "school_id": school.id,
                    "role": "parent",
                    "name": f"Parent {i}",
                    "email": f"p{i}-{secrets.token_hex(3)}@bench.test",
                    "language": "en",
                    "policy_accepted_version": 1,
                }
                for i in range(n)
            ],
        )
        pupils = list(
            (
                await session.scalars(
                    select(User.id)
                    .where(User.school_id == school.id, User.role == "student")
                    .order_by(User.id)
                )
            ).all()
        )
        parents = list(
            (
                await session.scalars(
                    select(User.id)
                    .where(User.school_id == school.id, User.role == "parent")
                    .order_by(User.id)
                )
            ).all()
        )
        await session.execute(
            insert(Student),
            [
                {
                    "school_id": school.id,
                    "class_id": school_class.id,
                    "user_id": uid,
                    "first_name": f"Pupil{i}",
                    "last_name": "Bench",
                    "student_code": f"S{i:06d}",
                    "photo_consent": True,
                    "la_care": False,
                }
                for i, uid in enumerate(pupils)
            ],
        )
        students = list(
            (
                await session.scalars(
                    select(Student.id).where(Student.school_id == school.id).order_by(Student.id)
                )
            ).all()
        )
        await session.execute(
            insert(GuardianLink),
            [{"guardian_id": g, "student_id": s} for g, s in zip(parents, students, strict=True)],
        )
        await session.execute(
            insert(PushSubscription),
            [
                {
                    "user_id": uid,
                    "endpoint": sub["endpoint"],
                    "endpoint_hash": hashlib.sha256(sub["endpoint"].encode()).hexdigest(),
                    "p256dh": sub["keys"]["p256dh"],
                    "auth": sub["keys"]["auth"],
                    "user_agent": "bench",
                    "created_at": now,
                }
                for uid, sub in zip(parents, subscriptions, strict=True)
            ],
        )
        await session.commit()
        school_id = school.id
    await db.dispose()
    return school_id, token


async def stats(client: httpx.AsyncClient, base: str) -> dict[str, Any]:
    return dict((await client.get(f"{base}/stats")).json())


async def run(args: argparse.Namespace) -> None:
    from server.app import create_app
    from server.db.migrate import upgrade
    from server.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="homeroom-bench-notify-"))
    port_file, subscriptions_file = work / "push.url", work / "subscriptions.json"
    push = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is measured
        [
            sys.executable,
            __file__,
            "--serve-push",
            str(args.devices),
            str(port_file),
            str(subscriptions_file),
        ],
        cwd=ROOT,
    )
    admin_url = None
    try:
        deadline = time.monotonic() + 120
        while not port_file.exists():
            if time.monotonic() > deadline or push.poll() is not None:
                raise SystemExit("the push service did not start")
            await asyncio.sleep(0.05)
        base = port_file.read_text()
        subscriptions = json.loads(subscriptions_file.read_text())
        if args.database == "postgresql":
            from tests.services import create_pg_database, postgres_admin_url

            admin_url = postgres_admin_url()
            assert admin_url is not None, "source tools/test-services.sh first"
            url = await create_pg_database(admin_url)
        else:
            url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
        await asyncio.to_thread(upgrade, url)
        token = (await seed(url, subscriptions))[1]
        settings = Settings(
            data_dir=work,
            database_url=url,
            media_dir=work / "media",
            secret_key="bench-secret-key-that-is-long-enough-0123456789",
            translation_engines=(),
            push_hosts=("127.0.0.1",),
            push_concurrency=args.concurrency,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            # One client for the whole run: each new one loads the CA store (seconds of CPU).
            async with (
                httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
                httpx.AsyncClient() as watcher,
            ):
                await stats(watcher, base)
                cpu_before = cpu_seconds(os.getpid())
                push_cpu_before = cpu_seconds(push.pid)
                started = time.time()
                reply = await client.post(
                    "/api/school/posts",
                    json={"text": "Sports day is on Friday: bring water and a hat!"},
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert reply.status_code == 201, reply.text
                deadline = time.monotonic() + args.timeout
                while True:
                    found = await stats(watcher, base)
                    if found["accepted"] >= args.devices or time.monotonic() > deadline:
                        break
                    await asyncio.sleep(0.05)
                cpu = cpu_seconds(os.getpid()) - cpu_before
                push_cpu = cpu_seconds(push.pid) - push_cpu_before
                worker = app.state.services.push
                extra = await worker.run_until_idle()
                found = await stats(watcher, base)
        last = (found["last_at"] or time.time()) - started
        print(f"devices                 {args.devices}")
        print(f"database                {args.database}")
        print(f"accepted pushes         {found['accepted']} on {found['devices']} devices")
        print(f"repeated / errors       {found['repeated']} / {found['error_count']} {found['errors']}")
        print(f"sent after the run      {extra}")
        print(f"post → first delivery   {(found['first_at'] or started) - started:.2f} s")
        print(f"post → last delivery    {last:.2f} s")
        print(
            f"server cpu              {cpu:.2f} s ({cpu / max(found['accepted'], 1) * 1e6:.0f} µs per push)"
        )
        print(f"push service requests   {found['received']}")
        print(f"push service cpu        {push_cpu:.2f} s (VAPID checks and decryption: not counted above)")
        ok = (
            found["accepted"] == args.devices == found["devices"]
            and not found["repeated"]
            and not found["error_count"]
        )
        print("every push exactly once" if ok and not extra else "NOT exactly once")
    finally:
        push.terminate()
        push.wait(10)
        if admin_url is not None:
            from tests.services import drop_pg_database

            await drop_pg_database(admin_url, url)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--serve-push", nargs=3, metavar=("DEVICES", "URL_FILE", "SUBSCRIPTIONS_FILE"))
    args = parser.parse_args()
    if args.serve_push:
        devices, port_file, subscriptions_file = args.serve_push
        loop_runner()(serve_push(int(devices), Path(port_file), Path(subscriptions_file)))
        return
    loop_runner()(run(args))


if __name__ == "__main__":
    main()
