"""Sniffing, PDF checks and image re-encoding, without a server: pure functions on bytes."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from server.errors import ApiError
from server.media import files
from server.media.storage import LocalStorage, check_name, open_storage
from tests.factories import image_bytes, pdf_bytes


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", files.JPEG),
        (b"\x89PNG\r\n\x1a\n\x00\x00", files.PNG),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", files.WEBP),
        (b"%PDF-1.7\n", files.PDF),
        (b"%PDF-2.0\n", files.PDF),
        (b"MZ\x90\x00\x03\x00\x00\x00", None),  # a Windows .exe
        (b"\x7fELF\x02\x01\x01", None),
        (b"GIF89a", None),
        (b"<svg xmlns=", None),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", None),
        (b"%PDF-9.9", None),
        (b"", None),
    ],
)
def test_type_is_decided_by_the_first_bytes(head: bytes, expected: str | None) -> None:
    assert files.sniff(head) == expected


@pytest.mark.parametrize(
    ("raw", "content_type", "expected"),
    [
        ("letter.pdf", files.PDF, "letter.pdf"),
        ("../../etc/passwd", files.PDF, "passwd.pdf"),
        ("C:\\Users\\me\\trip.PDF", files.PDF, "trip.pdf"),
        ('a"b\x00c\nd.pdf', files.PDF, "abcd.pdf"),
        ("virus.exe", files.JPEG, "virus.jpg"),
        ("", files.PNG, "file.png"),
        (None, files.PDF, "file.pdf"),
        ("Café menu.pdf", files.PDF, "Café menu.pdf"),
    ],
)
def test_file_names_are_made_safe(raw: str | None, content_type: str, expected: str) -> None:
    assert files.safe_file_name(raw, content_type) == expected


def _pdf_check(data: bytes) -> str | None:
    try:
        files.check_pdf(io.BytesIO(data), len(data))
    except ApiError as exc:
        return str(exc.details["fields"]["file"])
    return None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (pdf_bytes(), None),
        (pdf_bytes()[:-40], "damaged_pdf"),  # truncated: no trailer
        (pdf_bytes().replace(b"startxref\n", b"startxref\n9"), "damaged_pdf"),  # xref offset wrong
        (b"%PDF-1.4\n%%EOF\n", "damaged_pdf"),
        (pdf_bytes(catalog="/OpenAction << /S /JavaScript /JS (app.alert) >>"), "pdf_active"),
        (pdf_bytes(catalog="/OpenAction << /Type /Action /S /Launch /F (calc.exe) >>"), "pdf_active"),
        (pdf_bytes(catalog="/Names << /EmbeddedFiles << /Names [] >> >>"), "pdf_active"),
        (pdf_bytes("/S /JavaScript is only text here"), None),  # words on the page run nothing
        (b"MZ" + pdf_bytes(), "not_pdf"),
    ],
)
def test_pdfs_are_checked_for_structure_and_active_content(data: bytes, reason: str | None) -> None:
    assert _pdf_check(data) == reason


def _stored(storage: LocalStorage, key: str) -> Image.Image:
    with storage.open(key) as source:
        return Image.open(io.BytesIO(source.read()))


def test_gps_and_camera_exif_are_stripped(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    data = image_bytes(gps=True)
    assert b"PhoneMaker" in data
    result = files.store_image(io.BytesIO(data), files.JPEG, storage, "k" * 32)
    kept = _stored(storage, "k" * 32)
    assert kept.format == "JPEG"
    assert len(kept.getexif()) == 0
    assert "exif" not in kept.info
    with storage.open("k" * 32) as source:
        assert b"PhoneMaker" not in source.read()
    assert (result.width, result.height) == (64, 48)
    assert not result.has_display


def test_png_metadata_chunks_are_stripped(tmp_path: Path) -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Secret Person")
    picture = Image.new("RGBA", (40, 30), (10, 20, 30, 128))
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 26.0)}
    picture.save(out, "PNG", pnginfo=info, exif=exif.tobytes())
    storage = LocalStorage(tmp_path)
    files.store_image(io.BytesIO(out.getvalue()), files.PNG, storage, "p" * 32)
    with storage.open("p" * 32) as source:
        raw = source.read()
    assert b"Secret Person" not in raw and b"eXIf" not in raw
    assert Image.open(io.BytesIO(raw)).mode == "RGBA"


def test_exif_orientation_is_baked_into_the_pixels(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    result = files.store_image(
        io.BytesIO(image_bytes(size=(64, 48), orientation=6)), files.JPEG, storage, "o" * 32
    )
    assert (result.width, result.height) == (48, 64)
    assert _stored(storage, "o" * 32).size == (48, 64)


def test_large_photos_get_a_downscaled_display_copy(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    result = files.store_image(io.BytesIO(image_bytes(size=(2000, 1500))), files.JPEG, storage, "d" * 32)
    assert result.has_display
    display = _stored(storage, files.display_name("d" * 32))
    assert display.format == "JPEG" and max(display.size) == files.DISPLAY_SIDE


def test_transparent_display_copies_keep_their_transparency(tmp_path: Path) -> None:
    out = io.BytesIO()
    Image.new("RGBA", (1600, 400), (0, 0, 0, 0)).save(out, "PNG")
    storage = LocalStorage(tmp_path)
    files.store_image(io.BytesIO(out.getvalue()), files.PNG, storage, "t" * 32)
    assert _stored(storage, files.display_name("t" * 32)).format == "WEBP"


def _png_header(width: int, height: int) -> bytes:
    """A PNG that declares its size but carries (almost) no pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("side", [6000, 20_000])
def test_images_with_too_many_pixels_are_refused_before_decoding(tmp_path: Path, side: int) -> None:
    with pytest.raises(ApiError) as refused:
        files.store_image(io.BytesIO(_png_header(side, side)), files.PNG, LocalStorage(tmp_path), "b" * 32)
    assert refused.value.details["fields"]["file"] == "too_many_pixels"
    assert not list(tmp_path.rglob("*"))


def test_a_file_is_decoded_only_as_the_type_it_starts_as(tmp_path: Path) -> None:
    with pytest.raises(ApiError) as refused:
        files.store_image(io.BytesIO(image_bytes("PNG")), files.JPEG, LocalStorage(tmp_path), "x" * 32)
    assert refused.value.status == 422


def test_damaged_images_are_refused(tmp_path: Path) -> None:
    data = image_bytes(size=(300, 300))[:200]
    with pytest.raises(ApiError):
        files.store_image(io.BytesIO(data), files.JPEG, LocalStorage(tmp_path), "y" * 32)


@pytest.mark.parametrize(
    "name", ["../etc/passwd", "short", "a/b" * 5, "x" * 32 + ".display.exe", ".hidden-name"]
)
def test_storage_refuses_names_that_are_not_plain_keys(name: str) -> None:
    with pytest.raises(ValueError):
        check_name(name)


def test_storage_writes_atomically(tmp_path: Path) -> None:
    storage = open_storage(f"file://{tmp_path}")
    with pytest.raises(RuntimeError), storage.writer("a" * 32) as out:
        out.write(b"half")
        raise RuntimeError("crash mid-write")
    assert not storage.exists("a" * 32)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
    with storage.writer("a" * 32) as out:
        out.write(b"whole")
    with storage.open("a" * 32) as source:
        assert source.read() == b"whole"
    storage.delete("a" * 32)
    storage.delete("a" * 32)
    assert not storage.exists("a" * 32)


def _in_mode(mode: str, fmt: str, size: tuple[int, int]) -> bytes:
    picture = Image.new(mode, size)
    if mode == "P":
        picture.info["transparency"] = 0
    out = io.BytesIO()
    picture.save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    ("mode", "fmt", "content_type"),
    [("I;16", "PNG", files.PNG), ("LA", "PNG", files.PNG), ("P", "PNG", files.PNG), ("1", "PNG", files.PNG),
     ("CMYK", "JPEG", files.JPEG), ("L", "JPEG", files.JPEG), ("RGBA", "WEBP", files.WEBP)],
)  # fmt: skip
def test_every_common_pixel_format_is_kept_and_shrunk_for_display(
    tmp_path: Path, mode: str, fmt: str, content_type: str
) -> None:
    storage = LocalStorage(tmp_path)
    result = files.store_image(io.BytesIO(_in_mode(mode, fmt, (1600, 1000))), content_type, storage, "m" * 32)
    assert (result.width, result.height, result.has_display) == (1600, 1000, True)
    with storage.open("m" * 32) as kept:
        assert files.sniff(kept.read(16)) == content_type
    assert max(_stored(storage, files.display_name("m" * 32)).size) == files.DISPLAY_SIDE
