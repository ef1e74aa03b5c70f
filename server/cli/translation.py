"""What ``python -m server translation list|install|fetch`` and ``python -m server worker`` do.

``server/cli/main.py`` parses the command line and calls these; they print for people and
return an exit status.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from server.settings import Settings

if TYPE_CHECKING:
    from server.translation.fetch import Step

log = logging.getLogger("homeroom.translation")


async def pair_rows(settings: Settings) -> list[dict[str, str]]:
    """One row per translatable pair: source, target, engine, and the package version or mode."""
    from server.translation.apertium import ApertiumEngine
    from server.translation.argos import ArgosEngine
    from server.translation.registry import Registry, build_engines

    registry = Registry(build_engines(settings, warm=False))
    await registry.start()
    try:
        rows: list[dict[str, str]] = []
        direct = registry.pairs()
        for source, target in sorted(direct):
            route = registry.route(source, target)
            assert route is not None
            engine = route.steps[0][0]
            detail = ""
            if isinstance(engine, ArgosEngine):
                info = engine.packages().get((source, target))
                detail = f"package {info.version} ({info.path.name})" if info else "through English"
            elif isinstance(engine, ApertiumEngine):
                detail = f"mode {engine.mode(source, target)}"
            others = [e.name for e in registry.engines if e is not engine and (source, target) in e.pairs()]
            if others:
                detail += f"; also {', '.join(others)}"
            rows.append({"source": source, "target": target, "engine": engine.name, "detail": detail})
        languages = {code for pair in direct for code in pair}
        for source in sorted(languages):
            for target in sorted(languages):
                if source == target or (source, target) in direct:
                    continue
                route = registry.route(source, target)
                if route is not None:
                    rows.append(
                        {
                            "source": source,
                            "target": target,
                            "engine": route.engine,
                            "detail": "through English",
                        }
                    )
        return rows
    finally:
        await registry.close()


def list_pairs(settings: Settings, out: TextIO = sys.stdout) -> int:
    """Print the pairs this server can translate, by engine."""
    rows = asyncio.run(pair_rows(settings))
    engines = ",".join(settings.translation_engines) or "none"
    if not rows:
        print(f"No language pairs available (engines: {engines}).", file=out)
        print("Install argos packages with `python -m server translation install FILE.argosmodel`", file=out)
        print("or Debian's apertium and its language pairs (see the README).", file=out)
        return 0
    print(f"engines in order: {engines}", file=out)
    print(f"{'from':<6}{'to':<6}{'engine':<18}detail", file=out)
    for row in rows:
        print(f"{row['source']:<6}{row['target']:<6}{row['engine']:<18}{row['detail']}", file=out)
    return 0


def install(settings: Settings, file: str, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Install one ``.argosmodel`` into the server's data folder, offline."""
    from server.translation.argos import PackageError, argos_available, install_package, packages_dir

    if not argos_available():
        print(
            "homeroom: the 'translate' extra is not installed; see the README (Translation) for the one-line "
            "install",
            file=err,
        )
        return 2
    try:
        info = install_package(Path(file), Path(settings.data_dir))
    except PackageError as exc:
        print(f"homeroom: {exc}", file=err)
        return 1
    where = packages_dir(settings.data_dir)
    print(f"installed {info.source}→{info.target} version {info.version} into {where}", file=out)
    if "argos" not in settings.translation_engines:
        print("note: 'argos' is not in HOMEROOM_TRANSLATION_ENGINES, so it will not be used", file=out)
    return 0


def fetch(
    settings: Settings, languages: list[str], out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """Download, check and install the argos packages en↔LANG for each language from the index."""
    from server.language.languages import is_known
    from server.translation.argos import argos_available, packages_dir
    from server.translation.fetch import DONE_STATES, FetchError, fetch_packages, valid_language

    if not argos_available():
        print(
            "homeroom: the 'translate' extra is not installed; see the README (Translation) for the one-line "
            "install",
            file=err,
        )
        return 2
    bad = [code for code in languages if not valid_language(code)]
    if bad:
        print(f"homeroom: not a language code: {', '.join(bad)} (use codes such as ur, pl, bn)", file=err)
        return 2
    if all(code == "en" for code in languages):
        print("English needs no translation package: posts are written in it.", file=out)
        return 0
    for code in languages:
        if not is_known(code):
            print(f"note: families cannot choose '{code}' in Homeroom yet", file=out)
    print(f"package index: {settings.argos_index_url}", file=out)
    bundled = [settings.argos_bundled_dir] if settings.argos_bundled_dir else []

    def show(step: Step) -> None:
        if step.state in DONE_STATES:
            print(
                f"{step.source}→{step.target}: {step.state.replace('_', ' ')}; {step.message}",
                file=out,
                flush=True,
            )

    try:
        report = fetch_packages(
            languages,
            Path(settings.data_dir),
            settings.argos_index_url,
            bundled=bundled,
            max_bytes=settings.max_package_bytes,
            progress=show,
        )
    except FetchError as exc:
        print(f"homeroom: {exc}", file=err)
        return 1
    for code in report.languages:
        missing = [s for s in report.steps if s.state == "missing" and code in (s.source, s.target)]
        if len(missing) == 1 and report.ok:
            side = (
                "posts reach its readers"
                if missing[0].source == "en"
                else "its readers' messages reach staff"
            )
            print(f"note: {missing[0].message}: {side} untranslated", file=out)
    if not report.ok:
        failed = [f"{s.source}→{s.target}" for s in report.steps if s.state in ("failed", "missing")]
        print(f"homeroom: not installed: {', '.join(failed)}", file=err)
        return 1
    print(
        f"packages are in {packages_dir(settings.data_dir)}; a running server uses them from its next post",
        file=out,
    )
    if "argos" not in settings.translation_engines:
        print("note: 'argos' is not in HOMEROOM_TRANSLATION_ENGINES, so it will not be used", file=out)
    return 0


async def serve_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run the app's parts without HTTP, doing Redis-queued translation jobs until stopped."""
    from server.app import create_app, default_parts

    app = create_app(settings, parts=default_parts(settings, translation_role="worker"))
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with app.router.lifespan_context(app):
        log.info("translation worker ready")
        print("translation worker ready", flush=True)
        await stop.wait()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.remove_signal_handler(signum)
    log.info("translation worker stopped")


def worker(settings: Settings, err: TextIO = sys.stderr) -> int:
    """``python -m server worker``: needs a Redis broker (the embedded shape does jobs in-process)."""
    from server.translation.part import uses_redis

    if not uses_redis(settings):
        print(
            "homeroom: the worker takes jobs from Redis; set HOMEROOM_BROKER_URL=redis://… "
            "(with memory:// the server does translation jobs itself)",
            file=err,
        )
        return 2
    asyncio.run(serve_worker(settings))
    return 0
