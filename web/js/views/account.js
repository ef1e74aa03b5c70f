// The user's own account: name, the language they read (posts and messages are
// translated into it), password, and for families, linking another child.

import * as api from "../api.js";
import { h, field, focus, mount, uid } from "../dom.js";
import { busy, errorLine, loading, messageOf, pageTitle, toast } from "../ui.js";
import { N_, t, tn } from "../i18n.js";
import { notificationSettings } from "./notifications.js";

export async function account(ctx) {
  mount(ctx.root, pageTitle(t("Your account")), loading());
  const languages = await api.getOptional("/api/languages", { items: [] });
  const me = ctx.me;

  const name = h("input", { class: "input", value: me.name, maxlength: "200", autocomplete: "name" });
  const language = h("select", { class: "input" });
  for (const lang of languages.items || []) {
    const label = lang.native_name && lang.native_name !== lang.name ? `${lang.native_name} — ${lang.name}` : lang.name;
    language.append(h("option", { value: lang.code, selected: lang.code === me.language }, label));
  }
  const save = h("button", { type: "submit", class: "button button-primary" }, t("Save"));
  const error = errorLine();
  const profile = h(
    "form",
    { class: "card stack", novalidate: true },
    h("h2", { class: "card-title" }, t("About you")),
    field(t("Name"), name),
    field(t("Language you read best"), language, t("Posts and messages are shown in this language, with the original one tap away.")),
    error.el,
    save,
  );
  profile.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.clear();
    await busy(save, async () => {
      try {
        await api.patch("/api/me", { name: name.value.trim(), language: language.value });
        await ctx.refreshMe();
        toast(t("Saved"));
        ctx.navigate("/account", { replace: true });
      } catch (err) {
        error.show(messageOf(err));
      }
    });
  });

  const current = h("input", { class: "input", type: "password", autocomplete: "current-password" });
  const fresh = h("input", { class: "input", type: "password", autocomplete: "new-password", minlength: "10" });
  const change = h("button", { type: "submit", class: "button" }, t("Change password"));
  const pwError = errorLine();
  const password = h(
    "form",
    { class: "card stack", novalidate: true },
    h("h2", { class: "card-title" }, t("Password")),
    field(t("Current password"), current),
    field(t("New password"), fresh, t("At least 10 characters.")),
    pwError.el,
    change,
  );
  password.addEventListener("submit", async (event) => {
    event.preventDefault();
    pwError.clear();
    if (!current.value || !fresh.value) {
      pwError.show(t("Fill in both passwords."));
      focus(current.value ? fresh : current);
      return;
    }
    await busy(change, async () => {
      try {
        await api.patch("/api/me", { password: fresh.value, current_password: current.value });
        password.reset();
        toast(t("Password changed"));
      } catch (err) {
        pwError.show(messageOf(err));
      }
    });
  });

  let childForm = null;
  if (me.role === "parent") {
    const code = h("input", { class: "input input-code", autocomplete: "off", autocapitalize: "characters", id: uid("code") });
    const link = h("button", { type: "submit", class: "button" }, t("Link child"));
    const linkError = errorLine();
    childForm = h(
      "form",
      { class: "card stack", novalidate: true },
      h("h2", { class: "card-title" }, t("Another child at this school?")),
      field(t("Invite code"), code, t("Ask the school for a code for each child.")),
      linkError.el,
      link,
    );
    childForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      linkError.clear();
      if (!code.value.trim()) {
        focus(code);
        return;
      }
      await busy(link, async () => {
        try {
          await api.post("/api/me/children", { code: code.value.trim().toUpperCase() });
          await ctx.refreshMe();
          toast(t("Child linked"));
          ctx.navigate("/feed");
        } catch (err) {
          linkError.show(messageOf(err));
        }
      });
    });
  }

  const notifications = await notificationSettings(me);
  mount(
    ctx.root,
    pageTitle(t("Your account"), me.email || null),
    h("div", { class: "settings-grid" }, profile, notifications, password, childForm),
  );
}
