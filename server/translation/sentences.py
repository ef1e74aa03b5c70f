"""Sentence splitting for the argos engine: pure functions, no models, no network.

Argos's own splitters either download a model at the first translation (MiniSBD,
Stanza, spaCy) or need one shipped in the package, so the server splits text itself:
each line on its own, sentences at ``. ! ? …`` (and the Arabic, Urdu, Devanagari
and CJK full stops) followed by a space, never after a common abbreviation or an
initial, overly long sentences cut at a space. :func:`split` returns the pieces to
translate and the whitespace to keep; :func:`join` puts the translations back in
place, so line breaks and blank lines survive translation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

MAX_SENTENCE_CHARS = 400

# Terminators needing a following space, and ones (CJK) that end a sentence by themselves.
_END = re.compile(r"(?:[.!?…؟۔।]+|[。！？]+)[\"'”’»)\]]*(?=\s|$)|[。！？]+[\"'”’»)\]]*")
_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "dr", "st", "prof", "rev", "sr", "jr", "no", "nos", "vs", "etc", "eg", "ie",
        "e.g", "i.e", "approx", "dept", "est", "tel", "fig", "mt", "jan", "feb", "mar", "apr", "jun",
        "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon", "tue", "wed", "thu", "fri", "sat", "sun",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Piece:
    """A run of the original text: a sentence to translate, or whitespace to keep as it is."""

    text: str
    translate: bool


def split(text: str) -> list[Piece]:
    """The text as sentences (``translate=True``) and the whitespace between them."""
    pieces: list[Piece] = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        pieces.extend(_split_line(body))
        if ending:
            _keep(pieces, ending)
    return pieces


def sentences(text: str) -> list[str]:
    """Only the sentences of ``text``, in order (what a model is given)."""
    return [piece.text for piece in split(text) if piece.translate]


def join(pieces: Sequence[Piece], translated: Sequence[str]) -> str:
    """Rebuild a text from its pieces, putting ``translated`` in place of the sentences, in order."""
    out: list[str] = []
    sentences_left = iter(translated)
    for piece in pieces:
        out.append(next(sentences_left).strip() if piece.translate else piece.text)
    return "".join(out)


def _keep(pieces: list[Piece], whitespace: str) -> None:
    if pieces and not pieces[-1].translate:
        pieces[-1] = Piece(pieces[-1].text + whitespace, False)
    else:
        pieces.append(Piece(whitespace, False))


def _split_line(line: str) -> list[Piece]:
    pieces: list[Piece] = []
    start = 0
    stripped = line.lstrip()
    if len(stripped) < len(line):
        _keep(pieces, line[: len(line) - len(stripped)])
        start = len(line) - len(stripped)
    cursor = start
    for match in _END.finditer(line, start):
        end = match.end()
        if match.group().startswith(".") and _is_abbreviation(line, match.start()):
            continue
        _add_sentence(pieces, line[cursor:end])
        gap_end = end
        while gap_end < len(line) and line[gap_end].isspace():
            gap_end += 1
        if gap_end > end:
            _keep(pieces, line[end:gap_end])
        cursor = gap_end
    if cursor < len(line):
        rest = line[cursor:]
        body = rest.rstrip()
        if body:
            _add_sentence(pieces, body)
        if len(body) < len(rest):
            _keep(pieces, rest[len(body) :])
    return pieces


def _is_abbreviation(line: str, dot: int) -> bool:
    """True when the full stop at ``dot`` ends an abbreviation or an initial, not a sentence."""
    word_start = dot
    while word_start > 0 and not line[word_start - 1].isspace():
        word_start -= 1
    word = line[word_start:dot].lstrip("(\"'“‘").lower()
    if not word:
        return False
    if word in _ABBREVIATIONS:
        return True
    initial = line[word_start:dot].lstrip("(\"'“‘")
    return len(initial) == 1 and initial.isalpha() and initial.isupper() and initial != "I"


def _add_sentence(pieces: list[Piece], sentence: str) -> None:
    """Add one sentence, cut at spaces into chunks of at most ``MAX_SENTENCE_CHARS``."""
    while len(sentence) > MAX_SENTENCE_CHARS:
        cut = sentence.rfind(" ", 0, MAX_SENTENCE_CHARS)
        if cut <= 0:
            cut = MAX_SENTENCE_CHARS
        head, sentence = sentence[:cut], sentence[cut:]
        pieces.append(Piece(head, True))
        gap = len(sentence) - len(sentence.lstrip())
        if gap:
            _keep(pieces, sentence[:gap])
            sentence = sentence[gap:]
    if sentence:
        pieces.append(Piece(sentence, True))
