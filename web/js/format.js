// Dates, times, numbers and text direction in the reader's own language (Intl).

import { interfaceLanguage } from "./i18n.js";

const RTL = new Set(["ar", "fa", "ps", "ur", "he", "yi", "dv", "ckb", "sd", "ug"]);

let locale = "en-GB";
let timeZone; // the browser's own unless set

export function base(code) {
  return String(code || "en").split(/[-_]/)[0].toLowerCase();
}

export function isRtl(code) {
  return RTL.has(base(code));
}

export function dirOf(code) {
  return isRtl(code) ? "rtl" : "ltr";
}

/** Use `language` (BCP 47) for every date and number from now on, and lay the page out for it. */
export function setLocale(language) {
  const code = language || "en";
  // English readers in a UK school get day-month dates; other languages their own defaults.
  locale = base(code) === "en" && !code.includes("-") ? "en-GB" : code;
  try {
    new Intl.DateTimeFormat(locale);
  } catch {
    locale = "en-GB";
  }
  document.documentElement.lang = code;
  document.documentElement.dir = dirOf(code);
}

export function setTimeZone(zone) {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    timeZone = zone;
  } catch {
    timeZone = undefined;
  }
}

export function getLocale() {
  return locale;
}

export function number(value) {
  return new Intl.NumberFormat(locale).format(value || 0);
}

export function date(iso, options = { day: "numeric", month: "short", year: "numeric" }) {
  if (!iso) return "";
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return "";
  return new Intl.DateTimeFormat(locale, { ...options, timeZone }).format(when);
}

export function dateTime(iso) {
  return date(iso, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

export function time(iso) {
  return date(iso, { hour: "2-digit", minute: "2-digit" });
}

/** "5 minutes ago", "yesterday", or a date when it is more than a week old. */
export function relative(iso, now = Date.now()) {
  if (!iso) return "";
  const when = new Date(iso).getTime();
  if (Number.isNaN(when)) return "";
  const seconds = Math.round((when - now) / 1000);
  const abs = Math.abs(seconds);
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  if (abs < 45) return rtf.format(0, "second");
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), "hour");
  if (abs < 7 * 86400) return rtf.format(Math.round(seconds / 86400), "day");
  return date(iso);
}

/** A <time> element showing a relative time, with the full date as its tooltip. */
export function timeEl(iso) {
  const el = document.createElement("time");
  if (!iso) return el;
  el.dateTime = iso;
  el.textContent = relative(iso);
  el.title = dateTime(iso);
  return el;
}

/** The name of a language in the interface's own language ("Spanish", "español", "西班牙语"). */
export function languageName(code) {
  try {
    return new Intl.DisplayNames([interfaceLanguage().replace("_", "-"), "en"], { type: "language" }).of(code) || code;
  } catch {
    return code;
  }
}

/** "Amal, Ben and Chen" in the reader's language; each name isolated for mixed-direction text. */
export function list(names) {
  const isolated = names.map((name) => `\u2068${name}\u2069`);
  try {
    return new Intl.ListFormat(locale, { style: "long", type: "conjunction" }).format(isolated);
  } catch {
    return isolated.join(", ");
  }
}

/** The school-local day of a moment, as "YYYY-MM-DD" (for grouping events by day). */
export function dayKey(iso) {
  const when = iso instanceof Date ? iso : new Date(iso);
  if (Number.isNaN(when.getTime())) return "";
  const parts = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone }).formatToParts(when);
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")}`;
}

/** A day key ("2026-03-04") shown in the reader's language; the options as for date(). */
export function day(key, options = { weekday: "long", day: "numeric", month: "long" }) {
  if (!key) return "";
  // Noon UTC of that day is the same calendar day in every school's time zone.
  return new Intl.DateTimeFormat(locale, { ...options, timeZone: "UTC" }).format(new Date(`${key}T12:00:00Z`));
}

function offsetMinutes(ms) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  }).formatToParts(new Date(ms));
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  const local = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour") % 24, get("minute"));
  return Math.round((local - Math.floor(ms / 60000) * 60000) / 60000);
}

/** "2026-03-04" and "09:30" in the school's time zone as ISO 8601 with its offset. */
export function zonedIso(key, clockText = "00:00") {
  const [y, m, d] = key.split("-").map(Number);
  const [hh, mm] = clockText.split(":").map(Number);
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  let utc = wall - offsetMinutes(wall) * 60000;
  utc = wall - offsetMinutes(utc) * 60000;
  const offset = offsetMinutes(utc);
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  const pad = (n) => String(n).padStart(2, "0");
  return `${key}T${pad(hh)}:${pad(mm)}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The school-local wall clock of a moment as "HH:MM" (for time inputs). */
export function clock(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone }).format(new Date(iso));
}
