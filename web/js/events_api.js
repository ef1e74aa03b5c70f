// School events and absences as the client sees them (API.md "Events, reminders and absences"):
// where each list lives, which live channel carries its changes, and one reading of an event
// whatever optional fields the server adds. Views build on this; nothing here draws.

import * as api from "./api.js";
import { dayKey } from "./format.js";

/** Reminder choices a staff member can tick, in the order shown. */
export const REMINDERS = ["evening_before", "morning_of"];
/** What a guardian is asked for an event. */
export const RSVP = ["none", "attendance", "consent"];
/** Why a pupil is away. */
export const REASONS = ["illness", "medical", "family", "other"];

/** A calendar: the school's or one class's (`classId`), with its REST path and live channel. */
export function source(school, classId = null) {
  if (classId) return { classId: Number(classId), path: `/api/classes/${classId}/events`, channel: `class:${classId}` };
  return { classId: null, path: "/api/school/events", channel: school && school.id ? `school:${school.id}` : null };
}

/** An event read the same way whichever optional fields the server sent. */
export function normalise(raw) {
  const ev = { ...raw };
  ev.cancelled = Boolean(raw.cancelled || raw.cancelled_at || raw.status === "cancelled");
  ev.all_day = Boolean(raw.all_day);
  ev.rsvp = raw.rsvp || "none";
  ev.remind_at = Array.isArray(raw.remind_at) ? raw.remind_at : [];
  ev.deadline = raw.deadline || raw.respond_by || null;
  ev.day = dayKey(raw.starts_at);
  ev.key = `${raw.id}@${raw.starts_at}`;
  return ev;
}

/** Every event of `sources` between two day keys, oldest first, each tagged with where it came from. */
export async function loadEvents(sources, from, to, signal) {
  const lists = await Promise.all(
    sources.map(async (src) => {
      const reply = await api.get(`${src.path}${api.qs({ from, to })}`, { signal });
      const items = Array.isArray(reply) ? reply : (reply && (reply.items || reply.events)) || [];
      return items.map((raw) => ({ ...normalise(raw), source: src }));
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
export function myAnswers(ev) {
  const out = new Map();
  const given = ev.my_responses || ev.responses || [];
  const rows = Array.isArray(given) ? given : Object.entries(given).map(([id, r]) => ({ student_id: Number(id), ...r }));
  for (const row of rows) {
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
  for (const row of rows) add(row);
  for (const row of (reply && reply.no_guardian) || []) add(row.student ? row : { student: row }, "unreachable");
  for (const row of (reply && reply.not_answered) || []) add(row.student ? row : { student: row }, "waiting");
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
    acknowledged: Boolean(raw.acknowledged || raw.acknowledged_at),
  };
}
