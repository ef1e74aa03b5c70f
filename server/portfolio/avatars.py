"""The monster avatars of the pupil area (P5): the parts catalogue, checking a choice, saving it.

Every part is an SVG fragment, one ``<g>`` drawn on a common 200×200 viewBox, so
the web client builds a monster by layering fragments in the order of
:data:`LAYERS` inside ``<svg viewBox="0 0 200 200">``. Bodies are filled with
``currentColor``: the client sets ``color`` on that ``<svg>`` to the chosen
colour's ``hex`` (a colour's own ``svg`` is only its swatch for the picker).

The fragments are static data written here, never built from user input; a
pupil's avatar is stored as part ids only and checked against this catalogue.
Part ids are stable (stored avatars refer to them): add parts, never rename them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Student
from server.errors import validation_error
from server.events import class_channel, class_staff_channel, emit
from server.language.interface import N_

INK = "#2b2b3a"
CATEGORIES = ("body", "eyes", "mouth", "colour", "accessory")
LAYERS = ("body", "eyes", "mouth", "accessory")
CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class Part:
    """One choice in a category: a stable id, an English name and its SVG ``<g>`` fragment."""

    id: str
    name: str
    svg: str
    hex: str | None = None

    def shape(self) -> dict[str, str]:
        shape = {"id": self.id, "name": self.name, "svg": self.svg}
        if self.hex is not None:
            shape["hex"] = self.hex
        return shape


def _g(*elements: str) -> str:
    return "<g>" + "".join(elements) + "</g>"


_SKIN = f'fill="currentColor" stroke="{INK}" stroke-width="4" stroke-linejoin="round"'
_SHINE = 'fill="#ffffff" fill-opacity="0.28"'
_FEET = (
    f'<ellipse cx="74" cy="186" rx="16" ry="8" fill="currentColor" stroke="{INK}" stroke-width="4"/>'
    f'<ellipse cx="126" cy="186" rx="16" ry="8" fill="currentColor" stroke="{INK}" stroke-width="4"/>'
)
_WHITE = f'fill="#ffffff" stroke="{INK}" stroke-width="3"'
_LINE = f'fill="none" stroke="{INK}" stroke-width="5" stroke-linecap="round" stroke-linejoin="round"'


def _eye(x: int, y: int, r: int, dx: int = 2, dy: int = 2) -> str:
    pupil = max(3, r * 2 // 5)
    return (
        f'<circle cx="{x}" cy="{y}" r="{r}" {_WHITE}/>'
        f'<circle cx="{x + dx}" cy="{y + dy}" r="{pupil}" fill="{INK}"/>'
        f'<circle cx="{x + dx - 2}" cy="{y + dy - 2}" r="{max(1, pupil // 3)}" fill="#ffffff"/>'
    )


def _swatch(hex_: str) -> str:
    return _g(f'<circle cx="100" cy="100" r="90" fill="{hex_}" stroke="{INK}" stroke-width="4"/>')


BODIES = (
    Part(
        "round",
        N_("Round"),
        _g(
            _FEET,
            f'<circle cx="100" cy="112" r="72" {_SKIN}/>',
            f'<ellipse cx="100" cy="158" rx="40" ry="20" {_SHINE}/>',
        ),
    ),
    Part(
        "tall",
        N_("Tall"),
        _g(
            _FEET,
            f'<rect x="52" y="38" width="96" height="146" rx="46" {_SKIN}/>',
            f'<ellipse cx="100" cy="160" rx="30" ry="18" {_SHINE}/>',
        ),
    ),
    Part(
        "blob",
        N_("Blob"),
        _g(
            f'<path d="M100 40C146 38 174 72 170 112C167 150 162 186 100 186C38 186 31 152 30 112'
            f'C28 72 54 42 100 40Z" {_SKIN}/>',
            f'<path d="M62 160C78 172 122 174 140 158" {_SHINE} stroke="none"/>',
        ),
    ),
    Part(
        "boxy",
        N_("Boxy"),
        _g(
            _FEET,
            f'<rect x="36" y="42" width="128" height="140" rx="20" {_SKIN}/>',
            f'<rect x="66" y="148" width="68" height="24" rx="12" {_SHINE}/>',
        ),
    ),
    Part(
        "spiky",
        N_("Spiky"),
        _g(
            _FEET,
            f'<path d="M42 84L50 44L70 64L84 30L100 56L116 30L130 64L150 44L158 84Z" {_SKIN}/>',
            f'<circle cx="100" cy="116" r="68" {_SKIN}/>',
            f'<ellipse cx="100" cy="160" rx="36" ry="18" {_SHINE}/>',
        ),
    ),
    Part(
        "ghost",
        N_("Wobbly"),
        _g(
            f'<path d="M40 182V100A60 60 0 0 1 160 100V182L140 168L120 182L100 168L80 182L60 168Z" {_SKIN}/>',
            f'<ellipse cx="100" cy="154" rx="32" ry="14" {_SHINE}/>',
        ),
    ),
)

EYES = (
    Part("two", N_("Two eyes"), _g(_eye(78, 88, 14), _eye(122, 88, 14))),
    Part("one", N_("One big eye"), _g(_eye(100, 86, 24, 3, 3))),
    Part("three", N_("Three eyes"), _g(_eye(70, 92, 11), _eye(100, 76, 11), _eye(130, 92, 11))),
    Part(
        "sleepy",
        N_("Sleepy eyes"),
        _g(
            f'<path d="M64 88A14 14 0 0 0 92 88Z" {_WHITE}/>',
            f'<path d="M108 88A14 14 0 0 0 136 88Z" {_WHITE}/>',
            f'<circle cx="78" cy="93" r="5" fill="{INK}"/>',
            f'<circle cx="122" cy="93" r="5" fill="{INK}"/>',
            f'<path d="M62 88H94M106 88H138" {_LINE}/>',
        ),
    ),
    Part("googly", N_("Googly eyes"), _g(_eye(76, 86, 18, -4, 5), _eye(126, 90, 12, 4, -3))),
)

MOUTHS = (
    Part("smile", N_("Smile"), _g(f'<path d="M76 122Q100 146 124 122" {_LINE}/>')),
    Part(
        "grin",
        N_("Big grin"),
        _g(
            f'<path d="M68 118Q100 164 132 118Z" fill="{INK}" stroke="{INK}" stroke-width="4" '
            'stroke-linejoin="round"/>',
            '<path d="M76 121H124L120 130H80Z" fill="#ffffff"/>',
        ),
    ),
    Part(
        "fangs",
        N_("Fangs"),
        _g(
            f'<path d="M74 124Q100 140 126 124" {_LINE}/>',
            f'<path d="M84 129L89 143L95 132Z" fill="#ffffff" stroke="{INK}" stroke-width="2.5" '
            'stroke-linejoin="round"/>',
            f'<path d="M105 132L111 143L116 129Z" fill="#ffffff" stroke="{INK}" stroke-width="2.5" '
            'stroke-linejoin="round"/>',
        ),
    ),
    Part("oh", N_("Surprised"), _g(f'<ellipse cx="100" cy="130" rx="10" ry="13" fill="{INK}"/>')),
    Part(
        "tongue",
        N_("Tongue out"),
        _g(
            f'<path d="M74 120Q100 150 126 120Z" fill="{INK}" stroke="{INK}" stroke-width="4" '
            'stroke-linejoin="round"/>',
            f'<path d="M92 132Q92 152 104 152Q116 152 114 132Z" fill="#ff7aa2" stroke="{INK}" '
            'stroke-width="3"/>',
        ),
    ),
    Part("wavy", N_("Wiggly"), _g(f'<path d="M70 128Q79 118 88 128T106 128T124 128T132 126" {_LINE}/>')),
)

_PALETTE = (
    ("teal", N_("Teal"), "#2bb3a3"),
    ("coral", N_("Coral"), "#ff7f66"),
    ("violet", N_("Violet"), "#8e6cef"),
    ("sun", N_("Sunshine"), "#ffc93c"),
    ("leaf", N_("Leaf"), "#6cc551"),
    ("sky", N_("Sky"), "#4aa8ff"),
    ("berry", N_("Berry"), "#d9487e"),
    ("slate", N_("Slate"), "#7b8a99"),
)
COLOURS = tuple(Part(id_, name, _swatch(hex_), hex_) for id_, name, hex_ in _PALETTE)

_HORN = f'fill="#f4ecd8" stroke="{INK}" stroke-width="3" stroke-linejoin="round"'
ACCESSORIES = (
    Part("none", N_("Nothing"), "<g></g>"),
    Part(
        "horns",
        N_("Horns"),
        _g(
            f'<path d="M64 56Q46 30 62 12Q66 38 82 48Z" {_HORN}/>',
            f'<path d="M136 56Q154 30 138 12Q134 38 118 48Z" {_HORN}/>',
        ),
    ),
    Part(
        "antennae",
        N_("Antennae"),
        _g(
            f'<path d="M84 44L70 14M116 44L130 14" {_LINE}/>',
            f'<circle cx="70" cy="12" r="8" fill="#ffc93c" stroke="{INK}" stroke-width="3"/>',
            f'<circle cx="130" cy="12" r="8" fill="#ffc93c" stroke="{INK}" stroke-width="3"/>',
        ),
    ),
    Part(
        "party_hat",
        N_("Party hat"),
        _g(
            f'<path d="M76 48L100 4L124 48Z" fill="#4aa8ff" stroke="{INK}" stroke-width="3" '
            'stroke-linejoin="round"/>',
            '<path d="M90 22L110 22M84 36L116 36" stroke="#ffffff" stroke-width="5" stroke-linecap="round"/>',
            f'<circle cx="100" cy="5" r="6" fill="#ff7f66" stroke="{INK}" stroke-width="3"/>',
        ),
    ),
    Part(
        "crown",
        N_("Crown"),
        _g(
            f'<path d="M66 48L70 16L86 32L100 8L114 32L130 16L134 48Z" fill="#ffd23f" stroke="{INK}" '
            'stroke-width="3" stroke-linejoin="round"/>',
            f'<circle cx="100" cy="38" r="4" fill="#d9487e" stroke="{INK}" stroke-width="1.5"/>',
        ),
    ),
    Part(
        "bow",
        N_("Bow"),
        _g(
            f'<path d="M140 48L116 32L118 62ZM140 48L164 32L162 62Z" fill="#d9487e" stroke="{INK}" '
            'stroke-width="3" stroke-linejoin="round"/>',
            f'<circle cx="140" cy="47" r="6" fill="#ff7aa2" stroke="{INK}" stroke-width="3"/>',
        ),
    ),
    Part(
        "glasses",
        N_("Glasses"),
        _g(
            f'<circle cx="78" cy="88" r="20" fill="#ffffff" fill-opacity="0.15" stroke="{INK}" '
            'stroke-width="4"/>',
            f'<circle cx="122" cy="88" r="20" fill="#ffffff" fill-opacity="0.15" stroke="{INK}" '
            'stroke-width="4"/>',
            f'<path d="M98 86Q100 82 102 86" {_LINE}/>',
        ),
    ),
)

CATALOGUE: dict[str, tuple[Part, ...]] = {
    "body": BODIES,
    "eyes": EYES,
    "mouth": MOUTHS,
    "colour": COLOURS,
    "accessory": ACCESSORIES,
}
PART_IDS: dict[str, frozenset[str]] = {
    category: frozenset(part.id for part in parts) for category, parts in CATALOGUE.items()
}
DEFAULT_AVATAR: dict[str, str] = {
    "body": "round",
    "eyes": "two",
    "mouth": "smile",
    "colour": "teal",
    "accessory": "none",
}


def check_avatar(raw: Any) -> dict[str, str]:
    """A pupil's choice as ``{category: part id}``; 422 naming every missing, unknown or extra part."""
    if not isinstance(raw, dict):
        raise validation_error(
            N_("The avatar must be an object naming one part per category."),
            fields={"avatar": "not_an_object"},
        )
    problems: dict[str, str] = {}
    for key in raw:
        if key not in PART_IDS:
            problems[f"avatar.{key}"] = "unknown_category"
    for category, ids in PART_IDS.items():
        if category not in raw:
            problems[f"avatar.{category}"] = "missing"
        elif not isinstance(raw[category], str) or raw[category] not in ids:
            problems[f"avatar.{category}"] = "unknown_part"
    if problems:
        names = ", ".join(sorted(problems))
        raise validation_error(f"That avatar has parts that do not exist: {names}.", fields=problems)
    return {category: raw[category] for category in CATEGORIES}


@cache
def catalogue_body() -> tuple[bytes, str]:
    """The catalogue as encoded JSON (``{category: [{id, name, svg}]}``) and its strong ETag."""
    body = orjson.dumps({category: [p.shape() for p in parts] for category, parts in CATALOGUE.items()})
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


async def set_avatar(session: AsyncSession, pupil: Student, avatar: dict[str, str]) -> bool:
    """Save a checked avatar; when it changed, announce it on the class boards. True if it changed."""
    if pupil.avatar == avatar:
        return False
    pupil.avatar = dict(avatar)
    data = {"student_id": pupil.id, "avatar": dict(avatar)}
    emit(session, class_staff_channel(pupil.class_id), "avatar.updated", data)
    emit(session, class_channel(pupil.class_id), "avatar.updated", data)
    return True
