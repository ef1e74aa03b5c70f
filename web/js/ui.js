// Small pieces of interface shared by the views: toasts, empty and error states,
// buttons that show they are busy, dialogs and tabs.

import { ApiError } from "./api.js";
import { h, icon, focus, uid } from "./dom.js";
import { N_, t, tn } from "./i18n.js";

/** A short message at the bottom of the screen, announced to screen readers. */
export function toast(message, kind = "info") {
  const host = document.getElementById("toasts");
  if (!host) return;
  const el = h("div", { class: `toast toast-${kind}` }, message);
  host.appendChild(el);
  setTimeout(() => el.classList.add("toast-leaving"), 3200);
  setTimeout(() => el.remove(), 3700);
}

/** A friendly empty state: an illustration-like icon, a title and a line of help. */
export function empty(title, text, iconName = "story") {
  return h(
    "div",
    { class: "empty" },
    h("div", { class: "empty-icon" }, icon(iconName)),
    h("p", { class: "empty-title" }, title),
    text ? h("p", { class: "empty-text" }, text) : null,
  );
}

/** What to show when loading failed: "coming soon" for parts not served yet, else the message. */
export function failure(error, what = "this") {
  if (error instanceof ApiError && error.missing) {
    return empty(t("{what} is not switched on yet", { what }), t("This part of Homeroom will appear here when the school turns it on."), "clock");
  }
  const message = error instanceof ApiError ? error.message : t("Something went wrong. Please try again.");
  return h("div", { class: "notice notice-error", role: "alert" }, message);
}

export function loading(label = t("Loading…")) {
  return h("div", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), label);
}

/** Run `work` with the button disabled and marked busy; returns its result. */
export async function busy(button, work) {
  const previous = button.disabled;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = previous;
    button.removeAttribute("aria-busy");
  }
}

/** An inline error line under a form, announced when it changes. */
export function errorLine() {
  const el = h("p", { class: "form-error", role: "alert", hidden: true });
  return {
    el,
    show(message) {
      el.textContent = message;
      el.hidden = !message;
    },
    clear() {
      el.textContent = "";
      el.hidden = true;
    },
  };
}

export function messageOf(error) {
  if (error instanceof ApiError) return error.message;
  return t("Something went wrong. Please try again.");
}

/**
 * Tabs with the ARIA tabs pattern (arrow keys move between tabs).
 * tabs([{id, label, render(panel)}], {selected, onChange}) → element.
 */
export function tabs(items, { selected, onChange, label } = {}) {
  const base = uid("tabs");
  const list = h("div", { class: "tabs", role: "tablist", "aria-label": label || null });
  const panel = h("div", { class: "tab-panel", role: "tabpanel", tabindex: "-1", id: `${base}-panel` });
  const buttons = items.map((item) =>
    h("button", {
      type: "button",
      class: "tab",
      role: "tab",
      id: `${base}-${item.id}`,
      "aria-controls": `${base}-panel`,
      onclick: () => choose(item.id, true),
    }, item.label),
  );
  list.append(...buttons);
  list.addEventListener("keydown", (event) => {
    const index = buttons.indexOf(document.activeElement);
    if (index < 0) return;
    const rtl = document.documentElement.dir === "rtl";
    let next = null;
    if (event.key === (rtl ? "ArrowLeft" : "ArrowRight")) next = (index + 1) % buttons.length;
    if (event.key === (rtl ? "ArrowRight" : "ArrowLeft")) next = (index - 1 + buttons.length) % buttons.length;
    if (event.key === "Home") next = 0;
    if (event.key === "End") next = buttons.length - 1;
    if (next !== null) {
      event.preventDefault();
      buttons[next].focus();
      choose(items[next].id, true);
    }
  });
  function choose(id, byUser) {
    items.forEach((item, i) => {
      const on = item.id === id;
      buttons[i].setAttribute("aria-selected", on ? "true" : "false");
      buttons[i].tabIndex = on ? 0 : -1;
    });
    panel.setAttribute("aria-labelledby", `${base}-${id}`);
    if (onChange) onChange(id, panel, byUser);
  }
  const wrap = h("div", { class: "tabs-wrap" }, list, panel);
  wrap.choose = choose;
  queueMicrotask(() => choose(selected || items[0].id, false));
  return wrap;
}

/** A modal dialog (native <dialog>) that returns focus where it came from when closed. */
export function dialog(title, body, actions = []) {
  const opener = document.activeElement;
  const heading = h("h2", { class: "dialog-title" }, title);
  const close = h("button", { type: "button", class: "icon-button dialog-close", "aria-label": t("Close") }, icon("x"));
  const el = h(
    "dialog",
    { class: "dialog" },
    h("div", { class: "dialog-head" }, heading, close),
    h("div", { class: "dialog-body" }, body),
    actions.length ? h("div", { class: "dialog-actions" }, actions) : null,
  );
  const id = `dlg-${Math.random().toString(36).slice(2)}`;
  heading.id = id;
  el.setAttribute("aria-labelledby", id);
  close.addEventListener("click", () => el.close());
  el.addEventListener("close", () => {
    el.remove();
    if (opener && opener.isConnected) opener.focus();
  });
  document.body.appendChild(el);
  el.showModal();
  return el;
}

export function confirmDialog(title, text, confirmLabel = t("Yes")) {
  return new Promise((resolve) => {
    let answer = false;
    const yes = h("button", { type: "button", class: "button button-primary" }, confirmLabel);
    const no = h("button", { type: "button", class: "button" }, t("Cancel"));
    const el = dialog(title, h("p", {}, text), [no, yes]);
    yes.addEventListener("click", () => {
      answer = true;
      el.close();
    });
    no.addEventListener("click", () => el.close());
    el.addEventListener("close", () => resolve(answer));
    focus(no);
  });
}

/** A page heading that the router focuses after navigation. */
export function pageTitle(text, sub) {
  return h(
    "div",
    { class: "page-head" },
    h("h1", { class: "page-title", tabindex: "-1" }, text),
    sub ? h("p", { class: "page-sub" }, sub) : null,
  );
}
