"""Names and school words survive translation exactly: placeholders, restoring, and the real engines."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import httpx
import pytest
from starlette.applications import Starlette

from server.language.view import cached_translations, reader_view, routes_of
from server.services import Services
from server.translation import terms
from server.translation.pipeline import Pipeline, protected_terms
from server.translation.queue import MemoryQueue
from server.translation.registry import Registry
from tests.factories import make_world
from tests.translation.fakes import FakeEngine
from tests.translation.fixtures import needs_apertium, needs_argos
from tests.translation.test_pipeline import events, plain_post, write_post

KEEP = ("Grace", "Nadia", "Nadia P.", "Kindness", "Year 4", "Year 4 Oak", "Mrs Patel")

# -- protect: which words become placeholders -------------------------------------------------------

PROTECT_CASES = [
    # (text, terms, expected text after protect, expected {number: term})
    ("Grace won.", KEEP, "7101 won.", {7101: "Grace"}),
    ("Well done Nadia P. and Nadia!", KEEP, "Well done 7101 and 7102!", {7101: "Nadia P.", 7102: "Nadia"}),
    (
        "Year 4 Oak and Year 4 went out.",
        KEEP,
        "7101 and 7102 went out.",
        {7101: "Year 4 Oak", 7102: "Year 4"},
    ),
    ("Grace and Grace.", KEEP, "7101 and 7101.", {7101: "Grace"}),
    (
        "Amazing grace, Graceful Gracey.",
        KEEP,
        "Amazing grace, Graceful Gracey.",
        {},
    ),  # whole words, case as written
    ("No names here.", KEEP, "No names here.", {}),
    (
        "Room 7102 for Grace.",
        KEEP,
        "Room 7102 for 8301.",
        {8301: "Grace"},
    ),  # avoids numbers already in the text
    ("Mrs Patel's class", KEEP, "7101's class", {7101: "Mrs Patel"}),
    ("Grace", (), "Grace", {}),
    ("", KEEP, "", {}),
]


@pytest.mark.parametrize(("text", "keep", "shielded", "numbers"), PROTECT_CASES)
def test_protect_swaps_whole_terms_longest_first(
    text: str, keep: Sequence[str], shielded: str, numbers: dict[int, str]
) -> None:
    protected = terms.protect(text, keep)
    assert protected.text == shielded
    assert protected.terms == numbers


# -- restore: what an engine's output may do to the placeholders ------------------------------------

RESTORE_CASES = [
    # (engine output, expected)
    ("7101 y 7102 ganaron.", "Nadia P. y Nadia ganaron."),  # Apertium: untouched
    ("7.101 y 7,102 ganaron.", "Nadia P. y Nadia ganaron."),  # thousands separators
    ("7\u00a0101 y 7\u202f102", "Nadia P. y Nadia"),  # non-breaking spaces as separators
    ("٧١٠١ و ٧١٠٢ فازتا", "Nadia P. و Nadia فازتا"),  # Arabic-Indic digits
    ("۷۱۰۱ اور ۷۱۰۲", "Nadia P. اور Nadia"),  # Urdu (extended Arabic-Indic) digits
    ("7102, 7101 y 7101.", "Nadia, Nadia P. y Nadia P."),  # moved and repeated
    ("71010 y 7101 7102", "71010 y Nadia P. Nadia"),  # a longer number is not a placeholder
    ("7101 ganó.", None),  # 7102 lost: the caller translates unprotected
    ("ganaron.", None),
]


@pytest.mark.parametrize(("output", "expected"), RESTORE_CASES)
def test_restore_puts_terms_back_or_says_one_was_lost(output: str, expected: str | None) -> None:
    protected = terms.Protected("7101 and 7102 won.", {7101: "Nadia P.", 7102: "Nadia"})
    assert terms.restore(output, protected) == expected


def test_restore_without_terms_is_the_output_itself() -> None:
    assert terms.restore("Hola 7101", terms.Protected("Hello 7101", {})) == "Hola 7101"


@pytest.mark.parametrize(
    "text",
    [
        "Grace, Nadia P. and Nadia (Year 4 Oak) thank Mrs Patel for Kindness week.",
        "Year 4 7101 8301 6401 Grace",
        "Grace " * 150,
    ],
)
def test_protect_then_restore_of_an_untouched_text_gives_it_back(text: str) -> None:
    protected = terms.protect(text, KEEP)
    assert terms.restore(protected.text, protected) == text


SCHOOL_TERMS_CASES = [
    (
        {"school_name": "Riverside Primary School", "staff_names": ["Mrs Adebayo (Head)", "Mr Ellis"]},
        {"Riverside Primary School", "Mrs Adebayo (Head)", "Mrs Adebayo", "Mr Ellis"},
    ),
    (
        {"pupil_names": ["Amir", "Amir K.", " Amir "], "class_names": ["Reception"]},
        {"Amir", "Amir K.", "Reception"},
    ),
    ({"skill_names": ["Kindness", ""], "glossary": ["Golden Time", "X"]}, {"Kindness", "Golden Time"}),
]


@pytest.mark.parametrize(("given", "expected"), SCHOOL_TERMS_CASES)
def test_school_terms_gathers_names_and_words_without_blanks(given: dict, expected: set[str]) -> None:
    found = terms.school_terms(**given)
    assert set(found) == expected
    assert list(found) == sorted(found, key=lambda t: (-len(t), t))


# -- through the pipeline: real Apertium, and an argos-like engine ------------------------------------


async def school_with_names(tservices: Services, api: httpx.AsyncClient | None = None) -> tuple:
    world = await make_world(tservices)
    school_class = world.classes[0]
    grace = await world.add_student(school_class, "Grace", "Hall")
    await world.add_student(school_class, "Nadia", "Patel")
    await world.add_student(school_class, "Nadia", "Khan")
    parent = await world.add_parent(grace, language="es")
    return world, school_class.id, parent


@pytest.fixture
async def tapi(translating_app: Starlette) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=translating_app, client=("10.88.0.1", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@needs_apertium
@needs_argos
async def test_apertium_keeps_pupils_a_school_way_and_a_glossary_term_exactly(
    tservices: Services, pipeline: Pipeline, tapi: httpx.AsyncClient
) -> None:
    world, class_id, parent = await school_with_names(tservices)
    reply = await tapi.patch(
        "/api/school",
        json={"translation_glossary": [" Golden  Time ", "Golden Time"]},
        headers=world.admin.headers,
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["translation_glossary"] == ["Golden Time"]
    assert (await tapi.get("/api/school", headers=parent.headers)).json()["translation_glossary"] == [
        "Golden Time"
    ]

    text = (
        f"Grace and Nadia P. won the Kindness award {secrets.token_hex(2)}. "
        "Golden Time is on Friday with Mrs Patel."
    )
    post_id = await write_post(tservices, world, class_id, text)
    assert await pipeline.idle()
    [event] = [
        e for e in await events(tservices, "post.translated", "post_id", post_id) if e.data["lang"] == "es"
    ]
    spanish = event.data["text"]
    assert event.data["engine"] == "apertium"
    for kept in ("Grace", "Nadia P.", "Kindness", "Golden Time", "Mrs Patel"):
        assert kept in spanish, spanish
    assert "Gracia" not in spanish and "Bondad" not in spanish and "Tiempo" not in spanish
    assert "viernes" in spanish  # the rest really is Spanish
    async with tservices.read() as session:
        found = await cached_translations(session, [(text, "en")], "es")
    view = reader_view({"id": post_id, "text": text, "lang": "en"}, "es", found, routes=routes_of(tservices))
    assert view["text"] == spanish and view["original"]["text"] == text


@needs_apertium
@needs_argos
async def test_the_school_terms_come_from_the_roster_the_ways_classes_and_settings(
    tservices: Services, tapi: httpx.AsyncClient
) -> None:
    world, _, _ = await school_with_names(tservices)
    await tapi.patch("/api/school", json={"translation_glossary": ["Reception"]}, headers=world.admin.headers)
    async with tservices.read() as session:
        found = set(await protected_terms(session, world.school.id))
    assert {"Grace", "Nadia", "Nadia P.", "Nadia K.", "Kindness", "Teamwork", "Class 1", "Reception"} <= found
    assert {"Mrs Patel", "Mrs Doyle", "Mrs Adebayo", world.school.name} <= found


class NeuralLike(FakeEngine):
    """An engine that writes numbers the way neural models sometimes do, or drops one."""

    def __init__(self, *, drop: bool) -> None:
        super().__init__("argos", {("en", "xx")})
        self.drop = drop

    async def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        self.calls.append((tuple(texts), source, target))
        out = []
        for text in texts:
            if self.drop and "7101" in text:
                out.append("[xx] someone won")
            else:
                out.append("[xx] " + text.replace("7101", "7.101").replace("7102", "٧١٠٢"))
        return out


@needs_apertium
@needs_argos
@pytest.mark.parametrize("drop", [False, True])
async def test_an_argos_like_engine_gets_placeholders_and_a_lost_one_falls_back(
    tservices: Services, drop: bool
) -> None:
    world, class_id, _ = await school_with_names(tservices)
    engine = NeuralLike(drop=drop)
    queue = MemoryQueue(tasks=1)
    pipe = Pipeline(tservices, Registry([engine]), queue)
    await queue.start(pipe.run_job, consume=True)
    try:
        text = f"Grace and Nadia P. won {secrets.token_hex(2)}."
        post_id = await plain_post(tservices, world, class_id, text)
        assert await pipe.request_translations("post", post_id, text, "en", {"xx"}) == 1
        assert await pipe.idle()
        [event] = await events(tservices, "post.translated", "post_id", post_id)
        first_input = engine.calls[0][0][0]
        assert "Grace" not in first_input and "Nadia" not in first_input
        if drop:  # translated again, unprotected: no name is ever silently lost
            assert len(engine.calls) == 2 and engine.calls[1][0][0] == text
            assert event.data["text"] == f"[xx] {text}"
        else:
            assert len(engine.calls) == 1
            assert event.data["text"] == f"[xx] {text}"
    finally:
        await queue.stop()
