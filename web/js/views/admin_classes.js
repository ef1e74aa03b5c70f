// Setting up the school (admins): the classes, and in each class its staff and pupils —
// adding, editing, moving, marking as left, photo consent and LA care, erasing — with
// the printing of invite letters and pupils' login cards. A pupil's family (guardians
// and invite codes) opens in a dialog: ./admin_family.js.

import * as api from "../api.js";
import { h, icon, mount, field, focus, uid } from "../dom.js";
import { t } from "../i18n.js";
import { busy, confirmDialog, dialog, empty, errorLine, failure, loading, messageOf, pageTitle, toast } from "../ui.js";
import { familyDialog } from "./admin_family.js";

/** Links to the printable PDFs of a class (they open in a new tab; the session cookie goes with them). */
function printLinks(classId) {
  return h(
    "div",
    { class: "row print-links" },
    h("a", { class: "button", href: `/api/classes/${classId}/letters.pdf`, target: "_blank", rel: "noopener", "data-print": "letters" }, icon("send"), t("Print invite letters")),
    h("a", { class: "button", href: `/api/classes/${classId}/login-cards.pdf`, target: "_blank", rel: "noopener", "data-print": "cards" }, icon("monster"), t("Print login cards")),
  );
}

/** Ask for one line of text in a dialog; resolves to the trimmed text or null. */
export function askText(title, label, value = "", confirm = t("Save")) {
  return new Promise((resolve) => {
    const input = h("input", { class: "input", id: uid("ask"), value, maxlength: "100" });
    const ok = h("button", { type: "submit", class: "button button-primary" }, confirm);
    let answer = null;
    const form = h("form", { class: "stack", novalidate: true }, field(label, input), ok);
    const dlg = dialog(title, form);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!input.value.trim()) {
        focus(input);
        return;
      }
      answer = input.value.trim();
      dlg.close();
    });
    dlg.addEventListener("close", () => resolve(answer));
    focus(input);
  });
}

export async function classesAdmin(ctx) {
  mount(ctx.root, pageTitle(t("Classes and pupils")), loading());
  let classes;
  try {
    classes = (await api.get("/api/classes?archived=true")).items || [];
  } catch (err) {
    mount(ctx.root, pageTitle(t("Classes and pupils")), failure(err, t("Classes")));
    return;
  }
  const name = h("input", { class: "input", id: uid("class"), maxlength: "100", placeholder: t("e.g. Year 4 Oak") });
  const add = h("button", { type: "submit", class: "button button-primary" }, icon("plus"), t("Add class"));
  const error = errorLine();
  const form = h("form", { class: "card stack", novalidate: true, "data-form": "add-class" }, field(t("New class"), name), error.el, add);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.clear();
    if (!name.value.trim()) return focus(name);
    await busy(add, async () => {
      try {
        const made = await api.post("/api/classes", { name: name.value.trim() });
        toast(t("{name} added", { name: made.name }), "success");
        ctx.navigate(`/admin/classes/${made.id}`);
      } catch (err) {
        error.show(messageOf(err));
      }
    });
  });
  const archived = classes.filter((c) => c.archived);
  classes = classes.filter((c) => !c.archived);
  const rows = classes.map((c) =>
    h(
      "li",
      { class: "card admin-class", "data-class-id": c.id },
      h("a", { href: `#/admin/classes/${c.id}`, class: "admin-class-name" }, c.name),
      h("span", { class: "muted" }, t("Class code {code}", { code: c.class_code })),
    ),
  );
  mount(
    ctx.root,
    h(
      "div",
      { class: "page-head page-head-row" },
      h("h1", { class: "page-title", tabindex: "-1" }, t("Classes and pupils")),
      h("div", { class: "row" }, h("a", { class: "button", href: "#/admin/classes/import" }, t("Import a roster")), h("a", { class: "button", href: "/api/school/letters.pdf", target: "_blank", rel: "noopener" }, t("Print every invite letter"))),
    ),
    classes.length ? h("ul", { class: "admin-class-list" }, rows) : empty(t("No classes yet"), t("Add your first class, or import the whole school from your MIS."), "home"),
    form,
    archived.length ? h("h2", { class: "section-title" }, t("Archived classes")) : null,
    archived.length ? h("ul", { class: "stack" }, archived.map((c) => archivedRow(ctx, c))) : null,
  );
}

function archivedRow(ctx, found) {
  const restore = h("button", { type: "button", class: "link-button", "data-action": "restore" }, t("Bring back"));
  restore.addEventListener("click", () =>
    busy(restore, async () => {
      try {
        await api.patch(`/api/classes/${found.id}`, { archived: false });
        classesAdmin(ctx);
      } catch (err) {
        toast(messageOf(err), "error");
      }
    }),
  );
  return h("li", { class: "card row", "data-class-id": found.id }, h("a", { href: `#/admin/classes/${found.id}` }, found.name), h("span", { class: "spacer" }), restore);
}

function consentSwitch(pupil, key, label, consequence, onChange) {
  const box = h("input", { type: "checkbox", class: "check", id: uid(key), checked: Boolean(pupil[key]), "data-switch": key });
  box.addEventListener("change", async () => {
    const want = box.checked;
    const ok = await confirmDialog(label, consequence(want), t("Change"));
    if (!ok) {
      box.checked = !want;
      return;
    }
    try {
      const updated = await api.patch(`/api/students/${pupil.id}`, { [key]: want });
      onChange(updated);
      toast(t("Saved"), "success");
    } catch (err) {
      box.checked = !want;
      toast(messageOf(err), "error");
    }
  });
  return h("span", { class: "check-row" }, box, h("label", { for: box.id }, label));
}

function consentConsequence(on) {
  return on
    ? t("Photos, recordings and work that show this pupil can be shared with the class's families.")
    : t("No photo, recording or work sample showing this pupil can be posted, and those already posted are hidden from families at once.");
}

function careConsequence(on) {
  return on
    ? t("This pupil will never be shown in photos, recordings or work samples, whatever the photo consent says; posts already showing them are hidden at once.")
    : t("This pupil can be shown again where photo consent allows it.");
}

export async function classAdmin(ctx) {
  const classId = Number(ctx.params.id);
  mount(ctx.root, pageTitle(t("Class")), loading());
  let found, pupils, staff, classes;
  try {
    [found, pupils, staff, classes] = await Promise.all([
      api.get(`/api/classes/${classId}`),
      api.get(`/api/classes/${classId}/students`),
      api.get("/api/staff"),
      api.get("/api/classes"),
    ]);
  } catch (err) {
    mount(ctx.root, pageTitle(t("Class")), failure(err, t("This class")));
    return;
  }
  const reload = () => classAdmin(ctx);
  const current = (pupils.items || []).filter((p) => !p.left_at);
  const left = (pupils.items || []).filter((p) => p.left_at);

  const rename = h("button", { type: "button", class: "button button-ghost" }, t("Rename"));
  rename.addEventListener("click", async () => {
    const name = await askText(t("Rename {name}", { name: found.name }), t("Class name"), found.name);
    if (!name) return;
    try {
      await api.patch(`/api/classes/${classId}`, { name });
      reload();
    } catch (err) {
      toast(messageOf(err), "error");
    }
  });
  // A class that never had pupils can go; one whose pupils have all left or moved is archived:
  // its story and its leavers' records stay until they are erased.
  const remove = h("button", { type: "button", class: "button button-ghost danger", "data-action": "archive" }, (pupils.items || []).length ? t("Archive class") : t("Remove class"));
  remove.addEventListener("click", async () => {
    const archive = (pupils.items || []).length > 0;
    const ok = archive
      ? await confirmDialog(t("Archive {name}?", { name: found.name }), t("It leaves the class lists and takes no new pupils; its story stays readable to leaders. Only a class whose pupils have all left or moved can be archived."), t("Archive"))
      : await confirmDialog(t("Remove {name}?", { name: found.name }), t("The class has never had pupils; it is removed for good."), t("Remove"));
    if (!ok) return;
    try {
      if (archive) await api.patch(`/api/classes/${classId}`, { archived: true });
      else await api.del(`/api/classes/${classId}`);
      toast(archive ? t("{name} archived", { name: found.name }) : t("{name} removed", { name: found.name }));
      ctx.navigate("/admin/classes");
    } catch (err) {
      toast(messageOf(err), "error");
    }
  });

  mount(
    ctx.root,
    h("a", { class: "back-link", href: "#/admin/classes" }, t("All classes")),
    h("div", { class: "page-head page-head-row" }, h("h1", { class: "page-title", tabindex: "-1" }, found.name), h("div", { class: "row" }, rename, remove)),
    h("p", { class: "page-sub" }, t("Class code {code} · {n} pupils", { code: found.class_code, n: current.length })),
    printLinks(classId),
    staffCard(classId, staff.items || [], reload),
    h("h2", { class: "section-title" }, t("Pupils")),
    current.length
      ? h("div", { class: "card table-card" }, pupilTable(current, classes.items || [], classId, reload))
      : empty(t("No pupils yet"), t("Add pupils below, or import a roster."), "users"),
    addPupilForm(classId, reload),
    left.length ? h("h2", { class: "section-title" }, t("Pupils who have left")) : null,
    left.length ? h("ul", { class: "stack" }, left.map((p) => leftRow(p, reload))) : null,
  );
}

function staffCard(classId, staff, reload) {
  const list = h("ul", { class: "stack admin-staff" });
  for (const person of staff) {
    const box = h("input", { type: "checkbox", class: "check", id: uid("staff"), checked: (person.class_ids || []).includes(classId), "data-staff-id": person.id });
    box.addEventListener("change", async () => {
      const ids = new Set(person.class_ids || []);
      if (box.checked) ids.add(classId);
      else ids.delete(classId);
      try {
        const updated = await api.patch(`/api/staff/${person.id}`, { class_ids: [...ids] });
        person.class_ids = updated.class_ids;
        toast(box.checked ? t("{name} now works with this class", { name: person.name }) : t("{name} no longer works with this class", { name: person.name }));
      } catch (err) {
        box.checked = !box.checked;
        toast(messageOf(err), "error");
      }
    });
    list.append(h("li", { class: "check-row" }, box, h("label", { for: box.id }, person.name, " ", h("span", { class: "muted" }, roleName(person.role)))));
  }
  return h("section", { class: "card stack" }, h("h2", { class: "card-title" }, t("Staff of this class")), h("p", { class: "hint" }, t("They see the class's pupils, codes and families' messages to them.")), list);
}

export function roleName(role) {
  return { admin: t("Leader (admin)"), teacher: t("Teacher"), office: t("Office") }[role] || role;
}

function pupilTable(pupils, classes, classId, reload) {
  const rows = pupils.map((p) => {
    const family = h("button", { type: "button", class: "link-button", "data-action": "family" }, t("Family and codes"));
    family.addEventListener("click", () => familyDialog(p));
    const edit = h("button", { type: "button", class: "link-button", "data-action": "edit" }, t("Edit"));
    edit.addEventListener("click", () => editPupil(p, classes, reload));
    const leave = h("button", { type: "button", class: "link-button", "data-action": "leave" }, t("Mark as left"));
    leave.addEventListener("click", async () => {
      const ok = await confirmDialog(
        t("{name} has left the school?", { name: p.name }),
        t("Their family loses access to {name} and the class at once, {name} can no longer sign in, and their data is erased after the retention period.", { name: p.name }),
        t("Mark as left"),
      );
      if (!ok) return;
      try {
        await api.patch(`/api/students/${p.id}`, { left_at: new Date().toISOString() });
        toast(t("{name} is marked as left", { name: p.name }));
        reload();
      } catch (err) {
        toast(messageOf(err), "error");
      }
    });
    const row = h(
      "tr",
      { "data-student-id": p.id },
      h("th", { scope: "row" }, `${p.first_name} ${p.last_name}`, p.name !== p.first_name ? h("span", { class: "muted" }, ` (${p.name})`) : null),
      h("td", {}, consentSwitch(p, "photo_consent", t("Photo consent"), consentConsequence, (u) => Object.assign(p, u))),
      h("td", {}, consentSwitch(p, "la_care", t("LA care"), careConsequence, (u) => Object.assign(p, u))),
      h("td", { class: "code" }, p.student_code || ""),
      h("td", {}, h("div", { class: "row" }, family, edit, leave)),
    );
    return row;
  });
  return h(
    "table",
    { class: "table admin-pupils" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("Pupil")), h("th", { scope: "col" }, t("Photos")), h("th", { scope: "col" }, t("Care")), h("th", { scope: "col" }, t("Sign-in code")), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, t("Actions"))))),
    h("tbody", {}, rows),
  );
}

function addPupilForm(classId, reload) {
  const first = h("input", { class: "input", id: uid("first"), maxlength: "100", autocomplete: "off" });
  const last = h("input", { class: "input", id: uid("last"), maxlength: "100", autocomplete: "off" });
  const consent = h("input", { type: "checkbox", class: "check", id: uid("consent") });
  const care = h("input", { type: "checkbox", class: "check", id: uid("care") });
  const add = h("button", { type: "submit", class: "button button-primary" }, icon("plus"), t("Add pupil"));
  const error = errorLine();
  const form = h(
    "form",
    { class: "card stack", novalidate: true, "data-form": "add-pupil" },
    h("h2", { class: "card-title" }, t("Add a pupil")),
    h("div", { class: "two-col" }, field(t("First name"), first), field(t("Last name"), last)),
    h("span", { class: "check-row" }, consent, h("label", { for: consent.id }, t("Parents gave photo consent"))),
    h("span", { class: "check-row" }, care, h("label", { for: care.id }, t("In local-authority care (never shown in photos)"))),
    error.el,
    add,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.clear();
    if (!first.value.trim() || !last.value.trim()) {
      error.show(t("Write the pupil's first and last name."));
      return focus(first.value.trim() ? last : first);
    }
    await busy(add, async () => {
      try {
        const made = await api.post(`/api/classes/${classId}/students`, { first_name: first.value.trim(), last_name: last.value.trim(), photo_consent: consent.checked, la_care: care.checked });
        toast(t("{name} added", { name: made.name }), "success");
        reload();
      } catch (err) {
        error.show(messageOf(err));
      }
    });
  });
  return form;
}

function editPupil(pupil, classes, reload) {
  const first = h("input", { class: "input", id: uid("first"), maxlength: "100", value: pupil.first_name });
  const last = h("input", { class: "input", id: uid("last"), maxlength: "100", value: pupil.last_name });
  const move = h("select", { class: "input", id: uid("class") }, classes.map((c) => h("option", { value: c.id, selected: c.id === pupil.class_id }, c.name)));
  const save = h("button", { type: "submit", class: "button button-primary" }, t("Save"));
  const error = errorLine();
  const erase = h("button", { type: "button", class: "link-button danger", "data-action": "erase" }, t("Erase all of {name}'s data", { name: pupil.first_name }));
  const form = h("form", { class: "stack", novalidate: true }, field(t("First name"), first), field(t("Last name"), last), field(t("Class"), move, t("Moving a pupil takes their family's access to the new class at once.")), error.el, h("div", { class: "row" }, save, h("span", { class: "spacer" }), erase));
  const dlg = dialog(t("Edit {name}", { name: pupil.name }), form);
  erase.addEventListener("click", () => {
    dlg.close();
    eraseDialog(pupil, reload);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const changes = {};
    if (first.value.trim() !== pupil.first_name) changes.first_name = first.value.trim();
    if (last.value.trim() !== pupil.last_name) changes.last_name = last.value.trim();
    if (Number(move.value) !== pupil.class_id) changes.class_id = Number(move.value);
    if (!Object.keys(changes).length) return dlg.close();
    await busy(save, async () => {
      try {
        await api.patch(`/api/students/${pupil.id}`, changes);
        dlg.close();
        toast(t("Saved"), "success");
        reload();
      } catch (err) {
        error.show(messageOf(err));
      }
    });
  });
  focus(first);
}

function leftRow(pupil, reload) {
  const erase = h("button", { type: "button", class: "button button-ghost danger", "data-action": "erase" }, t("Erase now"));
  erase.addEventListener("click", () => eraseDialog(pupil, reload));
  return h("li", { class: "card row", "data-student-id": pupil.id }, h("span", {}, `${pupil.first_name} ${pupil.last_name}`), h("span", { class: "spacer" }), erase);
}

/** Permanent erasure (P18) asks for the pupil's first name typed out, so it is never a slip. */
function eraseDialog(pupil, reload) {
  const typed = h("input", { class: "input", id: uid("erase"), autocomplete: "off" });
  const go = h("button", { type: "submit", class: "button button-danger", disabled: true }, t("Erase for ever"));
  typed.addEventListener("input", () => {
    go.disabled = typed.value.trim() !== pupil.first_name;
  });
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    h("p", {}, t("Everything about {name} is deleted for good: points, portfolio, photos and recordings of them, tags and translations. This cannot be undone.", { name: `${pupil.first_name} ${pupil.last_name}` })),
    field(t("Type {name} to confirm", { name: pupil.first_name }), typed),
    go,
  );
  const dlg = dialog(t("Erase {name}?", { name: pupil.first_name }), form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (typed.value.trim() !== pupil.first_name) return;
    await busy(go, async () => {
      try {
        await api.del(`/api/students/${pupil.id}`);
        dlg.close();
        toast(t("{name} has been erased", { name: pupil.first_name }));
        reload();
      } catch (err) {
        toast(messageOf(err), "error");
      }
    });
  });
  focus(typed);
}
