"""Voice notes in messages: a parent records one on their phone, the teacher plays it, live."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from server.media.recordings import ffmpeg_available
from tests.browser.helpers import mark, need, not_reloaded, wait_subscribed
from tests.browser.server import School, Server
from tests.browser.test_recordings import WATCH_PROGRESS
from tests.media.recording_files import voice_note

pytestmark = pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg is not installed")

PHONE_360 = {"width": 360, "height": 740}


@pytest.fixture
def open_all_day(server: Server, school: School) -> Iterator[None]:
    """Working hours all day, so the message is not held for quiet time; put back afterwards."""
    before = server.call("GET", "/api/school", school.admin)["working_hours"]
    hours = {day: ["00:00", "23:59"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    server.call("PATCH", "/api/school", school.admin, json={"working_hours": hours})
    yield
    server.call("PATCH", "/api/school", school.admin, json={"working_hours": before})


def test_parent_sends_a_voice_note_which_the_teacher_plays_once_ready(
    browsers, school, server, shoot, tmp_path, open_all_day
):
    need("/api/conversations", "/api/media", "/ws")
    conv = server.call(
        "POST",
        "/api/conversations",
        school.parents["en"],
        json={"student_id": school.pupils["Amir"]["id"], "staff_id": school.teacher.id},
    )["id"]
    teacher = browsers.page(school.teacher, size=PHONE_360, path=f"/#/messages/{conv}")
    teacher.wait_for_selector(".reply")
    wait_subscribed(teacher, f"user:{school.teacher.id}")
    parent = browsers.page(school.parents["en"], size=PHONE_360, path=f"/#/messages/{conv}")
    parent.wait_for_selector(".reply")
    wait_subscribed(parent, f"user:{school.parents['en'].id}")
    mark(teacher)
    mark(parent)

    recorder = parent.locator(".reply-form input[type=file][capture]")
    assert recorder.get_attribute("accept") == "audio/*,video/*,image/*"
    recorder.set_input_files(
        files=[{"name": "voice.ogg", "mimeType": "audio/ogg", "buffer": voice_note(tmp_path / "voice.ogg")}]
    )
    parent.locator(".reply-attachment", has_text="Voice note").wait_for()
    caption = f"Amir reading his poem <b>aloud</b> {secrets.token_hex(2)}"
    parent.get_by_label("Caption (optional)").fill(caption)
    parent.locator(".reply-form .upload-progress").evaluate(WATCH_PROGRESS)
    parent.get_by_role("button", name="Send").click()

    mine = parent.locator(".message.is-mine").last
    mine.locator(".post-recording-status, audio.post-audio").first.wait_for()
    progress = parent.evaluate("window.__progress")
    assert any(not hidden for hidden, _ in progress), progress  # shown while uploading
    assert max(value for _, value in progress) == 1, progress  # and filled up
    assert progress[-1][0] is True  # hidden again once uploaded
    assert parent.locator(".reply-attachment").is_hidden()

    # The teacher gets the message once the voice note is ready: a player with its duration.
    theirs = teacher.locator(".message.is-theirs", has=teacher.locator("audio.post-audio"))
    theirs.wait_for(timeout=120_000)
    audio = theirs.locator("audio.post-audio")
    assert audio.get_attribute("preload") == "metadata" and audio.get_attribute("controls") is not None
    teacher.wait_for_function(
        "(a) => a.readyState >= 1 && a.duration > 1.5 && a.duration < 2.5",
        arg=audio.element_handle(),
        timeout=30000,
    )
    shown = theirs.locator(".post-caption")
    assert shown.inner_text() == caption  # plain text: the markup is shown, not obeyed
    assert shown.locator("b").count() == 0
    # The parent's own copy switches from "being prepared" to the player, live.
    mine.locator("audio.post-audio").wait_for(timeout=120_000)
    assert mine.locator(".post-caption").inner_text() == caption
    assert not_reloaded(teacher) and not_reloaded(parent)
    shoot(teacher, "messages-voice-note-phone")
    teacher.get_by_role("link", name="All messages").click()
    teacher.locator(f"[data-conversation-id='{conv}'] .conversation-last", has_text="Voice note").wait_for()
