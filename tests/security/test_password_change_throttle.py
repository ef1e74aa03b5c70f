"""Finding 8: guessing the current password through ``PATCH /api/me`` is throttled like signing in.

Wrong current passwords count per account (``HOMEROOM_LOGIN_ATTEMPTS_PER_MINUTE``, 10
by default): past half of them each try waits first, then 429 ``rate_limited`` with
Retry-After, even for the right one. Successful changes and other edits never count.
"""

from __future__ import annotations

import pytest

from server.services import Services
from tests.conftest import Pauses
from tests.factories import PASSWORD, World, error_of
from tests.security.conftest import ClientAt


def change(current: str, new: str = "a-brand-new-password") -> dict[str, str]:
    return {"password": new, "current_password": current}


async def test_wrong_current_passwords_are_throttled_per_account(
    world: World, services: Services, client_at: ClientAt, pauses: Pauses, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "settings", services.settings.with_(login_attempts_per_minute=4))
    parent = await world.add_parent()
    for _ in range(4):  # from a new address each time: the account's count still catches it
        async with client_at() as client:
            response = await client.patch("/api/me", json=change("a-wrong-guess"), headers=parent.headers)
            assert error_of(response, 403, "forbidden")["details"] == {"field": "current_password"}
    async with client_at() as client:
        refused = await client.patch("/api/me", json=change(PASSWORD), headers=parent.headers)
    error = error_of(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert error["details"]["retry_after"] == int(refused.headers["retry-after"])
    assert pauses.delays == [0.5, 1.0]  # the third and fourth guesses waited first
    # Another account is not affected, nor are this account's other edits.
    other = await world.add_parent()
    async with client_at() as client:
        assert (
            await client.patch("/api/me", json=change(PASSWORD), headers=other.headers)
        ).status_code == 200
        assert (
            await client.patch("/api/me", json={"name": "Pat"}, headers=parent.headers)
        ).status_code == 200


async def test_changing_the_password_with_the_right_one_is_never_throttled(
    world: World, services: Services, client_at: ClientAt, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "settings", services.settings.with_(login_attempts_per_minute=1))
    teacher = world.teacher
    current = PASSWORD
    async with client_at() as client:
        for n in range(3):
            new = f"new-password-number-{n}"
            response = await client.patch("/api/me", json=change(current, new), headers=teacher.headers)
            assert response.status_code == 200, response.text
            current = new
