"""What a reader sees: text in their language when ready, original always, status otherwise."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from server.language.stored import Cached
from server.language.view import make_renderer, reader_view, translation_status
from server.translation.registry import Registry
from tests.translation.fakes import FakeEngine

REGISTRY = Registry(
    [FakeEngine("apertium", {("en", "es"), ("es", "en")}), FakeEngine("argos", {("en", "ur")})]
)
POST = {"id": 7, "scope": "class", "class_id": 3, "text": "Tomorrow is PE day.", "lang": "en"}


@pytest.mark.parametrize(
    ("source", "reader", "ready", "available", "status"),
    [
        ("en", "en", False, False, "not_needed"),
        ("en", "es", True, True, "ready"),
        ("en", "es", False, True, "pending"),
        ("en", "pl", False, False, "unavailable"),
        ("en", "", False, False, "not_needed"),
    ],
)
def test_status_table(source: str, reader: str, ready: bool, available: bool, status: str) -> None:
    assert translation_status(source, reader, ready, available) == status


def test_reader_in_the_source_language_gets_the_original_not_needed() -> None:
    view = reader_view(POST, "en", {}, routes=REGISTRY)
    assert view["text"] == "Tomorrow is PE day." and view["lang"] == "en"
    assert view["original"] == {"text": "Tomorrow is PE day.", "lang": "en"}
    assert view["translation"]["status"] == "not_needed"


def test_ready_translation_from_the_batch_lookup_is_shown_with_the_original() -> None:
    found = {("Tomorrow is PE day.", "en"): Cached("Mañana es el día de EF.", "apertium")}
    view = reader_view(POST, "es", found, routes=REGISTRY)
    assert (view["text"], view["lang"]) == ("Mañana es el día de EF.", "es")
    assert view["original"] == {"text": "Tomorrow is PE day.", "lang": "en"}
    assert view["translation"] == {"status": "ready", "engine": "apertium"}
    assert view["id"] == 7 and view["class_id"] == 3


def test_translations_carried_in_an_event_are_used_and_not_passed_on() -> None:
    post = {**POST, "translations": {"ur": "ترجمہ"}}
    view = reader_view(post, "ur", routes=REGISTRY)
    assert view["text"] == "ترجمہ" and view["translation"] == {"status": "ready", "engine": "argos"}
    assert "translations" not in view
    assert "translations" in post  # the input is untouched


def test_not_yet_translated_is_pending_with_the_original_text() -> None:
    view = reader_view(POST, "es", {}, routes=REGISTRY)
    assert (view["text"], view["lang"]) == ("Tomorrow is PE day.", "en")
    assert view["translation"] == {"status": "pending", "engine": "apertium"}


def test_a_language_no_engine_serves_is_unavailable_never_an_error() -> None:
    view = reader_view(POST, "pl", {}, routes=REGISTRY)
    assert view["translation"] == {"status": "unavailable"}
    assert view["text"] == "Tomorrow is PE day."


def test_rendering_a_rendered_item_starts_from_its_original() -> None:
    found = {("Tomorrow is PE day.", "en"): Cached("Mañana.", "apertium")}
    spanish = reader_view(POST, "es", found, routes=REGISTRY)
    again = reader_view(spanish, "en", {}, routes=REGISTRY)
    assert (again["text"], again["lang"]) == ("Tomorrow is PE day.", "en")
    assert again["translation"]["status"] == "not_needed"


@dataclass
class V:
    language: str
    staff: bool = False


def test_live_renderer_renders_posts_and_messages_per_variant() -> None:
    render = make_renderer(REGISTRY)
    data = {"post": {**POST, "translations": {"es": "Mañana es día de EF."}}}
    es = render(data, V("es"))
    en = render(data, V("en"))
    ur = render(data, V("ur"))
    assert es["post"]["text"] == "Mañana es día de EF." and es["post"]["translation"]["status"] == "ready"
    assert en["post"]["translation"]["status"] == "not_needed"
    assert ur["post"]["translation"]["status"] == "pending"
    assert "translations" not in es["post"]
    message = {
        "message": {"id": 1, "conversation_id": 2, "text": "Hola, mi hijo está enfermo.", "lang": "es"}
    }
    teacher = render(message, V("en", staff=True))
    assert teacher["message"]["original"] == {"text": "Hola, mi hijo está enfermo.", "lang": "es"}
    assert teacher["message"]["translation"]["status"] == "pending"
