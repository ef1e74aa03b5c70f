// Reach for leaders (admins): per class, how many pupils have 0, 1 or 2 linked guardians,
// who has not joined yet, whose languages are not translated, and how many families have
// been in since each recent post — with the whole table as CSV.

import * as api from "../api.js";
import { h, mount } from "../dom.js";
import { date, languageName, number } from "../format.js";
import { t, tn } from "../i18n.js";
import { failure, loading, pageTitle } from "../ui.js";

function classCard(row) {
  const g = row.guardians;
  return h(
    "section",
    { class: "card stack reach-class", "data-class-id": row.id },
    h("h2", { class: "card-title" }, row.name),
    h(
      "table",
      { class: "table" },
      h(
        "tbody",
        {},
        h("tr", { "data-reach": "pupils" }, h("th", { scope: "row" }, t("Pupils")), h("td", {}, number(row.pupils))),
        h("tr", { "data-reach": "none" }, h("th", { scope: "row" }, t("No guardian linked")), h("td", {}, number(g["0"]))),
        h("tr", { "data-reach": "one" }, h("th", { scope: "row" }, t("One guardian linked")), h("td", {}, number(g["1"]))),
        h("tr", { "data-reach": "two" }, h("th", { scope: "row" }, t("Two guardians linked")), h("td", {}, number(g["2"]))),
      ),
    ),
    row.languages_not_translated.length
      ? h("p", { class: "notice notice-warn" }, t("Not translated yet: {languages}", { languages: row.languages_not_translated.map(languageName).join(", ") }))
      : null,
    row.not_joined.length
      ? h(
          "details",
          {},
          h("summary", {}, tn("{n} pupil's family has not fully joined", "{n} pupils' families have not fully joined", row.not_joined.length)),
          h("ul", { class: "stack" }, row.not_joined.map((item) => h("li", {}, h("strong", {}, item.student.name), " ", h("span", { class: "muted" }, tn("{n} guardian linked", "{n} guardians linked", item.linked)), item.waiting.length ? h("span", { class: "muted" }, ` · ${t("waiting for {names}", { names: item.waiting.map((w) => w.name).join(", ") })}`) : null))),
        )
      : h("p", { class: "hint" }, t("Every family has joined.")),
    row.posts.length
      ? h(
          "ul",
          { class: "stack reach-posts" },
          row.posts.map((p) => h("li", { "data-post-id": p.id }, h("span", { class: "muted" }, date(p.created_at)), " ", p.excerpt, " — ", h("strong", {}, t("{seen} of {families} families in since", { seen: p.seen, families: p.families })), ` · ${tn("{n} like", "{n} likes", p.likes)}`)),
        )
      : null,
  );
}

export async function reach(ctx) {
  mount(ctx.root, pageTitle(t("Reach")), loading());
  let report;
  try {
    report = await api.get("/api/reach", { signal: ctx.scope.signal });
  } catch (err) {
    if (err.name === "AbortError") return;
    mount(ctx.root, pageTitle(t("Reach")), failure(err, t("Reach")));
    return;
  }
  mount(
    ctx.root,
    h("div", { class: "page-head page-head-row" }, h("h1", { class: "page-title", tabindex: "-1" }, t("Reach")), h("a", { class: "button", href: "/api/reach.csv", download: "reach.csv" }, t("Download CSV"))),
    h("p", { class: "page-sub" }, t("How many families Homeroom reaches, class by class. Nobody's reading is tracked: “in since” counts families who have opened Homeroom since a post went up.")),
    h("div", { class: "settings-grid" }, report.classes.map(classCard)),
  );
}
