"""Home learning in the browser: a pupil hands in a photo of their work; teacher and family see it."""

from __future__ import annotations

import io
import secrets

from tests.browser.conftest import DESKTOP
from tests.browser.helpers import need, pupil


def _drawing() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (800, 600), "#fff7e0")
    ImageDraw.Draw(image).ellipse((250, 150, 550, 450), fill="#3c9cff", outline="#1d3557", width=12)
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def test_pupil_hands_in_a_photo_of_their_work_which_the_family_sees_once_approved(
    browsers, school, server, shoot
):
    need("/api/me/submissions", "/api/media")
    title = f"Draw a planet {secrets.token_hex(2)}"
    server.call(
        "POST",
        f"/api/classes/{school.class_id}/activities",
        school.teacher,
        json={"title": title, "instructions": "Draw your favourite planet and take a photo."},
    )
    amir = browsers.page(pupil(server, school, "Amir"), path="/#/learning")
    card = amir.locator(".activity", has_text=title)
    card.get_by_role("button", name="Hand it in").click()
    assert "add a photo" in card.get_by_role("alert").inner_text()
    card.locator("input[type=file]:not([capture])").set_input_files(
        files=[{"name": "planet.jpg", "mimeType": "image/jpeg", "buffer": _drawing()}]
    )
    card.get_by_role("img", name="My photo 1").wait_for()
    shoot(amir, "pupil-hand-in-photo-phone")
    card.get_by_role("button", name="Hand it in").click()
    amir.locator(".toast:has-text('Handed in')").wait_for()
    mine = amir.locator(".portfolio-item", has_text=title)
    mine.locator(".post-photos img").wait_for()

    teacher = browsers.page(school.teacher, size=DESKTOP, path=f"/#/class/{school.class_id}/learning")
    review = teacher.locator(".review", has_text=title)
    photo = review.locator(".post-photos img")
    photo.wait_for()
    teacher.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    review.get_by_role("button", name="Approve").click()
    teacher.locator(".toast:has-text('Approved')").wait_for()

    parent = browsers.page(school.parents["en"], path=f"/#/child/{school.pupils['Amir']['id']}/portfolio")
    seen = parent.locator(".portfolio-item", has_text=title).locator(".post-photos img")
    seen.wait_for()
    parent.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=seen.element_handle())
    shoot(parent, "parent-portfolio-photo-phone")
