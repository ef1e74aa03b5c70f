"""The scaled-out shape, checked by reading it: containers cannot run on this machine."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import pytest
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


def dockerfile_instructions() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    lines = [
        line for line in (ROOT / "Dockerfile").read_text().splitlines() if not line.lstrip().startswith("#")
    ]
    return [part.strip() for part in re.sub(r"\\\n", " ", "\n".join(lines)).splitlines() if part.strip()]


def fetch_step() -> str:
    (step,) = [i for i in dockerfile_instructions() if i.startswith("RUN ") and "translation fetch" in i]
    return step[len("RUN ") :]


def test_the_argos_languages_build_argument_fetches_into_a_folder_outside_the_volume() -> None:
    instructions = dockerfile_instructions()
    assert 'ARG ARGOS_LANGUAGES=""' in instructions, "empty by default: no download unless asked"
    (bundled,) = [i.split("=", 1)[1] for i in instructions if i.startswith("ENV HOMEROOM_ARGOS_BUNDLED_DIR=")]
    assert "argos_bundled_dir" in _PARSERS
    assert not bundled.startswith("/data"), "the /data volume would hide a rebuilt image's packages"
    step = fetch_step()
    assert "python -m server translation fetch $ARGOS_LANGUAGES" in step
    assert 'if [ -n "$ARGOS_LANGUAGES" ]' in step
    assert '"$HOMEROOM_ARGOS_BUNDLED_DIR"' in step
    order = [i.split()[0] + (" fetch" if "translation fetch" in i else "") for i in instructions]
    install = next(n for n, i in enumerate(instructions) if i.startswith("RUN pip install"))
    assert install < order.index("RUN fetch") < order.index("USER"), "after the install, as root, before USER"
    arg = instructions.index('ARG ARGOS_LANGUAGES=""')
    assert arg < order.index("RUN fetch")


def test_the_fetch_step_runs_as_written_against_a_local_index(tmp_path: Path) -> None:
    """The Dockerfile's own shell line, run here with its two folders moved under tmp_path."""
    import os
    import shutil
    import subprocess
    import sys

    from server.translation.argos import argos_available, installed_packages

    if not argos_available() or shutil.which("sh") is None:
        pytest.skip("needs the 'translate' extra and a POSIX shell")
    from tests.translation.fixtures import load_builder
    from tests.translation.mirror import serving

    builder = load_builder()
    bundled, scratch = tmp_path / "opt" / "argos-packages", tmp_path / "argos-build"
    script = fetch_step().replace("/tmp/argos-build", str(scratch))
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HOMEROOM_", "XDG_", "ARGOS_"))}
    env = {
        **clean,
        "HOME": str(tmp_path),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{clean.get('PATH', '')}",  # `python` is ours
        "HOMEROOM_ARGOS_BUNDLED_DIR": str(bundled),
    }
    empty = subprocess.run(["sh", "-c", script], cwd=ROOT, env={**env, "ARGOS_LANGUAGES": ""}, timeout=60)
    assert empty.returncode == 0 and bundled.is_dir() and list(bundled.iterdir()) == []
    with serving(tmp_path / "mirror") as mirror:
        for source, target in (("en", "pl"), ("pl", "en")):
            mirror.add(
                source, target, builder.build(tmp_path / f"{source}_{target}.argosmodel", source, target)
            )
        built = subprocess.run(
            ["sh", "-c", script],
            cwd=ROOT,
            env={**env, "ARGOS_LANGUAGES": "pl", "HOMEROOM_ARGOS_INDEX_URL": mirror.index_url},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert built.returncode == 0, built.stderr
    assert not scratch.exists(), "the throwaway data folder (and its secret) is gone"
    found = installed_packages(tmp_path / "no-data", [bundled])
    assert [p.pair for p in found] == [("en", "pl"), ("pl", "en")]


def test_the_proxy_lets_package_uploads_through_and_nothing_else_that_large() -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    block = conf[conf.index("location = /api/translation/packages") :]
    block = block[: block.index("}")]
    size = re.search(r"client_max_body_size (\d+)m;", block)
    assert size is not None and int(size.group(1)) * 1024**2 >= 1024**3, "HOMEROOM_MAX_PACKAGE_BYTES' default"
    assert "proxy_pass http://homeroom;" in block
    assert re.search(r"server \{\s+listen 80;\s+client_max_body_size 11m;", conf), "the small default stays"


def test_dockerfile_runs_the_server_as_an_unprivileged_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)
    assert '"python", "-m", "server", "serve"' in dockerfile
    assert "/readyz" in dockerfile
    assert "HOMEROOM_ENV=production" in dockerfile
    for copied in ("server", "web", "pyproject.toml"):
        assert re.search(rf"^COPY .*{copied}", dockerfile, re.M)


def test_the_image_installs_ffmpeg_for_recordings() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    installs = [
        block
        for block in re.findall(r"^RUN (.*?)(?<!\\)$", dockerfile, re.M | re.S)
        if "apt-get install" in block
    ]
    assert any(re.search(r"\bffmpeg\b", block) for block in installs), "ffmpeg in the runtime packages"
    for block in installs:
        assert "apt-get update" in block and "rm -rf /var/lib/apt/lists/*" in block
    prereqs = (ROOT / "tools" / "test-prereqs.sh").read_text()
    assert "missing+=(ffmpeg)" in prereqs


def test_the_proxy_streams_uploads_up_to_the_recording_limit() -> None:
    conf = nginx_conf()
    block = conf[conf.index("location = /api/media {") :]
    block = block[: block.index("}")]
    size = re.search(r"client_max_body_size (\d+)m;", block)
    assert size is not None and int(size.group(1)) * 1024**2 > 200 * 1024**2, "HOMEROOM_MAX_RECORDING_BYTES"
    assert "proxy_request_buffering off;" in block and "proxy_pass http://homeroom;" in block


def nginx_conf() -> str:
    return (ROOT / "deploy" / "nginx.conf").read_text()


def test_proxy_sets_forwarded_for_from_the_connecting_address() -> None:
    conf = nginx_conf()
    set_headers = re.findall(r"proxy_set_header\s+X-Forwarded-For\s+(\S+);", conf)
    assert set_headers and all(value == "$remote_addr" for value in set_headers), set_headers
    assert "$proxy_add_x_forwarded_for" not in conf, "appending keeps what the client sent"
    assert conf.count("proxy_pass ") == len(set_headers), "every proxied location sets the header"


def test_apps_trust_forwarded_for_from_the_proxy_alone() -> None:
    spec = compose()
    services = spec["services"]
    proxy_edge = services["proxy"]["networks"]["edge"]["ipv4_address"]
    edge = spec["networks"]["edge"]
    assert edge["internal"] is True, "nothing but the proxy and the apps, no way out"
    subnet = ipaddress.ip_network(edge["ipam"]["config"][0]["subnet"])
    dynamic = ipaddress.ip_network(edge["ipam"]["config"][0]["ip_range"])
    assert ipaddress.ip_address(proxy_edge) in subnet
    assert ipaddress.ip_address(proxy_edge) not in dynamic, "no other container can be given its address"
    for name in APPS:
        trusted = services[name]["environment"]["HOMEROOM_FORWARDED_ALLOW_IPS"]
        assert trusted == proxy_edge
        assert "edge" in services[name]["networks"]


def test_only_the_proxy_is_reachable_from_outside() -> None:
    services = compose()["services"]
    for name, service in services.items():
        if name != "proxy":
            assert "ports" not in service, f"{name} must be reached through the proxy"
    on_edge = {name for name, service in services.items() if "edge" in (service.get("networks") or [])}
    assert on_edge == {"proxy", *APPS}
    assert "backend" not in services["proxy"]["networks"]


def test_metrics_are_not_routed_by_the_proxy() -> None:
    conf = nginx_conf()
    block = re.search(r"location\s*=\s*/metrics\s*\{([^}]*)\}", conf)
    assert block is not None
    assert re.search(r"return\s+404\b", block.group(1))
    assert "proxy_pass" not in block.group(1)


def test_metrics_token_is_passed_to_the_apps_and_never_defaulted() -> None:
    services = compose()["services"]
    for name in APPS:
        token = services[name]["environment"]["HOMEROOM_METRICS_TOKEN"]
        assert token == "${HOMEROOM_METRICS_TOKEN:-}", "an empty token means: direct scrapes only"
