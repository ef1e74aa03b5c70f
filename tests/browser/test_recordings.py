"""Recordings in the browser: a pupil records themselves for home learning; the family plays it."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from server.media.recordings import ffmpeg_available
from tests.browser.conftest import DESKTOP
from tests.browser.helpers import need, pupil
from tests.media.recording_files import phone_video

pytestmark = pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg is not installed")

# Records the upload progress bar's states (shown or hidden, value) as they change.
WATCH_PROGRESS = """(bar) => {
  window.__progress = [];
  new MutationObserver(() => window.__progress.push([bar.hidden, Number(bar.value)]))
    .observe(bar, { attributes: true, attributeFilter: ["hidden", "value"] });
}"""


def _reading_video(tmp: Path) -> bytes:
    """Three seconds of a child reading, as a phone films it (location and device tags included)."""
    return phone_video(tmp / "reading.mp4", seconds=3, size="640x360", rate=15, container="mp4")


def test_pupil_records_a_video_for_home_learning_which_the_family_plays_once_approved(
    browsers, school, server, shoot, tmp_path
):
    need("/api/me/submissions", "/api/media")
    title = f"Read a page aloud {secrets.token_hex(2)}"
    server.call(
        "POST",
        f"/api/classes/{school.class_id}/activities",
        school.teacher,
        json={"title": title, "instructions": "Record yourself reading your favourite page."},
    )
    amir_person = pupil(server, school, "Amir")
    amir = browsers.page(amir_person, path="/#/learning")
    card = amir.locator(".activity", has_text=title)
    card.locator("input[type=file][capture]").set_input_files(
        files=[{"name": "reading.mp4", "mimeType": "video/mp4", "buffer": _reading_video(tmp_path)}]
    )
    card.get_by_label("My video 1").wait_for()
    card.get_by_label("What is it? (optional, for item 1)").fill("Me reading The Gruffalo")
    card.locator(".upload-progress").evaluate(WATCH_PROGRESS)
    card.get_by_role("button", name="Hand it in").click()
    amir.locator(".toast:has-text('Handed in')").wait_for()
    progress = amir.evaluate("window.__progress")
    assert any(not hidden for hidden, _ in progress), progress  # shown while uploading
    assert max(value for _, value in progress) == 1, progress  # and filled up
    assert progress[-1][0] is True  # hidden again once uploaded
    mine = amir.locator(".portfolio-item", has_text=title)
    # "being prepared" while the queue transcodes it, then the player, live (media.ready)
    mine.locator(".post-recording-status, video.post-video").first.wait_for()
    mine.locator("video.post-video").wait_for(timeout=120_000)
    items = server.call("GET", "/api/me/submissions", amir_person)["items"]
    item = next(i for i in items if (i.get("activity") or {}).get("title") == title)
    assert item["media"][0]["status"] == "ready" and item["media"][0]["kind"] == "video"

    teacher = browsers.page(school.teacher, size=DESKTOP, path=f"/#/class/{school.class_id}/learning")
    review = teacher.locator(".review", has_text=title)
    review.locator("video.post-video").wait_for()
    review.get_by_role("button", name="Approve").click()
    teacher.locator(".toast:has-text('Approved')").wait_for()

    parent = browsers.page(school.parents["en"], path=f"/#/child/{school.pupils['Amir']['id']}/portfolio")
    video = parent.locator(".portfolio-item", has_text=title).locator("video.post-video")
    video.wait_for()
    assert video.get_attribute("poster")
    caption = parent.locator(".portfolio-item", has_text=title).locator(".post-caption")
    assert caption.inner_text() == "Me reading The Gruffalo"
    assert video.get_attribute("preload") == "metadata" and video.get_attribute("playsinline") is not None
    parent.wait_for_function(
        "(v) => v.readyState >= 1 && v.duration > 2.5 && v.duration < 3.5 && v.videoWidth === 640",
        arg=video.element_handle(),
        timeout=30000,
    )
    shoot(parent, "parent-portfolio-video-phone")
