"""Recordings: FFmpeg time per minute of video, and server memory while a 200 MiB upload streams in.

```
.venv/bin/python bench/media.py                # both parts
.venv/bin/python bench/media.py --seconds 60   # a longer clip for the transcoding part
```

1. **Transcoding.** Makes a phone-like clip (1920×1080, 30 fps, ``testsrc2`` with a tone,
   H.264/AAC in MOV; not timed), then times what the queue does with it: the probe, the
   transcode to 720p H.264/AAC MP4 (``server.media.recordings``, the server's exact FFmpeg
   arguments) and the poster frame. Prints seconds of work per minute of video.
2. **Upload memory.** Starts ``python -m server serve`` on a fresh SQLite database, signs in
   a teacher, makes a real ~200 MiB video (lossless H.264, not timed) and uploads it through
   ``POST /api/media`` from a streaming client, sampling the server process's RSS every 10 ms.
   Prints the RSS before, the peak during the upload, and the difference (target: < 100 MiB).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.procstat import rss_bytes  # noqa: E402
from server.media import recordings  # noqa: E402

MIB = 1024 * 1024


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def phone_clip(path: Path, seconds: float) -> None:
    _ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:d={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
        "-metadata", "location=+51.5074-000.1278/", "-metadata", "make=PhoneMaker",
        "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "12M", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-shortest", "-f", "mov", str(path),
    )  # fmt: skip


def big_video(path: Path, size_bytes: int) -> None:
    """A real video of about ``size_bytes`` (lossless H.264 of a busy picture, cut at that size)."""
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30:d=170",
        "-f", "lavfi", "-i", "sine=frequency=440:duration=170",
        "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-shortest", "-fs", str(size_bytes), "-f", "mp4", str(path),
    )  # fmt: skip


async def transcoding(seconds: float, tmp: Path) -> dict[str, float]:
    clip = tmp / "clip.mov"
    phone_clip(clip, seconds)
    work = tmp / "work"
    work.mkdir()
    start = time.perf_counter()
    found = await recordings.probe(clip)
    probed = time.perf_counter()
    output = await recordings.transcode(found.kind, clip, work, 3600, 3600)
    transcoded = time.perf_counter()
    kept = await recordings.probe(output)
    poster = await recordings.make_poster(output, work, kept.duration)
    done = time.perf_counter()
    assert poster is not None
    return {
        "clip_seconds": found.duration,
        "clip_mib": clip.stat().st_size / MIB,
        "output_mib": output.stat().st_size / MIB,
        "probe_s": probed - start,
        "transcode_s": transcoded - probed,
        "poster_s": done - transcoded,
        "per_minute_s": (done - start) * 60 / found.duration,
    }


class RssSampler:
    """Samples a process's RSS every ``every`` seconds in a thread; keeps the peak."""

    def __init__(self, pid: int, every: float = 0.01) -> None:
        self.pid, self.every, self.peak = pid, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes(self.pid))
            time.sleep(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def upload_memory(tmp: Path, size_mib: int) -> dict[str, float]:
    from tests.factories import make_world
    from tests.live.servers import live_database, server_env, shared_services, start_server

    video = tmp / "big.mp4"
    big_video(video, size_mib * MIB)
    async with live_database("sqlite", tmp) as url:
        async with shared_services(url, tmp) as services:
            world = await make_world(services)
        env = server_env(database_url=url, broker_url="memory://", data_dir=tmp)
        server = start_server(env, tmp)
        try:
            await server.wait_ready()
            headers = world.teacher.headers
            async with httpx.AsyncClient(base_url=server.http_url, timeout=600) as client:
                warm = await client.post(
                    "/api/media",
                    files={"file": ("warm.mov", (tmp / "clip.mov").read_bytes())},
                    headers=headers,
                )
                assert warm.status_code == 201, warm.text
                await asyncio.sleep(1.0)
                before = rss_bytes(server.pid)
                with RssSampler(server.pid) as sampler, video.open("rb") as source:
                    started = time.perf_counter()
                    reply = await client.post(
                        "/api/media", files={"file": ("big.mp4", source, "video/mp4")}, headers=headers
                    )
                    took = time.perf_counter() - started
                assert reply.status_code == 201, reply.text
        finally:
            await server.stop()
    return {
        "upload_mib": video.stat().st_size / MIB,
        "upload_s": took,
        "rss_before_mib": before / MIB,
        "rss_peak_mib": sampler.peak / MIB,
        "rss_extra_mib": (sampler.peak - before) / MIB,
    }


async def main_async(args: argparse.Namespace) -> int:
    if not recordings.ffmpeg_available():
        print("ffmpeg is not installed", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="homeroom-bench-media-") as name:
        tmp = Path(name)
        t = await transcoding(args.seconds, tmp)
        print(
            f"transcoding: {t['clip_seconds']:.0f} s of 1080p30 ({t['clip_mib']:.1f} MiB) -> 720p MP4"
            f" ({t['output_mib']:.1f} MiB): probe {t['probe_s']:.2f} s, transcode {t['transcode_s']:.1f} s,"
            f" poster {t['poster_s']:.2f} s; {t['per_minute_s']:.1f} s per minute of video"
        )
        if args.skip_upload:
            return 0
        u = await upload_memory(tmp, args.upload_mib)
        print(
            f"upload: {u['upload_mib']:.0f} MiB in {u['upload_s']:.1f} s; server RSS before"
            f" {u['rss_before_mib']:.0f} MiB, peak {u['rss_peak_mib']:.0f} MiB,"
            f" extra {u['rss_extra_mib']:.1f} MiB (target < 100 MiB)"
        )
        return 0 if u["rss_extra_mib"] < 100 else 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30, help="length of the clip to transcode")
    parser.add_argument("--upload-mib", type=int, default=199, help="size of the uploaded video")
    parser.add_argument("--skip-upload", action="store_true")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
