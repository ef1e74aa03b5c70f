"""Finding 6: failed sign-ins are counted, successes are not, and nobody elsewhere can lock an owner out.

Budgets (per minute, at the default settings): 10 wrong passwords per account *and*
address, 100 per address; pupils 60 wrong codes per class and 120 per address; 10 wrong
invite codes per address (and per parent account). Past half a budget each attempt waits
first, longer each time; a spent budget answers 429 ``rate_limited`` with Retry-After.
"""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from server.auth.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from server.services import Services
from tests.conftest import Pauses
from tests.factories import PASSWORD, World, error_of, unique
from tests.school.test_p14_access import join_body
from tests.security.conftest import ClientAt
from tests.services import redis_url

LOGIN = "/api/auth/login"


def wrong(email: str) -> dict[str, str]:
    return {"email": email, "password": "not-the-password"}


def right(email: str) -> dict[str, str]:
    return {"email": email, "password": PASSWORD}


async def test_wrong_passwords_from_elsewhere_do_not_lock_out_the_owner(
    world: World, services: Services, client_at: ClientAt, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "settings", services.settings.with_(login_attempts_per_minute=3))
    email = world.teacher.user.email or ""
    allowed = services.settings.login_attempts_per_minute
    async with client_at() as attacker:
        statuses = [(await attacker.post(LOGIN, json=wrong(email))).status_code for _ in range(allowed + 1)]
        assert statuses == [401] * allowed + [429]
        # The spent budget refuses before checking anything, the right password included.
        error_of(await attacker.post(LOGIN, json=right(email)), 429, "rate_limited")
    async with client_at() as owner:
        assert (await owner.post(LOGIN, json=right(email))).status_code == 200


async def test_twelve_staff_on_one_network_all_sign_in(
    world: World, services: Services, client_at: ClientAt
) -> None:
    staff = [await world.add_user("teacher") for _ in range(12)]
    async with client_at() as school_network:
        replies = await asyncio.gather(
            *(school_network.post(LOGIN, json=right(member.user.email or "")) for member in staff)
        )
    assert [reply.status_code for reply in replies] == [200] * 12


async def test_signing_in_again_and_again_is_never_refused(
    world: World, services: Services, client_at: ClientAt, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "settings", services.settings.with_(login_attempts_per_minute=2))
    email = world.office.user.email or ""
    async with client_at() as office:
        for _ in range(services.settings.login_attempts_per_minute + 2):
            assert (await office.post(LOGIN, json=right(email))).status_code == 200


async def test_a_mistyped_password_then_the_right_one_costs_nothing(
    world: World, client_at: ClientAt, pauses: Pauses
) -> None:
    email = world.admin.user.email or ""
    async with client_at() as head:
        assert (await head.post(LOGIN, json=wrong(email))).status_code == 401
        assert (await head.post(LOGIN, json=right(email))).status_code == 200
    assert pauses.delays == []


async def test_wrong_passwords_slow_down_before_they_are_refused(
    world: World, services: Services, client_at: ClientAt, pauses: Pauses, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "settings", services.settings.with_(login_attempts_per_minute=6))
    email = world.teacher.user.email or ""
    allowed = 6
    async with client_at() as guesser:
        for _ in range(allowed):
            error_of(await guesser.post(LOGIN, json=wrong(email)), 401, "unauthenticated")
        refused = await guesser.post(LOGIN, json=wrong(email))
    # Half the budget is free, then each attempt waits longer (up to 5 s) before it is checked.
    assert pauses.delays == [0.5, 1.0, 2.0]
    error = error_of(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert error["details"]["retry_after"] == int(refused.headers["retry-after"])


async def test_one_address_trying_many_accounts_is_refused_and_others_are_not(
    world: World, services: Services, client_at: ClientAt, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "settings", services.settings.with_(login_attempts_per_minute=1))
    ceiling = 1 * 10  # ten times the per-account budget
    async with client_at() as sprayer:
        statuses = [
            (await sprayer.post(LOGIN, json=wrong(f"{unique('guess')}@example.test"))).status_code
            for _ in range(ceiling + 1)
        ]
    assert statuses == [401] * ceiling + [429]
    async with client_at() as elsewhere:
        assert (await elsewhere.post(LOGIN, json=right(world.teacher.user.email or ""))).status_code == 200


async def test_a_slowed_sign_in_does_not_hold_up_other_requests(
    world: World, services: Services, client_at: ClientAt, monkeypatch: pytest.MonkeyPatch
) -> None:
    waiting, go_on = asyncio.Event(), asyncio.Event()
    delays: list[float] = []

    async def held(seconds: float) -> None:
        delays.append(seconds)
        waiting.set()
        await go_on.wait()

    monkeypatch.setattr(services, "sleep", held)
    monkeypatch.setattr(services, "settings", services.settings.with_(login_attempts_per_minute=2))
    email = world.teacher.user.email or ""
    free = 1
    async with client_at() as guesser:
        for _ in range(free):
            assert (await guesser.post(LOGIN, json=wrong(email))).status_code == 401
        slowed = asyncio.create_task(guesser.post(LOGIN, json=wrong(email)))
        await asyncio.wait_for(waiting.wait(), 5)
        async with client_at() as colleague:
            assert (await colleague.get("/healthz")).status_code == 200
            assert (await colleague.post(LOGIN, json=right(world.admin.user.email or ""))).status_code == 200
        assert not slowed.done()
        go_on.set()
        assert (await slowed).status_code == 401
    assert delays == [0.5]


async def test_a_whole_class_of_pupils_signs_in_from_one_address(
    world: World, services: Services, client_at: ClientAt, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "settings", services.settings.with_(code_attempts_per_minute=1))
    school_class = world.classes[0]
    pupils = [await world.add_student(school_class, f"Pupil{n}") for n in range(8)]  # > 6 a class
    async with client_at() as classroom:
        for pupil in pupils:
            assert pupil.student is not None
            body = {"class_code": school_class.class_code, "student_code": pupil.student.student_code}
            assert (await classroom.post("/api/auth/student", json=body)).status_code == 200


async def test_wrong_pupil_codes_slow_down_then_are_refused_per_class(
    world: World, services: Services, client_at: ClientAt, monkeypatch: pytest.MonkeyPatch, pauses: Pauses
) -> None:
    monkeypatch.setattr(services, "settings", services.settings.with_(code_attempts_per_minute=1))
    body = {"class_code": world.classes[0].class_code, "student_code": "NOPE00"}
    statuses = []
    for _ in range(7):  # from a new address each time: the class's budget still counts them
        async with client_at() as anywhere:
            statuses.append((await anywhere.post("/api/auth/student", json=body)).status_code)
    assert statuses == [401] * 6 + [429]
    assert pauses.delays == [0.5, 1.0, 2.0]


async def test_a_room_of_parents_joins_from_one_address(
    world: World, services: Services, client_at: ClientAt, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "settings", services.settings.with_(code_attempts_per_minute=2))
    codes = [await world.add_invite(await world.add_student(world.classes[0], f"Child{n}")) for n in range(4)]
    async with client_at() as school_wifi:
        for code in codes:
            assert (await school_wifi.post("/api/join/preview", json={"code": code})).status_code == 200
            assert (await school_wifi.post("/api/join", json=join_body(code))).status_code == 201


async def test_wrong_invite_codes_are_still_refused_per_address(
    world: World, services: Services, client_at: ClientAt, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "settings", services.settings.with_(code_attempts_per_minute=2))
    async with client_at() as guesser:
        statuses = [
            (await guesser.post("/api/join", json=join_body(f"WRONG-COD{n}"))).status_code for n in range(3)
        ]
    assert statuses == [422, 422, 429]


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_failure_counts_are_shared_by_every_process(backend: str) -> None:
    """Places are taken before a check and given back after a success, in every process alike."""
    if backend == "memory":
        first: RateLimiter = MemoryRateLimiter()
        second = first  # one process: one set of counters
        redis = None
    else:
        redis = Redis.from_url(redis_url())
        prefix = unique("test-throttle")
        first, second = RedisRateLimiter(redis, prefix), RedisRateLimiter(redis, prefix)
    try:
        assert await first.take("k", 3, 60) == (0, None)
        assert await second.take("k", 3, 60) == (1, None)
        await first.give_back("k")  # a success: no longer counted
        assert await second.take("k", 3, 60) == (1, None)
        assert await first.take("k", 3, 60) == (2, None)
        counted, wait = await second.take("k", 3, 60)
        assert counted == 3 and wait is not None and 0 < wait <= 60
        await first.give_back("never-taken")
        assert await second.take("never-taken", 3, 60) == (0, None)
    finally:
        if redis is not None:
            await redis.aclose()


async def test_a_refused_attempt_gives_back_its_other_places(
    world: World, services: Services, client_at: ClientAt, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refused by the per-account budget, an attempt leaves the per-address one as it was."""
    monkeypatch.setattr(services, "settings", services.settings.with_(login_attempts_per_minute=1))
    email = world.teacher.user.email or ""
    async with client_at() as guesser:
        assert (await guesser.post(LOGIN, json=wrong(email))).status_code == 401
        for _ in range(20):
            assert (await guesser.post(LOGIN, json=wrong(email))).status_code == 429
        # 1 failure counted against the address's 10, not 21: other accounts still answer.
        other = await guesser.post(LOGIN, json=right(world.admin.user.email or ""))
        assert other.status_code == 200


@pytest.mark.parametrize(
    ("failed", "allowed", "delay"),
    [
        (0, 10, 0.0),
        (4, 10, 0.0),  # half the budget is free: people mistype
        (5, 10, 0.5),
        (6, 10, 1.0),
        (7, 10, 2.0),
        (8, 10, 4.0),
        (9, 10, 5.0),  # never more than 5 s
        (0, 1, 0.0),
        (59, 60, 5.0),
        (30, 60, 0.5),
    ],
)
def test_delays_grow_from_half_a_budget_up_to_five_seconds(failed: int, allowed: int, delay: float) -> None:
    from server.auth.throttle import delay_before  # imported here: the other tests run without it

    assert delay_before(failed, allowed) == delay
