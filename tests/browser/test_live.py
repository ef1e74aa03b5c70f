"""The web client, live: what one person does reaches another's screen without a reload.

Teacher and parent (and pupil) each get their own browser context, like separate
devices. Every test fails on any console error or page error in any of them.
"""

from __future__ import annotations

import secrets

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.helpers import mark, need, not_reloaded, pupil, wait_subscribed


def _post_from_story_page(page, text: str) -> None:
    page.fill(".composer-text", text)
    page.get_by_role("button", name="Post", exact=True).click()
    page.wait_for_selector(".toast:has-text('Posted')")


def test_teacher_post_appears_in_parent_feed_without_reload(browsers, school, shoot):
    need(f"/api/classes/{school.class_id}/posts", "/api/feed", "/ws")
    parent = browsers.page(school.parents["en"], path="/#/feed")
    wait_subscribed(parent, f"class:{school.class_id}")
    mark(parent)
    teacher = browsers.page(school.teacher, size=DESKTOP, path=f"/#/class/{school.class_id}/story")
    text = f"Our class assembly is on Friday at 9:00. Everyone is welcome! {secrets.token_hex(3)}"
    _post_from_story_page(teacher, text)

    card = parent.locator(".post", has_text=text)
    card.wait_for()
    assert not_reloaded(parent)
    assert card.locator(".post-author").inner_text() == "Mrs Patel"
    shoot(parent, "live-parent-feed-new-post-phone")


def test_parent_like_reaches_teacher_without_reload(browsers, school, server, shoot):
    need(f"/api/classes/{school.class_id}/posts", "/api/posts/1/like", "/ws")
    text = f"Look at our sunflowers! {secrets.token_hex(3)}"
    post = server.call("POST", f"/api/classes/{school.class_id}/posts", school.teacher, json={"text": text})
    teacher = browsers.page(school.teacher, size=DESKTOP, path=f"/#/class/{school.class_id}/story")
    teacher_card = teacher.locator(f".post[data-post-id='{post['id']}']")
    teacher_card.wait_for()
    wait_subscribed(teacher, f"class:{school.class_id}")
    mark(teacher)

    parent = browsers.page(school.parents["en"], path="/#/feed")
    like = parent.locator(f".post[data-post-id='{post['id']}'] .like-button")
    like.click()
    parent.locator(f".post[data-post-id='{post['id']}'] .like-button[aria-pressed='true']").wait_for()

    teacher.wait_for_function(
        "(id) => document.querySelector(`.post[data-post-id='${id}'] .like-count`)?.textContent === '1 like'",
        arg=post["id"],
    )
    assert not_reloaded(teacher)
    shoot(teacher, "live-teacher-sees-like-desktop")


def test_spanish_parent_reads_the_post_translated_with_see_original(browsers, school, server, shoot):
    need(f"/api/classes/{school.class_id}/posts", "/api/feed", "/ws")
    english = "Tomorrow is PE day. Please bring trainers."
    lucia = browsers.page(school.parents["es"], path="/#/feed")
    wait_subscribed(lucia, f"class:{school.class_id}")
    post = server.call(
        "POST", f"/api/classes/{school.class_id}/posts", school.teacher, json={"text": english}
    )

    card = lucia.locator(f".post[data-post-id='{post['id']}']")
    card.locator(".see-original").wait_for(timeout=20_000)
    translated = card.locator(".post-text").inner_text()
    assert translated != english
    assert "Mañana" in translated
    assert card.locator(".post-text").get_attribute("lang") == "es"
    shoot(lucia, "live-spanish-parent-translated-phone")

    card.locator(".see-original").click()
    assert card.locator(".post-text").inner_text() == english
    assert card.locator(".see-original").get_attribute("aria-pressed") == "true"
    # The interface itself is in her language too.
    assert card.locator(".see-original").inner_text() == "Ver traducción"


def test_pupil_avatar_change_shows_on_the_teacher_board(browsers, school, server, shoot):
    need("/api/avatar-parts", "/api/me/avatar", f"/api/classes/{school.class_id}/points", "/ws")
    noah = pupil(server, school, "Noah")
    student_id = school.pupils["Noah"]["id"]
    teacher = browsers.page(school.teacher, size=DESKTOP, path=f"/#/class/{school.class_id}/board")
    tile = teacher.locator(f".tile[data-student-id='{student_id}']")
    tile.wait_for()
    wait_subscribed(teacher, f"class:{school.class_id}:staff")
    mark(teacher)
    before = tile.locator("svg.monster").get_attribute("color")

    page = browsers.page(noah, path="/#/monster")
    page.get_by_role("tab", name="Colour").click()
    page.locator("[data-part='colour:coral']").click()
    page.get_by_role("tab", name="Extras").click()
    page.locator("[data-part='accessory:crown']").click()
    page.get_by_role("button", name="Save my monster").click()
    page.wait_for_selector(".toast:has-text('saved')")
    shoot(page, "live-pupil-saved-monster-phone")

    teacher.wait_for_function(
        """(id) => document.querySelector(`.tile[data-student-id='${id}'] svg.monster`)
            ?.getAttribute('color') === '#ff7f66'""",
        arg=student_id,
    )
    assert before != "#ff7f66"
    assert not_reloaded(teacher)
    shoot(teacher, "live-teacher-board-new-avatar-desktop")


def test_pupil_finds_no_messaging(browsers, school, server):
    aisha = pupil(server, school, "Aisha")
    for size in (PHONE, DESKTOP):
        page = browsers.page(aisha, size=size, path="/#/monster")
        page.wait_for_selector("h1")
        nav = page.locator("#sidenav")
        labels = [t.strip() for t in nav.locator(".nav-label").all_inner_texts()]
        assert labels == ["My monster", "My points", "Learning", "Class story"]
        assert page.locator("a[href^='#/messages']").count() == 0
        page.goto(f"{server.base}/#/messages")
        page.wait_for_function("() => location.hash === '#/monster'")
        page.wait_for_selector("h1")
        assert "message" not in page.locator("body").inner_text().lower()
    if need_messages_served():
        reply = server.client.get("/api/conversations", headers=aisha.headers)
        assert reply.status_code == 403


def need_messages_served() -> bool:
    from tests.browser.server import served

    return served("/api/conversations")


def test_xss_payload_in_a_story_is_shown_as_text(browsers, school, server, shoot):
    need(f"/api/classes/{school.class_id}/posts", "/api/feed")
    payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script><b>bold?</b>'
    post = server.call(
        "POST", f"/api/classes/{school.class_id}/posts", school.teacher, json={"text": payload}
    )
    for who, path in (
        (school.parents["en"], "/#/feed"),
        (school.teacher, f"/#/class/{school.class_id}/story"),
    ):
        page = browsers.page(who, path=path)
        text = page.locator(f".post[data-post-id='{post['id']}'] .post-text")
        text.wait_for()
        assert text.inner_text() == payload
        assert text.locator("img, script, b").count() == 0
        assert page.evaluate("window.__xss") is None
    shoot(page, "xss-shown-as-text-phone")


_CUT_THE_LINE = """() => {
    const live = window.homeroom.live;
    window.__sent = [];
    window.__RealWebSocket = window.__RealWebSocket || window.WebSocket;
    window.WebSocket = function Refused() { throw new Error("offline for the test"); };
    live.ws.close();
}"""

_RESTORE_THE_LINE = """() => {
    const Real = window.__RealWebSocket;
    const send = Real.prototype.send;
    Real.prototype.send = function (data) {
        window.__sent.push(JSON.parse(data));
        return send.call(this, data);
    };
    window.WebSocket = Real;
    window.homeroom.live.reconnectNow();
}"""


def test_parent_feed_catches_up_after_a_dropped_connection(browsers, school, server, shoot):
    need(f"/api/classes/{school.class_id}/posts", "/api/feed", "/ws")
    channel = f"class:{school.class_id}"
    parent = browsers.page(school.parents["en"], path="/#/feed")
    wait_subscribed(parent, channel)
    mark(parent)
    seq_before = parent.evaluate("(c) => window.homeroom.live.channels.get(c).seq", channel)

    parent.evaluate(_CUT_THE_LINE)
    status = parent.locator("#live-status")
    status.wait_for(state="visible")
    assert status.inner_text() == "Reconnecting…"
    shoot(parent, "live-reconnecting-phone")
    text = f"Posted while your phone was offline {secrets.token_hex(3)}"
    post = server.call("POST", f"/api/classes/{school.class_id}/posts", school.teacher, json={"text": text})
    assert parent.locator(f".post[data-post-id='{post['id']}']").count() == 0

    parent.evaluate(_RESTORE_THE_LINE)
    parent.locator(f".post[data-post-id='{post['id']}']").wait_for()
    subs = parent.evaluate("(c) => window.__sent.filter((f) => f.op === 'sub' && f.channel === c)", channel)
    assert subs and subs[0]["since"] == seq_before and subs[0]["epoch"]
    assert parent.locator("#live-status").inner_text() in ("Back online", "")
    status.wait_for(state="hidden")
    assert not_reloaded(parent)


def test_feed_reloads_through_rest_when_the_server_cannot_replay(browsers, school, server):
    need(f"/api/classes/{school.class_id}/posts", "/api/feed", "/ws")
    channel = f"class:{school.class_id}"
    parent = browsers.page(school.parents["en"], path="/#/feed")
    wait_subscribed(parent, channel)
    mark(parent)
    parent.evaluate(_CUT_THE_LINE)
    # As if the server's history had been lost (a Redis restart without persistence): another epoch.
    parent.evaluate("(c) => { window.homeroom.live.channels.get(c).epoch = 'an-epoch-long-gone'; }", channel)
    text = f"Posted while history was lost {secrets.token_hex(3)}"
    post = server.call("POST", f"/api/classes/{school.class_id}/posts", school.teacher, json={"text": text})
    with parent.expect_response(lambda r: "/api/feed" in r.url) as reloaded:
        parent.evaluate(_RESTORE_THE_LINE)
    assert reloaded.value.ok
    parent.locator(f".post[data-post-id='{post['id']}']").wait_for()
    assert not_reloaded(parent)


def _jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (640, 480), "#ffc93c").save(out, "JPEG")
    return out.getvalue()


def test_photos_of_pupils_without_consent_are_refused_before_upload(browsers, school, shoot):
    need(f"/api/classes/{school.class_id}/posts", "/api/media", "/api/feed", "/ws")
    parent = browsers.page(school.parents["en"], path="/#/feed")
    wait_subscribed(parent, f"class:{school.class_id}")
    teacher = browsers.page(school.teacher, path=f"/#/class/{school.class_id}/story")
    uploads: list[str] = []
    teacher.on(
        "request", lambda r: uploads.append(r.url) if r.method == "POST" and "/api/media" in r.url else None
    )
    text = f"Painting rainbows {secrets.token_hex(3)}"
    teacher.fill(".composer-text", text)
    teacher.set_input_files(
        "input[type=file]", files=[{"name": "rainbow.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}]
    )
    teacher.locator(".composer-preview img").wait_for()
    teacher.get_by_text("Tag pupils").click()
    zofia = teacher.locator(".tag-option", has_text="Zofia")
    assert zofia.locator(".badge").inner_text() == "No photos"
    zofia.click()
    teacher.locator(".tag-option", has_text="Amir").click()
    warning = teacher.locator(".composer .notice-warn")
    warning.wait_for()
    assert "Zofia" in warning.inner_text()
    shoot(teacher, "composer-consent-refused-phone")
    teacher.get_by_role("button", name="Post", exact=True).click()
    assert uploads == []
    assert parent.locator(".post", has_text=text).count() == 0

    zofia.click()
    warning.wait_for(state="hidden")
    teacher.get_by_role("button", name="Post", exact=True).click()
    teacher.wait_for_selector(".toast:has-text('Posted')")
    assert len(uploads) == 1
    card = parent.locator(".post", has_text=text)
    card.wait_for()
    assert card.locator(".chip").all_inner_texts() == ["Amir"]
    parent.wait_for_function(
        "(t) => [...document.querySelectorAll('.post')].some((p) => p.textContent.includes(t)"
        " && p.querySelector('img')?.naturalWidth > 0)",
        arg=text,
    )


def test_teacher_award_is_seen_heard_and_reaches_the_family_live(browsers, school, server, shoot):
    need("/api/points", f"/api/classes/{school.class_id}/points", "/api/students/1/points", "/ws")
    amir = school.pupils["Amir"]["id"]
    parent = browsers.page(school.parents["en"], path=f"/#/child/{amir}/points")
    parent.wait_for_selector(".big-number")
    wait_subscribed(parent, f"student:{amir}")
    mark(parent)
    before = int(parent.locator(".big-number").inner_text())

    teacher = browsers.page(school.teacher, size=DESKTOP, path=f"/#/class/{school.class_id}/board")
    teacher.evaluate(
        """() => {
            window.__notes = 0;
            const start = OscillatorNode.prototype.start;
            OscillatorNode.prototype.start = function (...a) {
                window.__notes += 1;
                return start.apply(this, a);
            };
        }"""
    )
    tile = teacher.locator(f".tile[data-student-id='{amir}']")
    # Keyboard only: focus the pupil, choose them with Space, then the school way with Enter.
    tile.focus()
    teacher.keyboard.press("Space")
    assert tile.get_attribute("aria-pressed") == "true"
    skill = school.skills[1]
    button = teacher.locator(f".skill[data-skill-id='{skill['id']}']")
    button.focus()
    teacher.keyboard.press("Enter")
    teacher.locator(".award-bubble").first.wait_for()
    assert teacher.evaluate("window.__notes") > 0
    assert tile.get_attribute("aria-pressed") == "false"
    expected = before + skill["points"]
    assert tile.locator(".tile-total").inner_text() == str(expected)
    shoot(teacher, "teacher-award-celebration-desktop")

    parent.wait_for_function(
        "(n) => document.querySelector('.big-number')?.textContent === String(n)", arg=expected
    )
    assert (
        parent.locator(".history-item").first.inner_text().startswith(f"+{skill['points']} {skill['name']}")
    )
    assert not_reloaded(parent)


def test_a_new_code_of_conduct_takes_an_open_parent_page_to_the_policy(
    browsers, problems, school, server, shoot
):
    """P17 live: the parent's open feed goes to the new code of conduct, and back once accepted."""
    need("/api/policy", "/ws")
    # A request of the feed under way as the new code comes in (a photo loading) is refused.
    problems.allow_policy_refusals()
    parent = browsers.page(school.parents["en"], path="/#/feed")
    wait_subscribed(parent, f"class:{school.class_id}")
    current = server.call("GET", "/api/policy", school.admin)["text"]
    added = "Photos of other children stay in the app: please do not share them."
    try:
        server.call("PATCH", "/api/school", school.admin, json={"policy_text": f"{current}\n\n{added}"})
        parent.wait_for_url("**/#/policy")
        parent.locator(".policy-text", has_text=added).wait_for()
        shoot(parent, "live-parent-new-policy-phone")
        parent.get_by_role("button", name="I agree").click()
        parent.wait_for_url("**/#/feed")
        wait_subscribed(parent, f"class:{school.class_id}")
    finally:  # the other tests' parents accept it too
        version = server.policy_version()
        for person in school.parents.values():
            server.call("POST", "/api/policy/accept", person, json={"version": version})


def test_withdrawn_photo_consent_takes_the_photo_off_open_pages(browsers, school, server, shoot):
    """P12 after the fact: the family's open feed loses the photo at once; staff are told why."""
    need(f"/api/classes/{school.class_id}/posts", "/api/media", "/ws")
    maya = school.pupils["Maya"]["id"]
    media = server.call(
        "POST", "/api/media", school.teacher, files={"file": ("paint.jpg", _jpeg(), "image/jpeg")}
    )
    text = f"Maya's painting {secrets.token_hex(3)}"
    post = server.call(
        "POST",
        f"/api/classes/{school.class_id}/posts",
        school.teacher,
        json={"text": text, "media_ids": [media["id"]], "student_ids": [maya]},
    )
    parent = browsers.page(school.parents["en"], path="/#/feed")
    card = parent.locator(f".post[data-post-id='{post['id']}']")
    card.locator(".post-photos img").wait_for()
    wait_subscribed(parent, f"class:{school.class_id}")
    mark(parent)
    try:
        server.call("PATCH", f"/api/students/{maya}", school.admin, json={"photo_consent": False})
        card.locator(".post-photos").wait_for(state="detached")
        assert not_reloaded(parent)
        assert card.locator(".post-text").inner_text() == text
        assert card.locator(".withheld-note").count() == 0  # families are not told why
        teacher = browsers.page(school.teacher, size=DESKTOP, path=f"/#/class/{school.class_id}/story")
        note = teacher.locator(f".post[data-post-id='{post['id']}'] .withheld-note")
        note.wait_for()
        assert "no photo consent" in note.inner_text()
        shoot(teacher, "teacher-photo-withheld-desktop")
    finally:
        server.call("PATCH", f"/api/students/{maya}", school.admin, json={"photo_consent": True})
    card.locator(".post-photos img").wait_for()
