"""The emails Homeroom writes, in the reader's interface language: reset, invite, instant, digest.

Each returns ``(subject, body)`` as plain text; :func:`server.notify.mail.compose` adds the
HTML alternative. No tracking of any kind: links are plain and go to this server.
"""

from __future__ import annotations

from collections.abc import Sequence

from server.language.interface import plural, text


def reset_email(language: str, name: str, link: str, school: str) -> tuple[str, str]:
    """The password-reset email."""
    subject = text(language, "Reset your Homeroom password")
    body = "\n\n".join(
        [
            text(language, "Hello {name},", name=name),
            text(
                language,
                "Someone asked to reset the password of your {school} Homeroom account.",
                school=school,
            ),
            text(language, "To choose a new password, open this link within one hour:"),
            link,
            text(language, "If it was not you, ignore this email: your password stays as it is."),
        ]
    )
    return subject, body


def invite_email(
    language: str, school: str, pupil: str, code: str, link: str, expires: str
) -> tuple[str, str]:
    """An invite code for a guardian, in the guardian's language."""
    subject = text(language, "Your invitation to {school} on Homeroom", school=school)
    body = "\n\n".join(
        [
            text(language, "{school} invites you to follow {pupil} on Homeroom.", school=school, pupil=pupil),
            text(language, "Your invite code: {code}", code=code),
            text(language, "Join here: {link}", link=link),
            text(language, "The code can be used once and expires on {date}.", date=expires),
        ]
    )
    return subject, body


def instant_email(language: str, title: str, body: str, link: str, unsubscribe: str) -> tuple[str, str]:
    """One notification as an email."""
    parts = (
        [title, body, text(language, "Open Homeroom: {link}", link=link)]
        if body
        else [
            title,
            text(language, "Open Homeroom: {link}", link=link),
        ]
    )
    parts.append(text(language, "To stop these emails: {link}", link=unsubscribe))
    return title, "\n\n".join(parts)


def digest_email(
    language: str,
    school: str,
    posts: Sequence[tuple[str, str]],
    points: Sequence[tuple[str, int]],
    messages: int,
    link: str,
    unsubscribe: str,
) -> tuple[str, str]:
    """The daily digest: the day's posts (place, text), points per child (name, count), messages."""
    subject = text(language, "Today at {school}", school=school)
    parts: list[str] = []
    if posts:
        parts.append(plural(language, "{n} new post", "{n} new posts", len(posts)))
        parts.extend(f"{place}: {body}" for place, body in posts)
    for name, count in points:
        parts.append(
            plural(
                language,
                "{name} received {n} award today.",
                "{name} received {n} awards today.",
                count,
                name=name,
            )
        )
    if messages:
        parts.append(plural(language, "{n} new message", "{n} new messages", messages))
    parts.append(text(language, "Open Homeroom: {link}", link=link))
    parts.append(text(language, "To stop these emails: {link}", link=unsubscribe))
    return subject, "\n\n".join(parts)
