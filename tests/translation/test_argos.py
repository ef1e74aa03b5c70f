"""The argos engine on tiny self-built packages: install, listing, batch translation, no network."""

from __future__ import annotations

import asyncio
import json
import time
import zipfile
from pathlib import Path

import pytest

from server.translation.argos import (
    ArgosEngine,
    PackageError,
    install_package,
    installed_packages,
    packages_dir,
)
from server.translation.engine import UnsupportedPair
from tests.translation.fixtures import ARGOS_LANG, load_builder, needs_argos, network_is_blocked_here

pytestmark = needs_argos


def test_tiny_package_builds_offline_in_well_under_a_second(tmp_path: Path, no_network: list) -> None:
    started = time.perf_counter()
    path = load_builder().build(tmp_path / "t.argosmodel", "en", "pl", seed=3)
    assert time.perf_counter() - started < 1.0
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    folder = names[0].split("/")[0]
    assert {f"{folder}/metadata.json", f"{folder}/sentencepiece.model", f"{folder}/model/model.bin"} <= set(
        names
    )
    assert path.stat().st_size < 400 * 1024
    assert no_network == []


def test_install_puts_the_package_in_the_servers_data_folder(tmp_path: Path, tiny_packages: dict) -> None:
    info = install_package(tiny_packages[("en", ARGOS_LANG)], tmp_path)
    assert (info.source, info.target, info.version) == ("en", ARGOS_LANG, "0.1")
    assert info.path.parent == packages_dir(tmp_path) == tmp_path / "translation" / "packages"
    assert [p.pair for p in installed_packages(tmp_path)] == [("en", ARGOS_LANG)]
    assert not list(packages_dir(tmp_path).glob(".*"))  # no staging folders left behind


def test_installing_a_newer_version_replaces_the_pair(tmp_path: Path) -> None:
    builder = load_builder()
    install_package(builder.build(tmp_path / "a.argosmodel", "en", "pl", version="1.0"), tmp_path)
    install_package(builder.build(tmp_path / "b.argosmodel", "en", "pl", version="1.1"), tmp_path)
    found = installed_packages(tmp_path)
    assert [(p.pair, p.version) for p in found] == [(("en", "pl"), "1.1")]
    assert len([p for p in packages_dir(tmp_path).iterdir()]) == 1


def _zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"a/metadata.json": b"{}", "b/metadata.json": b"{}"}, "exactly one top-level folder"),
        ({"../evil/metadata.json": b"{}"}, "unsafe path"),
        ({"/abs/metadata.json": b"{}"}, "unsafe path"),
        ({"pkg/readme.txt": b"hi"}, "metadata.json"),
        ({"pkg/metadata.json": json.dumps({"from_code": "en", "to_code": "xx"}).encode()}, "model/model.bin"),
        ({"pkg/metadata.json": json.dumps({"from_code": "en"}).encode()}, "from_code/to_code"),
        (
            {
                "pkg/metadata.json": json.dumps({"from_code": "en", "to_code": "xx"}).encode(),
                "pkg/model/model.bin": b"x",
                "pkg/bpe.model": b"x",
            },
            "BPE",
        ),
        (
            {
                "pkg/metadata.json": json.dumps({"from_code": "en", "to_code": "xx"}).encode(),
                "pkg/model/model.bin": b"not a model",
                "pkg/sentencepiece.model": b"not a model",
            },
            "does not load",
        ),
    ],
)
def test_a_bad_archive_is_refused_and_installs_nothing(tmp_path: Path, files: dict, message: str) -> None:
    archive = _zip(tmp_path / "bad.argosmodel", files)
    with pytest.raises(PackageError, match=message):
        install_package(archive, tmp_path / "data")
    assert installed_packages(tmp_path / "data") == []
    assert not (tmp_path / "evil").exists()
    root = packages_dir(tmp_path / "data")
    assert not root.exists() or list(root.iterdir()) == []


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    not_zip = tmp_path / "x.argosmodel"
    not_zip.write_text("hello")
    with pytest.raises(PackageError, match="zip"):
        install_package(not_zip, tmp_path)


async def test_engine_lists_direct_and_pivot_pairs(argos_data_dir: Path) -> None:
    engine = ArgosEngine(argos_data_dir, warm=False)
    await engine.start()
    try:
        assert engine.pairs() == {("en", ARGOS_LANG), (ARGOS_LANG, "en")}
        assert engine.route("en", ARGOS_LANG) == [("en", ARGOS_LANG)]
        with pytest.raises(UnsupportedPair):
            engine.route("en", "es")
    finally:
        await engine.close()


async def test_engine_translates_every_sentence_of_every_text_in_one_batch(argos_data_dir: Path) -> None:
    engine = ArgosEngine(argos_data_dir, warm=False)
    await engine.start()
    calls: list[int] = []
    try:
        model = await engine._model(("en", ARGOS_LANG))
        real = model.translator

        class Counting:
            def translate_batch(self, batch: list, **options: object) -> object:
                calls.append(len(batch))
                return real.translate_batch(batch, **options)

        model.translator = Counting()
        texts = ["Tomorrow is PE day. Please bring trainers!\n\nThank you.", "", "One more."]
        out = await engine.translate(texts, "en", ARGOS_LANG)
        assert calls == [4]  # four sentences, one call
        assert len(out) == 3 and out[1] == ""
        assert out[0].count("\n\n") == 1  # the paragraph break survives
        assert all(isinstance(text, str) and text for text in (out[0], out[2]))
        assert out == await engine.translate(texts, "en", ARGOS_LANG)  # deterministic
    finally:
        await engine.close()


async def test_concurrent_first_calls_load_the_model_once(argos_data_dir: Path) -> None:
    engine = ArgosEngine(argos_data_dir, warm=False)
    await engine.start()
    try:
        results = await asyncio.gather(
            *(engine.translate([f"Reading books {n}."], "en", ARGOS_LANG) for n in range(8))
        )
        assert len(results) == 8
        assert engine.loads == 1
    finally:
        await engine.close()


async def test_start_warms_every_model(argos_data_dir: Path) -> None:
    engine = ArgosEngine(argos_data_dir, warm=True)
    await engine.start()
    try:
        assert engine._warm_task is not None
        await engine._warm_task
        assert engine.loads == 2
        await engine.translate(["Well done."], "en", ARGOS_LANG)
        assert engine.loads == 2
    finally:
        await engine.close()


async def test_engine_pivots_through_english(tmp_path: Path) -> None:
    builder = load_builder()
    for source, target in (("en", ARGOS_LANG), (ARGOS_LANG, "en")):
        install_package(builder.build(tmp_path / f"{source}{target}.argosmodel", source, target), tmp_path)
    install_package(builder.build(tmp_path / "enpl.argosmodel", "en", "pl", seed=5), tmp_path)
    engine = ArgosEngine(tmp_path, warm=False)
    await engine.start()
    try:
        assert (ARGOS_LANG, "pl") in engine.pairs()
        assert engine.route(ARGOS_LANG, "pl") == [(ARGOS_LANG, "en"), ("en", "pl")]
        out = await engine.translate(["Lunch money reminder."], ARGOS_LANG, "pl")
        assert len(out) == 1 and out[0]
        assert engine.loads == 2
    finally:
        await engine.close()


async def test_a_package_installed_while_running_is_picked_up(tmp_path: Path) -> None:
    engine = ArgosEngine(tmp_path, warm=False)
    await engine.start()
    try:
        assert engine.pairs() == set()
        install_package(load_builder().build(tmp_path / "x.argosmodel", "en", "pl"), tmp_path)
        assert engine.pairs() == {("en", "pl")}
    finally:
        await engine.close()


async def test_the_argos_path_never_touches_the_network(
    tmp_path: Path, tiny_packages: dict, no_network: list
) -> None:
    assert network_is_blocked_here()  # the guard itself works
    no_network.clear()
    install_package(tiny_packages[("en", ARGOS_LANG)], tmp_path)
    install_package(tiny_packages[(ARGOS_LANG, "en")], tmp_path)
    engine = ArgosEngine(tmp_path, warm=True)
    await engine.start()
    try:
        assert engine._warm_task is not None
        await engine._warm_task
        assert engine.pairs() == {("en", ARGOS_LANG), (ARGOS_LANG, "en")}
        await engine.translate(["Tomorrow is PE day. Please bring trainers!"], "en", ARGOS_LANG)
        await engine.translate(["Tomorrow."], ARGOS_LANG, "en")
    finally:
        await engine.close()
    assert no_network == []
