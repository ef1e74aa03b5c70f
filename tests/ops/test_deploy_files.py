"""The scaled-out shape, checked by reading it: containers cannot run on this machine."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from server.settings import _PARSERS

ROOT = Path(__file__).resolve().parents[2]
APPS = ("app1", "app2")


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def test_compose_has_the_scaled_out_services() -> None:
    services = compose()["services"]
    assert {"proxy", "app1", "app2", "worker", "migrate", "redis", "postgres"} <= set(services)
    assert services["redis"]["image"].startswith("redis:")
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["proxy"]["image"].startswith("nginx:")
    assert "--appendonly" in services["redis"]["command"], "Redis must persist so history survives restarts"


def test_apps_share_postgres_redis_and_volumes() -> None:
    spec = compose()
    for name in (*APPS, "worker"):
        service = spec["services"][name]
        env = service["environment"]
        assert env["HOMEROOM_ENV"] == "production"
        assert env["HOMEROOM_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert env["HOMEROOM_BROKER_URL"].startswith("redis://redis:")
        assert ":?" in env["HOMEROOM_SECRET_KEY"], "the secret key must be required, never defaulted"
        mounts = {volume.split(":")[0] for volume in service["volumes"]}
        assert {"media", "models"} <= mounts
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert {"media", "models", "pgdata", "redisdata"} <= set(spec["volumes"])
    assert spec["services"]["worker"]["command"][-1] == "worker"


def test_every_environment_variable_is_a_real_setting() -> None:
    known = {f"HOMEROOM_{name.upper()}" for name in _PARSERS}
    for name, service in compose()["services"].items():
        env = service.get("environment") or {}
        unknown = {key for key in env if key.startswith("HOMEROOM_")} - known
        assert not unknown, f"{name} sets unknown settings {unknown}"


def test_health_checks_use_readyz() -> None:
    services = compose()["services"]
    for name in APPS:
        check = " ".join(services[name]["healthcheck"]["test"])
        assert "/readyz" in check
        assert services["proxy"]["depends_on"][name]["condition"] == "service_healthy"
    for name in ("redis", "postgres", "proxy"):
        assert services[name]["healthcheck"]["test"]


def test_proxy_passes_websockets_to_both_replicas() -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    mounted = compose()["services"]["proxy"]["volumes"][0].split(":")[0]
    assert (ROOT / mounted).resolve() == (ROOT / "deploy" / "nginx.conf").resolve()
    for name in APPS:
        assert re.search(rf"server {name}:8000", conf)
    ws = conf[conf.index("location /ws") :]
    assert "proxy_set_header Upgrade $http_upgrade" in ws
    assert "proxy_http_version 1.1" in ws
    assert "limit_req zone=ws_handshakes" in ws and "zone=ws_handshakes:10m" in conf


def test_dockerfile_runs_the_server_as_an_unprivileged_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)
    assert '"python", "-m", "server", "serve"' in dockerfile
    assert "/readyz" in dockerfile
    assert "HOMEROOM_ENV=production" in dockerfile
    for copied in ("server", "web", "pyproject.toml"):
        assert re.search(rf"^COPY .*{copied}", dockerfile, re.M)
