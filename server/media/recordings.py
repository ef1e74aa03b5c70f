"""Video and audio recordings: recognising them, probing them, transcoding them with FFmpeg.

A recording is accepted by its first bytes (an ISO media ``ftyp`` box for MP4, MOV and M4A,
the EBML header of WebM, ``OggS``, an MP3 frame or ID3 tag), then by ``ffprobe``, which runs
at upload time (it reads headers only, well under a second): a file that is not really audio
or video, or is longer than allowed, is refused at once with 422 ``validation_error``.

Transcoding runs later, in the queue (:mod:`server.media.processing`), to one format every
phone and browser plays: H.264/AAC in MP4 with ``+faststart`` (video, at most 1280×720 or
720×1280) or AAC in M4A (audio). Only the first video and first audio streams are kept;
every metadata block, chapter, subtitle and data stream is dropped (``-map_metadata -1
-map_chapters -1 -dn -sn``, ``-fflags +bitexact``), which removes the location (``©xyz``,
``location``), the device make and model and any owner names a phone writes. Videos get a
JPEG poster frame. FFmpeg runs as a subprocess with a timeout, never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

VIDEO_MP4, AUDIO_M4A, POSTER_JPEG = "video/mp4", "audio/mp4", "image/jpeg"
PROBE_SECONDS = 20.0
POSTER_SECONDS = 60.0
MAX_LONG_SIDE, MAX_SHORT_SIDE = 1280, 720
# Transcoding threads per run: a small server shares its cores with everything else.
THREADS = 2


def ffmpeg_available() -> bool:
    """True when both ``ffmpeg`` and ``ffprobe`` are on the PATH."""
    return shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None


def sniff_recording(head: bytes) -> bool:
    """True when the first bytes look like a container a phone records in (checked again by ffprobe)."""
    if len(head) >= 12 and head[4:8] == b"ftyp":  # MP4, MOV, M4A, 3GP
        return True
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # WebM / Matroska
        return True
    if head.startswith(b"OggS") or head.startswith(b"ID3"):
        return True
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0  # an MPEG audio frame


@dataclass(frozen=True)
class Probe:
    """What ffprobe found: the kind ("video" or "audio"), the duration, and the picture size."""

    kind: str
    duration: float
    width: int | None = None
    height: int | None = None


class NotARecording(Exception):
    """The file is not audio or video that FFmpeg can read; ``reason`` is a short code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def run(args: list[str], limit: float) -> tuple[int, bytes, bytes]:
    """Run a command without blocking the event loop; kill it past ``limit`` seconds (``TimeoutError``)."""
    process = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), limit)
    except BaseException:  # a timeout, or the job cancelled: never leave FFmpeg running
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        with contextlib.suppress(Exception):
            await asyncio.shield(process.wait())
        raise
    return process.returncode or 0, out, err


async def probe(path: Path) -> Probe:
    """Probe a file with ffprobe; :class:`NotARecording` when it has no audio or video to keep."""
    try:
        code, out, _ = await run(
            [
                "ffprobe",
                "-v",
                "error",
                "-print_format",
                "json",
                "-show_format",
                "-show_streams",
                str(path),
            ],
            PROBE_SECONDS,
        )
    except TimeoutError:
        raise NotARecording("unreadable") from None
    if code != 0:
        raise NotARecording("not_audio_or_video")
    try:
        found = json.loads(out)
    except ValueError:
        raise NotARecording("not_audio_or_video") from None
    streams = found.get("streams") or []
    video = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    ]
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    if not video and not audio:
        raise NotARecording("not_audio_or_video")
    duration = _duration(found.get("format") or {}, video + audio)
    if duration is None or duration <= 0:
        raise NotARecording("no_duration")
    if video:
        return Probe("video", duration, int(video[0].get("width") or 0), int(video[0].get("height") or 0))
    return Probe("audio", duration)


def _duration(fmt: dict[str, object], streams: list[dict[str, object]]) -> float | None:
    for value in [fmt.get("duration"), *(s.get("duration") for s in streams)]:
        if not isinstance(value, (str, int, float)):
            continue
        with contextlib.suppress(ValueError):
            number = float(value)
            if number > 0:
                return number
    return None


_SCALE = (
    f"scale=w='if(gte(iw,ih),min(iw,{MAX_LONG_SIDE}),min(iw,{MAX_SHORT_SIDE}))'"
    f":h='if(gte(iw,ih),min(ih,{MAX_SHORT_SIDE}),min(ih,{MAX_LONG_SIDE}))'"
    ":force_original_aspect_ratio=decrease:force_divisible_by=2,setsar=1"
)
_CLEAN = ["-map_metadata", "-1", "-map_chapters", "-1", "-dn", "-sn", "-fflags", "+bitexact"]


def transcode_args(kind: str, source: Path, target: Path, max_seconds: float) -> list[str]:
    """The FFmpeg command that makes the kept copy of a recording (see the module docstring)."""
    head = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", "-i", str(source)]
    limit = ["-t", f"{max_seconds:.3f}"]
    if kind == "video":
        return [
            *head,
            "-map", "0:v:0", "-map", "0:a:0?", *_CLEAN, *limit,
            "-vf", _SCALE,
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-profile:v", "high",
            "-pix_fmt", "yuv420p", "-threads", str(THREADS),
            "-c:a", "aac", "-b:a", "128k", "-ac", "2",
            "-movflags", "+faststart", "-f", "mp4", str(target),
        ]  # fmt: skip
    return [
        *head,
        "-map", "0:a:0", "-vn", *_CLEAN, *limit,
        "-c:a", "aac", "-b:a", "96k",
        "-movflags", "+faststart", "-f", "ipod", str(target),
    ]  # fmt: skip


def poster_args(video: Path, target: Path, duration: float) -> list[str]:
    """The FFmpeg command for a video's poster: one JPEG frame a second in (or mid-way)."""
    at = min(1.0, duration / 2)
    return [
        "ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y",
        "-ss", f"{at:.3f}", "-i", str(video), "-map", "0:v:0", *_CLEAN,
        "-frames:v", "1", "-q:v", "4", "-f", "image2", "-c:v", "mjpeg", str(target),
    ]  # fmt: skip


class TranscodeFailed(Exception):
    """FFmpeg could not make the kept copy; ``reason`` is a short code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}"[:500])
        self.reason = reason


async def transcode(kind: str, source: Path, workdir: Path, max_seconds: float, limit: float) -> Path:
    """Transcode into ``workdir``; returns the output's path (``TranscodeFailed`` on any failure)."""
    target = workdir / ("out.mp4" if kind == "video" else "out.m4a")
    try:
        code, _, err = await run(transcode_args(kind, source, target, max_seconds), limit)
    except TimeoutError:
        raise TranscodeFailed("too_slow") from None
    if code != 0 or not target.is_file() or target.stat().st_size == 0:
        raise TranscodeFailed("not_audio_or_video", err.decode(errors="replace")[-300:])
    return target


async def make_poster(video: Path, workdir: Path, duration: float) -> Path | None:
    """A JPEG poster frame of a transcoded video, or None when no frame could be taken."""
    target = workdir / "poster.jpg"
    with contextlib.suppress(TimeoutError):
        code, _, _ = await run(poster_args(video, target, duration), POSTER_SECONDS)
        if code == 0 and target.is_file() and target.stat().st_size > 0:
            return target
    return None
