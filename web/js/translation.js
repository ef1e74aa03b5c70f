// Translation in the client, shared by the views that show what people wrote:
// the "not translated" line, the one-time note for a family whose language no
// engine reaches, and the "Report translation" control next to "See original".

import * as api from "./api.js";
import { h, icon, uid, focus } from "./dom.js";
import { languageName } from "./format.js";
import { busy, dialog, errorLine, messageOf, toast } from "./ui.js";

const NOTE_KEY = "homeroom.no-translation-note";

/** "Not translated: Polish" for a text no engine could put into the reader's language. */
export function notTranslatedLine(lang) {
  return h("span", { class: "not-translated" }, icon("globe", "icon-small"), `Not translated: ${languageName(lang)}`);
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
  const ok = h("button", { type: "button", class: "link-button" }, "OK");
  const note = h(
    "p",
    { class: "notice notice-info translation-note", role: "note" },
    icon("globe", "icon-small"),
    `Homeroom cannot translate into ${entry.name} yet, so posts and messages are shown as the school wrote them. `,
    ok,
  );
  ok.addEventListener("click", () => note.remove());
  root.prepend(note);
}

/** The "Report translation" button: the reader says a translation is wrong. */
export function reportTranslationButton(kind, id, lang) {
  const button = h("button", { type: "button", class: "link-button report-translation" }, "Report translation");
  button.addEventListener("click", () => reportTranslation(kind, id, lang));
  return button;
}

function reportTranslation(kind, id, lang) {
  const reason = h("textarea", { class: "input", rows: "3", maxlength: "1000", id: uid("why") });
  const error = errorLine();
  const send = h("button", { type: "button", class: "button button-primary" }, "Send");
  const dlg = dialog(
    "Report translation",
    h(
      "div",
      { class: "stack" },
      h("p", {}, "The school's leaders will see the translation and the original."),
      h("div", { class: "field" }, h("label", { for: reason.id }, "What is wrong? (optional)"), reason),
      error.el,
    ),
    [send],
  );
  send.addEventListener("click", () =>
    busy(send, async () => {
      try {
        await api.post("/api/translations/report", { kind, id, lang, reason: reason.value.trim() });
        dlg.close();
        toast("Thank you. The school will look at it.");
      } catch (err) {
        error.show(messageOf(err));
      }
    }),
  );
  focus(reason);
}
