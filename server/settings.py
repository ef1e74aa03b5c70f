"""Every knob of the server, read once from ``HOMEROOM_*`` environment variables.

Nothing here is read at import time: :func:`load_settings` builds one frozen
:class:`Settings` at start-up and the app passes it down. Each field has an
embedded default so a fresh checkout runs a school on SQLite with no setup.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

PREFIX = "HOMEROOM_"


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message says which."""


@dataclass(frozen=True)
class Settings:
    """The server's configuration; build it with :func:`load_settings`."""

    env: str = "development"
    data_dir: Path = Path("./data")
    database_url: str = "sqlite+aiosqlite:///./data/homeroom.db"
    broker_url: str = "memory://"
    media_dir: Path = Path("./data/media")
    secret_key: str = ""
    allowed_origins: tuple[str, ...] = ()
    translation_engines: tuple[str, ...] = ("argos", "apertium")
    translation_threads: int = 2
    translation_intra_threads: int = 1
    translation_jobs: int = 4
    translation_beam_size: int = 2
    translation_claim_seconds: float = 30.0
    max_body_bytes: int = 1 * 1024 * 1024
    max_upload_bytes: int = 10 * 1024 * 1024
    session_days: int = 30
    invite_days: int = 14
    history_size: int = 1000
    history_ttl_seconds: int = 24 * 3600
    ws_queue_bytes: int = 512 * 1024
    ws_idle_seconds: float = 60.0
    ws_ping_seconds: float = 25.0
    presence_ttl_seconds: float = 30.0
    login_attempts_per_minute: int = 10
    code_attempts_per_minute: int = 10
    redis_prefix: str = "homeroom"
    retention_days: int = 30
    log_json: bool | None = None
    forwarded_allow_ips: str = "127.0.0.1"
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        """True when running in production mode (secrets required, JSON logs)."""
        return self.env == "production"

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed (handy in tests)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _tuple(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


_PARSERS = {
    "env": str,
    "data_dir": Path,
    "database_url": str,
    "broker_url": str,
    "media_dir": Path,
    "secret_key": str,
    "allowed_origins": _tuple,
    "translation_engines": _tuple,
    "translation_threads": int,
    "translation_intra_threads": int,
    "translation_jobs": int,
    "translation_beam_size": int,
    "translation_claim_seconds": float,
    "max_body_bytes": int,
    "max_upload_bytes": int,
    "session_days": int,
    "invite_days": int,
    "history_size": int,
    "history_ttl_seconds": int,
    "ws_queue_bytes": int,
    "ws_idle_seconds": float,
    "ws_ping_seconds": float,
    "presence_ttl_seconds": float,
    "login_attempts_per_minute": int,
    "code_attempts_per_minute": int,
    "redis_prefix": str,
    "retention_days": int,
    "log_json": _bool,
    "forwarded_allow_ips": str,
}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the environment, filling in and persisting secrets as needed.

    In development a missing ``HOMEROOM_SECRET_KEY`` is generated once and kept in
    ``<data_dir>/secret_key`` so sessions survive restarts; in production it is required.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for name, parse in _PARSERS.items():
        raw = environ.get(PREFIX + name.upper())
        if raw is None or raw == "":
            continue
        try:
            values[name] = parse(raw)
        except ValueError as exc:
            raise SettingsError(f"{PREFIX}{name.upper()}: {exc}") from exc
    settings = Settings(**values)  # type: ignore[arg-type]
    if settings.env not in {"development", "production"}:
        raise SettingsError(f"{PREFIX}ENV must be 'development' or 'production', not {settings.env!r}")
    if "data_dir" in values:
        if "media_dir" not in values:
            settings = replace(settings, media_dir=settings.data_dir / "media")
        if "database_url" not in values:
            url = f"sqlite+aiosqlite:///{settings.data_dir / 'homeroom.db'}"
            settings = replace(settings, database_url=url)
    if not settings.secret_key:
        if settings.production:
            raise SettingsError(f"{PREFIX}SECRET_KEY is required when {PREFIX}ENV=production")
        settings = replace(settings, secret_key=_persisted_secret(settings.data_dir))
    elif settings.production and len(settings.secret_key) < 32:
        raise SettingsError(f"{PREFIX}SECRET_KEY must be at least 32 characters in production")
    return settings


def _persisted_secret(data_dir: Path) -> str:
    """Read the development secret from the data folder, creating it on first run."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
