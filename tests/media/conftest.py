"""Fixtures for the recording tests: real files made by FFmpeg, and the queue paused on demand."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from server.media.processing import RecordingPart
from server.media.recordings import ffmpeg_available
from server.services import Services
from tests.media.recording_files import phone_video, voice_note, worker


@pytest.fixture(scope="session")
def recording_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A phone video (1080p, with location and device tags), a small one, a voice note, a 4-minute one."""
    if not ffmpeg_available():
        pytest.skip("ffmpeg is not installed")
    folder = tmp_path_factory.mktemp("recordings")
    return {
        "video": phone_video(folder / "clip.mov"),
        "small": phone_video(folder / "small.mp4", size="320x240", container="mp4"),
        "voice": voice_note(folder / "voice.ogg"),
        "long": phone_video(folder / "long.mp4", seconds=240, size="64x48", rate=1, container="mp4"),
    }


@pytest.fixture
async def paused(services: Services) -> AsyncIterator[RecordingPart]:
    """The server's recording worker with its loop stopped: jobs run only when the test says."""
    part = worker(services)
    await part.stop()
    try:
        yield part
    finally:
        await part.start(services)
