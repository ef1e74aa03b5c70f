// "Subscribe in your phone's calendar": the reader's private feed link (GET /api/me/calendar),
// a copy button, and a reset that stops the old link working — with what the link gives away.

import * as api from "../api.js";
import { h, icon, mount } from "../dom.js";
import { t } from "../i18n.js";
import { busy, confirmDialog, messageOf } from "../ui.js";

function linkOf(reply) {
  if (!reply) return null;
  if (reply.url) return new URL(reply.url, location.origin).href;
  if (reply.token) return `${location.origin}/api/calendar.ics?token=${encodeURIComponent(reply.token)}`;
  return null;
}

/** A closed panel that opens to the feed link (fetched only when opened). */
export function feedPanel(ctx) {
  const body = h("div", { class: "stack" });
  const panel = h(
    "details",
    { class: "card calendar-feed" },
    h("summary", { class: "calendar-feed-title" }, icon("calendar"), t("Subscribe in your phone's calendar")),
    body,
  );
  let loaded = false;

  async function show(reply) {
    const link = linkOf(reply);
    const input = h("input", { class: "input code calendar-feed-link", type: "text", readonly: true, value: link || "", dir: "ltr", "aria-label": t("Your private calendar link") });
    const copy = h("button", { type: "button", class: "button button-primary", dataset: { action: "copy-feed" } }, t("Copy the link"));
    const reset = h("button", { type: "button", class: "button button-ghost danger", dataset: { action: "reset-feed" } }, t("Stop the old link and make a new one"));
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(input.value);
        ctx.toast(t("Link copied. Paste it into your calendar app as a new subscription."));
      } catch {
        input.select();
        ctx.toast(t("Select the link and copy it."));
      }
    });
    reset.addEventListener("click", async () => {
      const yes = await confirmDialog(t("Make a new link?"), t("The old link stops working at once. Calendars using it will stop updating until you add the new link."), t("Make a new link"));
      if (!yes) return;
      try {
        // DELETE ends the old address; the next GET makes a new one.
        const fresh = await busy(reset, async () => {
          await api.del("/api/me/calendar");
          return api.get("/api/me/calendar");
        });
        await show(fresh);
        ctx.toast(t("New link made. The old one no longer works."));
      } catch (err) {
        ctx.toast(messageOf(err), "error");
      }
    });
    mount(
      body,
      h("p", {}, t("Your phone's calendar can show the school's events for your family and keep them up to date.")),
      h("p", { class: "notice notice-warn" }, t("Keep this link private: anyone who has it can see your family's school events.")),
      input,
      h("div", { class: "row" }, copy, reset),
    );
  }

  panel.addEventListener("toggle", async () => {
    if (!panel.open || loaded) return;
    loaded = true;
    try {
      await show(await api.get("/api/me/calendar", { signal: ctx.scope.signal }));
    } catch (err) {
      loaded = false;
      mount(body, h("p", { class: "notice notice-error", role: "alert" }, messageOf(err)));
    }
  });
  return panel;
}
