"""Engine order: for each pair the first engine that has it wins; English pivots; the rest unavailable."""

from __future__ import annotations

import pytest

from server.settings import Settings
from server.translation.engine import UnsupportedPair
from server.translation.registry import Registry, build_engines
from tests.translation.fakes import FakeEngine


def make() -> tuple[Registry, FakeEngine, FakeEngine]:
    first = FakeEngine("argos", {("en", "ur"), ("ur", "en"), ("en", "es")})
    second = FakeEngine("apertium", {("en", "es"), ("es", "en"), ("en", "ca")})
    return Registry([first, second]), first, second


@pytest.mark.parametrize(
    ("source", "target", "engine"),
    [
        ("en", "es", "argos"),  # both have it: the first in the order wins
        ("en", "ur", "argos"),
        ("es", "en", "apertium"),
        ("en", "ca", "apertium"),
        ("ur", "es", "argos"),  # argos both halves through English
        ("es", "ur", "apertium+argos"),  # apertium es→en, then argos en→ur
        ("ur", "ca", "argos+apertium"),
        ("en", "pl", None),
        ("pl", "en", None),
        ("ca", "ur", None),  # no ca→en anywhere
        ("en", "en", None),
    ],
)
def test_each_pair_goes_to_the_first_engine_that_has_it(source: str, target: str, engine: str | None) -> None:
    registry, _, _ = make()
    assert registry.engine_for(source, target) == engine


@pytest.mark.parametrize(
    ("source", "readable"), [("en", True), ("ur", True), ("es", True), ("ca", False), ("pl", False)]
)
def test_a_language_is_translatable_from_when_some_route_leaves_it(source: str, readable: bool) -> None:
    registry, _, _ = make()
    assert registry.translates_from(source) is readable
    assert not Registry([]).translates_from(source)


def test_reversing_the_order_changes_the_winner() -> None:
    _, first, second = make()
    assert Registry([second, first]).engine_for("en", "es") == "apertium"


async def test_translation_goes_through_the_winning_engine_and_pivots() -> None:
    registry, _, second = make()
    assert await registry.translate(["Hi."], "en", "es") == (["[es] Hi."], "argos")
    assert second.calls == []
    texts, engine = await registry.translate(["Hola."], "es", "ur")
    assert (texts, engine) == (["[ur] [en] Hola."], "apertium+argos")


async def test_a_pair_nobody_has_is_refused_with_unsupported_pair() -> None:
    registry, _, _ = make()
    with pytest.raises(UnsupportedPair):
        await registry.translate(["x"], "en", "pl")


def test_targets_are_every_language_reachable() -> None:
    registry, _, _ = make()
    assert registry.targets() == {"ur", "en", "es", "ca"}
    assert Registry([]).targets() == set()


async def test_an_engine_that_fails_to_start_is_left_out() -> None:
    class Broken(FakeEngine):
        async def start(self) -> None:
            raise RuntimeError("boom")

    good = FakeEngine("apertium", {("en", "es")})
    registry = Registry([Broken("argos", {("en", "ur")}), good])
    await registry.start()
    assert registry.names == ["apertium"]
    assert registry.engine_for("en", "ur") is None


@pytest.mark.parametrize(
    ("engines", "names"),
    [((), []), (("none",), []), (("nonsense",), []), (("apertium", "argos"), ["apertium", "argos"])],
)
def test_engines_come_from_the_setting_in_order(engines: tuple[str, ...], names: list[str]) -> None:
    from server.translation.apertium import ApertiumEngine
    from server.translation.argos import argos_available

    built = [e.name for e in build_engines(Settings(translation_engines=engines), warm=False)]
    expected = [
        n
        for n in names
        if (n == "argos" and argos_available()) or (n == "apertium" and ApertiumEngine.installed())
    ]
    assert built == expected
