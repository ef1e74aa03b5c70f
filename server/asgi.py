"""The ASGI entry point for uvicorn: ``server.asgi:build`` (a factory; settings from the environment)."""

from starlette.applications import Starlette

from server.app import create_app
from server.observability import logs
from server.settings import load_settings


def build() -> Starlette:
    """Build the app from ``HOMEROOM_*`` settings; uvicorn calls this in every worker."""
    settings = load_settings()
    logs.configure(settings)
    return create_app(settings)
