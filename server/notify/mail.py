"""Email over SMTP (``HOMEROOM_SMTP_URL``, ``HOMEROOM_MAIL_FROM``) with ``aiosmtplib``.

Every email is ``multipart/alternative`` (plain text first, then HTML built only from
escaped text: no images, no remote content, no tracking pixels or rewritten links).
Emails sent because a reader chose them carry ``List-Unsubscribe`` with an HTTPS link and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058): a mail client's one
click switches that reader's email to ``off`` without signing in. The link holds the
user id and an HMAC of it under the secret key, so it cannot be forged for someone else.

Without ``HOMEROOM_SMTP_URL`` :attr:`Mailer.configured` is False and the features that
need email say so (the reset page tells people to ask the school office).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import unquote, urlsplit

import aiosmtplib

from server.services import Services
from server.settings import Settings

log = logging.getLogger("homeroom.mail")


@dataclass(frozen=True)
class SmtpTarget:
    """Where to hand mail over, parsed from ``HOMEROOM_SMTP_URL``."""

    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://host:25``, ``smtp+starttls://user:pass@host:587``, ``smtps://user:pass@host:465``."""
    parts = urlsplit(url)
    scheme = parts.scheme
    tls = scheme == "smtps"
    starttls = scheme == "smtp+starttls"
    default = 465 if tls else 587 if starttls else 25
    return SmtpTarget(
        host=parts.hostname or "localhost",
        port=parts.port or default,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=tls,
        start_tls=starttls,
    )


def unsubscribe_signature(secret_key: str, user_id: int) -> str:
    """The HMAC that makes a user's one-click unsubscribe link valid."""
    mac = hmac.new(secret_key.encode(), f"email-unsubscribe:{user_id}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


def unsubscribe_valid(secret_key: str, user_id: int, signature: str) -> bool:
    return hmac.compare_digest(unsubscribe_signature(secret_key, user_id), signature)


def unsubscribe_url(base: str, secret_key: str, user_id: int) -> str:
    return f"{base}/api/email/unsubscribe?u={user_id}&s={unsubscribe_signature(secret_key, user_id)}"


def html_of(text: str) -> str:
    """The HTML alternative of a plain-text email: escaped paragraphs, nothing else."""
    paragraphs = "".join(
        f"<p>{html.escape(block).replace(chr(10), '<br>')}</p>"
        for block in text.split("\n\n")
        if block.strip()
    )
    style = "font-family:sans-serif;line-height:1.5"
    return f'<!doctype html><html><body style="{style}">{paragraphs}</body></html>'


def compose(
    sender: str,
    to: str,
    subject: str,
    body: str,
    *,
    language: str = "en",
    unsubscribe: str | None = None,
    sender_name: str = "Homeroom",
) -> EmailMessage:
    """One email: plain text and its HTML alternative, with the unsubscribe headers when given."""
    message = EmailMessage()
    message["From"] = formataddr((sender_name, sender))
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1] or None)
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe is not None:
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(body)
    message.add_alternative(html_of(body), subtype="html")
    message["Content-Language"] = language  # after the parts: set_content clears Content-* headers
    return message


class Mailer:
    """Sends email through the configured SMTP server; never raises to its caller."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.target = parse_smtp_url(settings.smtp_url) if settings.smtp_url else None
        self._tasks: set[asyncio.Task[bool]] = set()

    @property
    def configured(self) -> bool:
        """Whether email can be sent at all."""
        return self.target is not None and bool(self.settings.mail_from)

    async def send(self, message: EmailMessage) -> bool:
        """Hand one email to the SMTP server; False (logged) when that failed."""
        target = self.target
        if target is None or not self.configured:
            return False
        try:
            await aiosmtplib.send(
                message,
                hostname=target.host,
                port=target.port,
                username=target.username,
                password=target.password,
                use_tls=target.use_tls,
                start_tls=target.start_tls if target.start_tls else False,
                timeout=30,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("mail: could not send to the SMTP server: %s", exc)
            return False
        return True

    def send_later(self, message: EmailMessage) -> None:
        """Send without making the caller wait (its timing must not reveal anything)."""
        task = asyncio.create_task(self.send(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the emails still being sent (at shutdown)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class MailPart:
    """The server part that offers the :class:`Mailer` as ``services.mail``."""

    def __init__(self, settings: Settings) -> None:
        self.mailer = Mailer(settings)

    async def start(self, services: Services) -> None:
        services.mail = self.mailer

    async def stop(self) -> None:
        await self.mailer.drain()


def mailer_of(services: Services) -> Mailer | None:
    """The running mailer, if the mail part is running."""
    return services.mail
