// Translation in the client, shared by the views that show what people wrote:
// the "not translated" line, the one-time note for a family whose language no
// engine reaches, and the "Report translation" control next to "See original".

import * as api from "./api.js";
import { h, icon, uid, focus } from "./dom.js";
import { base, dirOf, languageName } from "./format.js";
import { busy, dialog, errorLine, messageOf, toast } from "./ui.js";
import { N_, t, tn } from "./i18n.js";

const NOTE_KEY = "homeroom.no-translation-note";

/** "Not translated: Polish" for a text no engine could put into the reader's language. */
export function notTranslatedLine(lang) {
  return h("span", { class: "not-translated" }, icon("globe", "icon-small"), t("Not translated: {language}", { language: languageName(lang) }));
}

/**
 * For a family whose language has no translation engine: a plain note, shown once
 * (remembered in this browser), put at the top of `root`.
 */
export async function noteMissingLanguageOnce(root, me) {
  if (!me || me.role !== "parent" || !me.language || me.language === "en") return;
  const key = `${NOTE_KEY}.${me.id}.${me.language}`;
  try {
    if (localStorage.getItem(key)) return;
  } catch {
    return;
  }
  let reply;
  try {
    reply = await api.get("/api/languages");
  } catch {
    return;
  }
  const entry = (reply.items || []).find((item) => item.code === me.language);
  if (!entry || entry.available) return;
  try {
    localStorage.setItem(key, "1");
  } catch {
    // private mode: the note may show again
  }
  const ok = h("button", { type: "button", class: "link-button" }, t("OK"));
  const note = h(
    "p",
    { class: "notice notice-info translation-note", role: "note" },
    icon("globe", "icon-small"),
    t("Homeroom cannot translate into {language} yet, so posts and messages are shown as the school wrote them.", { language: entry.name }) + " ",
    ok,
  );
  ok.addEventListener("click", () => note.remove());
  root.prepend(note);
}

/** The "Report translation" button: the reader says a translation is wrong. */
export function reportTranslationButton(kind, id, lang) {
  const button = h("button", { type: "button", class: "link-button report-translation" }, t("Report translation"));
  button.addEventListener("click", () => reportTranslation(kind, id, lang));
  return button;
}

function reportTranslation(kind, id, lang) {
  const reason = h("textarea", { class: "input", rows: "3", maxlength: "1000", id: uid("why") });
  const error = errorLine();
  const send = h("button", { type: "button", class: "button button-primary" }, t("Send"));
  const dlg = dialog(
    t("Report translation"),
    h(
      "div",
      { class: "stack" },
      h("p", {}, t("The school's leaders will see the translation and the original.")),
      h("div", { class: "field" }, h("label", { for: reason.id }, t("What is wrong? (optional)")), reason),
      error.el,
    ),
    [send],
  );
  send.addEventListener("click", () =>
    busy(send, async () => {
      try {
        await api.post("/api/translations/report", { kind, id, lang, reason: reason.value.trim() });
        dlg.close();
        toast(t("Thank you. The school will look at it."));
      } catch (err) {
        error.show(messageOf(err));
      }
    }),
  );
  focus(reason);
}

const ACTIVITY_FIELDS = ["title", "instructions"];

/**
 * An activity's title, due line and instructions as the reader reads them, with
 * "See original" when translated. `box.translated(data)` takes an `activity.translated`
 * event's data and switches that field in place (the rest of the card, a half-written
 * answer included, is left alone).
 */
export function activityBody(initial, me, { heading = "h3", due = null } = {}) {
  let a = initial;
  let showOriginal = false;
  const box = h("div", { class: "activity-body" });
  const draw = () => {
    const original = a.original;
    const translated = a.translation && a.translation.status === "ready" && original && original.lang !== a.lang;
    const show = translated && showOriginal ? original : a;
    const lang = show.lang || null;
    const attrs = (cls) => ({ class: cls, lang, dir: lang ? dirOf(lang) : null });
    let note = null;
    if (translated) {
      const toggle = h("button", { type: "button", class: "link-button see-original", "aria-pressed": showOriginal ? "true" : "false" }, showOriginal ? t("See translation") : t("See original"));
      toggle.addEventListener("click", () => {
        showOriginal = !showOriginal;
        draw();
        box.querySelector(".see-original")?.focus();
      });
      note = h("p", { class: "translated-note" }, icon("globe", "icon-small"), t("Translated from {language}", { language: languageName(original.lang) }) + " · ", toggle);
    } else if (a.translation && a.translation.status === "pending") {
      note = h("p", { class: "translated-note is-pending" }, icon("globe", "icon-small"), t("Translating…"));
    }
    box.replaceChildren(
      ...[h(heading, attrs("activity-title"), show.title), due, show.instructions ? h("p", attrs("activity-text"), show.instructions) : null, note].filter(Boolean),
    );
  };
  box.translated = (data) => {
    if (!data || !ACTIVITY_FIELDS.includes(data.field) || (me && base(data.lang) !== base(me.language))) return;
    const original = a.original || { title: a.title, instructions: a.instructions, lang: a.lang || "en" };
    if (original.lang === data.lang) return;
    const done = new Set(a.translatedFields || ACTIVITY_FIELDS.filter((f) => original[f] && a[f] !== original[f]));
    done.add(data.field);
    const ready = ACTIVITY_FIELDS.every((f) => !original[f] || done.has(f));
    a = {
      ...a,
      [data.field]: data.text,
      original,
      translatedFields: [...done],
      lang: ready ? data.lang : original.lang,
      translation: { status: ready ? "ready" : "pending" },
    };
    draw();
  };
  draw();
  return box;
}
