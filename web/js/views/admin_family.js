// A pupil's family as the school manages it (admins): the linked guardians (remove one),
// and the invite codes made for the pupil (make one, see which were used, revoke one).
// A new code is shown once, when it is made: the server keeps only its hash.

import * as api from "../api.js";
import { h, icon, mount } from "../dom.js";
import { date, languageName } from "../format.js";
import { catalogs, interfaceLanguage, t } from "../i18n.js";
import { busy, confirmDialog, dialog, loading, messageOf, toast } from "../ui.js";

const STATUS = () => ({ open: t("Not used yet"), used: t("Used"), expired: t("Expired"), revoked: t("Revoked") });

export function familyDialog(pupil) {
  const guardians = h("ul", { class: "stack family-guardians" }, loading());
  const invites = h("ul", { class: "stack family-invites" }, loading());
  const fresh = h("div", { class: "family-new-code", "aria-live": "polite" });
  const make = h("button", { type: "button", class: "button button-primary", "data-action": "make-invite" }, icon("plus"), t("Make an invite code"));
  // Optional: email the new code straight to the parent or carer, in the language they read.
  const email = h("input", { type: "email", name: "invite-email", autocomplete: "off", placeholder: t("Email address (optional)") });
  const language = h("select", { name: "invite-language", "aria-label": t("Language of the email") });
  catalogs().then((manifest) => {
    const codes = ["en", ...Object.keys(manifest).filter((code) => manifest[code].complete)];
    mount(language, ...codes.map((code) => h("option", { value: code, selected: code === interfaceLanguage() }, languageName(code))));
  });
  const sendTo = h("div", { class: "row invite-email" }, email, language);

  async function loadGuardians() {
    try {
      const reply = await api.get(`/api/students/${pupil.id}/guardians`);
      mount(guardians);
      for (const g of reply.items || []) {
        const remove = h("button", { type: "button", class: "link-button danger" }, t("Remove"));
        remove.addEventListener("click", async () => {
          const ok = await confirmDialog(
            t("Remove {name}?", { name: g.name }),
            t("{name} loses access to {child} and the class at once, on every device.", { name: g.name, child: pupil.name }),
            t("Remove"),
          );
          if (!ok) return;
          await busy(remove, async () => {
            try {
              await api.del(`/api/students/${pupil.id}/guardians/${g.id}`);
              toast(t("{name} removed", { name: g.name }));
              loadGuardians();
            } catch (err) {
              toast(messageOf(err), "error");
            }
          });
        });
        guardians.append(h("li", { class: "row", "data-guardian-id": g.id }, h("strong", {}, g.name), h("span", { class: "muted" }, `${g.email || ""} · ${languageName(g.language)}`), h("span", { class: "spacer" }), remove));
      }
      if (!guardians.children.length) guardians.append(h("li", { class: "muted" }, t("No guardian has joined yet.")));
    } catch (err) {
      mount(guardians, h("li", { class: "form-error" }, messageOf(err)));
    }
  }

  async function loadInvites() {
    try {
      const reply = await api.get(`/api/students/${pupil.id}/invites`);
      mount(invites);
      const names = STATUS();
      for (const inv of reply.items || []) {
        const revoke = inv.status === "open" ? h("button", { type: "button", class: "link-button danger", "data-action": "revoke" }, t("Revoke")) : null;
        revoke?.addEventListener("click", () =>
          busy(revoke, async () => {
            try {
              await api.del(`/api/invites/${inv.id}`);
              loadInvites();
            } catch (err) {
              toast(messageOf(err), "error");
            }
          }),
        );
        invites.append(
          h(
            "li",
            { class: "row", "data-invite-id": inv.id, "data-status": inv.status },
            h("span", { class: "badge" }, names[inv.status] || inv.status),
            h("span", { class: "muted" }, t("Made {made}, valid until {until}", { made: date(inv.created_at), until: date(inv.expires_at) })),
            inv.used_by ? h("span", {}, t("by {name}", { name: inv.used_by.name })) : null,
            h("span", { class: "spacer" }),
            revoke,
          ),
        );
      }
      if (!invites.children.length) invites.append(h("li", { class: "muted" }, t("No invite code made yet.")));
    } catch (err) {
      mount(invites, h("li", { class: "form-error" }, messageOf(err)));
    }
  }

  make.addEventListener("click", () =>
    busy(make, async () => {
      try {
        const address = email.value.trim();
        const made = await api.post("/api/invites", address ? { student_id: pupil.id, email: address, language: language.value } : { student_id: pupil.id });
        const sent = made.emailed === true ? h("p", { class: "notice", "data-invite-emailed": "" }, t("We emailed this code to {address}.", { address })) : null;
        const unsent = made.emailed === false ? h("p", { class: "form-error" }, t("The email could not be sent. Give the code another way.")) : null;
        mount(fresh, sent, unsent, h("p", {}, t("Give this code to one parent or carer of {child}. It works once, until {date}.", { child: pupil.name, date: date(made.expires_at) })), h("p", { class: "code big-number", "data-invite-code": made.code }, made.code));
        if (made.emailed) email.value = "";
        loadInvites();
      } catch (err) {
        toast(messageOf(err), "error");
      }
    }),
  );

  dialog(
    t("{name}'s family", { name: pupil.name }),
    h("div", { class: "stack family" }, h("h3", { class: "card-title" }, t("Guardians")), guardians, h("h3", { class: "card-title" }, t("Invite codes")), sendTo, make, fresh, invites),
  );
  loadGuardians();
  loadInvites();
}
