"""Invite letters and pupil login cards as PDF: fpdf2 with embedded Noto fonts, segno for the QR codes.

Each page is written in its reader's language through :func:`server.language.interface.text`,
laid out right to left for Arabic-script languages, with HarfBuzz shaping (``uharfbuzz``)
so joined scripts (Arabic, Urdu, Bengali, Gurmukhi, Devanagari) come out as they are read;
text in scripts that need no shaping is set without it (see :data:`SHAPED`).
Fonts are the Debian ``fonts-noto-core`` and ``fonts-noto-cjk`` packages' files: only the
scripts a document uses are loaded and embedded (as subsets), so a class of English
letters does not carry the Chinese font. The footer names the page's language in itself
and by code (``Homeroom · pl``), so the office can sort letters into the right book bags.

Blocking (font parsing, PNG encoding): callers run it in a worker thread.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import segno
from fpdf import FPDF

from server.language.interface import text
from server.language.languages import RTL, native_name
from server.language.locale import format_date
from server.school.letters import Card, Letter

FONT_DIRS = (Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/opentype/noto"))


@dataclass(frozen=True)
class Font:
    """One embedded font family: its files and the code points it is used for."""

    family: str
    regular: str
    bold: str | None
    ranges: tuple[tuple[int, int], ...]
    collection: int = 0


LATIN = Font("NotoSans", "NotoSans-Regular.ttf", "NotoSans-Bold.ttf", ((0x0000, 0x058F), (0x1E00, 0x20CF)))
FONTS = (
    LATIN,
    Font("NotoSansArabic", "NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf",
         ((0x0600, 0x06FF), (0x0750, 0x077F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))),
    Font("NotoSansHebrew", "NotoSansHebrew-Regular.ttf", None, ((0x0590, 0x05FF),)),
    Font("NotoSansDevanagari", "NotoSansDevanagari-Regular.ttf", None, ((0x0900, 0x097F),)),
    Font("NotoSansBengali", "NotoSansBengali-Regular.ttf", "NotoSansBengali-Bold.ttf", ((0x0980, 0x09FF),)),
    Font("NotoSansGurmukhi", "NotoSansGurmukhi-Regular.ttf", "NotoSansGurmukhi-Bold.ttf",
         ((0x0A00, 0x0A7F),)),
    Font("NotoSansGujarati", "NotoSansGujarati-Regular.ttf", None, ((0x0A80, 0x0AFF),)),
    Font("NotoSansTamil", "NotoSansTamil-Regular.ttf", None, ((0x0B80, 0x0BFF),)),
    Font("NotoSansEthiopic", "NotoSansEthiopic-Regular.ttf", None, ((0x1200, 0x139F),)),
    Font("NotoSansCJK", "NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc",
         ((0x2E80, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF)), collection=2),
)  # fmt: skip
LANGUAGE_FONT = {
    "ar": "NotoSansArabic", "fa": "NotoSansArabic", "ps": "NotoSansArabic", "ur": "NotoSansArabic",
    "he": "NotoSansHebrew", "hi": "NotoSansDevanagari", "ne": "NotoSansDevanagari", "bn": "NotoSansBengali",
    "pa": "NotoSansGurmukhi", "gu": "NotoSansGujarati", "ta": "NotoSansTamil", "ti": "NotoSansEthiopic",
    "zh": "NotoSansCJK",
}  # fmt: skip


def _file(name: str) -> Path | None:
    return next((d / name for d in FONT_DIRS if (d / name).exists()), None)


def _fonts_for(texts: Iterable[str], languages: Iterable[str]) -> list[Font]:
    """The fonts a document needs: Latin always, then each script its texts or languages use."""
    wanted = {LATIN.family} | {LANGUAGE_FONT[lang] for lang in languages if lang in LANGUAGE_FONT}
    points = {ord(ch) for t in texts for ch in t}
    for font in FONTS:
        if any(low <= p <= high for p in points for low, high in font.ranges):
            wanted.add(font.family)
    return [f for f in FONTS if f.family in wanted and _file(f.regular) is not None]


SHAPED = ((0x0590, 0x1DFF), (0xA800, 0xABFF), (0xFB1D, 0xFEFF))
"""Scripts whose letters join or reorder (Hebrew and Arabic through the Indic scripts to Ethiopic and
Khmer, their presentation forms): text in them goes through HarfBuzz. Latin, Cyrillic, Greek and
CJK are set without it, which keeps line breaking cheap (fpdf2 re-measures a line per character,
and shaped measuring is what costs)."""


def needs_shaping(value: str) -> bool:
    """True when ``value`` holds a letter of a script that must be shaped to be read."""
    return any(low <= ord(ch) <= high for ch in value for low, high in SHAPED)


class _Document(FPDF):
    """An A4 document with the fonts it needs loaded and every other loaded font as a fallback."""

    def __init__(self, texts: list[str], languages: list[str]) -> None:
        super().__init__(format="A4")
        self.set_auto_page_break(False)
        self.families: set[str] = set()
        self.widths: dict[tuple[str, str, float], dict[str, float]] = {}  # words measured, per font
        for font in _fonts_for(texts, languages):
            regular = _file(font.regular)
            bold = _file(font.bold) if font.bold else None
            self.add_font(font.family, "", regular, collection_font_number=font.collection)
            self.add_font(font.family, "B", bold or regular, collection_font_number=font.collection)
            self.families.add(font.family)
        self.fallbacks = [*sorted(self.families - {LATIN.family}), LATIN.family]
        self.set_fallback_fonts(self.fallbacks, exact_match=False)

    def shaping_for(self, value: str) -> None:
        """HarfBuzz shaping on for this text only when its script needs it, and the fallback
        fonts only when the current font lacks some of its characters (looking them up per
        character is most of what setting plain Latin text costs)."""
        self.set_text_shaping(needs_shaping(value))
        covered = self.font_family == LATIN.family.lower() and all(
            any(low <= ord(ch) <= high for low, high in LATIN.ranges) for ch in value
        )
        self.set_fallback_fonts([] if covered else self.fallbacks, exact_match=False)

    def family_for(self, language: str) -> str:
        family = LANGUAGE_FONT.get(language, LATIN.family)
        return family if family in self.families else LATIN.family

    def para(self, value: str, size: float, *, family: str, bold: bool = False, rtl: bool = False,
             align: str | None = None, height: float | None = None) -> None:  # fmt: skip
        """A paragraph across the page, right-aligned for right-to-left readers."""
        self.set_font(family, "B" if bold else "", size)
        self.shaping_for(value)
        line_height = height or size * 0.55
        side = align or ("R" if rtl else "L")
        if self.text_shaping:  # bidirectional and joined text: fpdf2's own line breaking
            self.multi_cell(0, line_height, value, align=side, new_x="LMARGIN", new_y="NEXT")
            return
        for line in self.wrap(value):
            self.cell(0, line_height, line, align=side, new_x="LMARGIN", new_y="NEXT")

    def wrap(self, value: str) -> list[str]:
        """Lines of ``value`` that fit the text width, broken at spaces, measured word by word.

        fpdf2's ``multi_cell`` re-measures the line for every character it adds; for text
        that needs no shaping this is the same result in linear time.
        """
        room = self.w - self.l_margin - self.r_margin - 2 * self.c_margin
        key = (self.font_family, self.font_style, self.font_size_pt)
        widths = self.widths.setdefault(key, {})

        def measure(word: str) -> float:
            if word not in widths:
                widths[word] = self.get_string_width(word)
            return widths[word]

        space = measure(" ")
        lines: list[str] = []
        for paragraph in value.split("\n"):
            words: list[str] = []
            used = 0.0
            for word in paragraph.split():
                width = measure(word)
                if words and used + space + width > room:
                    lines.append(" ".join(words))
                    words, used = [], 0.0
                used += (space if words else 0.0) + width
                words.append(word)
            lines.append(" ".join(words))
        return lines


def qr_png(link: str, scale: int = 8) -> io.BytesIO:
    """A QR code (error correction M, quiet zone kept) as PNG."""
    out = io.BytesIO()
    # A fixed mask pattern: every mask gives a valid code, and scoring all eight (segno's default)
    # is most of the time a QR code takes; phones read these printed ones either way.
    segno.make(link, error="m", micro=False, mask=0).save(out, kind="png", scale=scale, border=4)
    out.seek(0)
    return out


def invite_link(base_url: str, code: str) -> str:
    """The invite page with the code filled in."""
    return f"{base_url.rstrip('/')}/#/join/{code}"


def letters_pdf(letters: list[Letter], base_url: str, timezone: str) -> bytes:
    """One A4 page per letter."""
    pages = [_letter_texts(letter, base_url, timezone) for letter in letters]
    doc = _Document([t for page in pages for t in page.values()], [letter.language for letter in letters])
    doc.set_title(pages[0]["title"] if pages else "Homeroom")
    for letter, texts in zip(letters, pages, strict=True):
        _letter_page(doc, letter, texts, base_url)
    if not letters:
        doc.add_page()
        doc.para(text(None, "Every pupil here already has two guardians linked."), 14, family=LATIN.family)
    return bytes(doc.output())


TITLE = "Join {school} on Homeroom"


def written_in(language: str) -> str:
    """The language a page is laid out in: the reader's once their catalog has the letter, else English.

    Until then the words fall back to English, so the page is set left to right with an
    English date rather than an English sentence around an Arabic date.
    """
    if language == "en" or text(language, TITLE) != text("en", TITLE):
        return language
    return "en"


def _letter_texts(letter: Letter, base_url: str, timezone: str) -> dict[str, str]:
    lang = letter.language
    layout = written_in(lang)
    link = invite_link(base_url, letter.code)
    return {
        "title": text(lang, TITLE, school=letter.school),
        "greeting": (
            text(lang, "Dear {name},", name=letter.guardian)
            if letter.guardian
            else text(lang, "Dear parent or carer of {child},", child=letter.child)
        ),
        "intro": text(
            lang,
            "{school} uses Homeroom to share {child}'s class news, photos and points with you, and to "
            "send messages to {child}'s teachers. Each post reaches you in your own language.",
            school=letter.school,
            child=letter.child,
        ),
        "code_label": text(
            lang,
            "Your invite code for {child} ({class_name}):",
            child=letter.child,
            class_name=letter.class_name,
        ),
        "step1": text(lang, "1. Scan the QR code with your phone's camera, or open {link}", link=link),
        "step2": text(
            lang, "2. Check the code is filled in, then enter your name, email address and a password."
        ),
        "step3": text(
            lang,
            "3. Read and accept the school's code of conduct. You will then see {child}'s class.",
            child=letter.child,
        ),
        "expiry": text(
            lang,
            "This code can be used once, by one person, until {date}. Ask the school office for another code "
            "for a second parent or carer.",
            date=format_date(letter.expires_at, layout, timezone, "long"),
        ),
        "footer": native_name(lang),
        "marker": f"Homeroom · {lang}",
    }


def _letter_page(doc: _Document, letter: Letter, texts: dict[str, str], base_url: str) -> None:
    doc.add_page()
    rtl = written_in(letter.language) in RTL
    family = doc.family_for(letter.language)
    doc.set_xy(20, 20)
    doc.set_left_margin(20)
    doc.set_right_margin(20)
    doc.para(texts["title"], 20, family=family, bold=True, rtl=rtl, height=11)
    doc.ln(4)
    doc.para(texts["greeting"], 12, family=family, rtl=rtl, height=7)
    doc.ln(2)
    doc.para(texts["intro"], 12, family=family, rtl=rtl, height=7)
    doc.ln(6)
    doc.para(texts["code_label"], 12, family=family, bold=True, rtl=rtl, height=7)
    doc.ln(2)
    doc.para(letter.code, 30, family=LATIN.family, bold=True, align="C", height=16)
    top = doc.get_y() + 4
    doc.image(qr_png(invite_link(base_url, letter.code)), x=(210 - 60) / 2, y=top, w=60, h=60)
    doc.set_xy(20, top + 66)
    for step in ("step1", "step2", "step3"):
        doc.para(texts[step], 12, family=family, rtl=rtl, height=7)
        doc.ln(2)
    doc.ln(4)
    doc.para(texts["expiry"], 10, family=family, rtl=rtl, height=6)
    doc.set_xy(20, 280)  # the language, for whoever sorts the letters into book bags
    doc.set_font(LATIN.family, "", 9)
    doc.shaping_for(texts["marker"])
    doc.cell(85, 5, texts["marker"], align="L")
    doc.set_font(family, "", 9)
    doc.shaping_for(texts["footer"])
    doc.cell(85, 5, texts["footer"], align="R")


def pupil_link(base_url: str, card: Card) -> str:
    """The pupil sign-in page with both codes filled in."""
    return f"{base_url.rstrip('/')}/#/pupil/{card.class_code}/{card.student_code}"


def cards_pdf(cards: list[Card], base_url: str, language: str) -> bytes:
    """Eight login cards to an A4 page (2 × 4), to cut out and hand to pupils."""
    sign_in_link = f"{base_url}/#/pupil"
    labels = {
        "title": text(language, "Homeroom sign-in"),
        "class": text(language, "Class code"),
        "pupil": text(language, "Your code"),
        "scan": text(language, "Scan to sign in, or type both codes at {link}", link=sign_in_link),
    }
    doc = _Document([*labels.values(), *(c.child for c in cards), *(c.school for c in cards)], [language])
    doc.set_title(labels["title"])
    family = doc.family_for(language)
    rtl = written_in(language) in RTL
    if not cards:
        doc.add_page()
    for index, card in enumerate(cards):
        if index % 8 == 0:
            doc.add_page()
        col, row = index % 2, (index % 8) // 2
        x, y = 10 + col * 97, 10 + row * 69
        doc.rect(x, y, 93, 65)
        doc.set_left_margin(x + 4)
        doc.set_right_margin(210 - (x + 93) + 40)  # the QR code's column
        doc.set_xy(x + 4, y + 5)
        doc.para(card.child, 18, family=family, bold=True, rtl=rtl, height=9)
        doc.para(card.class_name, 9, family=family, rtl=rtl, height=5)
        doc.para(card.school, 8, family=family, rtl=rtl, height=4.5)
        doc.image(qr_png(pupil_link(base_url, card), scale=4), x=x + 93 - 38, y=y + 3, w=35, h=35)
        doc.set_right_margin(210 - (x + 93) + 4)
        doc.set_xy(x + 4, y + 40)
        doc.para(f"{labels['class']}: {card.class_code}", 13, family=family, rtl=rtl, height=7)
        doc.para(f"{labels['pupil']}: {card.student_code}", 13, family=family, bold=True, rtl=rtl, height=7)
        doc.para(labels["scan"], 7, family=family, rtl=rtl, height=3.6)
    return bytes(doc.output())
