"""The private iCalendar feed, parsed with ``icalendar``: stable UIDs, zones, cancellations, revocation."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import httpx
import icalendar

from tests.calendar.test_events_api import create
from tests.factories import Actor, World, error_of

LONDON = ZoneInfo("Europe/London")


async def feed(api: httpx.AsyncClient, actor: Actor) -> tuple[str, icalendar.Calendar]:
    mine = await api.get("/api/me/calendar", headers=actor.headers)
    assert mine.status_code == 200, mine.text
    token = mine.json()["token"]
    assert mine.json()["url"].endswith(f"/api/calendar.ics?token={token}")
    reply = await api.get(f"/api/calendar.ics?token={token}")
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/calendar")
    return token, icalendar.Calendar.from_ical(reply.content)


def events_of(cal: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(e["summary"]): e for e in cal.walk("VEVENT")}


async def test_feed_parses_with_stable_uids_time_zones_and_cancellations(
    api: httpx.AsyncClient, world: World
) -> None:
    _, parent = await world.add_family()
    trip = await create(
        api, world, starts_at="2026-06-12T09:00:00+01:00", ends_at="2026-06-12T15:00:00+01:00", remind_at=[]
    )
    await api.post(
        "/api/school/events",
        json={"title": "Sports day", "starts_at": "2026-06-20T00:00:00+01:00", "all_day": True},
        headers=world.admin.headers,
    )
    token, cal = await feed(api, parent)
    assert str(cal["version"]) == "2.0"
    assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/London"]
    found = events_of(cal)
    first = found["Trip to the farm"]
    uid = str(first["uid"])
    start = first.decoded("dtstart")
    assert (
        start == datetime(2026, 6, 12, 9, 0, tzinfo=LONDON)
        and first["dtstart"].params["TZID"] == "Europe/London"
    )
    assert str(first["status"]) == "CONFIRMED" and str(first["location"]) == "Hill Farm"
    sports = found["Sports day"]
    assert sports.decoded("dtstart") == date(2026, 6, 20) and sports.decoded("dtend") == date(2026, 6, 21)

    await api.patch(
        f"/api/events/{trip['id']}", json={"location": "Dale Farm"}, headers=world.teacher.headers
    )
    await api.delete(f"/api/events/{trip['id']}", headers=world.teacher.headers)
    reply = await api.get(f"/api/calendar.ics?token={token}")
    again = events_of(icalendar.Calendar.from_ical(reply.content))["Trip to the farm"]
    assert str(again["uid"]) == uid and str(again["status"]) == "CANCELLED"
    assert int(again["sequence"]) == 2 and str(again["location"]) == "Dale Farm"


async def test_weekly_event_is_one_rrule_with_exdates_for_exceptions_and_closure_days(
    api: httpx.AsyncClient, world: World
) -> None:
    await world.update_school(closure_days=["2026-02-16"])
    await create(
        api,
        world,
        title="PE kit",
        rsvp="none",
        starts_at="2026-01-05T08:45:00+00:00",
        ends_at=None,
        remind_at=[],
        recurrence={"freq": "weekly", "until": "2026-04-27", "exceptions": ["2026-03-30"]},
    )
    _, cal = await feed(api, world.teacher)
    pe = events_of(cal)["PE kit"]
    rule = pe["rrule"]
    assert rule["FREQ"] == ["WEEKLY"]
    excluded = (
        sorted(d.dt for d in pe["exdate"].dts)
        if not isinstance(pe["exdate"], list)
        else sorted(d.dt for group in pe["exdate"] for d in group.dts)
    )
    # 08:45 London on each skipped Monday; the summer-time one keeps its wall-clock time.
    assert excluded == [
        datetime(2026, 2, 16, 8, 45, tzinfo=LONDON),
        datetime(2026, 3, 30, 8, 45, tzinfo=LONDON),
    ]


async def test_revoked_or_unknown_token_is_404_and_a_new_one_works(
    api: httpx.AsyncClient, world: World
) -> None:
    _, parent = await world.add_family()
    token, _ = await feed(api, parent)
    assert (await api.get("/api/me/calendar", headers=parent.headers)).json()["token"] == token  # shown again
    revoked = await api.delete("/api/me/calendar", headers=parent.headers)
    assert revoked.status_code == 200 and revoked.json() == {"revoked": 1}
    error_of(await api.get(f"/api/calendar.ics?token={token}"), 404, "not_found")
    for bad in ("", "nonsense", "1.abc", token[:-1] + "0", "99999999999.x"):
        error_of(await api.get(f"/api/calendar.ics?token={bad}"), 404, "not_found")
    new_token, _ = await feed(api, parent)
    assert new_token != token


async def test_a_family_feed_holds_only_their_classes_and_the_school(
    api: httpx.AsyncClient, world: World
) -> None:
    other = await world.add_class("Year 2 Ash")
    _, parent = await world.add_family()
    await create(api, world)
    reply = await api.post(
        f"/api/classes/{other.id}/events",
        json={"title": "Ash class assembly", "starts_at": "2026-05-01T09:00:00+01:00"},
        headers=world.teacher.headers,
    )
    assert reply.status_code == 201
    _, cal = await feed(api, parent)
    assert set(events_of(cal)) == {"Trip to the farm"}
    _, staff_cal = await feed(api, world.office)
    assert set(events_of(staff_cal)) == {"Trip to the farm", "Ash class assembly"}
