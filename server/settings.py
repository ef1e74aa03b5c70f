"""Every knob of the server, read once from ``HOMEROOM_*`` environment variables.

Nothing here is read at import time: :func:`load_settings` builds one frozen
:class:`Settings` at start-up and the app passes it down. Each field has an
embedded default so a fresh checkout runs a school on SQLite with no setup.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

PREFIX = "HOMEROOM_"
ARGOS_INDEX_URL = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/index.json"
# The browsers' own push services (Chrome/Edge via FCM, Firefox, Windows, Safari): the only
# hosts a push is ever sent to unless HOMEROOM_PUSH_HOSTS says otherwise. "*." means any subdomain.
DEFAULT_PUSH_HOSTS = (
    "fcm.googleapis.com",
    "updates.push.services.mozilla.com",
    "*.notify.windows.com",
    "web.push.apple.com",
    "*.push.apple.com",
)
MIN_SECRET_LENGTH = 32


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message says which."""


@dataclass(frozen=True)
class Settings:
    """The server's configuration; build it with :func:`load_settings`."""

    env: str = "development"
    data_dir: Path = Path("./data")
    database_url: str = "sqlite+aiosqlite:///./data/homeroom.db"
    database_connections: int = (
        30  # PostgreSQL connections one process may open (10 kept, the rest for bursts)
    )
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
    argos_index_url: str = ARGOS_INDEX_URL
    argos_bundled_dir: Path | None = None
    max_package_bytes: int = 1024 * 1024 * 1024
    max_body_bytes: int = 1 * 1024 * 1024
    max_upload_bytes: int = 10 * 1024 * 1024
    # Video and audio recordings: the largest upload, the longest recording, and how long
    # one transcoding run may take before it is stopped (and retried, then failed).
    max_recording_bytes: int = 200 * 1024 * 1024
    max_recording_seconds: float = 180.0
    recording_job_seconds: float = 900.0
    # Bytes each account may upload in any 24 hours, by role, and the whole school together.
    upload_quota_staff_bytes: int = 512 * 1024 * 1024
    upload_quota_parent_bytes: int = 64 * 1024 * 1024
    upload_quota_pupil_bytes: int = 16 * 1024 * 1024
    upload_quota_school_bytes: int = 4 * 1024 * 1024 * 1024
    unattached_upload_seconds: float = 45 * 60.0
    session_days: int = 30
    session_idle_days: int = 7
    invite_days: int = 14
    history_size: int = 1000
    history_ttl_seconds: int = 24 * 3600
    ws_queue_bytes: int = 512 * 1024
    ws_idle_seconds: float = 60.0
    ws_ping_seconds: float = 25.0
    presence_ttl_seconds: float = 30.0
    ws_connections_per_session: int = 5
    ws_connections_per_user: int = 10
    login_attempts_per_minute: int = 10
    code_attempts_per_minute: int = 10
    redis_prefix: str = "homeroom"
    retention_days: int = 30
    log_json: bool | None = None
    forwarded_allow_ips: str = "127.0.0.1"
    metrics_token: str = ""
    # Web Push: the hosts pushes may go to, "full" or "minimal" content (no user-written
    # text), the VAPID key (PEM or raw base64url; generated into data_dir when empty) and
    # its contact, how long points are gathered into one notification, how long a push
    # waits for the reader's translation, and how many pushes are in flight at once.
    push_hosts: tuple[str, ...] = DEFAULT_PUSH_HOSTS
    push_content: str = "full"
    vapid_private_key: str = ""
    vapid_subject: str = "mailto:office@homeroom.invalid"
    push_points_batch_seconds: float = 180.0
    push_translation_wait_seconds: float = 20.0
    push_concurrency: int = 50
    # Email: SMTP server URL (smtp://host:25, smtp+starttls://user:pass@host:587,
    # smtps://user:pass@host:465); the sender address; the server's public address for links.
    smtp_url: str = ""
    mail_from: str = ""
    public_url: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        """True when running in production mode (secrets required, JSON logs)."""
        return self.env == "production"

    def with_(self, **changes: Any) -> Settings:
        """A copy with some fields changed (handy in tests)."""
        return replace(self, **changes)


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _tuple(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _count(value: str) -> int:
    """A whole number of at least 1 (sizes, limits, days)."""
    number = int(value)
    if number < 1:
        raise ValueError(f"must be at least 1, not {number}")
    return number


def _database_url(value: str) -> str:
    """The async driver's URL: ``postgresql://`` means asyncpg, ``sqlite://`` aiosqlite."""
    for plain, driver in _DRIVERS.items():
        if value.startswith(plain):
            return driver + value[len(plain) :]
    if not value.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        raise ValueError("use postgresql://… or sqlite:///…")
    return value


REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
REDIS_CLUSTER_SCHEMES = ("redis+cluster://", "rediss+cluster://")


def uses_redis(url: str) -> bool:
    """Whether a broker URL names Redis, one server or a cluster (the one place this is decided)."""
    return url.startswith(REDIS_SCHEMES + REDIS_CLUSTER_SCHEMES)


def uses_redis_cluster(url: str) -> bool:
    """Whether a broker URL names a Redis Cluster (``redis+cluster://host:port,…``)."""
    return url.startswith(REDIS_CLUSTER_SCHEMES)


def _broker_url(value: str) -> str:
    if not (value.startswith("memory://") or uses_redis(value)):
        raise ValueError("use memory://, redis://… or redis+cluster://host:port,host:port…")
    if uses_redis_cluster(value):
        from server.redis_clients import parse_cluster_url

        parse_cluster_url(value)  # ValueError saying what is wrong
    return value


_DRIVERS = {
    "postgres://": "postgresql+asyncpg://",
    "postgresql://": "postgresql+asyncpg://",
    "sqlite://": "sqlite+aiosqlite://",
}


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("use an http:// or https:// URL")
    return value


def _push_content(value: str) -> str:
    if value not in {"full", "minimal"}:
        raise ValueError("use full or minimal")
    return value


def _vapid_subject(value: str) -> str:
    if not value.startswith(("mailto:", "https://")):
        raise ValueError("use mailto:address or an https:// URL")
    return value


def _smtp_url(value: str) -> str:
    if not value.startswith(("smtp://", "smtps://", "smtp+starttls://")):
        raise ValueError("use smtp://host:port, smtp+starttls://… or smtps://user:pass@host:465")
    return value


def _seconds(value: str) -> float:
    """A positive number of seconds."""
    number = float(value)
    if not number > 0 or number == float("inf"):
        raise ValueError(f"must be a positive number of seconds, not {value!r}")
    return number


# Each field read from the environment, with the function that parses its text.
_PARSERS: dict[str, Callable[[str], Any]] = {
    "env": str,
    "data_dir": Path,
    "database_url": _database_url,
    "database_connections": _count,
    "broker_url": _broker_url,
    "media_dir": Path,
    "secret_key": str,
    "allowed_origins": _tuple,
    "translation_engines": _tuple,
    "translation_threads": _count,
    "translation_intra_threads": _count,
    "translation_jobs": _count,
    "translation_beam_size": _count,
    "translation_claim_seconds": _seconds,
    "argos_index_url": _http_url,
    "argos_bundled_dir": Path,
    "max_package_bytes": _count,
    "max_body_bytes": _count,
    "max_upload_bytes": _count,
    "max_recording_bytes": _count,
    "max_recording_seconds": _seconds,
    "recording_job_seconds": _seconds,
    "upload_quota_staff_bytes": _count,
    "upload_quota_parent_bytes": _count,
    "upload_quota_pupil_bytes": _count,
    "upload_quota_school_bytes": _count,
    "unattached_upload_seconds": _seconds,
    "session_days": _count,
    "session_idle_days": _count,
    "invite_days": _count,
    "history_size": _count,
    "history_ttl_seconds": _count,
    "ws_queue_bytes": _count,
    "ws_idle_seconds": _seconds,
    "ws_ping_seconds": _seconds,
    "presence_ttl_seconds": _seconds,
    "ws_connections_per_session": _count,
    "ws_connections_per_user": _count,
    "login_attempts_per_minute": _count,
    "code_attempts_per_minute": _count,
    "redis_prefix": str,
    "retention_days": _count,
    "log_json": _bool,
    "forwarded_allow_ips": str,
    "metrics_token": str,
    "push_hosts": _tuple,
    "push_content": _push_content,
    "vapid_private_key": str,
    "vapid_subject": _vapid_subject,
    "push_points_batch_seconds": _seconds,
    "push_translation_wait_seconds": _seconds,
    "push_concurrency": _count,
    "smtp_url": _smtp_url,
    "mail_from": str,
    "public_url": _http_url,
}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the environment, filling in and persisting secrets as needed.

    In development a missing ``HOMEROOM_SECRET_KEY`` is generated once and kept in
    ``<data_dir>/secret_key`` so sessions survive restarts; in production it is required.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, parse in _PARSERS.items():
        raw = environ.get(PREFIX + name.upper())
        if raw is None or raw == "":
            continue
        try:
            values[name] = parse(raw)
        except ValueError as exc:
            raise SettingsError(f"{PREFIX}{name.upper()}: {exc}") from exc
    settings = Settings(**values)
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
    elif settings.production and len(settings.secret_key) < MIN_SECRET_LENGTH:
        raise SettingsError(
            f"{PREFIX}SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters in production"
        )
    return settings


def _persisted_secret(data_dir: Path) -> str:
    """Read the development secret from the data folder, creating it (mode 0600) on first run.

    The new key is written to a private temporary file and linked into place, so two
    processes starting at once agree on one key and nobody ever reads a half-written file.
    """
    path = data_dir / "secret_key"
    existing = path.read_text().strip() if path.exists() else ""
    if len(existing) >= MIN_SECRET_LENGTH:
        return existing
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    temporary = data_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(key + "\n")
        if existing or path.exists():
            os.replace(temporary, path)  # an empty or truncated key file: replace it
        else:
            try:
                os.link(temporary, path)
            except FileExistsError:
                return path.read_text().strip()  # another process made it a moment ago
    finally:
        temporary.unlink(missing_ok=True)
    return key
