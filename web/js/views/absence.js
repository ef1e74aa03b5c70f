// A guardian reports that their child will be away (`/absence`): child (chosen already when
// there is one), days (today unless changed), reason, note — sent straight to the school office.

import * as api from "../api.js";
import { h, field, mount, uid } from "../dom.js";
import { day, dayKey } from "../format.js";
import { N_, t } from "../i18n.js";
import { busy, empty, errorLine, messageOf, pageTitle } from "../ui.js";
import { REASONS } from "../events_api.js";
import { currentChild } from "./parent.js";

export const REASON_LABELS = {
  illness: N_("Illness"),
  medical: N_("Medical appointment"),
  family: N_("Family reasons"),
  other: N_("Other"),
};

function choices(name, items, chosen, className) {
  return h(
    "div",
    { class: `choices ${className}` },
    items.map(([value, label]) => {
      const id = uid(name);
      return h("label", { class: "choice", for: id }, h("input", { type: "radio", class: "visually-hidden", id, name, value, checked: value === chosen, required: true }), h("span", { dir: "auto" }, label));
    }),
  );
}

export async function reportAbsence(ctx) {
  const kids = ctx.me.children || [];
  if (!kids.length) {
    mount(ctx.root, pageTitle(t("Report an absence")), empty(t("No children linked yet"), null, "users"));
    return;
  }
  const today = dayKey(new Date());
  const preselected = kids.length === 1 ? kids[0] : currentChild(ctx.me);
  const from = h("input", { class: "input", type: "date", name: "from", value: today, required: true });
  const to = h("input", { class: "input", type: "date", name: "to", value: today, required: true });
  from.addEventListener("change", () => {
    if (!to.value || to.value < from.value) to.value = from.value;
  });
  const note = h("textarea", { class: "input", name: "note", rows: 3, dir: "auto" });
  const error = errorLine();
  const send = h("button", { type: "submit", class: "button button-primary button-block" }, t("Send to the school office"));
  const form = h(
    "form",
    { class: "card stack absence-form", novalidate: true },
    h("fieldset", {}, h("legend", {}, t("Who will be away?")), choices("student", kids.map((k) => [String(k.id), k.name]), preselected ? String(preselected.id) : null, "choices-children")),
    h("div", { class: "field-pair" }, field(t("From"), from), field(t("Until (the last day away)"), to)),
    h("fieldset", {}, h("legend", {}, t("Reason")), choices("reason", REASONS.map((r) => [r, t(REASON_LABELS[r])]), null, "choices-reasons")),
    field(t("Note for the office (optional)"), note, t("For example: a temperature since last night.")),
    error.el,
    send,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.clear();
    const data = new FormData(form);
    const studentId = Number(data.get("student"));
    const reason = data.get("reason");
    if (!studentId || !reason || !from.value) {
      error.show(t("Please choose your child and a reason."));
      return;
    }
    if (to.value && to.value < from.value) {
      error.show(t("The last day cannot be before the first day."));
      return;
    }
    try {
      await busy(send, () => api.post("/api/absences", { student_id: studentId, from: from.value, to: to.value || from.value, reason, note: note.value.trim() }));
    } catch (err) {
      error.show(messageOf(err));
      return;
    }
    const kid = kids.find((k) => k.id === studentId);
    const days = from.value === (to.value || from.value) ? day(from.value) : `${day(from.value)} – ${day(to.value)}`;
    mount(
      ctx.root,
      pageTitle(t("Report an absence")),
      h(
        "div",
        { class: "card stack absence-sent", role: "status" },
        h("p", { class: "absence-sent-title" }, t("Sent to the school office.")),
        h("p", {}, t("The office now knows that {name} will be away: {days}.", { name: kid ? kid.name : "", days })),
        h("p", { class: "muted" }, t("You will get a notice when the office has seen it. You do not need to phone as well.")),
        h("div", { class: "row" }, h("a", { class: "button", href: "#/feed" }, t("Back to stories")), h("a", { class: "button button-ghost", href: "#/absence", onclick: () => ctx.navigate("/absence") }, t("Report another absence"))),
      ),
    );
  });
  mount(ctx.root, pageTitle(t("Report an absence"), t("It goes straight to the school office.")), form);
}
