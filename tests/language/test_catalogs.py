"""The interface catalogs: complete where shipped, placeholders kept, CLDR plurals, never stale."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from server.language import catalogs, interface

# The languages whose catalogs must be complete; extend it as translators finish theirs.
SHIPPED = catalogs.SHIPPED
ROOT = Path(__file__).resolve().parents[2]


def _ids(catalog: Catalog) -> set[object]:
    return {m.id for m in catalog if m.id}


@pytest.fixture(scope="module")
def fresh() -> Catalog:
    return catalogs.extract()


@pytest.fixture(scope="module")
def template() -> Catalog:
    return catalogs.read(catalogs.TEMPLATE)


def test_the_template_matches_a_fresh_extraction(fresh: Catalog, template: Catalog) -> None:
    assert _ids(fresh) == _ids(template), "run `python tools/catalogs.py update`"
    assert len(_ids(template)) > 500


@pytest.mark.parametrize("language", catalogs.LANGUAGES)
def test_every_catalog_has_exactly_the_templates_messages(language: str, template: Catalog) -> None:
    catalog = catalogs.read(catalogs.po_path(language), language)
    assert _ids(catalog) == _ids(template), f"{language} is stale: run `python tools/catalogs.py update`"


@pytest.mark.parametrize("language", catalogs.LANGUAGES)
def test_plural_forms_follow_cldr(language: str) -> None:
    catalog = catalogs.read(catalogs.po_path(language), language)
    assert catalog.num_plurals == len(catalogs.cldr_categories(language))
    for message in catalog:
        if isinstance(message.id, tuple | list) and any(message.string or ()):
            assert len(message.string) == catalog.num_plurals, message.id


@pytest.mark.parametrize("language", SHIPPED)
def test_shipped_catalogs_are_complete(language: str) -> None:
    catalog = catalogs.read(catalogs.po_path(language), language)
    missing = [m.id for m in catalog if m.id and (m.fuzzy or not catalogs.translated(m))]
    assert missing == [], f"{language}: {len(missing)} untranslated, e.g. {missing[:5]}"


def _placeholders(value: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", value))


@pytest.mark.parametrize("language", catalogs.LANGUAGES)
def test_translations_keep_every_placeholder(language: str) -> None:
    catalog = catalogs.read(catalogs.po_path(language), language)
    for message in catalog:
        if not message.id or not catalogs.translated(message):
            continue
        if isinstance(message.id, tuple | list):
            wanted = _placeholders(message.id[0]) | _placeholders(message.id[1])
            # A language with one form for "one" may write the number out ("un punto"), so {n}/{count}
            # may be left out of the singular; every other placeholder must be there.
            for form in message.string:
                assert _placeholders(form) <= wanted, (message.id, form)
                assert wanted - {"n", "count"} <= _placeholders(form), (message.id, form)
            assert _placeholders(message.string[-1]) == wanted, (message.id, message.string[-1])
        else:
            assert _placeholders(str(message.string)) == _placeholders(str(message.id)), (
                message.id,
                message.string,
            )


def test_compiled_catalogs_serve_the_server_and_the_client(tmp_path: Path) -> None:
    manifest = catalogs.compile_all()
    interface.reload()
    entry = manifest["es"]
    assert isinstance(entry, dict) and entry["complete"] is True
    body = json.loads((catalogs.COMPILED / str(entry["file"])).read_text())
    assert body["plural_categories"] == ["one", "many", "other"]
    assert body["messages"]["Sign in"] == "Iniciar sesión"
    assert body["messages"]["{count} point\u0000{count} points"][0] == "{count} punto"
    assert interface.text("es", "Sign in") == "Iniciar sesión"
    assert interface.text("es-MX", "Sign in") == "Iniciar sesión"
    assert interface.plural("es", "{count} point", "{count} points", 3, count="3") == "3 puntos"
    assert interface.plural("es", "{count} point", "{count} points", 1, count="1") == "1 punto"
    # A language without a (complete) catalog reads English, placeholders filled.
    assert interface.text("cy", "Hi {name}!", name="Nadia") == "Hi Nadia!"
    assert interface.text("es", "Hi {name}!", name="Nadia") == "¡Hola, Nadia!"


def test_accept_language_picks_the_first_language_with_a_catalog() -> None:
    assert interface.from_accept_language("es-ES,es;q=0.9,en;q=0.8") == "es"
    assert interface.from_accept_language("cy,fr;q=0.5") == "fr"
    assert interface.from_accept_language("en-GB,es;q=0.9") == "en"
    assert interface.from_accept_language("zh-CN") == "zh_Hans"
    assert interface.from_accept_language(None) == "en"


def test_a_fresh_clone_compiles_on_first_use(tmp_path: Path) -> None:
    """Missing compiled files (a fresh clone) are made the first time the server needs them."""
    saved = tmp_path / "saved"
    shutil.copytree(catalogs.COMPILED, saved)
    try:
        shutil.rmtree(catalogs.COMPILED)
        assert catalogs.is_stale()
        assert "es" in catalogs.ensure_compiled()
        assert not catalogs.is_stale()
    finally:
        shutil.rmtree(catalogs.COMPILED, ignore_errors=True)
        shutil.copytree(saved, catalogs.COMPILED)


def test_the_check_command_fails_on_a_string_added_without_extracting(tmp_path: Path) -> None:
    ok = subprocess.run(
        [sys.executable, "tools/catalogs.py", "check"], cwd=ROOT, capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    added = ROOT / "web" / "js" / "zz_catalog_check_probe.js"
    added.write_text(
        'import { t } from "./i18n.js";\n'
        'export const probe = () => t("A brand-new sentence nobody extracted");\n'
    )
    try:
        stale = subprocess.run(
            [sys.executable, "tools/catalogs.py", "check"], cwd=ROOT, capture_output=True, text=True
        )
    finally:
        added.unlink()
    assert stale.returncode == 1
    assert "A brand-new sentence nobody extracted" in stale.stderr
