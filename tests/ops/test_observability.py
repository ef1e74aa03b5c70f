"""Metrics, request ids and log lines: observable without leaking anyone's data."""

from __future__ import annotations

import logging

import httpx
import orjson

from server.observability.logs import JsonFormatter, RequestIdFilter, request_id
from tests.factories import World


async def test_metrics_label_requests_by_route_template(api: httpx.AsyncClient, world: World) -> None:
    pupil = await world.add_student(world.classes[0])
    assert pupil.student is not None
    assert (
        await api.get(f"/api/students/{pupil.student.id}", headers=world.teacher.headers)
    ).status_code == 200
    text = (await api.get("/metrics")).text
    assert 'route="/api/students/{id:int}"' in text
    assert f"/api/students/{pupil.student.id}" not in text
    assert "homeroom_ws_connections" in text


async def test_request_id_is_echoed_or_generated(api: httpx.AsyncClient) -> None:
    given = await api.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    generated = await api.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 16


def test_json_log_lines_carry_the_request_id() -> None:
    record = logging.LogRecord("homeroom", logging.INFO, __file__, 1, "post %d created", (7,), None)
    token = request_id.set("rid-42")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id.reset(token)
    entry = orjson.loads(JsonFormatter().format(record))
    assert entry["msg"] == "post 7 created"
    assert entry["request_id"] == "rid-42"
    assert entry["level"] == "info"
