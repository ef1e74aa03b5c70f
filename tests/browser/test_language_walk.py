"""Every shipped interface language, screen by screen: no English left where a family reads.

For each language in ``catalogs.SHIPPED`` a parent reading it (one family per language, made
through the public API when its test starts) walks the main screens on a phone (390 x 844) in
one browser context. Before signing in, with the browser asking for that language
(Accept-Language): the invite sign-up, a mistyped code (the server's error) and the details
step with the code of conduct. Signed in: the feed, one post (translated, edited, liked, its
original shown), the messages list and one conversation (with the server's quiet-time and
office notices: today is made a closure day), the child's points, the calendar (a trip asking
for consent, a cancelled event), the trip's consent form, the absence form and its
confirmation, and the account page (a toast, and the server's validation error for a short
password).

On each screen every visible text node, the text of elements whose sentence is split by
elements (``parts()``), and every ``aria-label``, ``placeholder``, ``title`` and ``alt`` are
compared with the English messages of the catalog template: a text equal to an English
original (its ``{placeholders}`` standing for anything) that this language translates
differently, or not at all, fails the test, listing each text and its screen. Texts the
catalog itself gives as a translation are fine (a word the same in both languages, "OK"),
and so are names and what people wrote: they are data, not messages. English written
without ``t()``/``text()`` is not a message at all, so this test cannot see it; the
screenshots are there for a reader to catch that.

The page's ``lang`` is the language and ``dir`` is ``rtl`` for right-to-left languages, which
also must not overflow a 360 px phone on any screen. Screenshots of the Spanish, Arabic and
Urdu walks go to ``test-output/screenshots/walk-<lang>-<screen>.png``.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from server.language import catalogs
from server.language.languages import RTL
from tests.browser.conftest import PHONE, Browsers, Problems
from tests.browser.helpers import need
from tests.browser.server import PASSWORD, School, Server, served

NARROW = {"width": 360, "height": 740}
SCREENSHOTS_OF = frozenset({"es", "ar", "ur"})
POST_TEXT = "Our sunflowers are taller than the classroom door! Thank you for the seeds."
MESSAGE_TEXT = "Nadia is poorly with a temperature today. Can she bring her sunflower home on Friday?"

# Every visible text on the page, with where it was: text nodes, the accessible names and hints
# people read or hear, and the document's title. Hidden elements, scripts and styles are skipped;
# of a <select> only the chosen option shows.
COLLECT = """() => {
  const skip = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE"]);
  const shown = (el) => {
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      if (skip.has(e.tagName)) return false;
      if (e.tagName === "OPTION" && !e.selected) return false;
    }
    if (el.closest("svg") && el.tagName !== "svg" && el.tagName !== "text") {
      return el.closest("svg").checkVisibility({ visibilityProperty: true });
    }
    return el.checkVisibility({ visibilityProperty: true, opacityProperty: false });
  };
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const value = node.nodeValue.replace(/\\s+/g, " ").trim();
    if (value && node.parentElement && shown(node.parentElement)) out.push(value);
  }
  // A sentence split into elements by parts() ("School office: {phone}") reads as one text.
  for (const el of document.body.querySelectorAll("*")) {
    if (skip.has(el.tagName) || !shown(el)) continue;
    const kinds = new Set([...el.childNodes].map((n) => n.nodeType));
    if (kinds.has(1) && kinds.has(3) && el.textContent.length < 400) {
      out.push(el.textContent.replace(/\\s+/g, " ").trim());
    }
    for (const name of ["aria-label", "placeholder", "title", "alt"]) {
      const value = el.getAttribute(name);
      if (value && value.trim()) out.push(value.replace(/\\s+/g, " ").trim());
    }
  }
  if (document.title) out.push(document.title.trim());
  return out;
}"""

OVERFLOW = """() => ({ scroll: document.documentElement.scrollWidth,
                    client: document.documentElement.clientWidth })"""

SETTLED = "() => !document.querySelector('main .loading, main .spinner')"


class EnglishOriginals:
    """The template's English messages that ``language`` shows differently (or not at all yet).

    A message the compiled catalog translates into itself ("OK", "Homeroom", "{n} min") is
    left out: it reads the same in both. One it does not translate counts: it would show
    in English.
    """

    def __init__(self, language: str) -> None:
        entry = catalogs.ensure_compiled()[language]
        compiled = json.loads((catalogs.COMPILED / str(entry["file"])).read_text())
        messages: dict[str, Any] = compiled["messages"]
        self.exact: set[str] = set()
        self.patterns: list[tuple[str, re.Pattern[str]]] = []
        self.translations: set[str] = set()
        for value in messages.values():
            self.translations.update(_norm(form) for form in (value if isinstance(value, list) else [value]))
        for message in catalogs.read(catalogs.TEMPLATE):
            if not message.id:
                continue
            originals = list(message.id) if isinstance(message.id, tuple | list) else [message.id]
            value = messages.get("\u0000".join(originals), [])
            forms = value if isinstance(value, list) else [value]
            for original in originals:
                if original in forms:
                    continue
                if catalogs.PLACEHOLDER.search(original):
                    if re.search(r"[A-Za-z]{2,}", catalogs.PLACEHOLDER.sub(" ", original)):
                        self.patterns.append((original, _pattern(original)))
                else:
                    self.exact.add(_norm(original))
        self.exact -= self.translations
        # The most specific first: "{name}'s points" before "{count} points".
        self.patterns.sort(key=lambda item: -len(catalogs.PLACEHOLDER.sub("", item[0])))

    def english(self, text: str) -> str | None:
        """The English message ``text`` is, if it is one (else None)."""
        candidates = [c for c in (text, text.strip(" ·:–—|").strip()) if c and c not in self.translations]
        for candidate in candidates:
            if candidate in self.exact:
                return candidate
        for candidate in candidates:
            for original, pattern in self.patterns:
                if pattern.fullmatch(candidate):
                    return original
        return None


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _pattern(message: str) -> re.Pattern[str]:
    pieces = catalogs.PLACEHOLDER.split(_norm(message))
    # split() alternates literal text and placeholder names: names become "anything".
    return re.compile("".join(re.escape(p) if i % 2 == 0 else ".+?" for i, p in enumerate(pieces)))


@dataclass
class Family:
    """A parent reading ``language``, their child, a post about the child and a conversation."""

    language: str
    parent: Any
    child_id: int
    post_id: int
    conversation_id: int


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), "#f5c542").save(out, "JPEG")
    return out.getvalue()


def _primary(language: str) -> str:
    return language.split("_")[0]


def _family(server: Server, school: School, language: str) -> Family:
    """One family for ``language``: a new pupil, their guardian, a photo post, points, messages."""
    pupil = server.call(
        "POST",
        f"/api/classes/{school.class_id}/students",
        school.admin,
        json={"first_name": "Nadia", "last_name": "Hussain", "photo_consent": True},
    )
    parent = server.join(
        pupil["id"],
        "Samira Hussain",
        f"walk-{language.lower()}@families.test",
        _primary(language),
        school.teacher,
    )
    photo = server.call(
        "POST", "/api/media", school.teacher, files={"file": ("sunflowers.jpg", _jpeg(), "image/jpeg")}
    )
    post = server.call(
        "POST",
        f"/api/classes/{school.class_id}/posts",
        school.teacher,
        json={"text": POST_TEXT, "media_ids": [photo["id"]], "student_ids": [pupil["id"]]},
    )
    # Edited once, so the card says so.
    server.call(
        "PATCH", f"/api/posts/{post['id']}", school.teacher, json={"text": POST_TEXT + " Photo below."}
    )
    for skill in school.skills[:2]:
        server.call(
            "POST",
            "/api/points",
            school.teacher,
            json={"student_ids": [pupil["id"]], "skill_id": skill["id"]},
        )
    conversation = server.call(
        "POST", "/api/conversations", parent, json={"student_id": pupil["id"], "staff_id": school.teacher.id}
    )
    # Outside working hours (see quiet_time) and about a sick child: the family gets the school's
    # quiet-time and office notices, written by the server in their language.
    server.call(
        "POST", f"/api/conversations/{conversation['id']}/messages", parent, json={"text": MESSAGE_TEXT}
    )
    return Family(language, parent, pupil["id"], post["id"], conversation["id"])


class Walk:
    """One language's walk through the screens, collecting what is still English."""

    def __init__(self, page: Any, language: str, originals: EnglishOriginals, shoot: Any) -> None:
        self.page = page
        self.language = language
        self.originals = originals
        self.shoot = shoot
        self.english: list[str] = []
        self.layout: list[str] = []

    def screen(self, name: str) -> None:
        """Check the screen now shown: its words, its direction, and (right to left) its width."""
        page = self.page
        page.wait_for_function(SETTLED)
        for text in dict.fromkeys(page.evaluate(COLLECT)):
            found = self.originals.english(text)
            if found is not None:
                self.english.append(f"{name}: {text!r} (the English message {found!r})")
        lang = page.evaluate("document.documentElement.lang")
        direction = page.evaluate("document.documentElement.dir")
        want = "rtl" if _primary(self.language) in RTL else "ltr"
        if lang.split("-")[0] != _primary(self.language):
            self.layout.append(f"{name}: <html lang={lang!r}>, not {self.language}")
        if direction != want:
            self.layout.append(f"{name}: <html dir={direction!r}>, not {want}")
        if self.language in SCREENSHOTS_OF:
            self.shoot(page, f"walk-{self.language}-{name}")
        if want == "rtl":
            page.set_viewport_size(NARROW)
            widths = page.evaluate(OVERFLOW)
            if widths["scroll"] > widths["client"]:
                self.layout.append(f"{name}: {widths['scroll']} px wide on a {widths['client']} px phone")
            if self.language in SCREENSHOTS_OF:
                self.shoot(page, f"walk-{self.language}-{name}-360")
            page.set_viewport_size(PHONE)

    def go(self, path: str, ready: str) -> None:
        self.page.goto(path)
        self.page.wait_for_selector(ready)


@pytest.fixture
def quiet_time(server: Server, school: School) -> Iterator[None]:
    """Quiet time at school during the walk, and an office phone number, both put back after.

    Today is a closure day (an INSET day), so a family's message is held until the next
    working day and earns the server's quiet-time notice; one about a sick child earns the
    office notice too.
    """
    before = server.call("GET", "/api/school", school.admin)
    today = datetime.now(ZoneInfo(before.get("timezone") or "Europe/London")).date().isoformat()
    closed = sorted({*before.get("closure_days", []), today})
    server.call(
        "PATCH", "/api/school", school.admin, json={"closure_days": closed, "office_phone": "020 7946 0321"}
    )
    yield
    server.call(
        "PATCH",
        "/api/school",
        school.admin,
        json={"closure_days": before.get("closure_days", []), "office_phone": before.get("office_phone")},
    )


@dataclass
class WalkEvents:
    """A class trip asking for consent and a cancelled event, on the walk's class calendar."""

    trip_id: int
    cancelled_id: int


@pytest.fixture(scope="module")
def walk_events(server: Server, school: School) -> WalkEvents:
    assert served(f"/api/classes/{school.class_id}/events"), "the events routes are missing"
    zone = ZoneInfo("Europe/London")
    day = datetime.now(zone).date() + timedelta(days=3)

    def at(hour: int) -> str:
        return datetime(day.year, day.month, day.day, hour, tzinfo=zone).isoformat()

    path = f"/api/classes/{school.class_id}/events"
    trip = server.call(
        "POST",
        path,
        school.teacher,
        json={"title": "Zoo", "starts_at": at(9), "ends_at": at(15), "location": "Zoo", "rsvp": "consent"},
    )
    gone = server.call("POST", path, school.teacher, json={"title": "Disco", "starts_at": at(17)})
    server.call("DELETE", f"/api/events/{gone['id']}", school.teacher)
    return WalkEvents(trip["id"], gone["id"])


@pytest.mark.parametrize("language", catalogs.SHIPPED)
def test_a_family_reads_every_screen_in_its_language(
    language: str,
    browsers: Browsers,
    server: Server,
    school: School,
    problems: Problems,
    shoot: Any,
    quiet_time: None,
    walk_events: WalkEvents,
) -> None:
    need("/api/conversations", "/api/media", "/api/feed", "/api/join/preview", "/api/absences")
    problems.allow("status of 422")  # the mistyped invite code and the short password, on purpose
    originals = EnglishOriginals(language)
    family = _family(server, school, language)
    invite = server.invite(family.child_id, school.teacher)

    # One context for the whole walk: the phone first asks for the language (Accept-Language),
    # then the family signs in.
    context = browsers.browser.new_context(
        viewport=PHONE,
        base_url=server.base,
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
        locale=language.replace("_", "-") if language != "zh_Hans" else "zh-CN",
        timezone_id="Europe/London",
    )
    browsers.contexts.append(context)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("console", problems.console)
    page.on("response", problems.response)
    page.on("pageerror", problems.page_error)
    walk = Walk(page, language, originals, shoot)

    # Before sign-in: the invite sign-up, the code step and the details step.
    page.goto(f"/#/join/{invite}")
    page.wait_for_selector("body[data-ready='true'] [data-language-picker] option", state="attached")
    walk.screen("invite")
    code = page.locator("input[name='code']")
    code.fill("ABCDE-FGHJK")  # a mistyped code: the server's answer is in the page's language
    page.locator("form button[type='submit']").click()
    page.wait_for_selector(".form-error:not([hidden])")
    walk.screen("invite-wrong-code")
    code.fill(invite)
    page.locator("form button[type='submit']").click()
    page.wait_for_selector("input[type='password']")
    walk.screen("invite-details")

    # Signed in as the family.
    context.add_cookies(
        [{"name": "session", "value": family.parent.token, "url": server.base, "httpOnly": True}]
    )
    page.evaluate("localStorage.setItem('homeroom.signed-in', '1')")
    page.goto("/#/feed")
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    post = page.locator(f"article.post[data-post-id='{family.post_id}']")
    post.wait_for()
    walk.screen("feed")

    # One post: liked, and its original shown when it was translated.
    post.locator(".like-button").click()
    post.locator(".like-button[aria-pressed='true']").wait_for()
    page.wait_for_function(
        "(id) => document.querySelector(`article.post[data-post-id='${id}'] .like-count`).textContent !== ''",
        arg=family.post_id,
    )
    original = post.locator(".see-original")
    if original.count():
        original.click()
        post.locator(".see-original[aria-pressed='true']").wait_for()
    post.scroll_into_view_if_needed()
    walk.screen("post")

    walk.go("/#/messages", f"a[href='#/messages/{family.conversation_id}']")
    walk.screen("messages")
    walk.go(f"/#/messages/{family.conversation_id}", ".reply")
    page.locator(".message.is-mine").wait_for()
    page.locator(".notice-message").first.wait_for()  # quiet time (and the office, when it matches)
    walk.screen("conversation")

    walk.go(f"/#/child/{family.child_id}/points", ".points-total .big-number")
    walk.screen("points")

    walk.go("/#/calendar", f".event-card[data-event-id='{walk_events.cancelled_id}'] .badge-cancelled")
    page.locator(".calendar-feed summary").click()
    page.locator(".calendar-feed-link").wait_for()
    walk.screen("calendar")
    walk.go(f"/#/event/{walk_events.trip_id}", f".reply-child[data-student-id='{family.child_id}']")
    page.locator(".reply-child .choice-yes").click()
    page.locator(".reply-child button[type='submit']").click()
    page.locator(".reply-child .reply-status.is-yes").wait_for()
    walk.screen("consent")
    walk.go("/#/absence", "form.absence-form")
    walk.screen("absence")
    page.locator("form.absence-form .choices-reasons .choice").first.click()
    page.locator("form.absence-form button[type='submit']").click()
    page.locator(".absence-sent").wait_for()
    walk.screen("absence-sent")

    walk.go("/#/account", "form input[type='password']")
    page.locator("form").first.locator("button[type='submit']").click()
    page.locator(".toast").first.wait_for()  # "Saved"
    password = page.locator("form:has(input[autocomplete='new-password'])")
    password.locator("input[autocomplete='current-password']").fill(PASSWORD)
    password.locator("input[autocomplete='new-password']").fill("short")
    password.locator("button[type='submit']").click()
    password.locator(".form-error:not([hidden])").wait_for()  # the server's validation error
    walk.screen("account")

    found = [f"English left on the {language} screens:", *walk.english] if walk.english else []
    found += [f"Layout of the {language} screens:", *walk.layout] if walk.layout else []
    assert not found, "\n".join(found)
