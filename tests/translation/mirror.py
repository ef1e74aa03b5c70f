"""A local argos package index served over HTTP on 127.0.0.1, as a school's mirror would be.

The index is argostranslate's format (a JSON list of entries with ``from_code``,
``to_code``, ``package_version``, ``links``); links are relative to the index, so
the files sit beside it. Tests point ``HOMEROOM_ARGOS_INDEX_URL`` at :attr:`Mirror.index_url`.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class Mirror:
    """A folder of ``.argosmodel`` files and its ``index.json``, served while the context is open."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.entries: list[dict[str, Any]] = []
        self.write_index()

    @property
    def index_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/index.json"

    def add(
        self,
        source: str,
        target: str,
        file: Path | bytes,
        *,
        name: str | None = None,
        version: str = "0.1",
        checksum: str | None = None,
    ) -> None:
        """Offer ``file`` as the ``source→target`` package (its bytes may be anything: tests lie here)."""
        data = file if isinstance(file, bytes) else file.read_bytes()
        name = name or f"translate-{source}_{target}-{version.replace('.', '_')}.argosmodel"
        (self.folder / name).write_bytes(data)
        entry: dict[str, Any] = {
            "package_version": version,
            "argos_version": "1.9.0",
            "from_code": source,
            "from_name": source,
            "to_code": target,
            "to_name": target,
            "links": [name],
        }
        if checksum is not None:
            entry["sha256"] = checksum
        self.entries.append(entry)
        self.write_index()

    def write_index(self) -> None:
        (self.folder / "index.json").write_text(json.dumps(self.entries))


def sha256_of(file: Path) -> str:
    return hashlib.sha256(file.read_bytes()).hexdigest()


@contextmanager
def serving(folder: Path) -> Iterator[Mirror]:
    """Serve ``folder`` on a free port of 127.0.0.1 until the block ends."""
    folder.mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, name="argos-mirror", daemon=True)
    thread.start()
    try:
        yield Mirror(folder, server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
