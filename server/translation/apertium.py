"""``ApertiumEngine``: Debian's rule-based Apertium, one long-lived pipeline per mode.

Starting ``apertium`` for every text costs 0.15-0.9 s, almost all of it process
start; a pipeline kept running answers a three-sentence post in ~5 ms. Traps this
module avoids (each measured, see TRANSLATION.md):

- ``apertium -z`` loses request separators, so the mode's own pipeline is run
  (``apertium-wblank-mode -z <mode>``), in null-flush mode;
- ``\\ [ ] ^ $ / @ < > { }`` mean something in Apertium's stream format: escaped on
  the way in, unescaped on the way out;
- each request ends with ``"\\n\\0"``, or the final full stop is dropped;
- a pipeline that dies (or hangs past the timeout) is killed and started again.

Modes come from ``apertium -l`` (``eng-spa``, ``spa-eng``, ``en-gl`` …); their
ISO 639-3 codes are mapped to the ISO 639-1 codes the rest of the server speaks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import signal
from collections.abc import Sequence
from pathlib import Path

from server.translation.engine import EngineError, Pair, UnsupportedPair

log = logging.getLogger("homeroom.translation")

MODE_DIRS = (Path("/usr/share/apertium/modes"), Path("/usr/local/share/apertium/modes"))
_SPECIAL = re.compile(r"([\\\[\]^$/@<>{}])")
_ESCAPED = re.compile(r"\\([\\\[\]^$/@<>{}])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# ISO 639-3 → ISO 639-1 for the languages Apertium's Debian packages cover.
ISO3_TO_ISO1: dict[str, str] = {
    "afr": "af", "arg": "an", "ast": "ast", "bel": "be", "bre": "br", "bul": "bg", "cat": "ca",
    "ces": "cs", "cym": "cy", "dan": "da", "deu": "de", "ell": "el", "eng": "en", "epo": "eo",
    "est": "et", "eus": "eu", "fao": "fo", "fin": "fi", "fra": "fr", "gle": "ga", "glg": "gl",
    "hbs": "sh", "hin": "hi", "hrv": "hr", "isl": "is", "ita": "it", "kaz": "kk", "lav": "lv",
    "lit": "lt", "mkd": "mk", "mlt": "mt", "nld": "nl", "nno": "nn", "nob": "nb", "oci": "oc",
    "pol": "pl", "por": "pt", "ron": "ro", "rus": "ru", "slk": "sk", "slv": "sl", "spa": "es",
    "sqi": "sq", "srd": "sc", "swe": "sv", "tat": "tt", "tur": "tr", "ukr": "uk", "urd": "ur",
}  # fmt: skip


def to_iso1(code: str) -> str | None:
    """The ISO 639-1 code for an Apertium language code (``eng``→``en``, ``gl``→``gl``)."""
    code = code.lower()
    if len(code) == 2 and code.isalpha():
        return code
    return ISO3_TO_ISO1.get(code)


def parse_modes(listing: str) -> dict[Pair, str]:
    """Map (source, target) to a mode name from ``apertium -l`` output; plain modes beat variants."""
    found: dict[Pair, str] = {}
    for raw in listing.split():
        mode = raw.strip()
        base, _, variant = mode.partition("_")
        parts = base.split("-")
        if len(parts) != 2:
            continue
        source, target = to_iso1(parts[0]), to_iso1(parts[1])
        if source is None or target is None or source == target:
            continue
        pair = (source, target)
        if pair not in found or (not variant and "_" in found[pair]):
            found[pair] = mode
    return found


def escape(text: str) -> str:
    """Text made safe for Apertium's stream format (no formatting, no separators inside)."""
    return _SPECIAL.sub(r"\\\1", _CONTROL.sub(" ", text))


def unescape(text: str) -> str:
    """Undo :func:`escape` on Apertium's output."""
    return _ESCAPED.sub(r"\1", text)


def find_mode_file(mode: str) -> Path | None:
    """The ``.mode`` file of a mode, in Debian's or a locally built Apertium."""
    for folder in MODE_DIRS:
        path = folder / f"{mode}.mode"
        if path.is_file():
            return path
    return None


class ApertiumPipeline:
    """One running pipeline for one mode; requests go through it one batch at a time."""

    def __init__(self, mode: str, mode_file: Path, *, timeout: float = 30.0) -> None:
        self.mode = mode
        self.mode_file = mode_file
        self.timeout = timeout
        self.starts = 0
        self._process: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def _script(self) -> str:
        process = await asyncio.create_subprocess_exec(
            "apertium-wblank-mode",
            "-z",
            str(self.mode_file),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        if process.returncode != 0 or not out.strip():
            raise EngineError(f"apertium mode {self.mode}: {err.decode(errors='replace').strip()}")
        return out.decode()

    async def _ensure(self) -> asyncio.subprocess.Process:
        process = self._process
        if process is not None and process.returncode is None:
            return process
        script = await self._script()
        # $1: lt-proc generation option (-n: no unknown-word marks); $2: tagger option (none).
        self._process = await asyncio.create_subprocess_exec(
            "bash",
            "-c",
            script,
            "apertium",
            "-n",
            "",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
            limit=16 * 1024 * 1024,
            env={**os.environ, "LC_ALL": "C.UTF-8"},
        )
        self.starts += 1
        return self._process

    async def start(self) -> None:
        """Start the pipeline now (otherwise it starts at the first request)."""
        async with self._lock:
            await self._ensure()

    async def kill(self) -> None:
        """Stop the pipeline and every process in it."""
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()

    async def translate(self, texts: Sequence[str]) -> list[str]:
        """Translate each text in order; restart the pipeline once if it has died."""
        if not texts:
            return []
        async with self._lock:
            for attempt in (1, 2):
                process = await self._ensure()
                try:
                    return await asyncio.wait_for(self._roundtrip(process, texts), self.timeout)
                except (BrokenPipeError, ConnectionResetError, asyncio.IncompleteReadError) as exc:
                    await self.kill()
                    if attempt == 2:
                        raise EngineError(f"apertium {self.mode} keeps dying: {exc!r}") from exc
                    log.warning("apertium %s pipeline died; restarting", self.mode)
                except TimeoutError as exc:
                    await self.kill()
                    raise EngineError(f"apertium {self.mode} took over {self.timeout:.0f} s") from exc
                except BaseException:
                    await self.kill()  # cancelled mid-request: its output would answer the next one
                    raise
        raise AssertionError("unreachable")

    async def _roundtrip(self, process: asyncio.subprocess.Process, texts: Sequence[str]) -> list[str]:
        assert process.stdin is not None and process.stdout is not None
        payload = b"".join(escape(text).encode() + b"\n\0" for text in texts)

        async def write() -> None:
            assert process.stdin is not None
            process.stdin.write(payload)
            await process.stdin.drain()

        writer = asyncio.create_task(write())
        try:
            out = []
            for _ in texts:
                chunk = await process.stdout.readuntil(b"\0")
                text = chunk[:-1].decode(errors="replace")
                out.append(unescape(text[:-1] if text.endswith("\n") else text))
            await writer
            return out
        finally:
            if not writer.done():
                writer.cancel()


class ApertiumEngine:
    """The modes of the installed ``apertium`` command, each with a long-lived pipeline."""

    name = "apertium"

    def __init__(self, *, timeout: float = 30.0, warm: bool = False) -> None:
        self.timeout = timeout
        self.warm = warm
        self._modes: dict[Pair, str] = {}
        self._pipelines: dict[str, ApertiumPipeline] = {}

    @staticmethod
    def installed() -> bool:
        """True when the ``apertium`` command and its pipeline tool are on this machine."""
        return shutil.which("apertium") is not None and shutil.which("apertium-wblank-mode") is not None

    async def start(self) -> None:
        """Read the installed modes from ``apertium -l``; start pipelines when warming."""
        if not self.installed():
            self._modes = {}
            return
        process = await asyncio.create_subprocess_exec(
            "apertium", "-l", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
        )
        out, _ = await process.communicate()
        modes = parse_modes(out.decode(errors="replace"))
        self._modes = {pair: mode for pair, mode in modes.items() if find_mode_file(mode) is not None}
        if self.warm:
            for pair in self._modes:
                try:
                    await self._pipeline(pair).start()
                except EngineError as exc:
                    log.warning("apertium %s does not start: %s", self._modes[pair], exc)

    def pairs(self) -> set[Pair]:
        return set(self._modes)

    def mode(self, source: str, target: str) -> str | None:
        """The Apertium mode serving a pair, if any."""
        return self._modes.get((source, target))

    def _pipeline(self, pair: Pair) -> ApertiumPipeline:
        mode = self._modes.get(pair)
        if mode is None:
            raise UnsupportedPair(f"apertium has no mode for {pair[0]}→{pair[1]}")
        pipeline = self._pipelines.get(mode)
        if pipeline is None:
            mode_file = find_mode_file(mode)
            if mode_file is None:
                raise UnsupportedPair(f"apertium mode {mode} has no mode file")
            pipeline = self._pipelines[mode] = ApertiumPipeline(mode, mode_file, timeout=self.timeout)
        return pipeline

    async def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        """Translate each text through the pair's pipeline."""
        return await self._pipeline((source, target)).translate(texts)

    async def close(self) -> None:
        for pipeline in list(self._pipelines.values()):
            await pipeline.kill()
        self._pipelines.clear()
