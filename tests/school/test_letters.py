"""Invite letters and login cards as PDF: each page's code, language and QR code, checked from the file.

The class's families read English, Polish, Arabic and Urdu (from a roster import). The PDF is
read back with pypdf (text) and pypdfium2 (pictures), and each QR code decoded with zxing-cpp.
The language of a page is checked through the marker the letter prints for the office
(``Homeroom · pl`` and the language's own name) and, for Latin-script languages, the title as
``text(language, ...)`` gives it, so the test holds whether or not a catalog exists.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pypdfium2
import zxingcpp
from pypdf import PdfReader

from server.language.interface import text
from server.school.letter_pdf import cards_pdf, invite_link, letters_pdf, pupil_link
from server.school.letters import Card, Letter
from server.services import Services
from server.timeutil import utcnow
from tests.factories import World, error_of, make_world

CODE = re.compile(r"\b([A-Z0-9]{5}-[A-Z0-9]{5})\b")
ROSTER = (
    "class,first_name,last_name,photo_consent,la_care,guardian1_name,guardian1_email,guardian1_language,"
    "guardian2_name,guardian2_email,guardian2_language\n"
    "Year 4 Oak,Amir,Khan,yes,no,Sarah Khan,sarah.k@example.test,en,Anna Khan,anna.k@example.test,Polish\n"
    "Year 4 Oak,Bilal,Hussain,yes,no,Ahmed Hussain,,ar,Nasreen Hussain,n.h@example.test,Urdu\n"
)


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def _qr_codes(pdf: bytes, keep: Path | None = None, pages: tuple[int, ...] = ()) -> list[list[str]]:
    """Every QR code's text on each page, the page drawn at 150 dpi; the pages in ``pages`` saved as PNG."""
    found: list[list[str]] = []
    document = pypdfium2.PdfDocument(pdf)
    for index in range(len(document)):
        picture = document[index].render(scale=150 / 72).to_pil()
        if keep is not None and index in pages:
            picture.save(keep / f"page-{index + 1}.png")
        found.append([result.text for result in zxingcpp.read_barcodes(picture)])
    return found


async def _class_with_families(api: httpx.AsyncClient, world: World) -> int:
    reply = await api.post(
        "/api/roster/import", files={"file": ("r.csv", ROSTER.encode())}, headers=world.admin.headers
    )
    assert reply.status_code == 200 and not reply.json()["preview"]["errors"], reply.text
    confirmed = await api.post(
        f"/api/roster/import/{reply.json()['import_id']}/confirm", headers=world.admin.headers
    )
    assert confirmed.status_code == 200
    classes = (await api.get("/api/classes", headers=world.admin.headers)).json()["items"]
    return int(next(c["id"] for c in classes if c["name"] == "Year 4 Oak"))


async def test_a_class_letters_hold_each_guardians_code_language_and_a_qr_code_opening_the_invite(
    api: httpx.AsyncClient, services: Services, tmp_path: Path
) -> None:
    world = await make_world(services, classes=0)
    class_id = await _class_with_families(api, world)
    reply = await api.get(f"/api/classes/{class_id}/letters.pdf", headers=world.admin.headers)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/pdf"
    assert "no-store" in reply.headers["cache-control"]
    pdf = reply.content
    pages = _pages(pdf)
    assert len(pages) == 4
    languages = ["en", "pl", "ar", "ur"]
    codes: list[str] = []
    for page, language in zip(pages, languages, strict=True):
        assert f"Homeroom · {language}" in page, (language, page[-200:])
        found = CODE.findall(page)
        assert len(set(found)) == 1, page
        codes.append(found[0])
    for page, language in zip(pages[:2], languages[:2], strict=True):
        title = text(language, "Join {school} on Homeroom", school=world.school.name)
        assert title in " ".join(page.split()), (title, page[:300])
    assert len(set(codes)) == 4
    qr = _qr_codes(pdf, tmp_path, pages=(0, 2))
    assert qr == [[invite_link("http://testserver", code)] for code in codes]
    assert (tmp_path / "page-1.png").stat().st_size > 0 and (tmp_path / "page-3.png").stat().st_size > 0

    # The codes are real one-use invites for those pupils.
    preview = await api.post("/api/join/preview", json={"code": codes[2]})
    assert preview.status_code == 200, preview.text
    assert preview.json()["student"]["name"] == "Bilal"


async def test_a_joined_guardian_takes_their_letter_out_and_only_admins_and_class_staff_print(
    api: httpx.AsyncClient, services: Services
) -> None:
    world = await make_world(services, classes=0)
    class_id = await _class_with_families(api, world)
    pupils = (await api.get(f"/api/classes/{class_id}/students", headers=world.admin.headers)).json()["items"]
    amir = next(p for p in pupils if p["name"] == "Amir")
    invite = await api.post("/api/invites", json={"student_id": amir["id"]}, headers=world.admin.headers)
    joined = await api.post(
        "/api/join",
        json={
            "code": invite.json()["code"],
            "name": "Sarah Khan",
            "email": "sarah.k@example.test",
            "password": "a-long-enough-password",
            "language": "en",
            "accept_policy_version": world.school.policy_version,
        },
    )
    assert joined.status_code in (200, 201), joined.text
    pages = _pages(
        (await api.get(f"/api/classes/{class_id}/letters.pdf", headers=world.admin.headers)).content
    )
    assert [re.findall(r"Homeroom · (\w+)", p) for p in pages] == [["pl"], ["ar"], ["ur"]]

    error_of(await api.get(f"/api/classes/{class_id}/letters.pdf", headers=world.office.headers), 403)
    error_of(await api.get("/api/school/letters.pdf", headers=world.teacher.headers), 403)
    parent = await world.add_user("parent")
    error_of(await api.get(f"/api/classes/{class_id}/login-cards.pdf", headers=parent.headers), 403)
    school = await api.get("/api/school/letters.pdf", headers=world.admin.headers)
    assert school.status_code == 200 and len(_pages(school.content)) == 3


async def test_login_cards_hold_each_pupils_codes_and_a_qr_code_to_sign_in(
    api: httpx.AsyncClient, services: Services, tmp_path: Path
) -> None:
    world = await make_world(services, classes=0)
    class_id = await _class_with_families(api, world)
    found = (await api.get(f"/api/classes/{class_id}", headers=world.admin.headers)).json()
    pupils = (await api.get(f"/api/classes/{class_id}/students", headers=world.admin.headers)).json()["items"]
    reply = await api.get(f"/api/classes/{class_id}/login-cards.pdf", headers=world.admin.headers)
    assert reply.status_code == 200
    page = _pages(reply.content)[0]
    for pupil in pupils:
        assert pupil["student_code"] in page and pupil["name"] in page
    assert found["class_code"] in page
    qr = _qr_codes(reply.content, tmp_path, pages=(0,))[0]
    expected = {
        pupil_link("http://testserver", Card("", "", "", found["class_code"], p["student_code"]))
        for p in pupils
    }
    assert set(qr) == expected


def test_letters_in_bengali_gurmukhi_chinese_and_arabic_embed_their_fonts() -> None:
    expires = utcnow() + timedelta(days=14)
    letters = [
        Letter("Oak Primary", "Year 1", name, "", language, f"ABCDE-FGH{index}K", expires)
        for index, (name, language) in enumerate(
            [("Rahim", "bn"), ("Simran", "pa"), ("Li", "zh"), ("Omar", "ar")]
        )
    ]
    letters.append(Letter("Oak Primary", "Year 1", "আরিয়ান 李 ਸਿਮਰਨ عمر", "", "en", "ABCDE-FGHJK", expires))
    pdf = letters_pdf(letters, "https://school.example", "Europe/London")
    reader = PdfReader(io.BytesIO(pdf))
    fonts: set[str] = set()
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for font in resources["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    for family in ("NotoSansBengali", "NotoSansGurmukhi", "NotoSansArabic", "NotoSans"):
        assert any(family in f for f in fonts), (family, fonts)
    assert any("CJK" in f for f in fonts), fonts
    cards = cards_pdf(
        [Card("Oak Primary", "Year 1", "Omar", "ABC123", "XYZ789")], "https://school.example", "ar"
    )
    assert "XYZ789" in _pages(cards)[0]
