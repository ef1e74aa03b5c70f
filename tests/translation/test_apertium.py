"""Apertium: mode parsing and escaping (pure), and real translation through long-lived pipelines."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from server.translation.apertium import ApertiumEngine, escape, parse_modes, to_iso1, unescape
from server.translation.engine import UnsupportedPair
from tests.translation.fixtures import needs_apertium

LISTING = """
  cat-eng
  cat-eng_US
  en-gl
  eng-cat
  eng-cat_valencia
  eng-spa
  gl-en
  spa-eng
  spa-eng_US
  eng-spa-tagger
  xxx-yyy
"""


def test_modes_map_to_iso_639_1_pairs_and_plain_modes_beat_variants() -> None:
    assert parse_modes(LISTING) == {
        ("ca", "en"): "cat-eng",
        ("en", "gl"): "en-gl",
        ("en", "ca"): "eng-cat",
        ("en", "es"): "eng-spa",
        ("gl", "en"): "gl-en",
        ("es", "en"): "spa-eng",
    }


def test_a_variant_is_used_when_it_is_the_only_mode() -> None:
    assert parse_modes("spa-eng_US") == {("es", "en"): "spa-eng_US"}


@pytest.mark.parametrize(
    ("code", "iso1"),
    [("eng", "en"), ("spa", "es"), ("cat", "ca"), ("glg", "gl"), ("gl", "gl"), ("zzz", None)],
)
def test_apertium_codes_map_to_iso_639_1(code: str, iso1: str | None) -> None:
    assert to_iso1(code) == iso1


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("plain text", "plain text"),
        ("[a] ^b$ c/d @e <f> {g} h\\i", "\\[a\\] \\^b\\$ c\\/d \\@e \\<f\\> \\{g\\} h\\\\i"),
        ("nul\x00inside", "nul inside"),
    ],
)
def test_special_characters_are_escaped_and_come_back(text: str, escaped: str) -> None:
    assert escape(text) == escaped
    assert unescape(escape(text)) == text.replace("\x00", " ")


@pytest.fixture
async def engine() -> ApertiumEngine:
    found = ApertiumEngine()
    await found.start()
    yield found  # type: ignore[misc]
    await found.close()


@needs_apertium
async def test_english_is_translated_to_spanish_and_back(engine: ApertiumEngine) -> None:
    assert {("en", "es"), ("es", "en")} <= engine.pairs()
    [spanish] = await engine.translate(["Tomorrow is PE day. Please bring a water bottle."], "en", "es")
    assert "Mañana" in spanish and "agua" in spanish
    assert spanish.endswith(".")  # the final full stop is kept ("\n\0" request ending)
    [english] = await engine.translate(["Mañana es el día de educación física."], "es", "en")
    assert "Tomorrow" in english


@needs_apertium
async def test_special_characters_line_breaks_and_empty_texts_survive(engine: ApertiumEngine) -> None:
    texts = [
        "Bring [trainers] & £2 <today> {please} a/b @home $5 ^_^ back\\slash.",
        "Line one.\n\nLine two.\n",
        "",
    ]
    out = await engine.translate(texts, "en", "es")
    assert len(out) == 3
    for token in ("[", "]", "<", ">", "{", "}", "/", "@", "$5", "^_^", "\\", "£2"):
        assert token in out[0]
    assert out[1].count("\n") == 3 and out[1].startswith("Línea")
    assert out[2] == ""


@needs_apertium
async def test_concurrent_requests_each_get_their_own_answer(engine: ApertiumEngine) -> None:
    numbers = list(range(20))
    results = await asyncio.gather(*(engine.translate([f"I have {n} books."], "en", "es") for n in numbers))
    for n, [text] in zip(numbers, results, strict=True):
        assert f" {n} " in text and "libros" in text


@needs_apertium
async def test_one_pipeline_serves_many_requests_quickly(engine: ApertiumEngine) -> None:
    await engine.translate(["Warm up."], "en", "es")
    pipeline = engine._pipelines["eng-spa"]
    started = time.perf_counter()
    for n in range(30):
        await engine.translate([f"Tomorrow is PE day number {n}. Please bring your trainers!"], "en", "es")
    per_request = (time.perf_counter() - started) / 30
    assert pipeline.starts == 1
    assert per_request < 0.1  # a process per request costs 0.15-0.9 s


@needs_apertium
async def test_a_pipeline_that_dies_is_restarted(engine: ApertiumEngine) -> None:
    await engine.translate(["Before."], "en", "es")
    pipeline = engine._pipelines["eng-spa"]
    assert pipeline.pid is not None
    os.killpg(pipeline.pid, signal.SIGKILL)
    [after] = await engine.translate(["After the crash."], "en", "es")
    assert "accidente" in after or "Después" in after
    assert pipeline.starts == 2


@needs_apertium
async def test_an_unknown_pair_is_refused(engine: ApertiumEngine) -> None:
    with pytest.raises(UnsupportedPair):
        await engine.translate(["Hello."], "en", "ur")
