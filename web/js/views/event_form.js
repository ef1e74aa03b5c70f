// Staff: a new event, or changes to one, in a dialog — title, details, day and times (or all
// day), place, what families are asked (nothing, attendance, consent) and the reminders.

import * as api from "../api.js";
import { h, field, uid } from "../dom.js";
import { clock, dayKey, zonedIso } from "../format.js";
import { N_, t } from "../i18n.js";
import { busy, dialog, errorLine, messageOf } from "../ui.js";
import { ALL_DAY_START, REMINDERS, RSVP, reminderInstants } from "../events_api.js";

const RSVP_LABELS = { none: N_("Nothing to answer"), attendance: N_("Ask who is coming"), consent: N_("Ask for consent (a trip)") };
const REMINDER_LABELS = { evening_before: N_("The evening before"), morning_of: N_("The morning of") };

function input(name, type, value, extra = {}) {
  return h("input", { class: "input", name, type, value: value || "", ...extra });
}

/** Open the form for a new event in `target` (a source), or for `ev`; `done()` after saving. */
export function editEvent(ctx, target, ev, done) {
  // A weekly event is changed as a series: from its first day.
  const starts = ev ? ev.series_starts_at || ev.starts_at : null;
  const ends = ev ? (ev.series_starts_at ? ev.series_ends_at : ev.ends_at) : null;
  const error = errorLine();
  const title = input("title", "text", ev && ev.title, { required: true, maxlength: 200, dir: "auto" });
  const details = h("textarea", { class: "input", name: "details", rows: 3, dir: "auto" });
  details.value = (ev && ev.details) || "";
  const allDay = h("input", { type: "checkbox", class: "check", name: "all_day", checked: ev ? ev.all_day : false });
  const dayInput = input("day", "date", starts ? dayKey(starts) : dayKey(new Date()), { required: true });
  const startInput = input("start", "time", ev && !ev.all_day ? clock(starts) : "09:00");
  const endInput = input("end", "time", ends && !ev.all_day ? clock(ends) : "");
  const location = input("location", "text", ev && ev.location, { maxlength: 200, dir: "auto" });
  const rsvp = h(
    "select",
    { class: "input", name: "rsvp" },
    RSVP.map((value) => h("option", { value, selected: (ev ? ev.rsvp : "none") === value }, t(RSVP_LABELS[value]))),
  );
  // The server gives the start as the deadline when none was set: show that as none.
  const ownDeadline = ev && ev.deadline && new Date(ev.deadline).getTime() !== new Date(starts).getTime();
  const deadline = input("deadline", "date", ownDeadline ? dayKey(ev.deadline) : "");
  const deadlineField = field(t("Reply by (optional)"), deadline);
  const reminders = REMINDERS.map((value) => {
    const id = uid("remind");
    const box = h("input", { type: "checkbox", class: "check", id, name: "remind_at", value, checked: ev ? ev.remind_at.includes(value) : value === "evening_before" });
    return h("label", { class: "check-row", for: id }, box, t(REMINDER_LABELS[value]));
  });
  const times = h("div", { class: "field-pair" }, field(t("Starts"), startInput), field(t("Ends (optional)"), endInput));
  // Every week (PE kit on Mondays): the school's closure days are skipped by the server.
  const rule = ev && ev.recurrence && ev.recurrence.freq === "weekly" ? ev.recurrence : null;
  const weekly = h("input", { type: "checkbox", class: "check", name: "weekly", checked: Boolean(rule) });
  const until = input("until", "date", rule ? rule.until : "");
  const untilField = field(t("Until (the last week)"), until);
  const askField = field(t("Ask families"), rsvp);
  const sync = () => {
    times.hidden = allDay.checked;
    untilField.hidden = !weekly.checked;
    // A weekly event does not ask for replies.
    askField.hidden = weekly.checked;
    deadlineField.hidden = weekly.checked || rsvp.value === "none";
  };
  allDay.addEventListener("change", sync);
  rsvp.addEventListener("change", sync);
  weekly.addEventListener("change", () => {
    if (weekly.checked && !until.value && dayInput.value) {
      const end = new Date(`${dayInput.value}T12:00:00Z`);
      end.setUTCDate(end.getUTCDate() + 7 * 12);
      until.value = end.toISOString().slice(0, 10);
    }
    sync();
  });
  sync();

  const save = h("button", { type: "submit", class: "button button-primary" }, ev ? t("Save changes") : t("Add to the calendar"));
  const form = h(
    "form",
    { class: "stack event-form", novalidate: true },
    field(t("Title"), title),
    field(t("Details (optional)"), details),
    field(t("Day"), dayInput),
    h("label", { class: "check-row" }, allDay, t("All day")),
    times,
    field(t("Place (optional)"), location),
    h("label", { class: "check-row" }, weekly, t("Every week")),
    untilField,
    askField,
    deadlineField,
    h("fieldset", { class: "checks" }, h("legend", {}, t("Remind families")), reminders),
    error.el,
    h("div", { class: "dialog-actions" }, save),
  );
  const el = dialog(ev ? t("Change the event") : t("New event"), form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.clear();
    if (!title.value.trim() || !dayInput.value || (weekly.checked && (!until.value || until.value < dayInput.value))) {
      error.show(t("Please give the event a title and a day."));
      return;
    }
    const startsAt = zonedIso(dayInput.value, allDay.checked ? ALL_DAY_START : startInput.value || "09:00");
    const chosen = reminders.map((l) => l.querySelector("input")).filter((b) => b.checked).map((b) => b.value);
    const body = {
      title: title.value.trim(),
      details: details.value.trim(),
      all_day: allDay.checked,
      starts_at: startsAt,
      ends_at: !allDay.checked && endInput.value ? zonedIso(dayInput.value, endInput.value) : null,
      location: location.value.trim(),
      rsvp: weekly.checked ? "none" : rsvp.value,
      respond_by: !weekly.checked && rsvp.value !== "none" && deadline.value && zonedIso(deadline.value, "23:59") < startsAt ? zonedIso(deadline.value, "23:59") : null,
      remind_at: reminderInstants(chosen, startsAt),
      recurrence: weekly.checked ? { freq: "weekly", until: until.value, exceptions: rule ? rule.exceptions || [] : [] } : null,
    };
    try {
      await busy(save, () => (ev ? api.patch(`/api/events/${ev.id}`, body) : api.post(target.path, body)));
      el.close();
      ctx.toast(ev ? t("Changes saved. Families see them now.") : t("Added to the calendar."));
      if (done) done();
    } catch (err) {
      error.show(messageOf(err));
    }
  });
  title.focus();
  return el;
}
