// Signing in (staff and parents), pupil sign-in with class and pupil codes, joining
// with an invite code (policy to accept, language to choose), and accepting a new
// version of the code of conduct.

import * as api from "../api.js";
import { t, N_, interfaceLanguage, parts, tn } from "../i18n.js";
import { h, field, focus, icon, mount } from "../dom.js";
import { monster } from "../avatar.js";
import { languageName } from "../format.js";
import { busy, errorLine, loading, messageOf, pageTitle } from "../ui.js";
import { languagePicker } from "../language_picker.js";

// The languages of GET /api/languages, for when the server cannot be asked (signed out).
const KNOWN = [
  "en", "ar", "bn", "ca", "de", "es", "fa", "fr", "gl", "gu", "hi", "it", "lt", "lv", "ne",
  "pa", "pl", "ps", "pt", "ro", "ru", "sk", "so", "sq", "ta", "ti", "tr", "uk", "ur", "zh", "cy",
];

function nativeName(code) {
  try {
    const name = new Intl.DisplayNames([code], { type: "language" }).of(code);
    return name ? name.charAt(0).toLocaleUpperCase(code) + name.slice(1) : code;
  } catch {
    return code;
  }
}

function englishName(code) {
  try {
    return new Intl.DisplayNames(["en"], { type: "language" }).of(code) || code;
  } catch {
    return code;
  }
}

function authCard(...children) {
  return h("div", { class: "auth" }, h("div", { class: "auth-card card" }, ...children));
}

function input(attrs) {
  return h("input", { class: "input", ...attrs });
}

export async function signIn(ctx) {
  const email = input({ type: "email", name: "email", autocomplete: "username", required: true, inputmode: "email" });
  const password = input({ type: "password", name: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "button button-primary button-block" }, t("Sign in"));
  const error = errorLine();
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    field(t("Email"), email),
    field(t("Password"), password),
    error.el,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.clear();
    if (!email.value.trim() || !password.value) {
      error.show(t("Please enter your email and password."));
      focus(email.value.trim() ? password : email);
      return;
    }
    await busy(submit, async () => {
      try {
        const reply = await api.post("/api/auth/login", { email: email.value.trim(), password: password.value });
        await ctx.signedIn(reply);
      } catch (err) {
        error.show(
          err instanceof api.ApiError && err.status === 401
            ? t("That email and password do not match. Please try again.")
            : messageOf(err),
        );
        password.select();
        focus(password);
      }
    });
  });
  mount(
    ctx.root,
    authCard(
      languagePicker(ctx),
      h("div", { class: "auth-hero" }, icon("home", "auth-logo")),
      pageTitle(t("Welcome to Homeroom"), t("Sign in to see your class and school news.")),
      form,
      h(
        "div",
        { class: "auth-links" },
        h("a", { href: "#/pupil", class: "button button-soft button-block" }, icon("monster"), t("I'm a pupil")),
        h("a", { href: "#/join", class: "button button-ghost button-block" }, t("I have an invite code from school")),
        h("a", { href: "#/forgot", class: "auth-small-link" }, t("Forgot password?")),
      ),
    ),
  );
}

/** "Forgot password?": ask for a reset link by email, or say to ask the office. */
export async function forgot(ctx) {
  const status = await api.getOptional("/api/auth/reset", { available: false });
  if (!status.available) {
    mount(
      ctx.root,
      authCard(
        pageTitle(t("Forgot your password?")),
        h("p", {}, t("This school's Homeroom cannot send emails. Please ask the school office to reset your password.")),
        h("a", { href: "#/sign-in", class: "button button-ghost button-block" }, t("Back to sign in")),
      ),
    );
    return;
  }
  const email = input({ type: "email", name: "email", autocomplete: "username", required: true, inputmode: "email" });
  const submit = h("button", { type: "submit", class: "button button-primary button-block" }, t("Email me a link"));
  const error = errorLine();
  const done = h("p", { role: "status", hidden: true }, t("If that address belongs to an account, a link is on its way. It works for one hour."));
  const form = h("form", { class: "stack", novalidate: true }, field(t("Email"), email), error.el, submit, done);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.clear();
    if (!email.value.trim()) {
      focus(email);
      return;
    }
    await busy(submit, async () => {
      try {
        await api.post("/api/auth/reset", { email: email.value.trim() });
        done.hidden = false;
      } catch (err) {
        error.show(messageOf(err));
      }
    });
  });
  mount(
    ctx.root,
    authCard(
      pageTitle(t("Forgot your password?"), t("We will email you a link to choose a new one.")),
      form,
      h("a", { href: "#/sign-in", class: "button button-ghost button-block" }, t("Back to sign in")),
    ),
  );
}

/** The emailed link's page: choose a new password (every other session ends). */
export async function resetPassword(ctx) {
  const query = new URLSearchParams(location.hash.split("?")[1] || "");
  const token = query.get("token") || "";
  const password = input({ type: "password", name: "password", autocomplete: "new-password", required: true, minlength: "10" });
  const submit = h("button", { type: "submit", class: "button button-primary button-block" }, t("Set new password"));
  const error = errorLine();
  const form = h("form", { class: "stack", novalidate: true }, field(t("New password"), password, t("At least 10 characters.")), error.el, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.clear();
    await busy(submit, async () => {
      try {
        await api.post("/api/auth/reset/confirm", { token, password: password.value });
        ctx.toast(t("Password changed. Please sign in."));
        ctx.navigate("/sign-in", { replace: true });
      } catch (err) {
        error.show(messageOf(err));
      }
    });
  });
  mount(ctx.root, authCard(pageTitle(t("Choose a new password")), form));
}

export async function pupilSignIn(ctx) {
  const classCode = input({
    type: "text",
    name: "class_code",
    autocomplete: "off",
    autocapitalize: "characters",
    spellcheck: "false",
    class: "input input-code",
    required: true,
  });
  const pupilCode = input({
    type: "text",
    name: "student_code",
    autocomplete: "off",
    autocapitalize: "characters",
    spellcheck: "false",
    class: "input input-code",
    required: true,
  });
  // A login card's QR code opens #/pupil/CLASS/CODE: both boxes come filled in.
  if (ctx.params && ctx.params.class) classCode.value = ctx.params.class;
  if (ctx.params && ctx.params.code) pupilCode.value = ctx.params.code;
  const submit = h("button", { type: "submit", class: "button button-primary button-huge button-block" }, t("Let's go!"));
  const error = errorLine();
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    field(t("Class code"), classCode, t("It is on the board in your classroom.")),
    field(t("My code"), pupilCode, t("Your teacher gave you this code.")),
    error.el,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.clear();
    const body = {
      class_code: classCode.value.trim().toUpperCase(),
      student_code: pupilCode.value.trim().toUpperCase(),
    };
    if (!body.class_code || !body.student_code) {
      error.show(t("Type both codes, then press the big button."));
      focus(body.class_code ? pupilCode : classCode);
      return;
    }
    await busy(submit, async () => {
      try {
        await ctx.signedIn(await api.post("/api/auth/student", body));
      } catch (err) {
        error.show(
          err instanceof api.ApiError && (err.status === 401 || err.status === 404)
            ? t("Hmm, those codes don't match. Check them with your teacher.")
            : messageOf(err),
        );
        focus(pupilCode);
      }
    });
  });
  const friends = h(
    "div",
    { class: "pupil-friends", "aria-hidden": "true" },
    monster({ colour: "coral" }, null),
    monster({ colour: "violet" }, null),
    monster({ colour: "sun" }, null),
  );
  mount(
    ctx.root,
    h(
      "div",
      { class: "auth auth-pupil" },
      h(
        "div",
        { class: "auth-card card" },
        languagePicker(ctx),
        friends,
        pageTitle(t("Hello! Ready to learn?"), t("Type your class code and your own code.")),
        form,
        h("p", { class: "auth-links" }, h("a", { href: "#/sign-in" }, t("Grown-ups sign in here"))),
      ),
    ),
  );
}

/** Join: step 1 checks the invite code; step 2 shows the policy and asks for the account details. */
export async function join(ctx) {
  const code = input({
    type: "text",
    name: "code",
    autocomplete: "one-time-code",
    autocapitalize: "characters",
    spellcheck: "false",
    class: "input input-code",
    placeholder: "ABCDE-FGHJK",
    value: ctx.params.code || "",
  });
  const next = h("button", { type: "submit", class: "button button-primary button-block" }, t("Next"));
  const error = errorLine();
  const step = h("div", { class: "join-step" });
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    field(t("Invite code"), code, t("The school gave you a code of ten letters and numbers.")),
    error.el,
    next,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.clear();
    const value = code.value.trim().toUpperCase();
    if (value.replace(/[^A-Z0-9]/g, "").length < 4) {
      error.show(t("Please type the invite code from the school."));
      focus(code);
      return;
    }
    await busy(next, async () => {
      try {
        const preview = await api.post("/api/join/preview", { code: value, language: interfaceLanguage().split("_")[0] });
        details(ctx, step, value, preview);
      } catch (err) {
        error.show(messageOf(err));
        focus(code);
      }
    });
  });
  mount(step, form);
  mount(
    ctx.root,
    authCard(
      languagePicker(ctx),
      pageTitle(t("Join your child's class"), t("Use the invite code the school gave you.")),
      step,
      h("p", { class: "auth-links" }, t("Already have an account?"), " ", h("a", { href: "#/sign-in" }, t("Sign in"))),
    ),
  );
}

function languageSelect(languages, chosen) {
  const select = h("select", { class: "input", name: "language" });
  const list = languages && languages.length ? languages : KNOWN.map((c) => ({ code: c, available: true }));
  for (const lang of list) {
    const native = lang.native_name || nativeName(lang.code);
    const english = lang.name || englishName(lang.code);
    const label = native === english ? native : `${native} — ${english}`;
    select.append(h("option", { value: lang.code, selected: lang.code === chosen }, label));
  }
  return select;
}

function guessLanguage(languages) {
  const codes = new Set((languages || []).map((l) => l.code));
  const picked = interfaceLanguage().split("_")[0];
  if (picked !== "en" && codes.has(picked)) return picked;
  for (const tag of navigator.languages || [navigator.language || "en"]) {
    const primary = String(tag).split("-")[0].toLowerCase();
    if (codes.has(primary)) return primary;
  }
  return "en";
}

/**
 * The code of conduct as the server gives it: translated into the reader's language like a post
 * when an engine can, with the school's original one tap away (the original is what is accepted).
 */
function policyBox(policy) {
  const box = h("div", { class: "policy-text", tabindex: "0", role: "region", "aria-label": t("Code of conduct") });
  const translated = policy.translation && policy.translation.status === "ready" && policy.original;
  let showOriginal = false;
  const toggle = translated ? h("button", { type: "button", class: "link-button see-original" }) : null;
  const note = translated ? h("p", { class: "translated-note" }, icon("globe", "icon-small")) : null;
  const draw = () => {
    const body = showOriginal ? policy.original : policy;
    box.replaceChildren();
    box.lang = String(body.lang || "en");
    box.dir = "auto";
    for (const para of String(body.text || "").split(/\n{2,}/)) box.append(h("p", { dir: "auto" }, para));
    if (translated) {
      toggle.textContent = showOriginal ? t("See translation") : t("See original");
      toggle.setAttribute("aria-pressed", showOriginal ? "true" : "false");
      note.replaceChildren(
        icon("globe", "icon-small"),
        t("Translated from {language}", { language: languageName(policy.original.lang) }) + " · ",
        toggle,
      );
    }
  };
  if (toggle) {
    toggle.addEventListener("click", () => {
      showOriginal = !showOriginal;
      draw();
    });
  }
  draw();
  return note ? h("div", { class: "policy" }, note, box) : box;
}

function details(ctx, step, code, preview) {
  const name = input({ type: "text", name: "name", autocomplete: "name", required: true });
  const email = input({ type: "email", name: "email", autocomplete: "email", required: true, inputmode: "email" });
  const password = input({
    type: "password",
    name: "password",
    autocomplete: "new-password",
    required: true,
    minlength: "10",
  });
  const language = languageSelect(preview.languages, guessLanguage(preview.languages));
  const accept = h("input", { type: "checkbox", name: "accept", id: "accept-policy", class: "check" });
  const submit = h("button", { type: "submit", class: "button button-primary button-block" }, t("Join Homeroom"));
  const error = errorLine();
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    h(
      "p",
      { class: "join-for" },
      ...parts(t("You are joining {school} as a grown-up of {child}."), {
        school: h("strong", {}, h("bdi", {}, preview.school.name)),
        child: h("strong", {}, h("bdi", {}, preview.student.name)),
      }),
    ),
    field(t("Your name"), name),
    field(t("Email"), email),
    field(t("Choose a password"), password, t("At least 10 characters.")),
    field(t("Language you read best"), language, t("Posts and messages from school will be shown in this language.")),
    h("h2", { class: "section-title" }, t("The school's code of conduct")),
    policyBox(preview.policy),
    h("div", { class: "check-row" }, accept, h("label", { for: "accept-policy" }, t("I have read the code of conduct and I agree to it."))),
    error.el,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.clear();
    if (!name.value.trim() || !email.value.trim() || !password.value) {
      error.show(t("Please fill in your name, email and a password."));
      focus([name, email, password].find((el) => !el.value.trim()));
      return;
    }
    if (!accept.checked) {
      error.show(t("Please read the code of conduct and tick the box to agree."));
      focus(accept);
      return;
    }
    await busy(submit, async () => {
      try {
        const reply = await api.post("/api/join", {
          code,
          name: name.value.trim(),
          email: email.value.trim(),
          password: password.value,
          language: language.value,
          accept_policy_version: preview.policy.version,
        });
        await ctx.signedIn(reply);
      } catch (err) {
        if (err instanceof api.ApiError && err.code === "guardian_limit") {
          mount(
            step,
            h(
              "div",
              { class: "notice notice-info", role: "status" },
              h("p", {}, err.message),
              h("p", {}, t("A school leader will look at your request and let you know.")),
            ),
          );
          focus(step.querySelector(".notice"));
          return;
        }
        const fields = err instanceof api.ApiError ? err.fields : {};
        const firstBad = fields.email ? email : fields.password ? password : fields.name ? name : null;
        error.show(messageOf(err));
        if (firstBad) focus(firstBad);
      }
    });
  });
  mount(step, form);
  focus(name);
}

/** A parent who has not accepted the school's current code of conduct sees it here first. */
export async function policy(ctx) {
  mount(ctx.root, loading());
  const current = await api.get("/api/policy");
  const accept = h("button", { type: "button", class: "button button-primary button-block" }, t("I agree"));
  const error = errorLine();
  accept.addEventListener("click", () =>
    busy(accept, async () => {
      try {
        await api.post("/api/policy/accept", { version: current.version });
        await ctx.refreshMe();
        ctx.navigate("/", { replace: true });
      } catch (err) {
        error.show(messageOf(err));
      }
    }),
  );
  mount(
    ctx.root,
    authCard(
      pageTitle(
        current.accepted_version ? t("The code of conduct has changed") : t("The school's code of conduct"),
        t("Please read it. You can use Homeroom once you agree to it."),
      ),
      policyBox(current),
      error.el,
      accept,
    ),
  );
}
