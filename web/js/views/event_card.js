// One event as a card in a list: when (or "All day"), title, place, what is asked of families,
// and "Cancelled" with the text struck through. Also the events seen lately, so an event's own
// page opens at once from the calendar.

import { h, icon } from "../dom.js";
import { time } from "../format.js";
import { N_, t } from "../i18n.js";

const seen = new Map();

/** Keep `ev` for its page (opened from the calendar). */
export function remember(ev) {
  seen.set(Number(ev.id), ev);
}

export function remembered(id) {
  return seen.get(Number(id)) || null;
}

const ASKS = { attendance: N_("Please reply"), consent: N_("Consent needed") };

/** "All day", "09:00", or "09:00 – 10:30". */
export function whenText(ev) {
  if (ev.all_day) return t("All day");
  const start = time(ev.starts_at);
  return ev.ends_at ? `${start} – ${time(ev.ends_at)}` : start;
}

export function eventCard(ev, ctx) {
  const place = ev.source && ev.source.classId ? className(ctx, ev.source.classId) : null;
  return h(
    "a",
    {
      class: `card event-card${ev.cancelled ? " is-cancelled" : ""}`,
      href: `#/event/${ev.id}`,
      dataset: { eventId: ev.id },
    },
    h("span", { class: "event-when" }, whenText(ev)),
    h(
      "span",
      { class: "event-main" },
      h("span", { class: "event-title", dir: "auto" }, ev.cancelled ? h("s", {}, ev.title) : ev.title),
      ev.location ? h("span", { class: "event-where", dir: "auto" }, icon("pin", "icon-small"), ev.location) : null,
      h(
        "span",
        { class: "event-tags" },
        ev.cancelled ? h("span", { class: "badge badge-cancelled" }, t("Cancelled")) : null,
        !ev.cancelled && ASKS[ev.rsvp] ? h("span", { class: "badge badge-warn" }, t(ASKS[ev.rsvp])) : null,
        ev.recurrence ? h("span", { class: "chip" }, t("Every week")) : null,
        place ? h("span", { class: "chip" }, place) : null,
      ),
    ),
  );
}

function className(ctx, id) {
  const kid = (ctx.me.children || []).find((c) => c.class_id === id && c.class_name);
  if (kid) return kid.class_name;
  const cls = (ctx.me.classes || []).find((c) => c.id === id);
  return cls ? cls.name : null;
}
