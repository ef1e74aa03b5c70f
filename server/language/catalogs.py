"""The interface's message catalogs: extracted with Babel, one ``.po`` per language, compiled.

Sources (committed): ``server/language/catalogs/homeroom.pot`` (the English template) and
``server/language/catalogs/<lang>/LC_MESSAGES/homeroom.po``. Compiled (not committed, made by
``tools/catalogs.py compile`` and again by the server whenever they are missing or older than
their ``.po``): ``<lang>/LC_MESSAGES/homeroom.mo`` for the server and
``.cache/catalogs/<lang>.<hash>.json`` for the web client, listed in ``manifest.json``.

Plural forms come from CLDR through Babel (:func:`plural_header`), never from a hand-written
table, so the server (gettext's expression) and the client (``Intl.PluralRules`` categories in
the same order) agree.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.plural import _plural_tags, to_gettext

ROOT = Path(__file__).resolve().parent.parent.parent
CATALOGS = Path(__file__).resolve().parent / "catalogs"
TEMPLATE = CATALOGS / "homeroom.pot"
DOMAIN = "homeroom"
COMPILED = ROOT / ".cache" / "catalogs"
MANIFEST = COMPILED / "manifest.json"

# Every language with a catalog in the repository (BCP 47 with "_" as gettext spells it).
LANGUAGES: tuple[str, ...] = (
    "es", "pl", "ur", "ar", "ro", "pt", "bn", "pa", "so", "fr", "zh_Hans", "uk", "tr", "lt", "fa",
)  # fmt: skip

# Languages whose catalogs must be complete (the catalog test enforces it): all of them. A new
# language joins LANGUAGES at once and SHIPPED when its translator has finished.
SHIPPED: tuple[str, ...] = LANGUAGES

# What pybabel would read from babel.cfg, kept here so the tool and the test extract alike.
KEYWORDS_PY: dict[str, Any] = {"text": (2,), "plural": (2, 3), "N_": None}
KEYWORDS_JS: dict[str, Any] = {"t": None, "tn": (1, 2), "N_": None}
PLACEHOLDER = re.compile(r"\{(\w+)\}")

_lock = threading.Lock()
log = logging.getLogger(__name__)


def po_path(language: str) -> Path:
    return CATALOGS / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(language: str) -> Path:
    return CATALOGS / language / "LC_MESSAGES" / f"{DOMAIN}.mo"


def cldr_categories(language: str) -> list[str]:
    """The CLDR plural categories of ``language`` in gettext's index order."""
    tags = Locale.parse(language).plural_form.tags | {"other"}
    return [tag for tag in _plural_tags if tag in tags]


def plural_header(language: str) -> str:
    """The ``Plural-Forms`` header CLDR gives for ``language``."""
    header = to_gettext(Locale.parse(language).plural_form).strip().rstrip(";") + ";"
    # CLDR's compact-exponent operand ``e`` is 0 for the whole numbers an interface counts;
    # gettext's expression language has no such variable.
    return re.sub(r"\be\b", "0", header)


def _js_options() -> dict[str, object]:
    return {"jsx": False, "template_string": True, "parse_template_string": True}


def extract() -> Catalog:
    """A fresh template from the server's and the web client's sources."""
    catalog = Catalog(project="Homeroom", domain=DOMAIN, fuzzy=False, charset="utf-8")
    sources: list[tuple[Path, list[tuple[str, str]], dict[str, Any]]] = [
        (ROOT / "server", [("db/migrations/**.py", "ignore"), ("**.py", "python")], KEYWORDS_PY),
        (ROOT / "web", [("js/**.js", "javascript"), ("index.html", "ignore")], KEYWORDS_JS),
    ]
    for directory, method_map, keywords in sources:
        options = {"js/**.js": _js_options()}
        found = extract_from_dir(
            str(directory),
            method_map,
            options_map=options,
            keywords=keywords,
            comment_tags=("TRANSLATORS:",),
            strip_comment_tags=True,
        )
        for filename, lineno, message, comments, context in found:
            where = (str((directory / filename).relative_to(ROOT)), lineno)
            existing = catalog.get(message, context)
            if existing is not None:
                existing.locations.append(where)
                existing.auto_comments.extend(c for c in comments if c not in existing.auto_comments)
                continue
            catalog.add(message, None, [where], auto_comments=comments, context=context)
    return catalog


def _catalog_ids(catalog: Catalog) -> set[object]:
    return {message.id for message in catalog if message.id}


def write_template(catalog: Catalog) -> None:
    _write_po(TEMPLATE, catalog, omit_header=False)


def _write_po(path: Path, catalog: Catalog, *, omit_header: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = BytesIO()
    write_po(buffer, catalog, width=100, sort_output=False, omit_header=omit_header, include_lineno=False)
    data = re.sub(rb'"POT-Creation-Date: [^"]*"\n', b"", buffer.getvalue())
    data = re.sub(rb'"PO-Revision-Date: [^"]*"\n', b"", data)
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


def read(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


def update(template: Catalog, languages: Iterable[str] = LANGUAGES) -> None:
    """Bring every language's ``.po`` up to ``template``: new messages empty, gone ones dropped."""
    for language in languages:
        path = po_path(language)
        if path.exists():
            catalog = read(path, language)
        else:
            catalog = Catalog(locale=language, domain=DOMAIN, project="Homeroom", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalog.obsolete.clear()
        count, expression = _plural_parts(language)
        # Babel keeps a catalog's plural forms in these two; CLDR's win over any older header.
        setattr(catalog, "_num_plurals", count)  # noqa: B010
        setattr(catalog, "_plural_expr", expression)  # noqa: B010
        catalog.language_team = f"{Locale.parse(language).english_name} <translators>"
        _write_po(path, catalog)


def _plural_parts(language: str) -> tuple[int, str]:
    header = plural_header(language)
    found = re.search(r"nplurals=(\d+)", header)
    assert found is not None, header
    count = int(found.group(1))
    expression = header.split("plural=", 1)[1].rstrip(";").strip()
    return count, expression


def translated(message: Message) -> bool:
    if isinstance(message.id, tuple | list):
        return all(isinstance(s, str) and s for s in (message.string or ()))
    return bool(message.string)


def completeness(catalog: Catalog) -> tuple[int, int]:
    """(translated, total) messages of ``catalog``, the header left out."""
    messages = [m for m in catalog if m.id and not m.fuzzy]
    total = len([m for m in catalog if m.id])
    return len([m for m in messages if translated(m)]), total


def _json_messages(catalog: Catalog) -> dict[str, object]:
    out: dict[str, object] = {}
    for message in catalog:
        if not message.id or message.fuzzy or not translated(message):
            continue
        if isinstance(message.id, tuple | list):
            out["\u0000".join(message.id)] = list(message.string or ())
        else:
            out[str(message.id)] = message.string
    return out


def compile_all(languages: Iterable[str] = LANGUAGES) -> dict[str, dict[str, object]]:
    """Compile every ``.po`` into ``.mo`` and hashed JSON; returns the new manifest."""
    COMPILED.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, dict[str, object]] = {}
    for language in languages:
        path = po_path(language)
        if not path.exists():
            continue
        catalog = read(path, language)
        compiled = BytesIO()
        write_mo(compiled, catalog, use_fuzzy=False)
        _atomic_write(mo_path(language), compiled.getvalue())
        done, total = completeness(catalog)
        body = {
            "language": language,
            "plural_categories": cldr_categories(language),
            "messages": _json_messages(catalog),
        }
        data = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        digest = hashlib.sha256(data).hexdigest()[:12]
        name = f"{language}.{digest}.json"
        _atomic_write(COMPILED / name, data)
        manifest[language] = {
            "file": name,
            "translated": done,
            "total": total,
            "complete": total > 0 and done == total,
        }
    _atomic_write(MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
    for stale in COMPILED.glob("*.json"):
        if stale != MANIFEST and stale.name not in {str(v["file"]) for v in manifest.values()}:
            stale.unlink(missing_ok=True)
    return manifest


def _atomic_write(path: Path, data: bytes) -> None:
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(name, path)


def _sources() -> Iterator[Path]:
    for language in LANGUAGES:
        yield po_path(language)


def is_stale() -> bool:
    """True when a compiled file is missing or older than a ``.po`` it comes from."""
    if not MANIFEST.exists():
        return True
    built = MANIFEST.stat().st_mtime
    for source in _sources():
        if not source.exists():
            continue
        language = source.parent.parent.name
        mo = mo_path(language)
        if not mo.exists() or mo.stat().st_mtime < source.stat().st_mtime or built < source.stat().st_mtime:
            return True
    return False


def ensure_compiled() -> dict[str, dict[str, object]]:
    """Compile when stale (a fresh clone, an edited ``.po``); return the manifest."""
    with _lock:
        if is_stale():
            try:
                return compile_all()
            except OSError:
                # A read-only install whose files look older than their sources: serve what was built.
                log.warning("could not compile the interface catalogs", exc_info=True)
                if not MANIFEST.exists():
                    return {}
        loaded: dict[str, dict[str, object]] = json.loads(MANIFEST.read_text())
        return loaded


def manifest() -> dict[str, dict[str, object]]:
    """The compiled catalogs: per language its JSON file and whether it is complete."""
    return ensure_compiled()


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M%z")
