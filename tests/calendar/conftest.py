"""Calendar tests run on the notification tests' app (a push worker the test drives, a local push service)."""

from __future__ import annotations

from tests.notify.conftest import app, push_service, smtp, worker

__all__ = ["app", "push_service", "smtp", "worker"]
