"""What an uploaded file is and how it is made safe to share: sniffing, PDF checks, image re-encoding.

Everything here is blocking and free of the database; :mod:`server.media.uploads`
runs it in a worker thread. The type of a file is decided by its first bytes,
never by its name or the client's Content-Type. Images are decoded and encoded
again, which drops every metadata block (EXIF with GPS, XMP, comments) except
the colour profile, and bakes the EXIF orientation into the pixels. PDFs are
parsed, refused when they carry active content, and written again from the parsed
document (:mod:`server.media.pdf` says what counts as active, and why refuse).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

from server.errors import ApiError
from server.media import pdf
from server.media.storage import Storage

JPEG, PNG, WEBP, PDF = "image/jpeg", "image/png", "image/webp", "application/pdf"
IMAGE_TYPES = (JPEG, PNG, WEBP)
# Pillow decoders allowed for each sniffed type: a file is decoded only as what it claims to be
# (multi-picture JPEGs from phones open through the JPEG decoder).
_DECODERS = {JPEG: ("JPEG",), PNG: ("PNG",), WEBP: ("WEBP",)}
EXTENSIONS = {JPEG: "jpg", PNG: "png", WEBP: "webp", PDF: "pdf", "video/mp4": "mp4", "audio/mp4": "m4a"}

# Refused before decoding: JPEGs are shrunk while decoding, other formats are not.
MAX_PIXELS = {JPEG: 64_000_000, PNG: 25_000_000, WEBP: 25_000_000}
MAX_SIDE = 4096  # the kept "original" is at most this wide or high
DISPLAY_SIDE = 1280  # the downscaled version shown in feeds
# Decoding a large photo takes ~150 MB of memory: callers run at most this many at once per process.
DECODE_SLOTS = 2

_PDF_HEADER = re.compile(rb"^%PDF-(1\.[0-7]|2\.0)")


def unsupported(message: str, reason: str, **details: str) -> ApiError:
    """The refusal for a file we do not accept (422 ``validation_error``)."""
    return ApiError(422, "validation_error", message, {"fields": {"file": reason}, **details})


def sniff(head: bytes) -> str | None:
    """The content type of a file from its first bytes: JPEG, PNG, WebP or PDF, else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if _PDF_HEADER.match(head):
        return PDF
    return None


def safe_file_name(raw: str | None, content_type: str) -> str:
    """A file name fit to show and to put in a header: no path, no control characters."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if ch.isprintable() and ch not in '"')
    name = " ".join(name.split())[:120].strip(". ")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem or 'file'}.{EXTENSIONS[content_type]}"


_PDF_REFUSALS = {
    "damaged_pdf": "That PDF is incomplete or damaged.",
    "encrypted_pdf": "That PDF is protected by a password; please upload it without one.",
    "pdf_too_complex": "That PDF has too many parts to check; please print it to a new PDF.",
}


def _refusal(refused: pdf.RefusedPdf) -> ApiError:
    if refused.reason == "pdf_active":
        return unsupported(
            "PDFs with scripts, automatic actions, links to websites or other files, attachments"
            f" or embedded media are not accepted, and this one has {refused.found}."
            " Printing it to a new PDF removes them.",
            "pdf_active",
            found=refused.found,
        )
    return unsupported(_PDF_REFUSALS[refused.reason], refused.reason)


def _pdf_head(source: IO[bytes]) -> None:
    source.seek(0)
    if not _PDF_HEADER.match(source.read(1024)):
        raise unsupported("That file is not a PDF.", "not_pdf")


def check_pdf(source: IO[bytes], size: int) -> None:
    """Refuse a file that starts like a PDF but does not parse as one, or carries active content."""
    _pdf_head(source)
    try:
        with pdf.checked(source):
            pass
    except pdf.RefusedPdf as refused:
        raise _refusal(refused) from None
    source.seek(0)


@dataclass(frozen=True)
class StoredImage:
    """The outcome of re-encoding an image: its kept size and whether a display copy exists."""

    width: int
    height: int
    size: int
    has_display: bool


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    )


def _open(source: IO[bytes], content_type: str) -> Image.Image:
    source.seek(0)
    limit = MAX_PIXELS[content_type]
    too_many = unsupported(
        f"That image is too large (at most {limit // 1_000_000} megapixels).", "too_many_pixels"
    )
    try:
        image = Image.open(source, formats=_DECODERS[content_type])
    except Image.DecompressionBombError:
        raise too_many from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise unsupported("That image could not be read.", "damaged_image") from None
    width, height = image.size
    if width < 1 or height < 1 or width * height > limit or max(width, height) > 30_000:
        image.close()
        raise too_many
    return image


def _prepare(image: Image.Image, content_type: str) -> Image.Image:
    """Decode (shrinking JPEGs while decoding), upright it, and drop every metadata block."""
    if content_type == JPEG and max(image.size) > MAX_SIDE:
        image.draft("RGB", (MAX_SIDE, MAX_SIDE))
    try:
        image.load()
        icc = image.info.get("icc_profile")
        ImageOps.exif_transpose(image, in_place=True)
    except (Image.DecompressionBombError, OSError, ValueError, SyntaxError, EOFError):
        raise unsupported("That image could not be read.", "damaged_image") from None
    transparency = image.info.get("transparency")
    clean = image
    try:
        if clean.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
            clean = clean.convert("RGBA" if _has_alpha(clean) else "RGB")
        if max(clean.size) > MAX_SIDE:
            clean.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    except ValueError:  # a pixel format Pillow cannot convert
        raise unsupported("That image could not be read.", "damaged_image") from None
    clean.info = {}
    if icc:
        clean.info["icc_profile"] = icc
    if transparency is not None and clean.mode == "P":
        clean.info["transparency"] = transparency
    return clean


def _save(image: Image.Image, out: IO[bytes], content_type: str) -> None:
    icc = image.info.get("icc_profile")
    extra = {"icc_profile": icc} if icc else {}
    if content_type == PNG:
        transparency = image.info.get("transparency")
        if transparency is not None:
            extra["transparency"] = transparency
        image.save(out, "PNG", **extra)
    elif content_type == WEBP:
        mode = "RGBA" if _has_alpha(image) else "RGB"
        image.convert(mode).save(out, "WEBP", quality=88, method=4, **extra)
    else:
        mode = "L" if image.mode in ("1", "L") else "RGB"
        image.convert(mode).save(out, "JPEG", quality=88, progressive=True, **extra)


def _display(image: Image.Image, out: IO[bytes]) -> None:
    """A feed-sized copy: JPEG, or WebP when the picture has transparency."""
    small = image.copy()
    small.thumbnail((DISPLAY_SIDE, DISPLAY_SIDE), Image.Resampling.LANCZOS)
    if _has_alpha(small):
        small.convert("RGBA").save(out, "WEBP", quality=80, method=4)
    else:
        small.convert("RGB").save(out, "JPEG", quality=80, progressive=True)


def store_image(source: IO[bytes], content_type: str, storage: Storage, key: str) -> StoredImage:
    """Re-encode an uploaded image into storage as ``key``, plus ``key.display`` when it is large."""
    image = _open(source, content_type)
    with image:
        clean = _prepare(image, content_type)
        with storage.writer(key) as out:
            _save(clean, out, content_type)
            size = out.tell()
        has_display = max(clean.size) > DISPLAY_SIDE
        if has_display:
            with storage.writer(display_name(key)) as out:
                _display(clean, out)
    return StoredImage(clean.width, clean.height, size, has_display)


def store_pdf(source: IO[bytes], size: int, storage: Storage, key: str) -> int:
    """Check a PDF and store the copy written from what was checked as ``key``; returns its size."""
    _pdf_head(source)
    try:
        with pdf.checked(source) as document, storage.writer(key) as out:
            pdf.write_clean(document, out)
            return out.tell()
    except pdf.RefusedPdf as refused:
        raise _refusal(refused) from None


def display_name(key: str) -> str:
    """The storage name of an image's downscaled copy."""
    return f"{key}.display"
