"""A real SMTP server in-process (``aiosmtpd``) that keeps every email it receives."""

from __future__ import annotations

import asyncio
import socket
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class Inbox:
    """The messages received, by recipient; an ``aiosmtpd`` handler."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    async def wait_for(self, address: str, count: int = 1, within: float = 10.0) -> list[EmailMessage]:
        """The emails to ``address`` once ``count`` have arrived (polled with a deadline)."""
        deadline = time.monotonic() + within
        while len(self.to(address)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"no email to {address} within {within} s")
            await asyncio.sleep(0.02)
        return self.to(address)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    """Start and stop the server; ``url`` is what ``HOMEROOM_SMTP_URL`` takes."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def text_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())
