"""Where uploaded files live: the ``Storage`` interface and its local-folder implementation.

The rest of the server names files by opaque keys and never builds a path itself.
Writes are atomic (a temporary file renamed into place), so a reader never sees
half a file and a crash leaves no truncated upload behind. Methods are blocking;
callers run them in a worker thread. Who may read a file is decided elsewhere
(:mod:`server.media`); storage only keeps bytes.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol
from urllib.parse import urlparse

from server.settings import Settings

_NAME = re.compile(r"^[A-Za-z0-9_-]{8,80}(\.[a-z]{1,12})?$")


class Storage(Protocol):
    """Keeps the bytes of uploaded files under opaque names."""

    def writer(self, name: str) -> contextlib.AbstractContextManager[IO[bytes]]:
        """A binary file to write; it appears under ``name`` only when the block ends cleanly."""
        ...

    def open(self, name: str) -> IO[bytes]:
        """Open a stored file for reading; ``FileNotFoundError`` when it is missing."""
        ...

    def local_path(self, name: str) -> Path | None:
        """The file's path on this machine when it has one (lets the server send it directly)."""
        ...

    def exists(self, name: str) -> bool: ...

    def delete(self, name: str) -> None:
        """Remove a file; a missing file is not an error."""
        ...


def check_name(name: str) -> str:
    """Refuse any name that is not a plain key (no separators, no dots but one suffix)."""
    if not _NAME.match(name):
        raise ValueError(f"not a storage name: {name!r}")
    return name


class LocalStorage:
    """Files in a folder on this machine (or a shared volume), spread over subfolders."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, name: str) -> Path:
        check_name(name)
        return self.root / name[:2] / name

    @contextlib.contextmanager
    def writer(self, name: str) -> Iterator[IO[bytes]]:
        target = self._path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                yield out
            os.chmod(temp, 0o640)
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise

    def open(self, name: str) -> IO[bytes]:
        return self._path(name).open("rb")

    def local_path(self, name: str) -> Path | None:
        return self._path(name)

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def delete(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(name).unlink()


def open_storage(location: str | Path) -> Storage:
    """The storage for a location: a folder path or a ``file://`` URL (the one kind so far)."""
    text = str(location)
    if "://" not in text:
        return LocalStorage(Path(text))
    parsed = urlparse(text)
    if parsed.scheme == "file":
        return LocalStorage(Path(parsed.path))
    raise ValueError(f"unsupported media storage: {parsed.scheme}://")


def storage_for(settings: Settings) -> Storage:
    """The storage configured by ``HOMEROOM_MEDIA_DIR``."""
    return open_storage(settings.media_dir)
