// The shell: who is signed in, the navigation for their role, the hash router that
// swaps views, and the one live connection every view shares.

import * as alerts from "./alerts.js";
import * as api from "./api.js";
import { Role } from "./contract.js";
import { h, icon, mount, focus } from "./dom.js";
import { setLocale, setTimeZone } from "./format.js";
import { browserLanguage, setInterfaceLanguage, t, N_, tn } from "./i18n.js";
import { Live } from "./live.js";
import { forgetSavedData, offerInstallOnce, registerServiceWorker } from "./push.js";
import { noteMissingLanguageOnce } from "./translation.js";
import { toast } from "./ui.js";
import * as auth from "./views/auth.js";
import * as teacher from "./views/teacher.js";
import * as parent from "./views/parent.js";
import * as pupil from "./views/pupil.js";
import * as leader from "./views/leader.js";
import * as messages from "./views/messages.js";
import * as account from "./views/account.js";
import * as translation from "./views/translation.js";
import * as adminClasses from "./views/admin_classes.js";
import * as adminImport from "./views/admin_import.js";
import * as adminAudit from "./views/admin_audit.js";
import * as reachView from "./views/reach.js";
import { calendar } from "./views/calendar.js";
import { eventPage } from "./views/event_page.js";
import { reportAbsence } from "./views/absence.js";
import { absences } from "./views/absences_office.js";

const session = {
  me: null,
  school: null,
};

const live = new Live({
  statusEl: document.getElementById("live-status"),
  onSignedOut: () => liveRefused(),
});

// Routes: pattern → [view function, roles allowed (null: signed-out pages)].
const ROUTES = [
  ["/sign-in", auth.signIn, null],
  ["/pupil", auth.pupilSignIn, null],
  ["/pupil/:class/:code", auth.pupilSignIn, null],
  ["/forgot", auth.forgot, null],
  ["/reset", auth.resetPassword, null],
  ["/join", auth.join, null],
  ["/join/:code", auth.join, null],
  ["/policy", auth.policy, [Role.PARENT]],
  ["/classes", teacher.classList, [Role.ADMIN, Role.TEACHER, Role.OFFICE]],
  ["/class/:id", teacher.classView, [Role.ADMIN, Role.TEACHER, Role.OFFICE]],
  ["/class/:id/:tab", teacher.classView, [Role.ADMIN, Role.TEACHER, Role.OFFICE]],
  ["/school", teacher.schoolStory, [Role.ADMIN, Role.TEACHER, Role.OFFICE, Role.PARENT, Role.STUDENT]],
  ["/messages", messages.inbox, [Role.ADMIN, Role.TEACHER, Role.OFFICE, Role.PARENT]],
  ["/messages/:id", messages.conversation, [Role.ADMIN, Role.TEACHER, Role.OFFICE, Role.PARENT]],
  ["/feed", parent.feed, [Role.PARENT]],
  ["/child/:id", parent.child, [Role.PARENT]],
  ["/child/:id/:tab", parent.child, [Role.PARENT]],
  ["/monster", pupil.monsterEditor, [Role.STUDENT]],
  ["/points", pupil.points, [Role.STUDENT]],
  ["/learning", pupil.learning, [Role.STUDENT]],
  ["/story", pupil.story, [Role.STUDENT]],
  ["/reports", leader.reports, [Role.ADMIN]],
  ["/requests", leader.requests, [Role.ADMIN]],
  ["/settings", leader.settings, [Role.ADMIN]],
  ["/people", leader.people, [Role.ADMIN]],
  ["/office", leader.office, [Role.ADMIN, Role.OFFICE]],
  ["/translation", translation.coverage, [Role.ADMIN]],
  ["/admin/classes", adminClasses.classesAdmin, [Role.ADMIN]],
  ["/admin/classes/import", adminImport.rosterImport, [Role.ADMIN]],
  ["/admin/classes/:id", adminClasses.classAdmin, [Role.ADMIN]],
  ["/audit", adminAudit.auditLog, [Role.ADMIN]],
  ["/reach", reachView.reach, [Role.ADMIN]],
  ["/calendar", calendar, [Role.ADMIN, Role.TEACHER, Role.OFFICE, Role.PARENT]],
  ["/calendar/:scope", calendar, [Role.ADMIN, Role.TEACHER, Role.OFFICE]],
  ["/event/:id", eventPage, [Role.ADMIN, Role.TEACHER, Role.OFFICE, Role.PARENT]],
  ["/absence", reportAbsence, [Role.PARENT]],
  ["/absences", absences, [Role.ADMIN, Role.TEACHER, Role.OFFICE]],
  ["/account", account.account, [Role.ADMIN, Role.TEACHER, Role.OFFICE, Role.PARENT]],
  ["/more", morePage, [Role.ADMIN, Role.TEACHER, Role.OFFICE, Role.PARENT]],
];

function homeFor(me) {
  if (!me) return "/sign-in";
  if (me.needs_policy) return "/policy";
  switch (me.role) {
    case Role.PARENT:
      return "/feed";
    case Role.STUDENT:
      return "/monster";
    case Role.ADMIN:
      return "/classes";
    case Role.OFFICE:
      return "/office";
    default: {
      const remembered = teacher.rememberedClass();
      return remembered ? `/class/${remembered}/board` : "/classes";
    }
  }
}

function navFor(me) {
  switch (me.role) {
    case Role.PARENT: {
      const child = parent.currentChild(me);
      return [
        ["/feed", t("Stories"), "story"],
        ["/calendar", t("Calendar"), "calendar"],
        child ? [`/child/${child.id}/points`, t("Points"), "star"] : null,
        ["/messages", t("Messages"), "chat"],
        ["/absence", t("Absence"), "bed"],
        child ? [`/child/${child.id}/portfolio`, t("Portfolio"), "book"] : null,
      ].filter(Boolean);
    }
    case Role.STUDENT:
      return [
        ["/monster", t("My monster"), "monster"],
        ["/points", t("My points"), "star"],
        ["/learning", t("Learning"), "book"],
        ["/story", t("Class story"), "story"],
      ];
    case Role.ADMIN:
      return [
        ["/classes", t("Classes"), "home"],
        ["/school", t("School"), "school"],
        ["/admin/classes", t("Setup"), "users"],
        ["/messages", t("Messages"), "chat"],
        ["/calendar", t("Calendar"), "calendar"],
        ["/absences", t("Absences"), "bed"],
        ["/reports", t("Reports"), "flag"],
        ["/requests", t("Requests"), "users"],
        ["/people", t("People"), "shield"],
        ["/reach", t("Reach"), "heart"],
        ["/audit", t("Audit log"), "book"],
        ["/settings", t("Settings"), "settings"],
        ["/translation", t("Translation"), "globe"],
      ];
    case Role.OFFICE:
      return [
        ["/office", t("Office"), "flag"],
        ["/absences", t("Absences"), "bed"],
        ["/messages", t("Messages"), "chat"],
        ["/calendar", t("Calendar"), "calendar"],
        ["/classes", t("Classes"), "home"],
        ["/school", t("School"), "school"],
      ];
    default: {
      const cls = teacher.rememberedClass();
      return [
        cls ? [`/class/${cls}/board`, t("Points"), "star"] : ["/classes", t("Classes"), "home"],
        cls ? [`/class/${cls}/story`, t("Story"), "story"] : null,
        cls ? [`/class/${cls}/learning`, t("Learning"), "book"] : null,
        ["/messages", t("Messages"), "chat"],
        ["/calendar", t("Calendar"), "calendar"],
        ["/school", t("School"), "school"],
        ["/absences", t("Absences"), "bed"],
      ].filter(Boolean);
    }
  }
}

function match(path) {
  const parts = path.split("/").filter(Boolean);
  for (const [pattern, view, roles] of ROUTES) {
    const want = pattern.split("/").filter(Boolean);
    if (want.length !== parts.length) continue;
    const params = {};
    let ok = true;
    want.forEach((seg, i) => {
      if (seg.startsWith(":")) params[seg.slice(1)] = decodeURIComponent(parts[i]);
      else if (seg !== parts[i]) ok = false;
    });
    if (ok) return { view, roles, params, pattern };
  }
  return null;
}

function currentPath() {
  const hash = location.hash.replace(/^#/, "");
  const [path] = hash.split("?");
  return path || "/";
}

export function navigate(path, { replace = false } = {}) {
  const target = `#${path}`;
  if (location.hash === target) {
    render();
    return;
  }
  if (replace) {
    history.replaceState(null, "", target);
    render();
  } else {
    location.hash = target;
  }
}

/** What a view may hold beyond the page: live subscriptions, timers and pending requests. */
class Scope {
  constructor() {
    this.controller = new AbortController();
    this.cleanups = [];
    this.disposed = false;
  }

  get signal() {
    return this.controller.signal;
  }

  /** Subscribe to a live channel for as long as this view is shown. */
  live(channel, handlers) {
    if (this.disposed) return () => {};
    const stop = live.subscribe(channel, handlers);
    this.cleanups.push(stop);
    return stop;
  }

  onDispose(fn) {
    this.cleanups.push(fn);
  }

  interval(fn, ms) {
    const id = setInterval(fn, ms);
    this.cleanups.push(() => clearInterval(id));
  }

  dispose() {
    this.disposed = true;
    this.controller.abort();
    for (const fn of this.cleanups.splice(0)) {
      try {
        fn();
      } catch {
        // keep disposing the rest
      }
    }
  }
}

/** The places that do not fit in a phone's bottom bar, as a list. */
async function morePage(ctx) {
  const items = navFor(ctx.me).slice(4);
  mount(
    ctx.root,
    h("div", { class: "page-head" }, h("h1", { class: "page-title", tabindex: "-1" }, t("More"))),
    h(
      "ul",
      { class: "more-list" },
      [...items, ["/account", t("Your account"), "users"]].map(([href, label, iconName]) =>
        h("li", {}, h("a", { href: `#${href}`, class: "card more-link" }, icon(iconName, "nav-icon"), label)),
      ),
    ),
  );
}

let scope = null;
let renderCount = 0;

async function render() {
  const main = document.getElementById("main");
  const path = currentPath();
  const found = match(path);
  const me = session.me;
  if (!found || (found.roles === null && me && found.pattern !== "/join/:code" && found.pattern !== "/join")) {
    navigate(homeFor(me), { replace: true });
    return;
  }
  if (found.roles !== null && !me) {
    navigate("/sign-in", { replace: true });
    return;
  }
  if (me && me.needs_policy && found.pattern !== "/policy") {
    navigate("/policy", { replace: true });
    return;
  }
  if (found.roles && !found.roles.includes(me.role)) {
    navigate(homeFor(me), { replace: true });
    return;
  }
  if (scope) scope.dispose();
  scope = new Scope();
  const mine = scope;
  renderCount += 1;
  const ticket = renderCount;
  if (me && me.role === Role.TEACHER && found.params.id && found.pattern.startsWith("/class/")) {
    teacher.rememberClass(found.params.id);
  }
  drawChrome(path);
  const root = h("div", { class: "view" });
  mount(main, root);
  const ctx = {
    root,
    params: found.params,
    me,
    school: session.school,
    scope: mine,
    navigate,
    toast,
    session,
    signedIn,
    signOut,
    refreshMe,
    chooseLanguage,
  };
  try {
    await found.view(ctx);
  } catch (error) {
    if (error && error.name === "AbortError") return;
    if (mine.disposed) return;
    const text = error instanceof api.ApiError ? error.message : t("Something went wrong showing this page.");
    mount(root, h("div", { class: "notice notice-error", role: "alert" }, text));
    throw error;
  }
  if (ticket === renderCount && !mine.disposed) {
    noteMissingLanguageOnce(root, me);
    const title = root.querySelector("h1");
    alerts.setTitle(title ? `${title.textContent} · Homeroom` : "Homeroom");
    alerts.seen(path);
    // A new page: screen readers and keyboards start at its heading, unless the view
    // already put focus somewhere inside itself.
    if (!root.contains(document.activeElement)) focus(title || main);
  }
}

function drawChrome(path) {
  const me = session.me;
  const brand = document.getElementById("brand-name");
  brand.textContent = session.school ? session.school.name : "Homeroom";
  const end = document.getElementById("topbar-end");
  const nav = document.getElementById("sidenav");
  if (!me || me.needs_policy) {
    mount(end);
    if (me && me.needs_policy) end.append(signOutButton());
    nav.hidden = true;
    document.body.classList.remove("has-nav");
    return;
  }
  const accountLink =
    me.role === Role.STUDENT
      ? h("span", { class: "who", dir: "auto" }, me.name)
      : h("a", { class: "who", dir: "auto", href: "#/account", title: t("Your account") }, me.name);
  mount(end, accountLink, signOutButton());
  const items = navFor(me);
  // Phones show at most five places at the bottom; the rest sit behind "More".
  const crowded = items.length > 5;
  const link = ([href, label, iconName], index) => {
    const active = path === href || path.startsWith(`${href}/`);
    return h(
      "li",
      { class: crowded && index >= 4 ? "nav-extra" : null },
      h(
        "a",
        { href: `#${href}`, class: "nav-link", "aria-current": active ? "page" : null },
        icon(iconName, "nav-icon"),
        h("span", { class: "nav-label" }, label),
      ),
    );
  };
  mount(
    nav,
    h(
      "ul",
      { class: "nav-list" },
      items.map(link),
      crowded
        ? h(
            "li",
            { class: "nav-more" },
            h(
              "a",
              { href: "#/more", class: "nav-link", "aria-current": path === "/more" ? "page" : null },
              icon("plus", "nav-icon"),
              h("span", { class: "nav-label" }, t("More")),
            ),
          )
        : null,
    ),
  );
  nav.hidden = false;
  document.body.classList.add("has-nav");
  document.body.dataset.role = me.role;
  alerts.paint();
}

function signOutButton() {
  return h(
    "button",
    { type: "button", class: "icon-button signout", onclick: () => signOut() },
    icon("logout"),
    h("span", { class: "visually-hidden-phone" }, t("Sign out")),
  );
}

async function refreshMe() {
  const me = await api.get("/api/me");
  if (me.csrf_token) api.setCsrf(me.csrf_token);
  session.me = me;
  await applyLanguage(me.language || "en");
  if (!me.needs_policy) {
    live.restart();
    try {
      session.school = await api.get("/api/school");
      if (session.school && session.school.timezone) setTimeZone(session.school.timezone);
    } catch {
      session.school = session.school || { name: me.school ? me.school.name : "Homeroom" };
    }
    alerts.start(live, me, session.school);
  } else {
    session.school = { name: me.school ? me.school.name : "Homeroom" };
  }
  return me;
}

const CHOSEN_KEY = "homeroom.language";

/** The language picked on a signed-out page, if any (kept on this device). */
function chosenLanguage() {
  try {
    return localStorage.getItem(CHOSEN_KEY);
  } catch {
    return null;
  }
}

/**
 * Lay the page out and word the interface for `code`: the user's `language` once signed in;
 * before, the language picked on this device, else the browser's (its Accept-Language).
 */
async function applyLanguage(code) {
  const language = code || chosenLanguage() || (await browserLanguage());
  setLocale(language.replace("_", "-"));
  await setInterfaceLanguage(language);
  drawStatic();
}

/** The picker on the signed-out pages: remember the choice and re-render at once. */
async function chooseLanguage(code) {
  try {
    localStorage.setItem(CHOSEN_KEY, code);
  } catch {
    // a private window: the choice lasts for this page
  }
  await applyLanguage(code);
  await render();
}

/** The words of index.html itself. */
function drawStatic() {
  const skip = document.querySelector(".skip-link");
  if (skip) skip.textContent = t("Skip to content");
  document.getElementById("sidenav").setAttribute("aria-label", t("Sections"));
}

/** After a sign-in or join reply: remember the CSRF token, load the user, go home. */
async function signedIn(reply) {
  api.setCsrf(reply.csrf_token);
  api.markSignedIn(true);
  live.restart();
  await refreshMe();
  navigate(homeFor(session.me), { replace: true });
  offerInstallOnce(toastWithAction);
}

/** A toast with one button (the install offer). */
function toastWithAction(message, label, action) {
  const host = document.getElementById("toasts");
  const button = h("button", { type: "button", class: "button button-small" }, label);
  const el = h("div", { class: "toast toast-info" }, message, " ", button);
  button.addEventListener("click", () => {
    el.remove();
    action();
  });
  host.append(el);
  setTimeout(() => el.remove(), 15000);
}

window.addEventListener("homeroom:saved-data", (event) => {
  const banner = document.getElementById("offline-banner");
  banner.textContent = t("You are offline: this is what was saved on this device.");
  banner.hidden = !event.detail;
  document.body.dataset.offline = event.detail ? "true" : "false";
});

async function signOut() {
  live.stop(); // first: the server closes this session's connection as it signs out
  try {
    await api.post("/api/auth/logout");
  } catch {
    // Signed out on the server already, or offline: forget the session here anyway.
  }
  signedOut();
}

function signedOut(message) {
  alerts.stop();
  forgetSavedData();
  api.markSignedIn(false);
  api.setCsrf(null);
  live.stop();
  const role = session.me ? session.me.role : null;
  session.me = null;
  session.school = null;
  applyLanguage(null);
  if (message) toast(message);
  navigate(role === "student" ? "/pupil" : "/sign-in", { replace: true });
}

// The live connection was closed with 4001/4003: signed out, suspended, or a new code of
// conduct to accept first. Ask the server which, and go where that leads.
async function liveRefused() {
  try {
    const me = await api.get("/api/me");
    if (me && me.needs_policy && session.me) {
      session.me.needs_policy = true;
      navigate("/policy", { replace: true });
      return;
    }
  } catch (error) {
    if (error.status === 401 || error.code === "policy_not_accepted") return; // handled by api.js
  }
  signedOut(t("Your session has ended. Please sign in again."));
}

api.whenSignedOut(() => {
  if (session.me) signedOut(t("Your session has ended. Please sign in again."));
});

api.whenPolicyNeeded(() => {
  if (session.me && !session.me.needs_policy) {
    session.me.needs_policy = true;
    live.stop();
    navigate("/policy", { replace: true });
  }
});

async function boot() {
  await applyLanguage(null);
  registerServiceWorker();
  if (api.probablySignedIn()) {
    try {
      await refreshMe();
    } catch (error) {
      session.me = null;
      if (!(error instanceof api.ApiError) || error.status !== 401) {
        toast(error.message || t("Cannot reach the school's server."), "error");
      }
    }
  }
  window.addEventListener("hashchange", () => render());
  await render();
  document.body.dataset.ready = "true";
}

// For the browser tests and curious developers: the live connection's state.
window.homeroom = { live, session };

boot();
