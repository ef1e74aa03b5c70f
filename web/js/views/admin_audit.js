// The audit log (admins): who did what, with names, filterable by action, newest first.

import * as api from "../api.js";
import { h, mount, uid } from "../dom.js";
import { dateTime } from "../format.js";
import { t } from "../i18n.js";
import { failure, loading, messageOf, pageTitle, toast } from "../ui.js";

/** Readable names of the actions the server records; unknown ones show as they are. */
function actionName(action) {
  const names = {
    "class.created": t("Class created"),
    "class.deleted": t("Class removed"),
    "student.created": t("Pupil added"),
    "student.updated": t("Pupil changed"),
    "student.erased": t("Pupil erased"),
    "student.code_rotated": t("Pupil's sign-in code changed"),
    "staff.created": t("Staff account created"),
    "staff.updated": t("Staff account changed"),
    "invite.created": t("Invite code made"),
    "invite.revoked": t("Invite code revoked"),
    "guardian.joined": t("Guardian joined"),
    "guardian.linked": t("Guardian linked another child"),
    "guardian.removed": t("Guardian removed"),
    "roster.imported": t("Roster imported"),
    "office.replied": t("Office replied"),
    "office.done": t("Office marked done"),
    "user.suspended": t("Account suspended"),
    "user.unsuspended": t("Suspension lifted"),
  };
  return names[action] || action;
}

function entryRow(entry) {
  const who = entry.actor ? entry.actor.name || t("an erased account") : t("Homeroom");
  const target = entry.target ? entry.target.name || t("(erased)") : "";
  const pupil = entry.student && entry.student.name && (!entry.target || entry.target.type !== "student") ? entry.student.name : "";
  return h(
    "tr",
    { "data-audit-id": entry.id, "data-action": entry.action },
    h("td", {}, dateTime(entry.created_at)),
    h("td", {}, who),
    h("td", {}, actionName(entry.action)),
    h("td", {}, [target, pupil].filter(Boolean).join(" · ")),
  );
}

export async function auditLog(ctx) {
  mount(ctx.root, pageTitle(t("Audit log")), loading());
  let actions;
  try {
    actions = (await api.get("/api/audit/actions")).items || [];
  } catch (err) {
    mount(ctx.root, pageTitle(t("Audit log")), failure(err, t("The audit log")));
    return;
  }
  const filter = h("select", { class: "input input-inline", id: uid("action"), "aria-label": t("Action") }, h("option", { value: "" }, t("Every action")), actions.map((a) => h("option", { value: a }, actionName(a))));
  const body = h("tbody", {});
  const more = h("button", { type: "button", class: "button", hidden: true }, t("Show older"));
  let before = null;

  async function load(reset) {
    if (reset) {
      before = null;
      mount(body);
    }
    try {
      const reply = await api.get(`/api/audit${api.qs({ action: filter.value, before, limit: 50 })}`, { signal: ctx.scope.signal });
      const items = reply.items || [];
      for (const entry of items) body.append(entryRow(entry));
      before = items.length ? items[items.length - 1].id : before;
      more.hidden = items.length < 50;
      if (!body.children.length) body.append(h("tr", {}, h("td", { colspan: "4", class: "muted" }, t("Nothing recorded yet."))));
    } catch (err) {
      if (err.name !== "AbortError") toast(messageOf(err), "error");
    }
  }
  filter.addEventListener("change", () => load(true));
  more.addEventListener("click", () => load(false));
  mount(
    ctx.root,
    h("div", { class: "page-head page-head-row" }, h("h1", { class: "page-title", tabindex: "-1" }, t("Audit log")), filter),
    h("p", { class: "page-sub" }, t("Who did what in Homeroom. Message texts and passwords are never recorded.")),
    h(
      "div",
      { class: "card table-card" },
      h("table", { class: "table audit-table" }, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("When")), h("th", { scope: "col" }, t("Who")), h("th", { scope: "col" }, t("What")), h("th", { scope: "col" }, t("About")))), body),
    ),
    more,
  );
  await load(true);
}
