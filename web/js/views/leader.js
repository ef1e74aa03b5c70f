// School leaders (admin) and the office: the reports queue and suspension (P9, P10),
// guardian requests (P15), people, school settings (working hours, school ways,
// code of conduct) and the office inbox (P8). Class stories and points boards are
// the staff class views, open to leaders for every class (P19).

import * as api from "../api.js";
import { h, icon, mount, field, focus, uid } from "../dom.js";
import { base, dirOf, languageName, timeEl } from "../format.js";
import { busy, confirmDialog, dialog, empty, errorLine, failure, loading, messageOf, pageTitle, toast } from "../ui.js";
import { notTranslatedLine, reportTranslationButton } from "../translation.js";
import { t, N_, parts, tn } from "../i18n.js";
import { roleName } from "./admin_classes.js";
import { skillIcon } from "./board.js";

function staffChannel(ctx) {
  return ctx.school && ctx.school.id ? `school:${ctx.school.id}:staff` : null;
}

function quoted(text, lang) {
  const el = h("blockquote", { class: "quote", lang: lang || null, dir: lang ? dirOf(lang) : null });
  el.textContent = text || "";
  return el;
}

async function askReason(title, label, confirm) {
  return new Promise((resolve) => {
    const reason = h("textarea", { class: "input", rows: "3", maxlength: "2000", id: uid("why") });
    const error = errorLine();
    const ok = h("button", { type: "button", class: "button button-danger" }, confirm);
    let answer = null;
    const dlg = dialog(title, h("div", { class: "stack" }, h("div", { class: "field" }, h("label", { for: reason.id }, label), reason), error.el), [ok]);
    ok.addEventListener("click", () => {
      if (!reason.value.trim()) {
        error.show(t("Please write a reason; it is kept in the audit log."));
        focus(reason);
        return;
      }
      answer = reason.value.trim();
      dlg.close();
    });
    dlg.addEventListener("close", () => resolve(answer));
    focus(reason);
  });
}

async function suspend(user, button) {
  const reason = await askReason(t("Suspend {name}?", { name: user.name }), t("Reason"), t("Suspend"));
  if (!reason) return false;
  return busy(button, async () => {
    try {
      await api.post(`/api/users/${user.id}/suspend`, { reason });
      toast(t("{name} is suspended: every session has ended.", { name: user.name }));
      return true;
    } catch (err) {
      toast(messageOf(err), "error");
      return false;
    }
  });
}

export async function reports(ctx) {
  mount(ctx.root, pageTitle(t("Reports")), loading());
  const list = h("div", { class: "report-list" }, loading());
  let status = "open";

  async function load() {
    try {
      const reply = await api.get(`/api/reports${api.qs({ status })}`);
      mount(list);
      for (const r of reply.items || []) list.append(reportCard(r));
      if (!list.children.length) list.append(empty(status === "open" ? t("No open reports") : t("No reports"), t("Messages that families or staff report come here."), "flag"));
    } catch (err) {
      mount(list, failure(err, t("The reports queue")));
    }
  }

  function reportCard(r) {
    const m = r.message || {};
    const sender = m.sender && m.sender.id ? m.sender : null;
    const resolveButton = h("button", { type: "button", class: "button" }, icon("check"), t("Resolve"));
    const suspendButton = sender ? h("button", { type: "button", class: "button button-danger" }, t("Suspend {name}", { name: sender.name })) : null;
    const card = h(
      "article",
      { class: "card report", "data-report-id": r.id },
      h("p", { class: "report-head" }, ...parts(t("{name} reported a message {when}"), { name: h("strong", {}, h("bdi", {}, r.reporter ? r.reporter.name : t("Someone"))), when: timeEl(r.created_at) }), " ", r.status !== "open" ? h("span", { class: "badge" }, r.status === "resolved" ? t("Resolved") : r.status === "open" ? t("Open") : r.status) : null),
      h("p", { class: "muted" }, t("Reason:")),
      quoted(r.reason),
      sender ? h("p", { class: "muted" }, t("Message from {name}:", { name: sender.name })) : null,
      m.text !== undefined ? quoted(m.original ? m.original.text : m.text, m.original ? m.original.lang : m.lang) : null,
      r.resolution ? h("p", { class: "muted" }, t("Resolution: {resolution}", { resolution: r.resolution })) : null,
      r.status === "open" ? h("div", { class: "row" }, resolveButton, suspendButton) : null,
    );
    resolveButton.addEventListener("click", async () => {
      const resolution = await askReason(t("Resolve this report"), t("What was done?"), t("Resolve"));
      if (!resolution) return;
      await busy(resolveButton, async () => {
        try {
          await api.post(`/api/reports/${r.id}/resolve`, { resolution });
          toast(t("Report resolved"));
          load();
        } catch (err) {
          toast(messageOf(err), "error");
        }
      });
    });
    suspendButton?.addEventListener("click", async () => {
      if (await suspend(sender, suspendButton)) load();
    });
    return card;
  }

  const filter = h("select", { class: "input input-inline", "aria-label": t("Show") }, h("option", { value: "open" }, t("Open")), h("option", { value: "resolved" }, t("Resolved")), h("option", { value: "all" }, t("All")));
  filter.addEventListener("change", () => {
    status = filter.value;
    load();
  });
  const translations = h("div", { class: "report-list translation-reports" });
  mount(
    ctx.root,
    h("div", { class: "page-head page-head-row" }, h("h1", { class: "page-title", tabindex: "-1" }, t("Reports")), filter),
    list,
    h("h2", { class: "section-title" }, t("Translation reports")),
    translations,
  );
  await Promise.all([load(), loadTranslationReports(translations)]);
  const channel = staffChannel(ctx);
  if (channel) {
    ctx.scope.live(channel, {
      event(frame) {
        if (frame.type === "report.created") {
          toast(t("A new report has arrived"));
          load();
        }
      },
      reset: load,
    });
  }
}

/** Translations readers said were wrong, with the original beside each. */
async function loadTranslationReports(list) {
  try {
    const reply = await api.get("/api/translations/reports");
    mount(list);
    for (const r of reply.items || []) {
      list.append(
        h(
          "article",
          { class: "card report", "data-translation-report-id": r.id },
          h("p", { class: "report-head" }, ...parts(r.kind === "post" ? t("{name} reported a post translation {when}") : t("{name} reported a message translation {when}"), { name: h("strong", {}, h("bdi", {}, r.reporter ? r.reporter.name : t("Someone"))), when: timeEl(r.created_at) })),
          r.reason ? quoted(r.reason) : null,
          h("p", { class: "muted" }, t("Original ({language}):", { language: languageName(r.original.lang) })),
          quoted(r.original.text, r.original.lang),
          h("p", { class: "muted" }, t("Translation ({language}):", { language: languageName(r.translation.lang) })),
          quoted(r.translation.text, r.translation.lang),
        ),
      );
    }
    if (!list.children.length) list.append(h("p", { class: "muted" }, t("No translation has been reported.")));
  } catch (err) {
    mount(list, failure(err, t("Translation reports")));
  }
}

export async function requests(ctx) {
  mount(ctx.root, pageTitle(t("Guardian requests")), loading());
  const list = h("div", { class: "request-list" }, loading());

  async function load() {
    try {
      const reply = await api.get(`/api/guardian-requests${api.qs({ status: "pending" })}`);
      mount(list);
      for (const r of reply.items || []) list.append(card(r));
      if (!list.children.length) list.append(empty(t("No requests waiting"), t("When a third grown-up tries to join for a child, their request waits here for you."), "users"));
    } catch (err) {
      mount(list, failure(err, t("Guardian requests")));
    }
  }

  function card(r) {
    const approve = h("button", { type: "button", class: "button button-primary" }, icon("check"), t("Approve"));
    const reject = h("button", { type: "button", class: "button" }, t("Reject"));
    const el = h(
      "article",
      { class: "card", "data-request-id": r.id },
      h("p", {}, ...parts(t("{name} ({email}) asks to join as a grown-up of {child}"), { name: h("strong", {}, h("bdi", {}, r.name)), email: h("bdi", {}, r.email), child: h("strong", {}, h("bdi", {}, r.student ? r.student.name : t("a pupil"))) })),
      h("p", { class: "post-when" }, timeEl(r.created_at)),
      h("p", { class: "hint" }, t("The child already has two guardians. Approve only in special circumstances.")),
      h("div", { class: "row" }, approve, reject),
    );
    const decide = (button, verb) =>
      busy(button, async () => {
        if (verb === "reject" && !(await confirmDialog(t("Reject this request?"), t("{name} will not be linked to the child.", { name: r.name }), t("Reject")))) return;
        try {
          await api.post(`/api/guardian-requests/${r.id}/${verb}`);
          toast(verb === "approve" ? t("Approved") : t("Rejected"));
          el.remove();
          if (!list.children.length) load();
        } catch (err) {
          toast(messageOf(err), "error");
        }
      });
    approve.addEventListener("click", () => decide(approve, "approve"));
    reject.addEventListener("click", () => decide(reject, "reject"));
    return el;
  }

  mount(ctx.root, pageTitle(t("Guardian requests"), "Up to two grown-ups per child; more only in special circumstances."), list);
  await load();
  const channel = staffChannel(ctx);
  if (channel) {
    ctx.scope.live(channel, {
      event(frame) {
        if (frame.type === "guardian_request.created") load();
      },
      reset: load,
    });
  }
}

export async function people(ctx) {
  mount(ctx.root, pageTitle(t("People")), loading());
  let staff;
  try {
    staff = await api.get("/api/staff");
  } catch (err) {
    mount(ctx.root, pageTitle(t("People")), failure(err, t("The staff list")));
    return;
  }
  const rows = (staff.items || []).map((u) => {
    const action = h("button", { type: "button", class: u.suspended ? "button" : "button button-ghost danger" }, u.suspended ? t("Lift suspension") : t("Suspend"));
    action.hidden = u.id === ctx.me.id;
    action.addEventListener("click", async () => {
      if (u.suspended) {
        await busy(action, async () => {
          try {
            await api.post(`/api/users/${u.id}/unsuspend`);
            toast(t("{name} can sign in again", { name: u.name }));
            people(ctx);
          } catch (err) {
            toast(messageOf(err), "error");
          }
        });
      } else if (await suspend(u, action)) {
        people(ctx);
      }
    });
    const role = h(
      "select",
      { class: "input input-inline", "aria-label": t("Role of {name}", { name: u.name }), disabled: u.id === ctx.me.id, "data-role-of": u.id },
      ["admin", "teacher", "office"].map((r) => h("option", { value: r, selected: r === u.role }, roleName(r))),
    );
    role.addEventListener("change", async () => {
      try {
        await api.patch(`/api/staff/${u.id}`, { role: role.value });
        toast(t("{name} is now: {role}", { name: u.name, role: roleName(role.value) }), "success");
      } catch (err) {
        role.value = u.role;
        toast(messageOf(err), "error");
      }
    });
    return h(
      "tr",
      { "data-staff-id": u.id },
      h("th", { scope: "row" }, u.name, u.suspended ? h("span", { class: "badge badge-warn" }, t("Suspended")) : null),
      h("td", {}, role),
      h("td", { class: "cell-email" }, u.email || ""),
      h("td", {}, action),
    );
  });
  mount(
    ctx.root,
    pageTitle(t("People"), t("Staff accounts. Families are suspended from the reports queue.")),
    addStaffForm(ctx),
    h(
      "div",
      { class: "card table-card" },
      h("table", { class: "table" }, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("Name")), h("th", { scope: "col" }, t("Role")), h("th", { scope: "col", class: "cell-email" }, t("Email")), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, t("Actions"))))), h("tbody", {}, rows)),
    ),
  );
}

/** A new staff account: name, email, role and a first password the person changes in "Your account". */
function addStaffForm(ctx) {
  const name = h("input", { class: "input", id: uid("staff-name"), maxlength: "200", autocomplete: "off" });
  const email = h("input", { class: "input", id: uid("staff-email"), type: "email", maxlength: "254", autocomplete: "off" });
  const role = h("select", { class: "input", id: uid("staff-role") }, ["teacher", "office", "admin"].map((r) => h("option", { value: r }, roleName(r))));
  const password = h("input", { class: "input", id: uid("staff-password"), type: "text", minlength: "10", maxlength: "256", autocomplete: "off" });
  const add = h("button", { type: "submit", class: "button button-primary" }, icon("plus"), t("Add to staff"));
  const error = errorLine();
  const form = h(
    "form",
    { class: "card stack", novalidate: true, "data-form": "add-staff" },
    h("h2", { class: "card-title" }, t("Add a member of staff")),
    h("div", { class: "two-col" }, field(t("Name"), name), field(t("Email"), email)),
    h("div", { class: "two-col" }, field(t("Role"), role), field(t("First password"), password, t("Give it to them in person; they can change it under Your account."))),
    error.el,
    add,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.clear();
    if (!name.value.trim() || !email.value.trim()) {
      error.show(t("Write their name and email address."));
      return;
    }
    await busy(add, async () => {
      try {
        const made = await api.post("/api/staff", { name: name.value.trim(), email: email.value.trim(), role: role.value, password: password.value, class_ids: [] });
        toast(t("{name} can now sign in. Choose their classes on each class's Setup page.", { name: made.name }), "success");
        people(ctx);
      } catch (err) {
        error.show(messageOf(err));
      }
    });
  });
  return form;
}

const DAY_NAMES = [
  ["mon", N_("Monday")],
  ["tue", N_("Tuesday")],
  ["wed", N_("Wednesday")],
  ["thu", N_("Thursday")],
  ["fri", N_("Friday")],
  ["sat", N_("Saturday")],
  ["sun", N_("Sunday")],
];

export async function settings(ctx) {
  mount(ctx.root, pageTitle(t("School settings")), loading());
  const [school, skills, policy] = await Promise.all([api.get("/api/school"), api.getOptional("/api/skills", { items: [] }), api.get("/api/policy")]);
  mount(
    ctx.root,
    pageTitle(t("School settings"), school.name),
    h("div", { class: "settings-grid" }, hoursCard(ctx, school), skillsCard(ctx, skills.items || []), glossaryCard(ctx, school), policyCard(ctx, policy)),
  );
}

/** Words translation keeps as they are (names, school ways and classes are kept anyway). */
function glossaryCard(ctx, school) {
  const words = h("textarea", { class: "input", rows: "5", id: uid("glossary") });
  words.value = (school.translation_glossary || []).join("\n");
  const save = h("button", { type: "submit", class: "button button-primary" }, t("Save words"));
  const error = errorLine();
  const form = h(
    "form",
    { class: "card stack", novalidate: true },
    h("h2", { class: "card-title" }, t("Words not to translate")),
    h("p", { class: "hint" }, t("One per line, e.g. Golden Time. Names, school ways and class names are never translated.")),
    h("label", { for: words.id, class: "visually-hidden" }, t("Words not to translate")),
    words,
    error.el,
    save,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.clear();
    const list = words.value.split("\n").map((w) => w.trim()).filter(Boolean);
    await busy(save, async () => {
      try {
        const updated = await api.patch("/api/school", { translation_glossary: list });
        Object.assign(ctx.session.school, updated);
        words.value = (updated.translation_glossary || []).join("\n");
        toast(t("Saved"));
      } catch (err) {
        error.show(messageOf(err));
      }
    });
  });
  return form;
}

function hoursCard(ctx, school) {
  const hours = school.working_hours || {};
  const rows = DAY_NAMES.map(([key, label]) => {
    const span = hours[key];
    const open = h("input", { type: "checkbox", class: "check", id: uid("open"), checked: Array.isArray(span) });
    const from = h("input", { type: "time", class: "input input-time", value: span ? span[0] : "08:00", "aria-label": t("{day}: from", { day: t(label) }) });
    const to = h("input", { type: "time", class: "input input-time", value: span ? span[1] : "17:00", "aria-label": t("{day}: until", { day: t(label) }) });
    const sync = () => {
      from.disabled = !open.checked;
      to.disabled = !open.checked;
    };
    open.addEventListener("change", sync);
    sync();
    return { key, open, from, to, el: h("div", { class: "hours-row" }, h("span", { class: "check-row" }, open, h("label", { for: open.id }, t(label))), from, h("span", { "aria-hidden": "true" }, "–"), to) };
  });
  const phone = h("input", { type: "tel", class: "input", value: school.office_phone || "", maxlength: "64" });
  const save = h("button", { type: "submit", class: "button button-primary" }, t("Save working hours"));
  const error = errorLine();
  const form = h(
    "form",
    { class: "card stack", novalidate: true },
    h("h2", { class: "card-title" }, t("Working hours")),
    h("p", { class: "hint" }, t("Outside these hours it is quiet time: families' messages wait until school opens. Time zone: {zone}.", { zone: school.timezone })),
    rows.map((r) => r.el),
    field(t("Office phone"), phone, t("Shown to families when a message belongs with the office.")),
    error.el,
    save,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.clear();
    const working = {};
    for (const r of rows) {
      if (r.open.checked && r.from.value >= r.to.value) {
        error.show(t("Each day must end after it starts."));
        focus(r.to);
        return;
      }
      working[r.key] = r.open.checked ? [r.from.value, r.to.value] : null;
    }
    await busy(save, async () => {
      try {
        const updated = await api.patch("/api/school", { working_hours: working, office_phone: phone.value.trim() || null });
        Object.assign(ctx.session.school, updated);
        toast(t("Working hours saved"));
      } catch (err) {
        error.show(messageOf(err));
      }
    });
  });
  return form;
}

const SKILL_ICONS = ["star", "heart", "team", "mountain", "lightbulb", "handshake"];

function skillsCard(ctx, skills) {
  const list = h("ul", { class: "skill-admin" });
  const draw = () => {
    mount(list);
    for (const skill of skills) list.append(skillRow(skill));
    if (!skills.length) list.append(h("li", { class: "muted" }, t("No school ways yet.")));
  };
  function skillRow(skill) {
    const remove = h("button", { type: "button", class: "link-button danger" }, t("Remove"));
    remove.addEventListener("click", async () => {
      if (!(await confirmDialog(t("Remove “{name}”?", { name: skill.name }), t("Points already given stay in pupils' totals."), t("Remove")))) return;
      await busy(remove, async () => {
        try {
          await api.del(`/api/skills/${skill.id}`);
          skills.splice(skills.indexOf(skill), 1);
          draw();
        } catch (err) {
          toast(messageOf(err), "error");
        }
      });
    });
    return h("li", { class: "skill-admin-row" }, skillIcon(skill.icon), h("span", { class: "skill-row-name" }, skill.name), h("span", { class: "skill-points" }, `+${skill.points}`), remove);
  }
  const name = h("input", { class: "input", maxlength: "200", id: uid("skill") });
  const iconSelect = h("select", { class: "input", id: uid("icon") }, SKILL_ICONS.map((i) => h("option", { value: i }, i)));
  const pts = h("input", { class: "input input-number", type: "number", min: "1", max: "10", value: "1", id: uid("pts") });
  const add = h("button", { type: "submit", class: "button" }, icon("plus"), t("Add"));
  const error = errorLine();
  const form = h(
    "form",
    { class: "skill-add", novalidate: true },
    h("div", { class: "field grow" }, h("label", { for: name.id }, t("New school way")), name),
    h("div", { class: "field" }, h("label", { for: iconSelect.id }, t("Icon")), iconSelect),
    h("div", { class: "field" }, h("label", { for: pts.id }, t("Points")), pts),
    add,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.clear();
    if (!name.value.trim()) {
      focus(name);
      return;
    }
    await busy(add, async () => {
      try {
        const made = await api.post("/api/skills", { name: name.value.trim(), icon: iconSelect.value, points: Number(pts.value) || 1 });
        skills.push(made);
        draw();
        name.value = "";
        focus(name);
      } catch (err) {
        error.show(messageOf(err));
      }
    });
  });
  draw();
  return h("section", { class: "card stack" }, h("h2", { class: "card-title" }, t("School ways (skills)")), h("p", { class: "hint" }, t("Points celebrate these values. They are never taken away.")), list, form, error.el);
}

function policyCard(ctx, policy) {
  const text = h("textarea", { class: "input policy-edit", rows: "12", maxlength: "100000", id: uid("policy") });
  text.value = policy.text || "";
  const save = h("button", { type: "submit", class: "button button-primary" }, t("Publish new version"));
  const error = errorLine();
  const version = h("p", { class: "hint" }, t("Version {version}. Publishing a change asks every family to read and accept it again.", { version: policy.version }));
  const form = h("form", { class: "card stack span-2", novalidate: true }, h("h2", { class: "card-title" }, t("Code of conduct")), version, h("label", { for: text.id, class: "visually-hidden" }, t("Code of conduct text")), text, error.el, save);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.clear();
    if (text.value.trim() === (policy.text || "").trim()) {
      error.show(t("Nothing has changed."));
      return;
    }
    if (!(await confirmDialog(t("Publish the new code of conduct?"), t("Every family will be asked to accept it before they can use Homeroom again."), t("Publish")))) return;
    await busy(save, async () => {
      try {
        const updated = await api.patch("/api/school", { policy_text: text.value });
        policy.text = text.value;
        policy.version = updated.policy_version;
        version.textContent = t("Version {version}. Publishing a change asks every family to read and accept it again.", { version: updated.policy_version });
        toast(t("New code of conduct published"));
      } catch (err) {
        error.show(messageOf(err));
      }
    });
  });
  return form;
}

/** The office's answer to a routed message: a reply into the family's thread, and "done". */
function officeActions(item, redraw) {
  const m = item.message || {};
  if (m.office_done_at) {
    return h("p", { class: "office-done", "data-office-done": "true" }, h("span", { class: "badge badge-approved" }, icon("check", "icon-small"), t("Done")), " ", t("The class teacher sees this was handled."));
  }
  const text = h("textarea", { class: "input", rows: "2", maxlength: "5000", id: uid("office-reply"), "data-office-reply": item.id });
  const send = h("button", { type: "submit", class: "button button-primary" }, icon("send"), t("Reply as the office"));
  const done = h("button", { type: "button", class: "button", "data-action": "office-done" }, icon("check"), t("Mark done"));
  const error = errorLine();
  const form = h(
    "form",
    { class: "stack office-reply", novalidate: true },
    h("label", { for: text.id }, t("Reply to {name}", { name: item.guardian ? item.guardian.name : t("the family") })),
    text,
    h("p", { class: "hint" }, t("The family reads it in their own language; the class teacher sees it in the same conversation.")),
    error.el,
    h("div", { class: "row" }, send, done),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.clear();
    if (!text.value.trim()) {
      focus(text);
      return;
    }
    await busy(send, async () => {
      try {
        await api.post(`/api/office/messages/${item.id}/reply`, { text: text.value.trim() });
        text.value = "";
        toast(t("Reply sent"), "success");
      } catch (err) {
        error.show(messageOf(err));
      }
    });
  });
  done.addEventListener("click", () =>
    busy(done, async () => {
      try {
        const reply = await api.post(`/api/office/messages/${item.id}/done`);
        item.message = { ...item.message, office_done_at: reply.done_at };
        redraw();
      } catch (err) {
        error.show(messageOf(err));
      }
    }),
  );
  return form;
}

export async function office(ctx) {
  mount(ctx.root, pageTitle(t("Office inbox")), loading());
  const list = h("div", { class: "office-list" }, loading());
  const cards = new Map(); // message id → card, to switch a card to its translation live

  function officeCard(item) {
    const card = h("article", { class: "card", "data-office-id": item.id });
    let showOriginal = false;
    const draw = () => {
      const m = item.message || {};
      const translated = m.translation && m.translation.status === "ready" && m.original && m.original.lang !== m.lang;
      const text = translated && showOriginal ? m.original.text : m.text;
      const lang = translated && showOriginal ? m.original.lang : m.lang;
      const note = [];
      if (translated) {
        const toggle = h("button", { type: "button", class: "link-button see-original" }, showOriginal ? t("See translation") : t("See original"));
        toggle.addEventListener("click", () => {
          showOriginal = !showOriginal;
          draw();
        });
        note.push(h("p", { class: "translated-note" }, icon("globe", "icon-small"), t("Translated from {language}", { language: languageName(m.original.lang) }) + " · ", toggle, " · ", reportTranslationButton("message", m.id, m.lang)));
      } else if (m.translation && m.translation.status === "pending") {
        note.push(h("p", { class: "translated-note is-pending" }, icon("globe", "icon-small"), t("Translating…")));
      } else if (m.translation && m.translation.status === "unavailable") {
        note.push(h("p", { class: "translated-note" }, notTranslatedLine(m.lang)));
      }
      mount(
        card,
        h("p", { class: "report-head" }, h("span", { class: "badge" }, item.topic_label || item.topic || t("Office")), " ", h("strong", {}, item.guardian ? item.guardian.name : "A family"), item.student ? ` · ${item.student.name}${item.student.class_name ? `, ${item.student.class_name}` : ""}` : "", " ", timeEl(item.created_at)),
        quoted(text, lang),
        ...note,
        item.staff ? h("p", { class: "hint" }, t("Sent to {name}", { name: item.staff.name })) : null,
        officeActions(item, draw),
      );
    };
    card.translated = (lang, text, engine) => {
      item.message = { ...item.message, text, lang, translation: { status: "ready", engine } };
      draw();
    };
    draw();
    return card;
  }

  async function load() {
    try {
      const reply = await api.get("/api/office/messages");
      mount(list);
      cards.clear();
      for (const item of reply.items || []) {
        const card = officeCard(item);
        cards.set(item.id, card);
        list.append(card);
      }
      if (!list.children.length) list.append(empty(t("Nothing for the office"), t("Messages about absence, sickness, dinners, music lessons and appointments are copied here."), "flag"));
    } catch (err) {
      mount(list, failure(err, t("The office inbox")));
    }
  }
  mount(ctx.root, pageTitle(t("Office inbox"), t("Absence, sickness, dinners, music lessons, appointments and urgent messages")), list);
  await load();
  const channel = staffChannel(ctx);
  if (channel) {
    ctx.scope.live(channel, {
      event(frame) {
        if (frame.type === "office.message" || frame.type === "office.done") load();
      },
      reset: load,
    });
  }
  ctx.scope.live(`user:${ctx.me.id}`, {
    event(frame) {
      const d = frame.data || {};
      if (frame.type === "message.translated" && cards.has(d.message_id) && base(d.lang) === base(ctx.me.language)) {
        cards.get(d.message_id).translated(d.lang, d.text, d.engine);
      }
    },
    reset: load,
  });
}
