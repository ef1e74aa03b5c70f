"""Real recordings made by FFmpeg during the test run, and helpers to wait for the queue."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from server.db.models import Media
from server.media.processing import RecordingPart
from server.media.recordings import ffmpeg_available
from server.services import Services

needs_ffmpeg = pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg is not installed")

LOCATION = "+51.5074-000.1278/"
MAKE, MODEL, OWNER = "PhoneMaker", "Pocket9Pro", "Mrs Example"


def phone_video(
    path: Path, *, seconds: float = 2, size: str = "1920x1080", rate: int = 10, container: str = "mov"
) -> bytes:
    """A video such as a phone records: H.264/AAC with location, device and owner metadata."""
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=size={size}:rate={rate}:d={seconds}",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={seconds}",
            "-metadata",
            f"location={LOCATION}",
            "-metadata",
            f"com.apple.quicktime.location.ISO6709={LOCATION}",
            "-metadata",
            f"make={MAKE}",
            "-metadata",
            f"model={MODEL}",
            "-metadata",
            f"com.apple.quicktime.make={MAKE}",
            "-metadata",
            f"com.apple.quicktime.model={MODEL}",
            "-metadata",
            f"author={OWNER}",
            "-metadata:s:v",
            f"handler_name={MODEL} camera",
            "-movflags",
            "use_metadata_tags",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            "-f",
            container,
            str(path),
        ],
        check=True,
    )
    return path.read_bytes()


def voice_note(path: Path, *, seconds: float = 2) -> bytes:
    """A voice note as a browser records it: Opus in Ogg, with a title and an artist tag."""
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=300:duration={seconds}",
            "-metadata",
            f"artist={OWNER}",
            "-metadata",
            f"location={LOCATION}",
            "-c:a",
            "libopus",
            "-f",
            "ogg",
            str(path),
        ],
        check=True,
    )
    return path.read_bytes()


def pattern_clip(path: Path, output_args: list[str], seconds: float = 1) -> None:
    """A short test picture and tone, tagged with a location, encoded with ``output_args``."""
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=size=160x120:rate=10:d={seconds}",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=500:duration={seconds}",
            "-metadata",
            f"location={LOCATION}",
            "-shortest",
            *output_args,
            str(path),
        ],
        check=True,
    )


def ffprobe(data: bytes, path: Path) -> dict[str, Any]:
    """``ffprobe -show_format -show_streams`` of some bytes, as JSON."""
    path.write_bytes(data)
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        check=True,
        capture_output=True,
    ).stdout
    return json.loads(out)  # type: ignore[no-any-return]


async def upload_recording(
    api: httpx.AsyncClient, headers: dict[str, str], data: bytes, name: str
) -> httpx.Response:
    return await api.post(
        "/api/media", files={"file": (name, data, "application/octet-stream")}, headers=headers
    )


def worker(services: Services) -> RecordingPart:
    return services.recordings  # type: ignore[no-any-return]


async def status_of(services: Services, media_id: int) -> str:
    async with services.read() as session:
        return str(await session.scalar(select(Media.status).where(Media.id == media_id)))


async def wait_processed(services: Services, media_id: int, deadline: float = 120.0) -> str:
    """Run the queue until the file is no longer processing (polling, with a deadline); its status."""
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        await worker(services).run_once(media_id)
        status = await status_of(services, media_id)
        if status != "processing":
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"recording {media_id} still processing after {deadline}s")
