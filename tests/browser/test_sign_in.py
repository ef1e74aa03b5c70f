"""Getting in: staff and parents sign in, pupils use their codes, families join with an
invite code (accepting the code of conduct, choosing their language), and a parent
accepts a changed code of conduct before anything else.
"""

from __future__ import annotations

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.helpers import need
from tests.browser.server import PASSWORD


def test_staff_sign_in_reaches_the_class_board(browsers, school, server, shoot):
    # Other tests (the language walk) add families to the class: count what the class holds now.
    pupils = server.call("GET", f"/api/classes/{school.class_id}/students", school.admin)["items"]
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page = browsers.page(size=size)
        page.wait_for_selector("h1:has-text('Welcome to Homeroom')")
        assert page.evaluate("document.activeElement.tagName") == "H1"
        shoot(page, f"sign-in-{label}")
        page.get_by_label("Email").fill("patel@riverside.test")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_function("() => location.hash.startsWith('#/class/')")
        page.wait_for_selector("h1:has-text('Year 2 Oak')")
        page.wait_for_selector(".tile")
        assert page.locator(".tile").count() == len(pupils)
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_selector("h1:has-text('Welcome to Homeroom')")


def test_a_wrong_password_is_explained_and_the_form_stays(browsers, problems):
    problems.allow("status of 401")
    page = browsers.page()
    page.get_by_label("Email").fill("patel@riverside.test")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "do not match" in alert.inner_text()
    assert page.evaluate("document.activeElement.name") == "password"


def test_pupil_signs_in_with_class_code_and_pupil_code(browsers, school, shoot):
    record = school.pupils["Maya"]
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page = browsers.page(size=size, path="/#/pupil")
        page.wait_for_selector("h1:has-text('Ready to learn')")
        shoot(page, f"pupil-sign-in-{label}")
        page.get_by_label("Class code").fill(school.class_code.lower())
        page.get_by_label("My code").fill(record["student_code"].lower())
        page.get_by_role("button", name="Let's go!").click()
        page.wait_for_selector("h1:has-text('Hi Maya!')")
        assert page.evaluate("location.hash") == "#/monster"
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_function("() => location.hash === '#/pupil'")


def test_family_joins_with_an_invite_code_accepting_the_policy_in_their_language(
    browsers, school, server, shoot, problems
):
    need("/api/join/preview")
    code = server.invite(school.pupils["Leo"]["id"], school.teacher)
    page = browsers.page(path="/#/join")
    page.wait_for_selector("h1:has-text('Join your child')")
    shoot(page, "join-code-phone")
    page.get_by_label("Invite code").fill(code.lower())
    page.get_by_role("button", name="Next").click()
    page.wait_for_selector(".policy-text")
    assert "code of conduct" in page.locator(".policy-text").inner_text().lower()
    assert "Leo" in page.locator(".join-for").inner_text()
    page.get_by_label("Your name").fill("Marta Jones")
    page.get_by_label("Email").fill("marta@families.test")
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("Language you read best").select_option("pl")
    shoot(page, "join-policy-phone")

    page.get_by_role("button", name="Join Homeroom").click()
    assert "tick the box" in page.get_by_role("alert").inner_text()

    page.get_by_label("I have read the code of conduct").check()
    page.get_by_role("button", name="Join Homeroom").click()
    page.wait_for_function("() => location.hash === '#/feed'")
    page.wait_for_selector("h1:has-text('Historie')")  # "Stories": she reads Polish from now on
    assert page.evaluate("document.documentElement.lang") == "pl"
    me = page.evaluate("fetch('/api/me').then((r) => r.json())")
    assert me["language"] == "pl"
    assert me["policy_accepted_version"] == server.policy_version()
    assert [c["first_name"] for c in me["children"]] == ["Leo"]


def test_a_wrong_invite_code_is_refused_kindly(browsers, problems):
    need("/api/join/preview")
    problems.allow("status of 422")
    page = browsers.page(path="/#/join")
    page.get_by_label("Invite code").fill("ABCDE-FGHJK")
    page.get_by_role("button", name="Next").click()
    assert "not right" in page.get_by_role("alert").inner_text()
    assert page.locator(".policy-text").count() == 0


def test_parent_accepts_a_changed_code_of_conduct_before_anything_else(
    browsers, school, server, shoot, problems
):
    problems.allow("status of 403")  # the request that finds out the policy changed
    # This parent reads Spanish: the interface is in Spanish.
    already_open = browsers.page(school.parents["es"], path="/#/account")
    already_open.wait_for_selector("h1:has-text('Su cuenta')")
    current = server.call("GET", "/api/policy", school.admin)
    changed = server.call(
        "PATCH",
        "/api/school",
        school.admin,
        json={"policy_text": current["text"] + "\n8. Be kind online as well as at the school gate."},
    )
    version = changed["policy_version"]
    try:
        page = browsers.page(school.parents["en"], path="/#/feed")
        page.wait_for_function("() => location.hash === '#/policy'")
        page.wait_for_selector("h1:has-text('The code of conduct has changed')")
        assert "Be kind online" in page.locator(".policy-text").inner_text()
        assert page.locator("#sidenav").is_hidden()
        shoot(page, "policy-changed-phone")
        page.get_by_role("button", name="I agree").click()
        page.wait_for_function("() => location.hash === '#/feed'")
        page.wait_for_selector("h1:has-text('Stories')")

        # A page opened before the change finds out by itself: every signed-in page keeps a
        # live subscription (the unread counts), and the server closes it when the terms change.
        already_open.wait_for_function("() => location.hash === '#/policy'")
        already_open.wait_for_selector("h1:has-text('El código de conducta ha cambiado')")
    finally:
        for parent in school.parents.values():
            server.call("POST", "/api/policy/accept", parent, json={"version": version})
