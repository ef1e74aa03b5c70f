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
