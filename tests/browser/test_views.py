"""Every view of every role, at phone and desktop width: it renders, logs no console error,
and a screenshot of it is saved under ``test-output/screenshots/``.

The school gets a week's worth of activity first (posts with a photo, likes, points,
home learning, a conversation, a report, a guardian request) through the public API,
for whichever of those parts this build serves.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image, ImageDraw

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.helpers import pupil
from tests.browser.server import PASSWORD, School, Server, served

SIZES = (("phone", PHONE), ("desktop", DESKTOP))


def _photo() -> bytes:
    picture = Image.new("RGB", (960, 640), "#9fd8cb")
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, 430, 960, 640), fill="#6cc551")
    draw.ellipse((620, 70, 820, 270), fill="#ffc93c")
    for x in range(80, 560, 120):
        draw.rectangle((x + 30, 300, x + 42, 470), fill="#3f7d3a")
        draw.ellipse((x, 230, x + 72, 302), fill="#ffb703")
        draw.ellipse((x + 22, 252, x + 50, 280), fill="#8a4b08")
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.fixture(scope="module")
def busy_school(server: Server, school: School) -> dict[str, Any]:
    """Activity in every part this build serves; returns ids the tour needs."""
    made: dict[str, Any] = {}
    teacher, admin, sarah = school.teacher, school.admin, school.parents["en"]
    cid = school.class_id
    if served(f"/api/classes/{cid}/posts"):
        media_ids: list[int] = []
        if served("/api/media"):
            uploaded = server.call(
                "POST", "/api/media", teacher, files={"file": ("sunflowers.jpg", _photo(), "image/jpeg")}
            )
            media_ids.append(uploaded["id"])
        server.call(
            "POST",
            f"/api/classes/{cid}/posts",
            teacher,
            json={
                "text": "Our sunflowers are taller than Mrs Patel! Amir and Noah measured them today.",
                "media_ids": media_ids,
                "student_ids": [school.pupils["Amir"]["id"], school.pupils["Noah"]["id"]],
            },
        )
        liked = server.call(
            "POST",
            f"/api/classes/{cid}/posts",
            teacher,
            json={
                "text": "Reminder: PE is on Tuesday and Thursday this term. "
                "Please send trainers in a named bag."
            },
        )
        server.call("PUT", f"/api/posts/{liked['id']}/like", sarah)
        server.call(
            "POST",
            "/api/school/posts",
            admin,
            json={
                "text": "Well done to our Year 5 football team: county cup winners! The cup is in reception."
            },
        )
    if served("/api/points"):
        kindness, teamwork = school.skills[0], school.skills[1]
        for name, skill in (("Amir", kindness), ("Amir", teamwork), ("Olivia", kindness), ("Leo", teamwork)):
            server.call(
                "POST",
                "/api/points",
                teacher,
                json={"student_ids": [school.pupils[name]["id"]], "skill_id": skill["id"]},
            )
        server.call("POST", "/api/points", teacher, json={"class_id": cid, "skill_id": kindness["id"]})
    if served(f"/api/classes/{cid}/activities"):
        spelling = server.call(
            "POST",
            f"/api/classes/{cid}/activities",
            teacher,
            json={
                "title": "Spelling practice",
                "instructions": "Write five sentences using this week's words.",
            },
        )
        server.call(
            "POST",
            f"/api/classes/{cid}/activities",
            teacher,
            json={
                "title": "Minibeast hunt",
                "instructions": "Find three minibeasts in your garden or park and draw one.",
            },
        )
        amir = pupil(server, school, "Amir")
        work = server.call(
            "POST",
            f"/api/activities/{spelling['id']}/submissions",
            amir,
            json={"text": "The cat sat on the warm mat. I like to read at night."},
        )
        server.call(
            "POST",
            f"/api/submissions/{work['id']}/approve",
            teacher,
            json={"comment": "Lovely sentences, Amir!"},
        )
        olivia = pupil(server, school, "Olivia")
        server.call(
            "POST",
            f"/api/activities/{spelling['id']}/submissions",
            olivia,
            json={"text": "My dog runs fast in the park."},
        )
    if served("/api/conversations"):
        conv = server.call(
            "POST",
            "/api/conversations",
            sarah,
            json={"student_id": school.pupils["Amir"]["id"], "staff_id": teacher.id},
        )
        made["conversation_id"] = conv["id"]
        server.call(
            "POST",
            f"/api/conversations/{conv['id']}/messages",
            sarah,
            json={"text": "Hello Mrs Patel, Amir loved the sunflower project. Can he bring seeds home?"},
        )
        reply = server.call(
            "POST",
            f"/api/conversations/{conv['id']}/messages",
            teacher,
            json={"text": "Of course! I'll put some in his book bag on Friday."},
        )
        server.call(
            "POST",
            f"/api/messages/{reply['id']}/report",
            sarah,
            json={"reason": "Sent to the wrong family, I think: we asked about sunflower seeds for Amir."},
        )
    amir_id = school.pupils["Amir"]["id"]
    server.join(amir_id, "David Khan", "david@families.test", "en", teacher)
    code = server.invite(amir_id, teacher)
    third = server.client.post(
        "/api/join",
        json={
            "code": code,
            "name": "Auntie Ruth",
            "email": "ruth@families.test",
            "password": PASSWORD,
            "language": "en",
            "accept_policy_version": server.policy_version(),
        },
    )
    assert third.status_code == 409
    return made


def settle(page: Any) -> None:
    """Wait until the view has loaded: no spinner, every image decoded, fonts ready.

    A lazy image far below the screen is never fetched (that is what lazy means), so it
    counts as settled; every image the screenshot can show must be complete.
    """
    page.wait_for_function(
        """() => !document.querySelector('main .loading')
            && [...document.images].every((img) => img.complete
                || (img.loading === 'lazy' && img.getBoundingClientRect().top > 2 * innerHeight))
            && document.fonts.status === 'loaded'"""
    )


UNNAMED = """() => {
    const named = (el) => Boolean(
        (el.labels && el.labels.length) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')
        || (el.tagName === 'BUTTON' || el.tagName === 'A') && el.textContent.trim()
    );
    const selector = 'main input, main select, main textarea, main button, main a[href]';
    const controls = [...document.querySelectorAll(selector)]
        .filter((el) => el.type !== 'hidden' && !el.closest('[hidden]'));
    const images = [...document.querySelectorAll('main img')].filter((img) => !img.hasAttribute('alt'));
    return [...controls.filter((el) => !named(el)), ...images].map((el) => el.outerHTML.slice(0, 80));
}"""


def tour(browsers: Any, shoot: Any, who: Any, views: list[tuple[str, str, str]]) -> None:
    for label, size in SIZES:
        page = browsers.page(who, size=size, path=views[0][1])
        for name, path, ready in views:
            page.evaluate(
                """(hash) => {
                    if (location.hash === hash) return;
                    document.querySelector('main > .view')?.setAttribute('data-left', '');
                    location.hash = hash;
                }""",
                path.lstrip("/"),
            )
            page.wait_for_selector(f"main > .view:not([data-left]) {ready}")
            settle(page)
            assert page.locator("h1").count() >= 1, f"{name} has no heading"
            # (A phone browser widens its layout to fit content that overflows, so compare with the screen.)
            overflow = page.evaluate("() => document.documentElement.scrollWidth") - size["width"]
            assert overflow <= 0, f"{name} is {overflow}px wider than a {label} screen"
            assert page.evaluate(UNNAMED) == [], f"{name} has controls or images without a name"
            page.screenshot(path=str(shoot.folder / f"{name}-{label}.png"), animations="disabled")


def test_teacher_views(browsers, school, busy_school, shoot):
    cid = school.class_id
    views = [
        ("teacher-board", f"/#/class/{cid}/board", ".tile"),
        ("teacher-story", f"/#/class/{cid}/story", ".stories"),
        ("teacher-learning", f"/#/class/{cid}/learning", "h1"),
        ("teacher-messages", "/#/messages", "h1"),
        ("teacher-school-story", "/#/school", ".stories"),
    ]
    if "conversation_id" in busy_school:
        views.append(("teacher-conversation", f"/#/messages/{busy_school['conversation_id']}", ".reply"))
    tour(browsers, shoot, school.teacher, views)


def test_teacher_board_selection_and_skills(browsers, school, busy_school, shoot):
    for label, size in SIZES:
        page = browsers.page(school.teacher, size=size, path=f"/#/class/{school.class_id}/board")
        page.locator(".tile").nth(1).click()
        page.locator(".tile").nth(3).click()
        settle(page)
        page.screenshot(path=str(shoot.folder / f"teacher-board-choosing-{label}.png"), animations="disabled")


def test_parent_views(browsers, school, busy_school, shoot):
    amir = school.pupils["Amir"]["id"]
    views = [
        ("parent-feed", "/#/feed", "h1"),
        ("parent-points", f"/#/child/{amir}/points", "h1"),
        ("parent-portfolio", f"/#/child/{amir}/portfolio", "h1"),
        ("parent-messages", "/#/messages", "h1"),
        ("parent-school-story", "/#/school", "h1"),
        ("parent-account", "/#/account", "form"),
    ]
    if "conversation_id" in busy_school:
        views.append(("parent-conversation", f"/#/messages/{busy_school['conversation_id']}", ".reply"))
    tour(browsers, shoot, school.parents["en"], views)


def test_pupil_views(browsers, school, server, busy_school, shoot):
    views = [
        ("pupil-monster", "/#/monster", "h1"),
        ("pupil-points", "/#/points", "h1"),
        ("pupil-learning", "/#/learning", "h1"),
        ("pupil-story", "/#/story", "h1"),
    ]
    tour(browsers, shoot, pupil(server, school, "Amir"), views)


def test_leader_views(browsers, school, busy_school, shoot):
    views = [
        ("leader-classes", "/#/classes", ".class-card"),
        ("leader-class-board", f"/#/class/{school.class_id}/board", ".tile"),
        ("leader-reports", "/#/reports", "h1"),
        ("leader-requests", "/#/requests", "h1"),
        ("leader-people", "/#/people", "h1"),
        ("leader-settings", "/#/settings", "form"),
        ("leader-office", "/#/office", "h1"),
        ("leader-translation", "/#/translation", ".coverage-table"),
    ]
    tour(browsers, shoot, school.admin, views)


def test_arabic_reader_gets_a_right_to_left_page(browsers, school, busy_school, shoot):
    layla = school.parents["ar"]
    for label, size in SIZES:
        page = browsers.page(layla, size=size, path="/#/feed")
        page.wait_for_selector("h1")
        settle(page)
        assert page.evaluate("document.documentElement.dir") == "rtl"
        assert page.evaluate("document.documentElement.lang") == "ar"
        nav_box = page.locator("#sidenav").bounding_box()
        if size is DESKTOP:
            assert nav_box["x"] > size["width"] / 2, "the side navigation sits on the right"
        page.screenshot(path=str(shoot.folder / f"parent-rtl-arabic-{label}.png"), animations="disabled")
