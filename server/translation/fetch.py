"""Getting argos packages from a package index: choose, download, verify, install.

The index is argostranslate's own format (``index.json``: a list of entries with
``from_code``, ``to_code``, ``package_version``, ``links``, …), read from
``HOMEROOM_ARGOS_INDEX_URL``: argos's public index by default, or a school's or
council's mirror. Links may be relative to the index (a mirror is then one folder
of files). An entry may carry ``sha256`` (or ``checksum: "sha256:<hex>"``), checked
when present; argos's public index has none.

For each language the packages for both directions with English are fetched:
``en→xx`` for posts to families, ``xx→en`` for their messages to staff. Each file
is downloaded into a private temporary folder inside the data folder, checked
(checksum, then everything :func:`~server.translation.argos.install_package` checks,
including that its metadata names the pair asked for) and moved into place in one
rename, so nothing half-downloaded or wrong is ever installed. A running server
sees the new packages at its next translation (the engine re-reads the packages
folder when it changes).

Nothing here runs at request time: the command line, the Docker build and the
admin's fetch job call :func:`fetch_packages` (in a thread: it blocks).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from server.translation.argos import (
    PackageError,
    install_package,
    installed_packages,
    translation_dir,
    version_key,
)
from server.translation.engine import Pair

PIVOT = "en"
MAX_INDEX_BYTES = 16 * 1024 * 1024
CHUNK = 1024 * 1024
USER_AGENT = "Homeroom (argos package fetch)"
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")

State = Literal["waiting", "downloading", "installing", "installed", "up_to_date", "missing", "failed"]
DONE_STATES = ("installed", "up_to_date", "missing", "failed")


class FetchError(RuntimeError):
    """The index cannot be read (offline, wrong URL, not an index); the message says what to do."""


@dataclass(frozen=True)
class IndexEntry:
    """One translation package the index offers."""

    source: str
    target: str
    version: str
    links: tuple[str, ...]
    sha256: str | None = None

    @property
    def pair(self) -> Pair:
        return (self.source, self.target)


@dataclass
class Step:
    """What happened (or is happening) to one pair; the fetch job reports these."""

    source: str
    target: str
    state: State = "waiting"
    version: str = ""
    message: str = ""
    received: int = 0
    total: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FetchReport:
    """Every pair's outcome, in the order asked."""

    languages: list[str]
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed and every language has at least one direction installed."""
        if any(step.state == "failed" for step in self.steps):
            return False
        return all(
            any(
                step.state in ("installed", "up_to_date") and code in (step.source, step.target)
                for step in self.steps
            )
            for code in self.languages
        )


# -- the index (pure) ------------------------------------------------------------------------------


def valid_language(code: str) -> bool:
    """True for something shaped like a language code (``ur``, ``pl``, ``zh``, ``pt-BR``)."""
    return bool(LANGUAGE_CODE.match(code))


def wanted_pairs(languages: Iterable[str]) -> list[Pair]:
    """``en→xx`` then ``xx→en`` for each language other than English, without repeats."""
    pairs: list[Pair] = []
    for code in languages:
        if code == PIVOT:
            continue
        for pair in ((PIVOT, code), (code, PIVOT)):
            if pair not in pairs:
                pairs.append(pair)
    return pairs


def _checksum(entry: dict[str, Any]) -> str | None:
    raw = entry.get("sha256") or entry.get("checksum")
    if not isinstance(raw, str) or not raw:
        return None
    digest = raw.lower().removeprefix("sha256:")
    return digest if re.fullmatch(r"[0-9a-f]{64}", digest) else None


def parse_index(raw: bytes, index_url: str) -> list[IndexEntry]:
    """The translation packages of an argos index; relative links are resolved against its URL.

    Only http(s) links are kept. Raises ``FetchError`` when the text is not an index.
    """
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FetchError(f"{index_url} is not an argos package index (not JSON: {exc})") from exc
    if not isinstance(data, list):
        raise FetchError(f"{index_url} is not an argos package index (expected a list of packages)")
    entries: list[IndexEntry] = []
    for item in data:
        if not isinstance(item, dict) or item.get("type", "translate") != "translate":
            continue
        source, target, links = item.get("from_code"), item.get("to_code"), item.get("links")
        if not isinstance(source, str) or not isinstance(target, str) or not isinstance(links, list):
            continue
        resolved = tuple(
            url
            for url in (urljoin(index_url, link) for link in links if isinstance(link, str) and link)
            if urlsplit(url).scheme in ("http", "https")
        )
        if not resolved:
            continue
        entries.append(
            IndexEntry(
                source=source,
                target=target,
                version=str(item.get("package_version") or "0"),
                links=resolved,
                sha256=_checksum(item),
            )
        )
    return entries


def choose(entries: Iterable[IndexEntry], pair: Pair) -> IndexEntry | None:
    """The newest package the index offers for ``pair``, or None."""
    offered = [entry for entry in entries if entry.pair == pair]
    return max(offered, key=lambda entry: version_key(entry.version)) if offered else None


# -- downloading ------------------------------------------------------------------------------------


def _open(url: str, timeout: float) -> Any:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    return urllib.request.urlopen(request, timeout=timeout)


def read_index(index_url: str, *, timeout: float = 30.0) -> list[IndexEntry]:
    """Download and parse the index; ``FetchError`` with advice when it cannot be reached."""
    try:
        with _open(index_url, timeout) as response:
            raw = response.read(MAX_INDEX_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise FetchError(
            f"cannot reach the argos package index at {index_url} ({reason}). Without internet, copy "
            "the .argosmodel files in and run `python -m server translation install FILE`, or upload them "
            "on the Translation page; or point HOMEROOM_ARGOS_INDEX_URL at a mirror you can reach"
        ) from exc
    if len(raw) > MAX_INDEX_BYTES:
        raise FetchError(f"{index_url}: the index is larger than {MAX_INDEX_BYTES // 1024**2} MiB")
    return parse_index(raw, index_url)


def download(
    entry: IndexEntry,
    folder: Path,
    *,
    max_bytes: int,
    timeout: float = 60.0,
    progress: Callable[[int, int | None], None] | None = None,
) -> Path:
    """Download the package into ``folder`` from the first link that answers; check its checksum.

    Raises ``PackageError`` (refused: too large, wrong checksum) or ``FetchError`` (no link answered).
    """
    problems: list[str] = []
    for url in entry.links:
        name = PurePosixPath(urlsplit(url).path).name or "package.argosmodel"
        name = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "package.argosmodel"
        target = folder / name
        digest = hashlib.sha256()
        received = 0
        try:
            with _open(url, timeout) as response, target.open("wb") as out:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                if total is not None and total > max_bytes:
                    raise PackageError(f"{name}: {total} bytes, more than the {max_bytes} allowed")
                while chunk := response.read(CHUNK):
                    received += len(chunk)
                    if received > max_bytes:
                        raise PackageError(f"{name}: more than the {max_bytes} bytes allowed")
                    digest.update(chunk)
                    out.write(chunk)
                    if progress is not None:
                        progress(received, total)
            if total is not None and received != total:
                raise OSError(f"the download stopped after {received} of {total} bytes")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            target.unlink(missing_ok=True)
            problems.append(f"{url}: {getattr(exc, 'reason', None) or exc}")
            continue
        except PackageError:
            target.unlink(missing_ok=True)
            raise
        if entry.sha256 is not None and digest.hexdigest() != entry.sha256:
            target.unlink(missing_ok=True)
            raise PackageError(
                f"{name}: the checksum does not match the index (a damaged or altered download)"
            )
        return target
    raise FetchError("could not download: " + "; ".join(problems))


# -- the whole fetch -----------------------------------------------------------------------------


def fetch_packages(
    languages: Sequence[str],
    data_dir: Path,
    index_url: str,
    *,
    bundled: Sequence[Path] = (),
    max_bytes: int = 1024**3,
    timeout: float = 60.0,
    progress: Callable[[Step], None] | None = None,
) -> FetchReport:
    """Fetch and install the packages for ``languages`` (both directions with English); blocking.

    Raises ``FetchError`` when the index cannot be read; a pair that fails is reported
    in its step and the others go on.
    """
    report = FetchReport(languages=[code for code in dict.fromkeys(languages) if code != PIVOT])
    report.steps = [Step(source, target) for source, target in wanted_pairs(report.languages)]
    tell = progress or (lambda step: None)
    for step in report.steps:
        tell(step)
    entries = read_index(index_url, timeout=timeout)
    have = {info.pair: info for info in installed_packages(data_dir, bundled)}
    for step in report.steps:
        pair = (step.source, step.target)
        entry = choose(entries, pair)
        if entry is None:
            step.state, step.message = "missing", f"the index has no {pair[0]}→{pair[1]} package"
            tell(step)
            continue
        step.version = entry.version
        installed = have.get(pair)
        if installed is not None and version_key(installed.version) >= version_key(entry.version):
            step.state, step.version = "up_to_date", installed.version
            step.message = f"version {installed.version} is installed"
            tell(step)
            continue
        _fetch_one(entry, step, data_dir, max_bytes=max_bytes, timeout=timeout, tell=tell)
    return report


def _fetch_one(
    entry: IndexEntry,
    step: Step,
    data_dir: Path,
    *,
    max_bytes: int,
    timeout: float,
    tell: Callable[[Step], None],
) -> None:
    downloads = translation_dir(data_dir) / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".fetch-", dir=downloads))
    try:
        step.state = "downloading"
        tell(step)

        def received(count: int, total: int | None) -> None:
            step.received, step.total = count, total
            tell(step)

        file = download(entry, folder, max_bytes=max_bytes, timeout=timeout, progress=received)
        step.state = "installing"
        tell(step)
        info = install_package(file, data_dir, expected=entry.pair)
        step.state, step.version = "installed", info.version
        step.message = f"installed version {info.version}"
    except (PackageError, FetchError, OSError) as exc:
        step.state, step.message = "failed", str(exc)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    tell(step)
