"""Argos Translate packages: offline install, listing, and the ``ArgosEngine`` that runs them.

``argostranslate`` is used for what it is good at here: the package format and its
metadata (``argostranslate.package.Package``). Translation itself does not go through
``argostranslate.translate``: that module imports stanza (and so torch), and its
sentence splitters download models at the first translation, which fails offline.
The engine splits sentences itself (:mod:`server.translation.sentences`) and runs
each package's CTranslate2 model and SentencePiece model directly, one
``translate_batch`` per job, in worker threads so the event loop never blocks.

argostranslate reads its folders from the environment when it is first imported
and creates them at once, so :func:`argos_package_module` points ``ARGOS_PACKAGES_DIR``
and ``XDG_*`` into ``<data_dir>/translation`` for that import: nothing is written
to the user's home and nothing is fetched.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import secrets
import shutil
import sys
import threading
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

from server.translation import sentences
from server.translation.engine import EngineError, Pair, UnsupportedPair

log = logging.getLogger("homeroom.translation")

PIVOT = "en"
MAX_UNPACKED_BYTES = 4 * 1024**3
_ARGOS_ENV = ("ARGOS_PACKAGES_DIR", "ARGOS_DEVICE_TYPE", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")
_import_lock = threading.Lock()


class PackageError(ValueError):
    """A file is not an installable argos translation package; the message says why."""


def translation_dir(data_dir: Path) -> Path:
    """Where translation data lives: ``<data_dir>/translation``."""
    return Path(data_dir) / "translation"


def packages_dir(data_dir: Path) -> Path:
    """Where installed argos packages live: ``<data_dir>/translation/packages``."""
    return translation_dir(data_dir) / "packages"


def argos_available() -> bool:
    """True when the argos extra (argostranslate, ctranslate2, sentencepiece) is installed."""
    import importlib.util

    return all(importlib.util.find_spec(name) for name in ("argostranslate", "ctranslate2", "sentencepiece"))


def argos_package_module(data_dir: Path) -> ModuleType:
    """``argostranslate.package``, first imported with its folders inside the server's data folder."""
    with _import_lock:
        if "argostranslate.settings" not in sys.modules:
            base = translation_dir(data_dir)
            saved = {name: os.environ.get(name) for name in _ARGOS_ENV}
            os.environ.update(
                {
                    "ARGOS_PACKAGES_DIR": str(base / "packages"),
                    "ARGOS_DEVICE_TYPE": "cpu",
                    "XDG_DATA_HOME": str(base / "share"),
                    "XDG_CONFIG_HOME": str(base / "config"),
                    "XDG_CACHE_HOME": str(base / "cache"),
                }
            )
            try:
                import argostranslate.package  # noqa: F401  (reads the variables above once)
            finally:
                # Restore: other libraries in this process (and child processes) keep their own folders.
                for name, value in saved.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value
        return importlib.import_module("argostranslate.package")


@dataclass(frozen=True)
class PackageInfo:
    """One installed argos translation package."""

    source: str
    target: str
    version: str
    path: Path
    target_prefix: str = ""

    @property
    def pair(self) -> Pair:
        return (self.source, self.target)


def version_key(version: str) -> Any:
    """A sort key for package versions: PEP 440 order where it parses, text order otherwise."""
    from packaging.version import InvalidVersion, Version

    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def read_package(path: Path, data_dir: Path) -> PackageInfo:
    """Metadata of an unpacked package folder, through argostranslate; raise ``PackageError``."""
    package = argos_package_module(data_dir)
    try:
        found = package.Package(path)
    except (OSError, ValueError, KeyError) as exc:
        raise PackageError(f"{path.name}: no readable metadata.json ({exc})") from exc
    if (found.type or "translate") != "translate":
        raise PackageError(f"{path.name}: a {found.type!r} package, not a translation package")
    if not found.from_code or not found.to_code:
        raise PackageError(f"{path.name}: metadata.json names no from_code/to_code")
    if not (path / "model" / "model.bin").is_file():
        raise PackageError(f"{path.name}: no CTranslate2 model (model/model.bin)")
    if not (path / "sentencepiece.model").is_file():
        raise PackageError(
            f"{path.name}: no sentencepiece.model (packages using BPE tokenisation are not supported)"
        )
    return PackageInfo(
        source=str(found.from_code),
        target=str(found.to_code),
        version=str(found.package_version or "0"),
        path=path,
        target_prefix=str(getattr(found, "target_prefix", "") or ""),
    )


def installed_packages(data_dir: Path, bundled: Sequence[Path] = ()) -> list[PackageInfo]:
    """Every usable installed package, the newest version per pair, sorted by pair.

    ``bundled`` are read-only folders of unpacked packages (a Docker image's own, see
    ``HOMEROOM_ARGOS_BUNDLED_DIR``); on equal versions the data folder's package wins.
    """
    best: dict[Pair, PackageInfo] = {}
    folders = [
        folder
        for root in (packages_dir(data_dir), *bundled)
        if Path(root).is_dir()
        for folder in sorted(Path(root).iterdir())
    ]
    for folder in folders:
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        try:
            info = read_package(folder, data_dir)
        except PackageError as exc:
            log.warning("ignoring argos package folder: %s", exc)
            continue
        current = best.get(info.pair)
        if current is None or version_key(info.version) > version_key(current.version):
            best[info.pair] = info
    return [best[pair] for pair in sorted(best)]


def _archive_folder(archive: zipfile.ZipFile) -> str:
    """The single top-level folder of a package archive, after checking every member's path."""
    tops: set[str] = set()
    total = 0
    for member in archive.infolist():
        name = PurePosixPath(member.filename)
        if name.is_absolute() or ".." in name.parts or "\\" in member.filename or not name.parts:
            raise PackageError(f"unsafe path in archive: {member.filename!r}")
        tops.add(name.parts[0])
        total += member.file_size
    if total > MAX_UNPACKED_BYTES:
        raise PackageError("archive unpacks to more than 4 GiB")
    if len(tops) != 1:
        raise PackageError("an .argosmodel holds exactly one top-level folder")
    folder = tops.pop()
    if folder.startswith("."):
        raise PackageError("the package folder's name may not start with a dot")
    return folder


def install_package(
    file: Path, data_dir: Path, *, check_model: bool = True, expected: Pair | None = None
) -> PackageInfo:
    """Install an ``.argosmodel`` into the server's data folder, offline; return what was installed.

    The archive is checked (one folder, safe paths, metadata, model, tokenizer and,
    when ``expected`` is given, the language pair) and unpacked beside the other
    packages under a temporary name, then moved into place in one rename, so a
    running server never sees half a package. A package for a pair that is already
    installed replaces it.
    """
    file = Path(file)
    if not file.is_file():
        raise PackageError(f"{file}: no such file")
    if not zipfile.is_zipfile(file):
        raise PackageError(f"{file.name}: not an argos package (must be a zip archive, .argosmodel)")
    root = packages_dir(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    package = argos_package_module(data_dir)
    staging = root / f".installing-{secrets.token_hex(4)}"
    with package.package_lock:
        try:
            with zipfile.ZipFile(file) as archive:
                folder = _archive_folder(archive)
                archive.extractall(staging)
            info = read_package(staging / folder, data_dir)
            if expected is not None and info.pair != expected:
                raise PackageError(
                    f"{file.name}: a package for {info.source}→{info.target}, not {expected[0]}→{expected[1]}"
                )
            if check_model:
                _check_model(info)
            replaced = [p for p in installed_packages(data_dir) if p.pair == info.pair]
            target = root / folder
            trash = root / f".removing-{secrets.token_hex(4)}"
            trash.mkdir()
            if target.exists():
                target.rename(trash / folder)
            for old in replaced:
                if old.path.exists() and old.path != target:
                    old.path.rename(trash / old.path.name)
            (staging / folder).rename(target)
            shutil.rmtree(trash, ignore_errors=True)
        except zipfile.BadZipFile as exc:
            raise PackageError(f"{file.name}: damaged archive ({exc})") from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return read_package(target, data_dir)


def _check_model(info: PackageInfo) -> None:
    """Load the model once so a damaged package is refused at install, not at the first post."""
    import ctranslate2
    import sentencepiece

    try:
        ctranslate2.Translator(str(info.path / "model"), device="cpu", inter_threads=1, intra_threads=1)
        sentencepiece.SentencePieceProcessor(model_file=str(info.path / "sentencepiece.model"))
    except (RuntimeError, OSError, ValueError) as exc:
        raise PackageError(f"{info.path.name}: the model does not load ({exc})") from exc


@dataclass
class _Model:
    info: PackageInfo
    translator: Any
    tokenizer: Any


class ArgosEngine:
    """Installed argos packages, run directly through CTranslate2, pivoting through English."""

    name = "argos"

    def __init__(
        self,
        data_dir: Path,
        *,
        inter_threads: int = 2,
        intra_threads: int = 1,
        beam_size: int = 2,
        warm: bool = True,
        bundled: Sequence[Path] = (),
    ) -> None:
        self.data_dir = Path(data_dir)
        self.bundled = [Path(folder) for folder in bundled]
        self.warm_at_start = warm
        self.inter_threads = max(1, inter_threads)
        self.intra_threads = max(0, intra_threads)
        self.beam_size = max(1, beam_size)
        self._packages: dict[Pair, PackageInfo] = {}
        self._stamp: tuple[tuple[float, int], ...] | None = None
        self._models: dict[Pair, _Model] = {}
        self._load_locks: dict[Pair, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=self.inter_threads, thread_name_prefix="argos")
        self._warm_task: asyncio.Task[None] | None = None
        self.loads = 0

    # -- pairs -------------------------------------------------------------------------------

    def packages(self) -> dict[Pair, PackageInfo]:
        """Installed packages by pair, re-read when a packages folder changes (an install renames into it)."""
        stamps: list[tuple[float, int]] = []
        for root in (packages_dir(self.data_dir), *self.bundled):
            try:
                stat = root.stat()
                stamps.append((stat.st_mtime, stat.st_ino))
            except FileNotFoundError:
                stamps.append((0.0, 0))
        stamp = tuple(stamps)
        if stamp != self._stamp:
            found = installed_packages(self.data_dir, self.bundled)
            self._packages = {info.pair: info for info in found}
            self._stamp = stamp
            for pair, model in list(self._models.items()):
                if self._packages.get(pair) != model.info:
                    del self._models[pair]  # replaced or removed: load the new one on next use
        return self._packages

    def rescan(self) -> dict[Pair, PackageInfo]:
        """Re-read the packages folders now (after an install in this process, whatever the mtimes say)."""
        self._stamp = None
        return self.packages()

    def pairs(self) -> set[Pair]:
        """Direct pairs, plus source→target through English when both halves are installed."""
        direct = set(self.packages())
        pivots = {
            (source, target)
            for (source, middle) in direct
            if middle == PIVOT
            for (middle2, target) in direct
            if middle2 == PIVOT and target != source
        }
        return direct | pivots

    def route(self, source: str, target: str) -> list[Pair]:
        """The package pairs a translation goes through: one, or two via English."""
        direct = self.packages()
        if (source, target) in direct:
            return [(source, target)]
        if source != PIVOT and target != PIVOT and (source, PIVOT) in direct and (PIVOT, target) in direct:
            return [(source, PIVOT), (PIVOT, target)]
        raise UnsupportedPair(f"argos has no package for {source}→{target}")

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Read the installed packages and (when warming) start loading every model in the background."""
        await asyncio.to_thread(self.packages)
        if self.warm_at_start:
            self._warm_task = asyncio.create_task(self.warm(), name="argos-warm")

    async def warm(self) -> None:
        """Load every installed model now, so the first post does not wait for it."""
        for pair in list(self.packages()):
            try:
                await self._model(pair)
            except EngineError as exc:
                log.warning("argos model %s→%s does not load: %s", *pair, exc)

    async def close(self) -> None:
        """Stop warming, let running translations finish in their threads, drop the models."""
        if self._warm_task is not None:
            self._warm_task.cancel()
            await asyncio.gather(self._warm_task, return_exceptions=True)
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._models.clear()

    # -- translation ---------------------------------------------------------------------------

    async def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        """Translate every text (all sentences in one batch per model), pivoting when needed."""
        current = list(texts)
        for pair in self.route(source, target):
            model = await self._model(pair)
            loop = asyncio.get_running_loop()
            try:
                current = await loop.run_in_executor(self._executor, self._translate_sync, model, current)
            except RuntimeError as exc:  # CTranslate2 reports its failures as RuntimeError
                raise EngineError(f"argos {pair[0]}→{pair[1]}: {exc}") from exc
        return current

    async def _model(self, pair: Pair) -> _Model:
        model = self._models.get(pair)
        if model is not None:
            return model
        return await asyncio.to_thread(self._load, pair)

    def _load(self, pair: Pair) -> _Model:
        """Load a pair's model once, however many callers ask at the same moment."""
        with self._locks_guard:
            lock = self._load_locks.setdefault(pair, threading.Lock())
        with lock:
            model = self._models.get(pair)
            if model is not None:
                return model
            info = self.packages().get(pair)
            if info is None:
                raise UnsupportedPair(f"argos has no package for {pair[0]}→{pair[1]}")
            import ctranslate2
            import sentencepiece

            try:
                translator = ctranslate2.Translator(
                    str(info.path / "model"),
                    device="cpu",
                    compute_type="auto",
                    inter_threads=self.inter_threads,
                    intra_threads=self.intra_threads,
                )
                tokenizer = sentencepiece.SentencePieceProcessor(
                    model_file=str(info.path / "sentencepiece.model")
                )
            except (RuntimeError, OSError, ValueError) as exc:
                raise EngineError(f"argos {pair[0]}→{pair[1]} does not load: {exc}") from exc
            model = _Model(info=info, translator=translator, tokenizer=tokenizer)
            self._models[pair] = model
            self.loads += 1
            log.info("argos model %s→%s %s loaded", pair[0], pair[1], info.version)
            return model

    def _translate_sync(self, model: _Model, texts: list[str]) -> list[str]:
        """Split, tokenise, one ``translate_batch`` for every sentence of every text, rebuild."""
        split = [sentences.split(text) for text in texts]
        batch = [
            model.tokenizer.encode(piece.text, out_type=str)
            for pieces in split
            for piece in pieces
            if piece.translate
        ]
        if not batch:
            return list(texts)
        prefix = model.info.target_prefix
        longest = max(len(tokens) for tokens in batch)
        results = model.translator.translate_batch(
            batch,
            target_prefix=[[prefix]] * len(batch) if prefix else None,
            beam_size=self.beam_size,
            max_decoding_length=min(1024, 2 * longest + 16),
            replace_unknowns=True,
        )
        out: list[str] = []
        for result in results:
            text = model.tokenizer.decode_pieces(result.hypotheses[0])
            if prefix and text.startswith(prefix):
                text = text[len(prefix) :]
            out.append(text.replace("▁", " ").strip())
        translated: list[str] = []
        position = 0
        for pieces in split:
            count = sum(1 for piece in pieces if piece.translate)
            translated.append(sentences.join(pieces, out[position : position + count]))
            position += count
        return translated
