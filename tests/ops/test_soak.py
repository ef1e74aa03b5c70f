"""``bench/soak.py``: its exactly-once check catches what it should, and a short soak passes."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.services import postgres_admin_url

ROOT = Path(__file__).resolve().parents[2]


def load_soak() -> ModuleType:
    spec = importlib.util.spec_from_file_location("soak", ROOT / "bench" / "soak.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["soak"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


soak = load_soak()


def connection(keys: dict[str, list[list[Any]]], **counts: Any) -> dict[str, Any]:
    found = {"gaps": 0, "repeats": 0, "not_recovered": 0, "reconnects": 0, "failures": 0}
    return {"channels": list(keys), "keys": keys, "caught_up": True, "latencies": [], **found, **counts}


def ledger_of(**channels: list[tuple[Any, ...]]) -> Any:
    ledger = soak.Ledger()
    for channel, keys in channels.items():
        ledger.by_channel[channel.replace("_", ":")] = Counter(keys)
    return ledger


def test_check_counts_lost_duplicated_and_unexpected_events() -> None:
    ledger = ledger_of(class_1=[("post", 1), ("post", 2), ("like", 1, 1)], user_9=[("message", 5)])
    exact = connection({"class:1": [["post", 1], ["like", 1, 1], ["post", 2]], "user:9": [["message", 5]]})
    verdict = soak.check([exact], ledger)
    assert (verdict.expected, verdict.delivered, verdict.lost, verdict.duplicated) == (4, 4, 0, 0)
    faulty = connection(
        {"class:1": [["post", 1], ["post", 1], ["post", 7]], "user:9": []}, gaps=2, caught_up=False
    )
    verdict = soak.check([exact, faulty], ledger)
    assert (verdict.lost, verdict.duplicated, verdict.unexpected) == (3, 1, 1)
    assert (verdict.gaps, verdict.behind) == (2, 1)


def test_event_keys_identify_events_whatever_their_seq() -> None:
    def frame(kind: str, data: dict[str, Any]) -> dict[str, Any]:
        return {"type": kind, "data": data, "seq": 3}

    assert soak.event_key(frame("post.created", {"post": {"id": 4}})) == ["post", 4]
    assert soak.event_key(frame("post.liked", {"post_id": 4, "like_count": 2})) == ["like", 4, 2]
    staff_like = {"post_id": 4, "like_count": 2, "user": {"id": 8, "name": "P"}}
    assert soak.event_key(frame("post.liked", staff_like)) == ["staff_like", 4, 8]
    assert soak.event_key(frame("points.awarded", {"award": {"id": 6}, "total": 1})) == ["award", 6]
    assert soak.event_key(frame("message.created", {"message": {"id": 2, "system": False}})) == ["message", 2]
    assert soak.event_key(frame("message.created", {"message": {"id": 3, "system": True}})) is None
    assert soak.event_key(frame("presence.joined", {"user": {"id": 1}})) is None


@pytest.mark.live
@pytest.mark.slow
@pytest.mark.skipif(postgres_admin_url() is None, reason="the soak runs on PostgreSQL")
def test_a_short_soak_delivers_every_event_exactly_once(tmp_path: Path) -> None:
    command = [sys.executable, "bench/soak.py", "--clients", "40", "--classes", "2", "--seconds", "8"]
    command += ["--reconnects", "3", "--conversations-per-class", "5"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "lost 0, duplicated 0, unexpected 0" in done.stdout
    assert "PASS" in done.stdout
