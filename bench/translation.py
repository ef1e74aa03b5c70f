"""Translation pipeline benchmark: a class of 30 families in 6 languages, cold and warm.

    .venv/bin/python bench/translation.py                    # SQLite, in-process jobs
    .venv/bin/python bench/translation.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

The app runs its real engines: Apertium for es/ca/gl (the Debian pairs) and argos for
ur/pl/ro through tiny packages built on the spot by ``tools/build_tiny_argos.py`` (no real
argos weights are available offline; with real models each argos job costs more, see
bench/README.md). Posts are written the way the stories module writes them (row and
``post.created`` event in one transaction); the clock starts when the commit returns and
stops when the last family's language has its ``post.translated`` event written.

``--packages DATA_DIR`` uses the real argos packages installed there (``python -m server
translation install``) for up to three languages instead of the tiny ones.

Phases, each run cold (texts never seen) then warm (the same texts posted again):
- latency: posts one at a time, commit → last family's translation (median, p95, max);
- burst: all posts committed back to back: jobs per second until the last one is done;
and the cache hit rate of each phase. Prints a table; writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.app import create_app  # noqa: E402
from server.db.migrate import upgrade  # noqa: E402
from server.db.models import Post  # noqa: E402
from server.events import emit  # noqa: E402
from server.school import seed as build  # noqa: E402
from server.services import Services  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.translation.argos import install_package  # noqa: E402
from server.translation.pipeline import Pipeline, Result  # noqa: E402
from server.translation.queue import Job  # noqa: E402

APERTIUM_LANGS = ("es", "ca", "gl")
ARGOS_LANGS = ("ur", "pl", "ro")
SENTENCES = (
    "Tomorrow is PE day, so please bring trainers and a water bottle.",
    "Our class trip to the museum is on Friday and we leave at nine.",
    "Reading books go home every Monday; please sign the reading record.",
    "Well done everyone for a great week of learning about plants.",
    "The spelling test will be on Thursday morning.",
    "Lunch money for next week is due on Monday.",
)


def post_texts(count: int, seed: str) -> list[str]:
    """Distinct class posts of three sentences each."""
    texts = []
    for n in range(count):
        picked = [SENTENCES[(n + k) % len(SENTENCES)] for k in range(3)]
        texts.append(f"{' '.join(picked)} (Note {seed}-{n}.)")
    return texts


def build_packages(folder: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_tiny_argos", ROOT / "tools" / "build_tiny_argos.py")
    assert spec is not None and spec.loader is not None
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    for n, target in enumerate(ARGOS_LANGS):
        install_package(builder.build(folder / f"en_{target}.argosmodel", "en", target, seed=20 + n), folder)


async def make_class(services: Services, languages: list[str]) -> tuple[int, int, int]:
    """A school with one class whose families read ``languages``; returns school, class, teacher ids."""
    async with services.transaction() as session:
        school = await build.add_school(session, "Bench Primary")
        teacher = await build.add_user(session, school, "teacher", "Mrs Patel")
        school_class = await build.add_class(session, school, "Year 4")
        names = [(f"Child{n}", "Bench") for n in range(len(languages))]
        pupils = await build.add_pupils(session, school_class, names)
        for n, (pupil, language) in enumerate(zip(pupils, languages, strict=True)):
            parent = await build.add_user(session, school, "parent", f"Parent {n}", language=language)
            build.link_guardians(session, [(parent, pupil)])
        return school.id, school_class.id, teacher.id


class Tracker:
    """Completion times of (post, language) jobs, from the pipeline's listener hook."""

    def __init__(self, languages: set[str]) -> None:
        self.languages = languages
        self.done: dict[int, dict[str, float]] = defaultdict(dict)
        self.cached = 0
        self.jobs = 0
        self.waiters: dict[int, asyncio.Future[float]] = {}

    def __call__(self, job: Job, result: Result) -> None:
        now = time.perf_counter()
        self.jobs += 1
        self.cached += result.cached
        got = self.done[job.item_id]
        got[job.target] = now
        if set(got) >= self.languages and job.item_id in self.waiters:
            waiter = self.waiters.pop(job.item_id)
            if not waiter.done():
                waiter.set_result(max(got.values()))

    def wait_for(self, post_id: int) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        got = self.done.get(post_id, {})
        if set(got) >= self.languages:
            future.set_result(max(got.values()))
        else:
            self.waiters[post_id] = future
        return future


async def write_post(services: Services, school_id: int, class_id: int, author: int, text: str) -> int:
    async with services.transaction() as session:
        post = Post(
            school_id=school_id, scope="class", class_id=class_id, author_id=author, text=text, lang="en"
        )
        session.add(post)
        await session.flush()
        emit(
            session,
            f"class:{class_id}",
            "post.created",
            {"post": {"id": post.id, "scope": "class", "class_id": class_id, "text": text, "lang": "en"}},
        )
    return post.id


async def latency_phase(
    services: Services, tracker: Tracker, ids: tuple[int, int, int], texts: list[str]
) -> dict[str, Any]:
    school_id, class_id, teacher = ids
    tracker.jobs = tracker.cached = 0
    latencies = []
    for text in texts:
        post_id = await write_post(services, school_id, class_id, teacher, text)
        committed = time.perf_counter()
        finished = await asyncio.wait_for(tracker.wait_for(post_id), 60)
        latencies.append((finished - committed) * 1000)
    latencies.sort()
    return {
        "posts": len(texts),
        "median_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[max(0, int(len(latencies) * 0.95) - 1)], 1),
        "max_ms": round(latencies[-1], 1),
        "jobs": tracker.jobs,
        "cache_hit_rate": round(tracker.cached / tracker.jobs, 3) if tracker.jobs else 0.0,
    }


async def burst_phase(
    services: Services, tracker: Tracker, ids: tuple[int, int, int], texts: list[str]
) -> dict[str, Any]:
    school_id, class_id, teacher = ids
    tracker.jobs = tracker.cached = 0
    started = time.perf_counter()
    post_ids = [await write_post(services, school_id, class_id, teacher, text) for text in texts]
    committed = time.perf_counter()
    last = max(await asyncio.wait_for(asyncio.gather(*(tracker.wait_for(p) for p in post_ids)), 120))
    elapsed = last - started
    return {
        "posts": len(texts),
        "commit_s": round(committed - started, 3),
        "last_translation_s": round(elapsed, 3),
        "jobs": tracker.jobs,
        "jobs_per_s": round(tracker.jobs / elapsed, 1),
        "cache_hit_rate": round(tracker.cached / tracker.jobs, 3) if tracker.jobs else 0.0,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        argos_langs = list(ARGOS_LANGS)
        if args.packages:
            # Real packages: the server data folder they were installed into (read only).
            from server.translation.argos import installed_packages

            data = Path(args.packages)
            argos_langs = [p.target for p in installed_packages(data) if p.source == "en"][:3]
        else:
            build_packages(data)
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        if args.database_url:
            from tests.services import create_pg_database  # a fresh database on the given server

            url = await create_pg_database(args.database_url)
        await asyncio.to_thread(upgrade, url)
        settings = Settings(
            data_dir=data,
            database_url=url,
            media_dir=data / "media",
            secret_key="bench-" + "x" * 40,
            translation_engines=("argos", "apertium"),
            translation_jobs=args.jobs,
            translation_threads=args.threads,
        )
        app = create_app(settings)
        languages = [*APERTIUM_LANGS, *argos_langs]
        families = [languages[n % len(languages)] for n in range(args.families)]
        results: dict[str, Any] = {
            "families": args.families,
            "languages": languages,
            "database": url.split(":")[0],
        }
        async with app.router.lifespan_context(app):
            services: Services = app.state.services
            pipeline: Pipeline = services.translation.pipeline
            registry = services.translation.registry
            missing = [lang for lang in languages if not registry.can_translate("en", lang)]
            if missing:
                raise SystemExit(f"no engine for {missing}: install apertium-eng-spa/-eng-cat/-en-gl")
            argos = next(e for e in registry.engines if e.name == "argos")
            if argos._warm_task is not None:
                await argos._warm_task
            tracker = Tracker(set(languages))
            pipeline.listeners.append(tracker)
            ids = await make_class(services, families)
            latency_texts = post_texts(args.posts, "lat")
            burst_texts = post_texts(args.burst, "burst")
            for phase in ("cold", "warm"):
                results[f"latency_{phase}"] = await latency_phase(services, tracker, ids, latency_texts)
                results[f"burst_{phase}"] = await burst_phase(services, tracker, ids, burst_texts)
        if args.database_url:
            from tests.services import drop_pg_database

            await drop_pg_database(args.database_url, url)
        return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (a fresh database is made on it)")
    parser.add_argument("--packages", help="a data folder with real argos packages (en→XX) to use instead")
    parser.add_argument("--families", type=int, default=30)
    parser.add_argument("--posts", type=int, default=20, help="posts in the latency phase")
    parser.add_argument("--burst", type=int, default=50, help="posts in the burst phase")
    parser.add_argument("--jobs", type=int, default=4, help="HOMEROOM_TRANSLATION_JOBS")
    parser.add_argument("--threads", type=int, default=2, help="HOMEROOM_TRANSLATION_THREADS")
    args = parser.parse_args()
    results = asyncio.run(run(args))
    print(
        f"class of {results['families']} families in {len(results['languages'])} languages "
        f"({', '.join(results['languages'])}), {results['database']}"
    )
    print(f"{'phase':<14}{'posts':>6}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}{'jobs':>7}{'hit rate':>10}")
    for phase in ("cold", "warm"):
        row = results[f"latency_{phase}"]
        print(
            f"{'latency ' + phase:<14}{row['posts']:>6}{row['median_ms']:>11}{row['p95_ms']:>9}"
            f"{row['max_ms']:>9}{row['jobs']:>7}{row['cache_hit_rate']:>10.0%}"
        )
    print(f"{'phase':<14}{'posts':>6}{'to last s':>11}{'jobs/s':>9}{'jobs':>16}{'hit rate':>10}")
    for phase in ("cold", "warm"):
        row = results[f"burst_{phase}"]
        print(
            f"{'burst ' + phase:<14}{row['posts']:>6}{row['last_translation_s']:>11}{row['jobs_per_s']:>9}"
            f"{row['jobs']:>16}{row['cache_hit_rate']:>10.0%}"
        )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "translation.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
