"""The frame protocol, sans I/O: channel names, client frames, server frames, framing and the flood budget."""

from __future__ import annotations

import json
import struct

import pytest

from server.channels.protocol import (
    BadFrame,
    Channel,
    Frame,
    FrameBudget,
    Ping,
    Sub,
    Unsub,
    error_frame,
    event_frame,
    frame_header,
    parse_channel,
    parse_frame,
    subbed_frame,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("school:1", Channel("school", 1)),
        ("school:12:staff", Channel("school", 12, True)),
        ("class:3", Channel("class", 3)),
        ("class:3:staff", Channel("class", 3, True)),
        ("student:5", Channel("student", 5)),
        ("user:7", Channel("user", 7)),
        ("student:5:staff", None),
        ("user:7:staff", None),
        ("class:03", None),
        ("class:0", None),
        ("class:-1", None),
        ("class:", None),
        ("class:1:staff:x", None),
        ("Class:1", None),
        ("room:1", None),
        (" class:1", None),
        ("class:99999999999999999999", None),
        (5, None),
        (None, None),
    ],
)
def test_channel_names(name: object, expected: Channel | None) -> None:
    assert parse_channel(name) == expected
    if expected is not None:
        assert expected.name == name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"op":"ping"}', Ping()),
        ('{"op":"ping","ref":3}', Ping(3)),
        ('{"op":"ping","ref":"abc"}', Ping("abc")),
        ('{"op":"sub","channel":"class:3","ref":1}', Sub(Channel("class", 3), None, None, 1)),
        ('{"op":"sub","channel":"class:3","since":41,"epoch":"k2x9"}', Sub(Channel("class", 3), 41, "k2x9")),
        ('{"op":"sub","channel":"class:3","since":0}', Sub(Channel("class", 3), 0)),
        ('{"op":"sub","channel":"class:3","since":null}', Sub(Channel("class", 3))),
        ('{"op":"unsub","channel":"user:9","ref":2}', Unsub(Channel("user", 9), 2)),
    ],
)
def test_good_frames(raw: str, expected: object) -> None:
    assert parse_frame(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (None, "bad_request"),
        (b'{"op":"ping"}', "bad_request"),
        ("", "bad_request"),
        ("nope", "bad_request"),
        ("[]", "bad_request"),
        ("42", "bad_request"),
        ('{"op":"dance"}', "bad_request"),
        ('{"channel":"class:1"}', "bad_request"),
        ('{"op":"sub"}', "bad_request"),
        ('{"op":"sub","channel":"class:x"}', "bad_request"),
        ('{"op":"sub","channel":"class:1","since":-1}', "bad_request"),
        ('{"op":"sub","channel":"class:1","since":1.5}', "bad_request"),
        ('{"op":"sub","channel":"class:1","since":true}', "bad_request"),
        ('{"op":"sub","channel":"class:1","since":"4"}', "bad_request"),
        ('{"op":"sub","channel":"class:1","epoch":7}', "bad_request"),
        ('{"op":"sub","channel":"class:1","epoch":"' + "e" * 65 + '"}', "bad_request"),
        ('{"op":"ping","ref":[1]}', "bad_request"),
        ('{"op":"ping","ref":1e300}', "bad_request"),
        ('{"op":"ping","ref":"' + "r" * 65 + '"}', "bad_request"),
        ('{"op":"ping","pad":"' + "x" * 5000 + '"}', "too_large"),
    ],
)
def test_bad_frames_become_error_answers(raw: str | bytes | None, code: str) -> None:
    answer = parse_frame(raw)
    assert isinstance(answer, BadFrame) and answer.code == code and answer.message


def test_bad_frame_keeps_ref_and_channel_when_known() -> None:
    answer = parse_frame('{"op":"sub","channel":"class:1","since":-5,"ref":8}')
    assert answer == BadFrame("bad_request", answer.message, 8, "class:1")  # type: ignore[union-attr]


def test_server_frames_have_api_shapes() -> None:
    assert json.loads(subbed_frame("class:3", 57, "k2x9", True, 1).payload) == {
        "op": "subbed",
        "channel": "class:3",
        "seq": 57,
        "epoch": "k2x9",
        "recovered": True,
        "ref": 1,
    }
    assert json.loads(error_frame("forbidden", "No.", 1, "class:3").payload) == {
        "op": "error",
        "code": "forbidden",
        "message": "No.",
        "channel": "class:3",
        "ref": 1,
    }
    event = json.loads(
        event_frame("class:3", 58, "post.created", {"post": {}}, "2026-01-01T00:00:00+00:00").payload
    )
    assert event == {
        "op": "event",
        "channel": "class:3",
        "seq": 58,
        "type": "post.created",
        "data": {"post": {}},
        "ts": "2026-01-01T00:00:00+00:00",
    }


@pytest.mark.parametrize("length", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_wire_frames_follow_rfc_6455(length: int) -> None:
    payload = b"x" * length
    wire = Frame(payload).wire
    assert wire[0] == 0x81  # FIN + text
    if length < 126:
        assert wire[1] == length and wire[2:] == payload
    elif length < 65536:
        assert wire[1] == 126 and struct.unpack("!H", wire[2:4])[0] == length and wire[4:] == payload
    else:
        assert wire[1] == 127 and struct.unpack("!Q", wire[2:10])[0] == length and wire[10:] == payload
    assert frame_header(length) == wire[: len(wire) - length]


def test_frame_text_and_wire_are_computed_once() -> None:
    frame = Frame(b'{"op":"pong"}')
    assert frame.wire is frame.wire and frame.text is frame.text == '{"op":"pong"}'


@pytest.mark.parametrize(
    ("frames", "expected_last"),
    [
        ([(0.0, True)] * 10, True),  # ten bad frames at once are forgiven
        ([(0.0, True)] * 11, False),  # the eleventh is a flood
        ([(i * 2.0, True) for i in range(100)], True),  # one bad frame every two seconds, forever
        ([(0.0, False)] * 60, True),  # a burst of sixty good frames
        ([(0.0, False)] * 61, False),  # beyond the burst
        ([(i / 20.0, False) for i in range(1000)], True),  # twenty a second, forever
    ],
)
def test_frame_budget(frames: list[tuple[float, bool]], expected_last: bool) -> None:
    budget = FrameBudget(0.0)
    results = [budget.frame(now, bad) for now, bad in frames]
    assert results[-1] is expected_last
    assert all(results[:-1])
