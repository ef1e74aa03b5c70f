// Importing the school's roster (admins): upload a CSV from the MIS or the Homeroom
// template, read the preview (what will be created, updated, moved and marked as left,
// and every row that cannot be used), then confirm. Nothing is written before confirm.

import * as api from "../api.js";
import { h, icon, mount, field, uid } from "../dom.js";
import { number } from "../format.js";
import { t, tn } from "../i18n.js";
import { busy, errorLine, messageOf, pageTitle, toast } from "../ui.js";

const TEMPLATE = "class,first_name,last_name,photo_consent,la_care,guardian1_name,guardian1_email,guardian1_language,guardian2_name,guardian2_email,guardian2_language\r\nYear 4 Oak,Amir,Khan,yes,no,Sarah Khan,sarah@example.org,en,,,\r\n";

function templateLink() {
  const url = URL.createObjectURL(new Blob([TEMPLATE], { type: "text/csv" }));
  return h("a", { href: url, download: "homeroom-roster-template.csv" }, t("Download the Homeroom template"));
}

function countRow(label, value, key) {
  return h("tr", { "data-count": key }, h("th", { scope: "row" }, label), h("td", { class: "count" }, number(value)));
}

function previewCard(reply) {
  const p = reply.preview;
  const s = p.students;
  const rows = [
    countRow(t("New classes"), p.classes.create, "classes.create"),
    countRow(t("New pupils"), s.create, "students.create"),
    countRow(t("Pupils updated"), s.update, "students.update"),
    countRow(t("Pupils moving class"), s.move, "students.move"),
    countRow(t("Pupils marked as left"), s.leave, "students.leave"),
    countRow(t("Pupils unchanged"), s.unchanged, "students.unchanged"),
    countRow(t("Guardians to invite"), p.guardians.invite, "guardians.invite"),
  ];
  const errors = p.errors || [];
  return h(
    "section",
    { class: "card stack import-preview", "data-import-id": reply.import_id },
    h("h2", { class: "card-title" }, t("What this import will do")),
    h("table", { class: "table" }, h("tbody", {}, rows)),
    errors.length
      ? h(
          "div",
          { class: "stack import-errors" },
          h("h3", { class: "card-title" }, tn("{n} row cannot be used", "{n} rows cannot be used", errors.length)),
          h("p", { class: "hint" }, t("Nothing from these rows is imported. Fix them in the file and import it again, or go ahead without them.")),
          h("ul", { class: "stack" }, errors.map((e) => h("li", { "data-row": e.row }, h("strong", {}, t("Row {row}", { row: e.row })), " ", e.message))),
        )
      : h("p", { class: "hint" }, t("Every row can be used.")),
  );
}

export async function rosterImport(ctx) {
  const file = h("input", { type: "file", class: "input", id: uid("roster"), accept: ".csv,.txt,.tsv,text/csv" });
  const full = h("input", { type: "checkbox", class: "check", id: uid("full") });
  const check = h("button", { type: "submit", class: "button button-primary" }, t("Check the file"));
  const error = errorLine();
  const result = h("div", { class: "stack", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card stack", novalidate: true, "data-form": "roster-import" },
    field(t("Roster file (CSV)"), file, t("An export from SIMS, Arbor or Bromcom, or the Homeroom template. Comma, semicolon or tab separated.")),
    h("span", { class: "check-row" }, full, h("label", { for: full.id }, t("This is the whole school: mark pupils missing from the file as left"))),
    error.el,
    check,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.clear();
    mount(result);
    const chosen = file.files && file.files[0];
    if (!chosen) {
      error.show(t("Choose the roster file first."));
      return;
    }
    const data = new FormData();
    data.append("file", chosen, chosen.name);
    await busy(check, async () => {
      try {
        const reply = await api.request("POST", `/api/roster/import${api.qs({ mode: full.checked ? "full" : "partial" })}`, data);
        showPreview(reply);
      } catch (err) {
        error.show(messageOf(err));
      }
    });
  });

  function showPreview(reply) {
    const confirm = h("button", { type: "button", class: "button button-primary", "data-action": "confirm-import" }, icon("check"), t("Import now"));
    const done = errorLine();
    confirm.addEventListener("click", () =>
      busy(confirm, async () => {
        try {
          const applied = await api.post(`/api/roster/import/${reply.import_id}/confirm`);
          const s = applied.preview.students;
          mount(
            result,
            h(
              "div",
              { class: "notice notice-info", role: "status", "data-import-done": "true" },
              t("Imported: {created} new pupils, {moved} moved, {updated} updated, {left} marked as left.", { created: s.create, moved: s.move, updated: s.update, left: s.leave }),
            ),
            h("a", { class: "button", href: "#/admin/classes" }, t("See the classes")),
          );
          toast(t("Roster imported"), "success");
        } catch (err) {
          done.show(err.code === "stale" ? t("The school changed since this check. Check the file again.") : messageOf(err));
        }
      }),
    );
    mount(result, previewCard(reply), done.el, h("div", { class: "row" }, confirm));
    result.scrollIntoView({ block: "start", behavior: "smooth" });
  }

  mount(
    ctx.root,
    h("a", { class: "back-link", href: "#/admin/classes" }, t("All classes")),
    pageTitle(t("Import a roster"), t("Classes, pupils, photo consent, LA care and families' contacts, from the file your MIS exports.")),
    form,
    h("p", { class: "hint" }, templateLink(), " · ", t("Columns: class, first and last name, photo consent and LA care (yes/no), and up to two guardians with name, email and language.")),
    result,
  );
}
