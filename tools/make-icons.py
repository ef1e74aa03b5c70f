"""Draw the web app's PNG icons (``web/icons/``) from the brand mark, with Pillow.

    .venv/bin/python tools/make-icons.py

The mark is the house of ``web/favicon.svg`` (a 32-unit grid), white on the theme's teal.
"any" icons have rounded corners and a margin; "maskable" ones fill the square with the
mark inside the central 80 % safe zone (platforms cut their own shape); the notification
badge is the white mark alone on transparency (Android shows badges as a silhouette).
Drawn at 4× and scaled down for smooth edges. Run again after changing the mark.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

TEAL = (15, 118, 110, 255)
WHITE = (255, 255, 255, 255)
OUT = Path(__file__).resolve().parent.parent / "web" / "icons"
# The house of favicon.svg on its 32-unit grid: roof apex, walls, and the door cut out.
HOUSE = [(4, 15), (16, 5), (28, 15), (28, 28), (20, 28), (20, 20), (12, 20), (12, 28), (4, 28)]


def mark(size: int, scale: float, background: tuple[int, int, int, int] | None, radius: float) -> Image.Image:
    """The mark centred on a ``size`` square, the house spanning ``scale`` of it."""
    big = size * 4
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if background is not None:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=int(big * radius), fill=background)
    unit = big * scale / 24  # the house spans 24 units (4..28)
    offset = (big - 24 * unit) / 2 - 4 * unit
    points = [(offset + x * unit, offset + (y - 0.5) * unit) for x, y in HOUSE]
    draw.polygon(points, fill=WHITE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        mark(size, 0.62, TEAL, 0.18).save(OUT / f"icon-{size}.png", optimize=True)
        mark(size, 0.5, TEAL, 0.0).save(OUT / f"maskable-{size}.png", optimize=True)
    mark(180, 0.6, TEAL, 0.0).save(OUT / "apple-touch-icon.png", optimize=True)
    mark(96, 0.8, None, 0.0).save(OUT / "badge-96.png", optimize=True)
    print(f"wrote icons to {OUT}")


if __name__ == "__main__":
    main()
