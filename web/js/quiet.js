// Quiet time (P7): whether the school is inside its working hours right now, and when
// it next opens, worked out from the school's settings in the school's time zone.

import { getLocale } from "./format.js";

const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const DEFAULT_HOURS = { mon: ["08:00", "17:00"], tue: ["08:00", "17:00"], wed: ["08:00", "17:00"], thu: ["08:00", "17:00"], fri: ["08:00", "17:00"], sat: null, sun: null };

function partsIn(zone, when) {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    weekday: "short",
  }).formatToParts(when);
  const get = (type) => (parts.find((p) => p.type === type) || {}).value;
  return {
    ymd: `${get("year")}-${get("month")}-${get("day")}`,
    minutes: Number(get("hour")) * 60 + Number(get("minute")),
    day: get("weekday").slice(0, 3).toLowerCase(),
  };
}

function toMinutes(hhmm) {
  const [h, m] = String(hhmm).split(":").map(Number);
  return h * 60 + (m || 0);
}

function addDays(ymd, n) {
  const d = new Date(`${ymd}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/**
 * {quiet: boolean, opensDay, opensAt} for the school now. `opensDay` is a weekday name in the
 * reader's language ("Monday", "lunes") or "today"/"tomorrow"; `opensAt` is "08:00".
 */
export function quietState(school, now = new Date()) {
  const zone = (school && school.timezone) || "Europe/London";
  const hours = (school && school.working_hours) || DEFAULT_HOURS;
  const closed = new Set((school && school.closure_days) || []);
  let here;
  try {
    here = partsIn(zone, now);
  } catch {
    here = partsIn("Europe/London", now);
  }
  const today = hours[here.day];
  const open =
    !closed.has(here.ymd) &&
    Array.isArray(today) &&
    here.minutes >= toMinutes(today[0]) &&
    here.minutes < toMinutes(today[1]);
  if (open) return { quiet: false };
  for (let i = 0; i < 21; i += 1) {
    const ymd = addDays(here.ymd, i);
    const dayKey = DAYS[new Date(`${ymd}T12:00:00Z`).getUTCDay()];
    const span = hours[dayKey];
    if (!Array.isArray(span) || closed.has(ymd)) continue;
    if (i === 0 && here.minutes >= toMinutes(span[0])) continue;
    const rtf = new Intl.RelativeTimeFormat(getLocale(), { numeric: "auto" });
    const opensDay =
      i === 0
        ? rtf.format(0, "day")
        : i === 1
          ? rtf.format(1, "day")
          : new Intl.DateTimeFormat(getLocale(), { weekday: "long", timeZone: "UTC" }).format(new Date(`${ymd}T12:00:00Z`));
    return { quiet: true, opensDay, opensAt: span[0] };
  }
  return { quiet: true, opensDay: null, opensAt: null };
}
