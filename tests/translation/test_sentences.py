"""The sentence splitter argos translation relies on: table-driven, no models."""

from __future__ import annotations

import pytest

from server.translation.sentences import MAX_SENTENCE_CHARS, join, sentences, split

CASES = [
    ("Tomorrow is PE day. Please bring trainers!", ["Tomorrow is PE day.", "Please bring trainers!"]),
    (
        "Mr. Smith and Dr. Jones visit on Fri. at nine. Bye.",
        ["Mr. Smith and Dr. Jones visit on Fri. at nine.", "Bye."],
    ),
    ("J. K. Rowling wrote it. Next one.", ["J. K. Rowling wrote it.", "Next one."]),
    ("So did I. Next one.", ["So did I.", "Next one."]),
    ("Lunch costs 2.50 today. OK", ["Lunch costs 2.50 today.", "OK"]),
    ('Wow!!! Really?! "Quoted." Next', ["Wow!!!", "Really?!", '"Quoted."', "Next"]),
    ("e.g. this one. And that", ["e.g. this one.", "And that"]),
    ("Line one.\n\nLine two?  Yes.\n", ["Line one.", "Line two?", "Yes."]),
    ("  leading space", ["leading space"]),
    ("你好。再见！", ["你好。", "再见！"]),
    ("کل پی ای کا دن ہے۔ شکریہ", ["کل پی ای کا دن ہے۔", "شکریہ"]),
    ("هل أنت بخير؟ نعم", ["هل أنت بخير؟", "نعم"]),
    ("No full stop at all", ["No full stop at all"]),
    ("", []),
    ("   \n\n", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_text_splits_into_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize("text", [case[0] for case in CASES])
def test_joining_the_sentences_back_gives_the_text_exactly(text: str) -> None:
    pieces = split(text)
    assert join(pieces, [piece.text for piece in pieces if piece.translate]) == text


def test_translations_go_back_between_the_original_line_breaks() -> None:
    pieces = split("First. Second!\n\nThird?\n")
    assert join(pieces, ["Uno.", "Dos!", "Tres?"]) == "Uno. Dos!\n\nTres?\n"


def test_a_very_long_sentence_is_cut_at_spaces() -> None:
    text = " ".join(["word"] * 300) + "."
    parts = sentences(text)
    assert len(parts) > 1
    assert all(len(part) <= MAX_SENTENCE_CHARS for part in parts)
    pieces = split(text)
    assert join(pieces, [piece.text for piece in pieces if piece.translate]) == text
