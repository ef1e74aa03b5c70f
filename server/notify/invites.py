"""Invite codes by email, in the recipient's language: :func:`send_invite_email`."""

from __future__ import annotations

from datetime import datetime

from server.language.locale import format_date
from server.notify.emails import invite_email
from server.notify.links import public_base
from server.notify.mail import compose, mailer_of
from server.services import Services


async def send_invite_email(
    services: Services,
    *,
    to: str,
    language: str,
    school_name: str,
    pupil_name: str,
    code: str,
    expires_at: datetime,
    timezone: str = "Europe/London",
) -> bool:
    """Email a one-use invite code to a guardian; False when email is not set up or failed."""
    mailer = mailer_of(services)
    base = public_base(services.settings)
    if mailer is None or not mailer.configured or base is None:
        return False
    subject, body = invite_email(
        language,
        school_name,
        pupil_name,
        code,
        f"{base}/#/join?code={code}",
        format_date(expires_at, language, timezone),
    )
    return await mailer.send(compose(services.settings.mail_from, to, subject, body, language=language))
