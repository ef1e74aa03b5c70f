// Translation coverage for school leaders (admin): which languages the school's families
// and staff read, whether posts and messages reach them translated (and by what kind of
// engine), and the two ways to add a language: download its packages from the package
// index (when the server is online) or upload an .argosmodel file.

import * as api from "../api.js";
import { h, icon, mount, field, uid } from "../dom.js";
import { busy, errorLine, failure, loading, messageOf, pageTitle, toast } from "../ui.js";
import { number } from "../format.js";
import { N_, t, tn } from "../i18n.js";

const ENGINE_NAMES = { argos: "Argos", apertium: "Apertium" };
const STEP_WORDS = {
  waiting: N_("waiting"),
  downloading: N_("downloading"),
  installing: N_("checking and installing"),
  installed: N_("installed"),
  up_to_date: N_("already installed"),
  missing: N_("not in the index"),
  failed: N_("failed"),
};

function engineLabel(engine) {
  return (engine || "")
    .split("+")
    .map((name) => ENGINE_NAMES[name] || name)
    .join(" + ");
}

function direction(found) {
  if (found.status === "not_needed") return h("span", { class: "muted" }, t("Not needed"));
  const translated = found.status === "translated";
  return h(
    "div",
    { class: "coverage-direction", "data-status": found.status },
    h("span", { class: translated ? "badge badge-approved" : "badge badge-warn" }, translated ? t("Translated · {engine}", { engine: engineLabel(found.engine) }) : t("Not translated")),
    h("p", { class: "hint" }, found.note),
  );
}

function coverageTable(body) {
  const rows = body.languages.map((lang) =>
    h(
      "tr",
      { "data-lang": lang.code },
      h(
        "th",
        { scope: "row", class: "coverage-language" },
        h("span", { class: "coverage-name" }, lang.name),
        lang.native_name && lang.native_name !== lang.name ? h("span", { class: "muted", lang: lang.code }, ` ${lang.native_name}`) : null,
      ),
      h("td", { "data-label": t("Families"), class: "coverage-count" }, String(lang.families)),
      h("td", { "data-label": t("Staff"), class: "coverage-count" }, String(lang.staff)),
      h("td", { "data-label": t("Posts to them") }, direction(lang.posts)),
      h("td", { "data-label": t("Their messages to staff") }, direction(lang.messages)),
    ),
  );
  return h(
    "div",
    { class: "card table-card" },
    h(
      "table",
      { class: "table coverage-table" },
      h("caption", { class: "visually-hidden" }, t("Languages your school reads and whether they are translated")),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, t("Language")),
          h("th", { scope: "col" }, t("Families")),
          h("th", { scope: "col" }, t("Staff")),
          h("th", { scope: "col" }, t("Posts to them")),
          h("th", { scope: "col" }, t("Their messages to staff")),
        ),
      ),
      h("tbody", {}, rows),
    ),
  );
}

function summary(body) {
  const others = body.languages.filter((lang) => lang.posts.status !== "not_needed");
  const families = others.reduce((sum, lang) => sum + lang.families, 0);
  const reached = others.filter((lang) => lang.posts.status === "translated").reduce((sum, lang) => sum + lang.families, 0);
  if (!others.length) return h("p", { class: "hint" }, t("Everyone reads the school's own language."));
  return h("p", { class: "coverage-summary" }, tn("{reached} of {n} family who read another language gets posts translated.", "{reached} of {n} families who read another language get posts translated.", families, { reached: number(reached) }));
}

function packagesList(body) {
  if (!body.packages.length) return h("p", { class: "hint" }, t("No argos packages are installed yet."));
  return h(
    "ul",
    { class: "coverage-packages" },
    body.packages.map((p) => h("li", {}, `${p.source} → ${p.target}`, h("span", { class: "muted" }, " " + (p.bundled ? t("version {version} (in the server image)", { version: p.version }) : t("version {version}", { version: p.version }))))),
  );
}

function stepsList(status) {
  return h(
    "ul",
    { class: "coverage-steps" },
    (status.steps || []).map((step) => {
      const progress = step.state === "downloading" && step.received ? ` ${Math.round(step.received / 1048576)} MB${step.total ? ` of ${Math.round(step.total / 1048576)} MB` : ""}` : "";
      return h("li", { "data-state": step.state }, `${step.source} → ${step.target}: ${STEP_WORDS[step.state] ? t(STEP_WORDS[step.state]) : step.state}${progress}`, step.state === "failed" || step.state === "missing" ? h("span", { class: "hint" }, ` ${step.message}`) : null);
    }),
  );
}

export async function coverage(ctx) {
  mount(ctx.root, pageTitle(t("Translation")), loading());
  const table = h("div", { class: "coverage" }, loading());
  const installed = h("div");
  const fetchStatus = h("div", { class: "coverage-fetch-status", role: "status", "aria-live": "polite" });
  let body = null;

  async function load() {
    try {
      body = await api.get("/api/translation/coverage", { signal: ctx.scope.signal });
    } catch (err) {
      if (err.name === "AbortError") return;
      mount(table, failure(err, t("Translation coverage")));
      return;
    }
    mount(table, summary(body), coverageTable(body));
    mount(installed, packagesList(body));
    if (!languages.value.trim()) {
      languages.value = body.languages.filter((lang) => lang.posts.status === "unavailable" || lang.messages.status === "unavailable").map((lang) => lang.code).join(" ");
    }
    for (const control of [languages, fetchButton, fileInput, uploadButton]) control.disabled = !body.argos;
    argosNote.hidden = body.argos;
    indexNote.textContent = t("From the package index at {url}. Needs internet on the server.", { url: body.index_url });
  }

  // -- fetch from the package index -------------------------------------------------------------
  const languages = h("input", { class: "input", id: uid("langs"), autocomplete: "off", spellcheck: "false", placeholder: "ur pl bn" });
  const fetchButton = h("button", { type: "submit", class: "button button-primary" }, icon("globe"), t("Download and install"));
  const fetchError = errorLine();
  const indexNote = h("p", { class: "hint coverage-index" });
  const fetchForm = h(
    "form",
    { class: "card stack", novalidate: true },
    h("h2", { class: "card-title" }, t("Download languages")),
    indexNote,
    field(t("Languages"), languages, t("Language codes, separated by spaces. Each gets both directions with English.")),
    fetchError.el,
    fetchButton,
    fetchStatus,
  );

  let polling = false;
  function showStatus(status) {
    if (!status || status.status === "idle") {
      mount(fetchStatus);
      return;
    }
    const words = { running: t("Downloading…"), done: t("Finished."), failed: t("Not everything was installed."), interrupted: t("Interrupted.") };
    mount(fetchStatus, h("p", { class: "coverage-fetch-state", "data-status": status.status }, h("strong", {}, words[status.status] || status.status), status.message ? ` ${status.message}` : ""), stepsList(status));
  }

  async function poll() {
    if (polling) return;
    polling = true;
    try {
      for (;;) {
        const status = await api.get("/api/translation/fetch", { signal: ctx.scope.signal });
        showStatus(status);
        if (status.status !== "running") {
          if (status.status === "done") toast(t("Languages installed"));
          await load();
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
        if (ctx.scope.disposed) return;
      }
    } catch (err) {
      if (err.name !== "AbortError") fetchError.show(messageOf(err));
    } finally {
      polling = false;
    }
  }

  fetchForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    fetchError.clear();
    const codes = languages.value.toLowerCase().split(/[\s,]+/).filter(Boolean);
    if (!codes.length) {
      fetchError.show(t("Write at least one language code, such as ur or pl."));
      languages.focus();
      return;
    }
    await busy(fetchButton, async () => {
      try {
        showStatus(await api.post("/api/translation/fetch", { languages: codes }));
      } catch (err) {
        fetchError.show(messageOf(err));
        return;
      }
      poll();
    });
  });

  // -- upload a package -------------------------------------------------------------------------
  const fileInput = h("input", { type: "file", class: "input", id: uid("package"), accept: ".argosmodel,application/zip" });
  const uploadButton = h("button", { type: "submit", class: "button" }, icon("plus"), t("Install package"));
  const uploadError = errorLine();
  const uploadForm = h(
    "form",
    { class: "card stack", novalidate: true },
    h("h2", { class: "card-title" }, t("Upload a package")),
    h("p", { class: "hint" }, t("Without internet on the server: get the .argosmodel files on another computer (see the README) and upload them here, one per direction.")),
    field(t("Package file (.argosmodel)"), fileInput),
    uploadError.el,
    uploadButton,
  );
  uploadForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    uploadError.clear();
    const file = fileInput.files && fileInput.files[0];
    if (!file) {
      uploadError.show(t("Choose an .argosmodel file first."));
      fileInput.focus();
      return;
    }
    const form = new FormData();
    form.append("file", file);
    await busy(uploadButton, async () => {
      try {
        const reply = await api.post("/api/translation/packages", form);
        toast(t("Installed {source} → {target}", { source: reply.package.source, target: reply.package.target }));
        fileInput.value = "";
        await load();
      } catch (err) {
        uploadError.show(messageOf(err));
      }
    });
  });

  const argosNote = h("p", { class: "notice", hidden: true }, "Argos is not available on this server, so languages cannot be added here; Apertium's pairs still work.");
  mount(
    ctx.root,
    pageTitle(t("Translation"), t("Which languages your school reads, and whether posts and messages reach them translated.")),
    table,
    argosNote,
    h("div", { class: "settings-grid" }, fetchForm, uploadForm, h("section", { class: "card stack" }, h("h2", { class: "card-title" }, t("Installed packages")), installed)),
  );
  await load();
  const status = await api.get("/api/translation/fetch", { signal: ctx.scope.signal }).catch(() => null);
  showStatus(status);
  if (status && status.status === "running") poll();
}
