// School events and absences as the client sees them (API.md "Events, reminders and absences"):
// where each list lives, which live channel carries its changes, and one reading of an event
// whatever optional fields the server adds. Views build on this; nothing here draws.

import * as api from "./api.js";
import { clock, dayKey, zonedIso } from "./format.js";

/** Reminder choices a staff member can tick, in the order shown. */
export const REMINDERS = ["evening_before", "morning_of"];
/** School-local wall-clock times of the reminders, and where an all-day event "starts". */
const EVENING = "18:00";
const MORNING = "07:30";
export const ALL_DAY_START = "08:00";
/** What a guardian is asked for an event. */
export const RSVP = ["none", "attendance", "consent"];
/** Why a pupil is away. */
export const REASONS = ["illness", "medical", "family", "other"];

/** A calendar: the school's or one class's (`classId`), with its REST path and live channel. */
export function source(school, classId = null) {
  if (classId) return { classId: Number(classId), path: `/api/classes/${classId}/events`, channel: `class:${classId}` };
  return { classId: null, path: "/api/school/events", channel: school && school.id ? `school:${school.id}` : null };
}

function addDays(key, n) {
  const d = new Date(`${key}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** The reminder instants (API: before the start) for the chosen reminder names. */
export function reminderInstants(names, startsAt) {
  const day = dayKey(startsAt);
  const start = new Date(startsAt).getTime();
  const out = [];
  if (names.includes("evening_before")) out.push(zonedIso(addDays(day, -1), EVENING));
  if (names.includes("morning_of")) {
    const morning = zonedIso(day, MORNING);
    // An event before half past seven: an hour before it instead.
    out.push(new Date(morning).getTime() < start ? morning : new Date(start - 3600_000).toISOString());
  }
  return out;
}

/** The reminder names of an event's instants: the day before, or the day itself. */
function reminderNames(instants, startsAt) {
  const day = dayKey(startsAt);
  const names = new Set();
  for (const at of instants) names.add(dayKey(at) < day ? "evening_before" : "morning_of");
  return [...names];
}

/** An event read the same way whichever optional fields the server sent. */
export function normalise(raw) {
  const ev = { ...raw };
  ev.cancelled = Boolean(raw.cancelled || raw.cancelled_at || raw.status === "cancelled");
  ev.all_day = Boolean(raw.all_day);
  ev.rsvp = raw.rsvp || "none";
  ev.remind_at = reminderNames(Array.isArray(raw.remind_at) ? raw.remind_at : [], raw.series_starts_at || raw.starts_at);
  ev.deadline = raw.respond_by || raw.deadline || null;
  ev.day = dayKey(raw.starts_at);
  ev.key = `${raw.id}@${raw.starts_at}`;
  return ev;
}

/**
 * A weekly event's occurrences between two day keys (the same local wall-clock time each week,
 * skipping its exception dates and the school's closure days); a one-off event as it is.
 */
export function occurrences(raw, from, to, closures = []) {
  const rule = raw.recurrence;
  if (!rule || rule.freq !== "weekly" || !rule.until) return [raw];
  const skip = new Set([...(rule.exceptions || []), ...closures].map(String));
  const first = dayKey(raw.starts_at);
  const wall = clock(raw.starts_at);
  const length = raw.ends_at ? new Date(raw.ends_at).getTime() - new Date(raw.starts_at).getTime() : null;
  const out = [];
  for (let day = first, i = 0; day <= rule.until && i < 60; day = addDays(day, 7), i += 1) {
    if ((to && day > to) || skip.has(day)) continue;
    if (from && day < from) continue;
    const starts = zonedIso(day, wall);
    const ends = length === null ? null : new Date(new Date(starts).getTime() + length).toISOString();
    out.push({ ...raw, starts_at: starts, ends_at: ends, series_starts_at: raw.starts_at, series_ends_at: raw.ends_at });
  }
  return out;
}

/** Every event of `sources` between two day keys, oldest first, each tagged with where it came from. */
export async function loadEvents(sources, from, to, signal, closures = []) {
  const lists = await Promise.all(
    sources.map(async (src) => {
      const reply = await api.get(`${src.path}${api.qs({ from, to })}`, { signal });
      const items = Array.isArray(reply) ? reply : (reply && (reply.items || reply.events)) || [];
      return items.flatMap((raw) => occurrences(raw, from, to, closures).map((one) => ({ ...normalise(one), source: src })));
    }),
  );
  const seen = new Map();
  for (const ev of lists.flat()) if (!seen.has(ev.key)) seen.set(ev.key, ev);
  return [...seen.values()]
    .filter((ev) => (!from || ev.day >= from) && (!to || ev.day <= to))
    .sort((a, b) => String(a.starts_at).localeCompare(String(b.starts_at)));
}

/** One event by id (for a page opened from a link or a notification). */
export async function loadEvent(id, signal) {
  const reply = await api.get(`/api/events/${id}`, { signal });
  return normalise(reply.event || reply);
}

/** The guardian's own answers on an event, as Map(student_id → {answer, note}). */
export async function myAnswers(ev, signal) {
  const out = new Map();
  const reply = await api.get(`/api/events/${ev.id}/responses/mine`, { signal });
  for (const row of (reply && reply.items) || []) {
    const id = row.student_id || (row.student && row.student.id);
    if (id && row.answer) out.set(Number(id), { answer: row.answer, note: row.note || "" });
  }
  return out;
}

/** Whether answers can still change: before the deadline (or the start) and not cancelled. */
export function open(ev, now = Date.now()) {
  if (ev.cancelled) return false;
  const until = ev.deadline || ev.starts_at;
  return !until || new Date(until).getTime() > now;
}

/** Staff's view of the replies: answered yes, no, not yet, and pupils nobody can answer for. */
export function readResponses(reply) {
  const rows = (reply && (reply.items || reply.responses || reply.students)) || [];
  const groups = { yes: [], no: [], waiting: [], unreachable: [] };
  const seen = new Set();
  const add = (row, forced) => {
    const student = row.student || { id: row.student_id, name: row.student_name || row.name };
    if (!student || seen.has(student.id)) return;
    seen.add(student.id);
    const entry = { student, answer: row.answer || null, note: row.note || "", by: row.answered_by || row.guardian || null };
    const unreachable = row.no_guardian || row.has_guardian === false || (Array.isArray(row.guardians) && !row.guardians.length);
    if (forced) groups[forced].push(entry);
    else if (entry.answer === "yes") groups.yes.push(entry);
    else if (entry.answer === "no") groups.no.push(entry);
    else if (unreachable) groups.unreachable.push(entry);
    else groups.waiting.push(entry);
  };
  const answered = new Set(rows.filter((r) => r.answer).map((r) => (r.student ? r.student.id : r.student_id)));
  // Nobody can answer for a pupil without a guardian account, unless someone already did.
  for (const row of (reply && reply.no_guardian) || []) if (!answered.has(row.id)) add({ student: row }, "unreachable");
  for (const row of rows) add(row);
  return groups;
}

/** An absence read the same way whichever optional fields the server sent. */
export function absence(raw) {
  const student = raw.student || { id: raw.student_id, name: raw.student_name };
  return {
    ...raw,
    student,
    classId: raw.class_id || student.class_id || (raw.class && raw.class.id) || null,
    className: raw.class_name || student.class_name || (raw.class && raw.class.name) || "",
    from: raw.from || raw.from_date || raw.starts_on,
    to: raw.to || raw.to_date || raw.ends_on || raw.from,
    acknowledged: Boolean(raw.acknowledged || raw.acknowledged_at || raw.acknowledged_by),
  };
}
