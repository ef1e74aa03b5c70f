// The calendar page: a class's or the school's events (for a family, all their children's
// classes and the school together) as an agenda list (the default on a phone) or a month
// grid, kept live by event.created / event.updated / event.cancelled on the channels.

import * as api from "../api.js";
import { Role, STAFF_ROLES } from "../contract.js";
import { h, icon, mount, field } from "../dom.js";
import { day, dayKey } from "../format.js";
import { t } from "../i18n.js";
import { empty, failure, loading, pageTitle } from "../ui.js";
import { loadEvents, normalise, source } from "../events_api.js";
import { eventCard, remember } from "./event_card.js";
import { editEvent } from "./event_form.js";
import { feedPanel } from "./calendar_feed.js";
import { rememberedClass } from "./teacher.js";

const AGENDA_DAYS = 62;
const PHONE = "(max-width: 700px)";

function addDays(key, n) {
  const d = new Date(`${key}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

function monthStart(key) {
  return `${key.slice(0, 7)}-01`;
}

function addMonths(key, n) {
  const d = new Date(`${monthStart(key)}T12:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + n);
  return d.toISOString().slice(0, 10);
}

/** The calendars this page shows and the one new events go into. */
async function scopeOf(ctx) {
  const me = ctx.me;
  const param = ctx.params.scope;
  if (me.role === Role.PARENT) {
    const classes = [...new Set((me.children || []).map((c) => c.class_id))];
    return { sources: [...classes.map((id) => source(ctx.school, id)), source(ctx.school)], target: null, key: "family" };
  }
  if (param && param !== "school") {
    return { sources: [source(ctx.school, param), source(ctx.school)], target: source(ctx.school, param), key: String(param) };
  }
  return { sources: [source(ctx.school)], target: source(ctx.school), key: "school" };
}

async function classChoices() {
  try {
    const reply = await api.get("/api/classes");
    return reply.items || [];
  } catch {
    return [];
  }
}

/** `/calendar` and `/calendar/:scope` (`school` or a class id). */
export async function calendar(ctx) {
  const staff = STAFF_ROLES.includes(ctx.me.role);
  if (staff && !ctx.params.scope && ctx.me.role === Role.TEACHER) {
    const remembered = rememberedClass();
    if (remembered) {
      ctx.navigate(`/calendar/${remembered}`, { replace: true });
      return;
    }
  }
  mount(ctx.root, pageTitle(t("Calendar")), loading());
  const scope = await scopeOf(ctx);
  const classes = staff ? await classChoices() : [];
  let mode = window.matchMedia(PHONE).matches ? "agenda" : "month";
  let cursor = dayKey(new Date());
  let selected = cursor;
  let events = [];
  const body = h("div", { class: "calendar-body" }, loading());
  const modeBar = h("div", { class: "subnav calendar-modes", role: "group", "aria-label": t("Show as") });

  function range() {
    if (mode === "agenda") return [dayKey(new Date()), addDays(dayKey(new Date()), AGENDA_DAYS)];
    const first = monthStart(cursor);
    return [addDays(first, -7), addDays(addMonths(first, 1), 7)];
  }

  async function load() {
    const [from, to] = range();
    try {
      events = await loadEvents(scope.sources, from, to, ctx.scope.signal, (ctx.school && ctx.school.closure_days) || []);
      events.forEach(remember);
      draw();
    } catch (err) {
      if (err.name === "AbortError") return;
      mount(body, failure(err, t("The calendar")));
    }
  }

  function drawModes() {
    const button = (id, label) =>
      h("button", { type: "button", class: "subnav-link", "aria-pressed": mode === id ? "true" : "false", "aria-current": mode === id ? "page" : null, dataset: { mode: id }, onclick: () => switchMode(id) }, label);
    mount(modeBar, button("agenda", t("List")), button("month", t("Month")));
  }

  function switchMode(id) {
    if (mode === id) return;
    mode = id;
    drawModes();
    mount(body, loading());
    load();
  }

  function draw() {
    if (mode === "agenda") mount(body, agenda(events, ctx));
    else mount(body, month(events, cursor, selected, ctx, { go: (n) => { cursor = addMonths(cursor, n); mount(body, loading()); load(); }, pick: (key) => { selected = key; draw(); } }));
  }

  const picker = staff
    ? (() => {
        const select = h(
          "select",
          { class: "input", name: "calendar", onchange: (e) => ctx.navigate(`/calendar/${e.target.value}`) },
          h("option", { value: "school", selected: scope.key === "school" }, t("Whole school")),
          classes.map((c) => h("option", { value: String(c.id), selected: scope.key === String(c.id) }, c.name)),
        );
        return h("div", { class: "calendar-picker" }, field(t("Calendar"), select));
      })()
    : null;
  const create = staff && scope.target
    ? h("button", { type: "button", class: "button button-primary", dataset: { action: "new-event" }, onclick: () => editEvent(ctx, scope.target, null, load) }, icon("plus"), t("New event"))
    : null;
  const absence = ctx.me.role === Role.PARENT
    ? h("a", { class: "button button-soft", href: "#/absence" }, icon("bed"), t("Report an absence"))
    : null;
  drawModes();
  mount(
    ctx.root,
    h("div", { class: "page-head-row calendar-head" }, pageTitle(t("Calendar"), ctx.me.role === Role.PARENT ? t("Events for your child's class and the school") : null), h("div", { class: "row" }, create, absence)),
    picker,
    modeBar,
    body,
    feedPanel(ctx),
  );
  await load();

  for (const src of scope.sources) {
    if (!src.channel) continue;
    ctx.scope.live(src.channel, {
      event(frame) {
        if (!String(frame.type).startsWith("event.")) return;
        const d = frame.data || {};
        const raw = d.event || d;
        if (!raw || !raw.id || !raw.starts_at || raw.recurrence || raw.rrule) {
          load(); // an occurrence of a recurring event, or only an id: ask again
          return;
        }
        const ev = { ...normalise(raw), source: src };
        if (frame.type === "event.cancelled") ev.cancelled = true;
        remember(ev);
        const at = events.findIndex((e) => e.id === ev.id);
        if (at >= 0) events[at] = ev;
        else events.push(ev);
        events.sort((a, b) => String(a.starts_at).localeCompare(String(b.starts_at)));
        draw();
      },
      reset: load,
    });
  }
}

function agenda(events, ctx) {
  const today = dayKey(new Date());
  const upcoming = events.filter((ev) => ev.day >= today);
  if (!upcoming.length) return empty(t("Nothing on the calendar yet"), t("Trips, assemblies, PE days and parents' evenings will appear here."), "calendar");
  const days = new Map();
  for (const ev of upcoming) {
    if (!days.has(ev.day)) days.set(ev.day, []);
    days.get(ev.day).push(ev);
  }
  return h(
    "ol",
    { class: "agenda" },
    [...days].map(([key, list]) =>
      h(
        "li",
        { class: "agenda-day", dataset: { day: key } },
        h("h2", { class: "agenda-date" }, key === today ? t("Today") : key === addDays(today, 1) ? t("Tomorrow") : "", " ", h("span", { class: "muted" }, day(key))),
        h("ul", { class: "agenda-list" }, list.map((ev) => h("li", {}, eventCard(ev, ctx)))),
      ),
    ),
  );
}

function month(events, cursor, selected, ctx, { go, pick }) {
  const first = monthStart(cursor);
  // Weeks start on Monday, as school timetables do.
  const weekday = (new Date(`${first}T12:00:00Z`).getUTCDay() + 6) % 7;
  const start = addDays(first, -weekday);
  const byDay = new Map();
  for (const ev of events) {
    if (!byDay.has(ev.day)) byDay.set(ev.day, []);
    byDay.get(ev.day).push(ev);
  }
  const today = dayKey(new Date());
  const head = h(
    "div",
    { class: "month-head" },
    h("button", { type: "button", class: "icon-button", "aria-label": t("Previous month"), onclick: () => go(-1) }, icon("back")),
    h("h2", { class: "month-title", "aria-live": "polite" }, day(first, { month: "long", year: "numeric" })),
    h("button", { type: "button", class: "icon-button", "aria-label": t("Next month"), onclick: () => go(1) }, icon("next")),
  );
  const names = [];
  for (let i = 0; i < 7; i += 1) names.push(h("span", { class: "month-weekday", "aria-hidden": "true" }, day(addDays(start, i), { weekday: "narrow" })));
  const cells = [];
  for (let i = 0; i < 42; i += 1) {
    const key = addDays(start, i);
    if (i >= 35 && key.slice(0, 7) !== first.slice(0, 7)) break;
    const list = byDay.get(key) || [];
    const label = [day(key), ...list.map((ev) => ev.title)].join(", ");
    cells.push(
      h(
        "button",
        {
          type: "button",
          class: `month-cell${key.slice(0, 7) !== first.slice(0, 7) ? " is-other" : ""}${key === today ? " is-today" : ""}`,
          "aria-pressed": key === selected ? "true" : "false",
          "aria-label": label,
          dataset: { day: key },
          onclick: () => pick(key),
        },
        h("span", { class: "month-day" }, day(key, { day: "numeric" })),
        h("span", { class: "month-dots" }, list.slice(0, 3).map((ev) => h("span", { class: `month-dot${ev.cancelled ? " is-cancelled" : ""}` }, h("span", { class: "month-dot-title" }, ev.title)))),
      ),
    );
  }
  const chosen = byDay.get(selected) || [];
  return h(
    "div",
    { class: "month" },
    head,
    h("div", { class: "month-grid" }, names, cells),
    h(
      "section",
      { class: "month-picked", "aria-live": "polite" },
      h("h2", { class: "agenda-date" }, day(selected)),
      chosen.length ? h("ul", { class: "agenda-list" }, chosen.map((ev) => h("li", {}, eventCard(ev, ctx)))) : h("p", { class: "muted" }, t("Nothing on this day.")),
    ),
  );
}
