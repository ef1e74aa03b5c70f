"""Per-reader rendering: renderers per event type, audiences, and the defaults."""

from __future__ import annotations

from typing import Any

import pytest

from server.channels.render import Rendering, Variant

ES = Variant("es", False)
EN_STAFF = Variant("en", True)


PLAIN = Rendering()


@pytest.fixture
def translated_posts() -> Rendering:
    def pick(data: dict[str, Any], variant: Variant) -> dict[str, Any]:
        post = dict(data["post"])
        text = post.pop("translations", {}).get(variant.language)
        if text is not None:
            post["text"], post["lang"] = text, variant.language
        return {**data, "post": post}

    return Rendering({"post.created": pick})


def test_default_is_the_data_unchanged() -> None:
    data = {"post_id": 3}
    assert PLAIN.render("post.deleted", data, ES) is data
    assert not PLAIN.varies("post.deleted", data)


def test_a_renderer_picks_the_readers_language(translated_posts: Rendering) -> None:
    data = {"post": {"id": 1, "text": "Hello", "lang": "en", "translations": {"es": "Hola"}}}
    assert translated_posts.varies("post.created", data)
    assert not PLAIN.varies("post.created", data)
    assert translated_posts.render("post.created", data, ES) == {
        "post": {"id": 1, "text": "Hola", "lang": "es"}
    }
    assert translated_posts.render("post.created", data, EN_STAFF) == {
        "post": {"id": 1, "text": "Hello", "lang": "en"}
    }


@pytest.mark.parametrize(
    ("audience", "variant", "receives"),
    [
        ({"language": "es"}, ES, True),
        ({"language": "es"}, EN_STAFF, False),
        ({"staff": True}, EN_STAFF, True),
        ({"staff": True}, ES, False),
        ({"language": "en", "staff": True}, EN_STAFF, True),
        ({}, ES, True),
    ],
)
def test_audience_limits_who_receives_and_is_never_sent(
    audience: dict[str, Any], variant: Variant, receives: bool
) -> None:
    data = {"post_id": 1, "lang": "es", "text": "Hola", "audience": audience}
    assert PLAIN.varies("post.translated", data)
    rendered = PLAIN.render("post.translated", data, variant)
    assert (rendered is not None) is receives
    if rendered is not None:
        assert "audience" not in rendered and rendered["text"] == "Hola"
