// The office's list of absences (`/absences`): a day's reports per class, newest live from
// `absence.reported` on the school's staff channel; the office acknowledges each one (the family
// is told) and exports the day as CSV for the register. Class staff read it too.

import * as api from "../api.js";
import { Role } from "../contract.js";
import { h, field, icon, mount } from "../dom.js";
import { base, day, dayKey, languageName, number, timeEl } from "../format.js";
import { t, tn } from "../i18n.js";
import { busy, empty, failure, loading, messageOf, pageTitle } from "../ui.js";
import { absence } from "../events_api.js";
import { REASON_LABELS } from "./absence.js";

/** The family's note, translated for the office when ready, the original one tap away. */
function noteOf(a) {
  const box = h("div", {});
  let showOriginal = false;
  const original = a.original || null;
  const translated = a.translation && a.translation.status === "ready" && original && original.lang !== a.lang;
  const draw = () => {
    const text = translated && showOriginal ? original.text : a.note;
    const lang = translated && showOriginal ? original.lang : a.lang;
    const toggle = translated
      ? h("button", { type: "button", class: "link-button see-original", onclick: () => { showOriginal = !showOriginal; draw(); } }, showOriginal ? t("See translation") : t("See original"))
      : null;
    mount(
      box,
      h("p", { class: "absence-note", dir: "auto", lang: lang || null }, text),
      translated ? h("p", { class: "translated-note" }, icon("globe", "icon-small"), t("Translated from {language}", { language: languageName(original.lang) }) + " · ", toggle) : null,
    );
  };
  draw();
  return box;
}

export async function absences(ctx) {
  const office = ctx.me.role === Role.OFFICE || ctx.me.role === Role.ADMIN;
  let date = dayKey(new Date());
  const list = h("div", { class: "absence-classes" }, loading());
  const count = h("p", { class: "page-sub", role: "status" });
  const picker = h("input", { class: "input", type: "date", name: "date", value: date });
  const csv = h("a", { class: "button button-soft", download: "", dataset: { action: "csv" } }, icon("book"), t("Export for the register (CSV)"));
  let items = [];

  function row(a) {
    const ack = a.acknowledged
      ? h("span", { class: "badge badge-approved" }, t("Seen by the office"))
      : office
        ? h("button", { type: "button", class: "button button-small button-primary", dataset: { action: "acknowledge" }, onclick: (e) => acknowledge(a, e.target) }, t("Mark as seen"))
        : h("span", { class: "badge badge-pending" }, t("Not seen yet"));
    const days = a.from === a.to ? day(a.from, { day: "numeric", month: "short" }) : `${day(a.from, { day: "numeric", month: "short" })} – ${day(a.to, { day: "numeric", month: "short" })}`;
    return h(
      "li",
      { class: `card absence-row${a.acknowledged ? " is-seen" : ""}`, dataset: { absenceId: a.id } },
      h("p", { class: "absence-who" }, h("strong", { dir: "auto" }, a.student.name), " ", h("span", { class: "chip" }, REASON_LABELS[a.reason] ? t(REASON_LABELS[a.reason]) : a.reason), " ", h("span", { class: "muted" }, days)),
      a.note ? noteOf(a) : null,
      h("p", { class: "hint" }, a.reported_by ? t("Reported by {name}", { name: a.reported_by.name || a.reported_by }) : null, " ", a.created_at ? timeEl(a.created_at) : null),
      ack,
    );
  }

  function draw() {
    count.textContent = tn("{n} pupil away", "{n} pupils away", items.length, { n: number(items.length) });
    if (!items.length) {
      mount(list, empty(t("No absences reported for this day"), t("Reports from families appear here as they arrive."), "bed"));
      return;
    }
    const byClass = new Map();
    for (const a of items) {
      const key = a.className || "";
      if (!byClass.has(key)) byClass.set(key, []);
      byClass.get(key).push(a);
    }
    mount(
      list,
      [...byClass].sort(([x], [y]) => x.localeCompare(y)).map(([name, rows]) =>
        h("section", { class: "absence-class", dataset: { className: name } }, h("h2", { class: "section-title", dir: "auto" }, name || t("Class")), h("ul", { class: "absence-list" }, rows.map(row))),
      ),
    );
  }

  async function load() {
    csv.href = `/api/absences${api.qs({ date, format: "csv" })}`;
    try {
      const reply = await api.get(`/api/absences${api.qs({ date })}`, { signal: ctx.scope.signal });
      items = ((reply && reply.items) || (Array.isArray(reply) ? reply : [])).map(absence);
      draw();
    } catch (err) {
      if (err.name === "AbortError") return;
      mount(list, failure(err, t("Absences")));
    }
  }

  async function acknowledge(a, button) {
    try {
      const reply = await busy(button, () => api.post(`/api/absences/${a.id}/acknowledge`));
      const next = absence({ ...a, ...((reply && (reply.absence || reply)) || {}), acknowledged: true });
      items = items.map((x) => (x.id === a.id ? next : x));
      draw();
    } catch (err) {
      ctx.toast(messageOf(err), "error");
    }
  }

  picker.addEventListener("change", () => {
    date = picker.value || dayKey(new Date());
    mount(list, loading());
    load();
  });
  mount(ctx.root, pageTitle(t("Absences"), null), count, h("div", { class: "row absence-tools" }, field(t("Day"), picker), csv), list);
  await load();
  if (ctx.school && ctx.school.id) {
    ctx.scope.live(`school:${ctx.school.id}:staff`, {
      event(frame) {
        const d = frame.data || {};
        if (frame.type === "absence.translated") {
          const at = items.findIndex((x) => x.id === d.absence_id);
          if (at < 0 || base(d.lang) !== base(ctx.me.language)) return;
          const a = items[at];
          items[at] = { ...a, original: a.original || { text: a.note, lang: a.lang }, note: d.text, lang: d.lang, translation: { status: "ready" } };
          draw();
          return;
        }
        if (frame.type !== "absence.reported" && frame.type !== "absence.acknowledged") return;
        if (!d.absence || !office) {
          load(); // class staff: the server says which pupils they may see
          return;
        }
        const a = absence(d.absence);
        if (frame.type === "absence.acknowledged") a.acknowledged = true;
        if (a.from > date || a.to < date) return;
        const at = items.findIndex((x) => x.id === a.id);
        if (at >= 0) items[at] = a;
        else items.unshift(a);
        draw();
      },
      reset: load,
    });
  }
}
