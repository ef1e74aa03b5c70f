"""Settings from HOMEROOM_* variables: defaults, parsing, and the secret key's rules."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from server.settings import SettingsError, load_settings


def test_defaults_run_a_school_on_sqlite_with_no_setup(tmp_path: Path) -> None:
    settings = load_settings({"HOMEROOM_DATA_DIR": str(tmp_path)})
    assert settings.env == "development"
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'homeroom.db'}"
    assert settings.broker_url == "memory://"
    assert settings.media_dir == tmp_path / "media"
    assert len(settings.secret_key) >= 32


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="HOMEROOM_SECRET_KEY is required"):
        load_settings({"HOMEROOM_ENV": "production", "HOMEROOM_DATA_DIR": str(tmp_path)})
    assert not (tmp_path / "secret_key").exists()


def test_production_refuses_a_short_secret_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="at least 32"):
        load_settings({"HOMEROOM_ENV": "production", "HOMEROOM_SECRET_KEY": "short"})


def test_production_takes_the_given_secret_key() -> None:
    key = "k" * 40
    settings = load_settings({"HOMEROOM_ENV": "production", "HOMEROOM_SECRET_KEY": key})
    assert settings.production and settings.secret_key == key


def test_development_generates_a_key_once_and_keeps_it_private(tmp_path: Path) -> None:
    first = load_settings({"HOMEROOM_DATA_DIR": str(tmp_path)})
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == first.secret_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second = load_settings({"HOMEROOM_DATA_DIR": str(tmp_path)})
    assert second.secret_key == first.secret_key
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left behind


def test_an_empty_key_file_is_replaced_not_used(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("")
    settings = load_settings({"HOMEROOM_DATA_DIR": str(tmp_path)})
    assert len(settings.secret_key) >= 32
    assert (tmp_path / "secret_key").read_text().strip() == settings.secret_key


def test_a_given_key_is_never_written_to_disk(tmp_path: Path) -> None:
    load_settings({"HOMEROOM_DATA_DIR": str(tmp_path), "HOMEROOM_SECRET_KEY": "x" * 40})
    assert not (tmp_path / "secret_key").exists()


def test_values_are_parsed_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "HOMEROOM_DATA_DIR": str(tmp_path),
            "HOMEROOM_DATABASE_URL": "postgresql://u@db:5432/homeroom",
            "HOMEROOM_BROKER_URL": "redis://cache:6379/0",
            "HOMEROOM_MEDIA_DIR": str(tmp_path / "photos"),
            "HOMEROOM_ALLOWED_ORIGINS": "https://a.example, https://b.example",
            "HOMEROOM_TRANSLATION_ENGINES": "apertium,argos",
            "HOMEROOM_MAX_BODY_BYTES": "2048",
            "HOMEROOM_WS_PING_SECONDS": "12.5",
            "HOMEROOM_LOG_JSON": "yes",
            "HOMEROOM_DATABASE_CONNECTIONS": "12",
        }
    )
    assert settings.database_url == "postgresql+asyncpg://u@db:5432/homeroom"
    assert settings.database_connections == 12
    assert settings.broker_url == "redis://cache:6379/0"
    assert settings.media_dir == tmp_path / "photos"
    assert settings.allowed_origins == ("https://a.example", "https://b.example")
    assert settings.translation_engines == ("apertium", "argos")
    assert settings.max_body_bytes == 2048
    assert settings.ws_ping_seconds == 12.5
    assert settings.log_json is True


def test_plain_sqlite_url_gets_the_async_driver(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    settings = load_settings({"HOMEROOM_DATABASE_URL": url, "HOMEROOM_SECRET_KEY": "s" * 32})
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path}/x.db"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HOMEROOM_ENV", "staging"),
        ("HOMEROOM_MAX_BODY_BYTES", "lots"),
        ("HOMEROOM_MAX_BODY_BYTES", "0"),
        ("HOMEROOM_SESSION_DAYS", "-3"),
        ("HOMEROOM_WS_PING_SECONDS", "nan"),
        ("HOMEROOM_BROKER_URL", "kafka://somewhere"),
        ("HOMEROOM_DATABASE_URL", "mysql://root@db/homeroom"),
    ],
)
def test_malformed_values_are_refused_by_name(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name.removeprefix("HOMEROOM_")):
        load_settings({"HOMEROOM_DATA_DIR": str(tmp_path), "HOMEROOM_SECRET_KEY": "s" * 32, name: value})


def test_by_default_the_process_environment_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOMEROOM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HOMEROOM_SECRET_KEY", "e" * 32)
    settings = load_settings()
    assert settings.data_dir == tmp_path and settings.secret_key == "e" * 32
