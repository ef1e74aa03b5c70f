"""Build the web fonts the server serves for scripts a phone may lack: ``web/fonts/*.woff2``
and ``web/css/fonts.css``.

    python tools/fonts.py        # needs fontTools + brotli (pip install "homeroom[fonts]")
                                 # and Debian's fonts-noto-core and fonts-noto-cjk

Sources are the open-licensed (SIL OFL 1.1) Noto fonts of Debian's ``fonts-noto-core`` and
``fonts-noto-cjk`` packages. Arabic script (Arabic, Urdu, Farsi, Pashto), Bengali and Gurmukhi
keep their whole script blocks (small fonts; families write any word of their language).
Simplified Chinese is subset to the characters the zh_Hans catalog uses plus the 6,763 of
GB 2312 (everyday written Chinese), in two files: the 3,755 most common characters and the
rest. Each file is named by its content hash and declared with ``unicode-range``, so a page
downloads only the files whose characters it shows, and the server can cache them for good.

The built files are committed: a fresh clone (and the Docker image) serves them without
fontTools or the Debian font packages. Re-run this after the Chinese catalog changes.
"""

from __future__ import annotations

import hashlib
import sys
from io import BytesIO
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.language import catalogs  # noqa: E402

OUT = ROOT / "web" / "fonts"
CSS = ROOT / "web" / "css" / "fonts.css"
NOTO = Path("/usr/share/fonts/truetype/noto")
CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CJK_SC = 2  # the Simplified Chinese face in Debian's collection

COMMON = [(0x20, 0x7E), (0xA0, 0xFF), (0x2000, 0x206F), (0x20AC, 0x20AC), (0x25CC, 0x25CC)]
ARABIC = [(0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)]
BENGALI = [(0x0980, 0x09FF), (0x200C, 0x200D), (0x25CC, 0x25CC)]
GURMUKHI = [(0x0A00, 0x0A7F), (0x200C, 0x200D), (0x25CC, 0x25CC)]
CJK_PUNCTUATION = [(0x3000, 0x303F), (0xFF00, 0xFFEF)]


def _codepoints(ranges: list[tuple[int, int]]) -> set[int]:
    return {c for start, end in ranges for c in range(start, end + 1)}


def gb2312(level: int) -> set[int]:
    """The hanzi of GB 2312 level 1 (rows 16–55) or level 2 (rows 56–87)."""
    rows = range(16, 56) if level == 1 else range(56, 88)
    found: set[int] = set()
    for row in rows:
        for cell in range(1, 95):
            try:
                found.add(ord(bytes([0xA0 + row, 0xA0 + cell]).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return found


def catalog_characters(language: str) -> set[int]:
    path = catalogs.po_path(language)
    if not path.exists():
        return set()
    return {ord(c) for c in path.read_text(encoding="utf-8") if ord(c) > 0x2E7F}


def _subset(font: TTFont, codepoints: set[int]) -> tuple[bytes, set[int]]:
    cmap = font.getBestCmap()
    present = {c for c in codepoints if c in cmap}
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(present))
    subsetter.subset(font)
    out = BytesIO()
    font.flavor = "woff2"
    font.save(out)
    return out.getvalue(), present


def _ranges(codepoints: set[int]) -> str:
    points = sorted(codepoints)
    spans: list[str] = []
    start = prev = points[0]
    for c in [*points[1:], -1]:
        if c == prev + 1:
            prev = c
            continue
        spans.append(f"U+{start:X}" if start == prev else f"U+{start:X}-{prev:X}")
        start = prev = c
    return ", ".join(spans)


def build() -> list[str]:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.woff2"):
        old.unlink()
    faces: list[str] = []
    jobs: list[tuple[str, str, int, TTFont, set[int]]] = []
    for weight, style in ((400, "Regular"), (700, "Bold")):
        arabic = _codepoints(ARABIC)
        jobs.append(
            (
                "Homeroom Arabic",
                f"NotoSansArabic-{style}",
                weight,
                TTFont(NOTO / f"NotoSansArabic-{style}.ttf"),
                arabic,
            )
        )
        jobs.append(
            (
                "Homeroom Bengali",
                f"NotoSansBengali-{style}",
                weight,
                TTFont(NOTO / f"NotoSansBengali-{style}.ttf"),
                _codepoints(BENGALI),
            )
        )
        jobs.append(
            (
                "Homeroom Gurmukhi",
                f"NotoSansGurmukhi-{style}",
                weight,
                TTFont(NOTO / f"NotoSansGurmukhi-{style}.ttf"),
                _codepoints(GURMUKHI),
            )
        )
    common = gb2312(1) | catalog_characters("zh_Hans") | _codepoints(CJK_PUNCTUATION)
    rest = gb2312(2) - common
    for name, chars in (("NotoSansSC-Common", common), ("NotoSansSC-More", rest)):
        font = TTCollection(CJK).fonts[CJK_SC]
        jobs.append(("Homeroom Chinese", name, 400, font, chars))
    for family, name, weight, font, chars in jobs:
        data, present = _subset(font, chars)
        digest = hashlib.sha256(data).hexdigest()[:10]
        filename = f"{name}.{digest}.woff2"
        (OUT / filename).write_bytes(data)
        print(f"{filename}: {len(present)} characters, {len(data) // 1024} KiB")
        faces.append(
            "@font-face {\n"
            f'  font-family: "{family}";\n'
            f"  font-weight: {weight};\n"
            "  font-style: normal;\n"
            "  font-display: swap;\n"
            f'  src: url("/fonts/{filename}") format("woff2");\n'
            f"  unicode-range: {_ranges(present)};\n"
            "}\n"
        )
    header = (
        "/* Generated by tools/fonts.py: open-licensed Noto (SIL OFL 1.1) subsets for the scripts a\n"
        "   phone may lack. Each face loads only when the page shows one of its characters. */\n\n"
    )
    CSS.write_text(header + "\n".join(faces))
    return faces


if __name__ == "__main__":
    build()
