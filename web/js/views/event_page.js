// One event's page (`/event/:id`): what, when, where; for a family the answer form, for staff
// the answers, and changing or cancelling it. A change or cancellation shows at once.

import * as api from "../api.js";
import { Role, STAFF_ROLES } from "../contract.js";
import { h, icon, mount } from "../dom.js";
import { base, day, dayKey, languageName } from "../format.js";
import { t } from "../i18n.js";
import { busy, confirmDialog, empty, loading, messageOf, pageTitle } from "../ui.js";
import { loadEvent, normalise, source } from "../events_api.js";
import { remember, remembered, whenText } from "./event_card.js";
import { editEvent } from "./event_form.js";
import { replyForm } from "./event_reply.js";
import { responsesPanel } from "./event_responses.js";

async function find(ctx, id) {
  const cached = remembered(id);
  if (cached) return cached;
  try {
    const ev = await loadEvent(id, ctx.scope.signal);
    remember(ev);
    return ev;
  } catch (err) {
    if (err.name === "AbortError") throw err;
    return null;
  }
}

export async function eventPage(ctx) {
  mount(ctx.root, loading());
  let ev = await find(ctx, ctx.params.id);
  if (!ev) {
    mount(ctx.root, pageTitle(t("Event")), empty(t("This event is not on your calendar."), null, "calendar"), h("a", { class: "button", href: "#/calendar" }, t("Back to the calendar")));
    return;
  }
  const staff = STAFF_ROLES.includes(ctx.me.role);
  const classId = ev.class_id || (ev.source && ev.source.classId) || null;

  const articleHost = h("div", {});
  const replyHost = h("div", {});
  const answers = staff && ev.rsvp !== "none" ? responsesPanel(ctx, ev) : null;

  let showOriginal = false;

  /** Title and details as the reader reads them, with the original one tap away (like posts). */
  function texts() {
    const original = ev.original || null;
    const translated = ev.translation && ev.translation.status === "ready" && original && original.lang !== ev.lang;
    const pick = translated && showOriginal ? original : ev;
    const lang = translated && showOriginal ? original.lang : ev.lang;
    let note = null;
    if (translated) {
      const toggle = h("button", { type: "button", class: "link-button see-original", "aria-pressed": showOriginal ? "true" : "false" }, showOriginal ? t("See translation") : t("See original"));
      toggle.addEventListener("click", () => {
        showOriginal = !showOriginal;
        draw();
      });
      note = h("p", { class: "translated-note" }, icon("globe", "icon-small"), t("Translated from {language}", { language: languageName(original.lang) }) + " · ", toggle);
    } else if (ev.translation && ev.translation.status === "pending") {
      note = h("p", { class: "translated-note is-pending" }, icon("globe", "icon-small"), t("Translating…"));
    }
    return { title: pick.title, details: pick.details, lang: lang || null, note };
  }

  function draw() {
    const shown = texts();
    const actions = staff && !ev.cancelled
      ? h(
          "div",
          { class: "row" },
          h("button", { type: "button", class: "button", dataset: { action: "edit" }, onclick: () => editEvent(ctx, null, ev, reload) }, t("Change")),
          h("button", { type: "button", class: "button button-danger", dataset: { action: "cancel-event" }, onclick: cancel }, t("Cancel the event")),
        )
      : null;
    const focused = ctx.root.contains(document.activeElement);
    mount(
      articleHost,
      h(
        "article",
        { class: `card event-page${ev.cancelled ? " is-cancelled" : ""}`, dataset: { eventId: ev.id } },
        h("h1", { class: "page-title", tabindex: "-1", dir: "auto", lang: shown.lang }, ev.cancelled ? h("s", {}, shown.title) : shown.title),
        ev.cancelled ? h("p", { class: "badge badge-cancelled", role: "status" }, t("Cancelled")) : null,
        h("p", { class: "event-page-when" }, icon("calendar", "icon-small"), day(dayKey(ev.starts_at)), " · ", whenText(ev)),
        ev.recurrence && ev.recurrence.until ? h("p", { class: "muted" }, t("Every week until {date}", { date: day(ev.recurrence.until) })) : null,
        ev.location ? h("p", { class: "event-where", dir: "auto" }, icon("pin", "icon-small"), ev.location) : null,
        shown.details ? h("p", { class: "event-details", dir: "auto", lang: shown.lang }, shown.details) : null,
        shown.note,
        actions,
      ),
    );
    if (ctx.me.role === Role.PARENT && ev.rsvp !== "none" && (!focused || ev.cancelled)) mount(replyHost, replyForm(ctx, ev));
  }

  mount(ctx.root, h("a", { class: "back-link", href: "#/calendar" }, icon("back", "icon-small"), t("Calendar")), articleHost, replyHost, answers);

  async function reload() {
    try {
      ev = { ...(await loadEvent(ev.id)), source: ev.source };
    } catch {
      // no single-event endpoint: the live frame or the calendar brings the change
    }
    remember(ev);
    draw();
  }

  async function cancel(event) {
    const yes = await confirmDialog(t("Cancel the event?"), t("Families will see it struck through as cancelled, and they are told."), t("Cancel the event"));
    if (!yes) return;
    try {
      await busy(event.target, () => api.del(`/api/events/${ev.id}`));
      ev = { ...ev, cancelled: true };
      remember(ev);
      draw();
    } catch (err) {
      ctx.toast(messageOf(err), "error");
    }
  }

  draw();
  const channel = classId ? source(ctx.school, classId).channel : source(ctx.school).channel;
  if (channel) {
    ctx.scope.live(channel, {
      event(frame) {
        const d = frame.data || {};
        const raw = d.event || d;
        if (!String(frame.type).startsWith("event.") || Number(raw.id || d.event_id) !== Number(ev.id)) return;
        if (frame.type === "event.translated") {
          if (base(d.lang) !== base(ctx.me.language) || !["title", "details"].includes(d.field)) return;
          const done = ["title", "details"].every((f) => f === d.field || !(ev.original && ev.original[f]) || ev[f] !== ev.original[f]);
          ev = { ...ev, [d.field]: d.text, ...(done ? { lang: d.lang, translation: { status: "ready" } } : {}) };
          remember(ev);
          draw();
          return;
        }
        ev = raw.starts_at ? { ...normalise(raw), source: ev.source } : { ...ev };
        if (frame.type === "event.cancelled") ev.cancelled = true;
        remember(ev);
        draw();
      },
      reset: reload,
    });
  }
}
