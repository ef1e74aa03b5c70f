// Staff: who has answered an event (yes, no), who has not, and pupils with no guardian account
// for the office to chase; a button nudges those who have not answered. Live on the class's
// staff channel.

import * as api from "../api.js";
import { h, mount } from "../dom.js";
import { number } from "../format.js";
import { t, tn } from "../i18n.js";
import { busy, failure, loading, messageOf } from "../ui.js";
import { readResponses } from "../events_api.js";

export function responsesPanel(ctx, ev) {
  const box = h("div", {}, loading());
  const nudge = h("button", { type: "button", class: "button button-soft", dataset: { action: "nudge" } }, t("Nudge those who have not answered"));
  const section = h("section", { class: "card event-responses", "aria-label": t("Answers") }, h("h2", { class: "card-title" }, t("Answers")), box);

  function group(title, kind, rows) {
    return h(
      "div",
      { class: `responses-group is-${kind}`, dataset: { group: kind } },
      h("h3", { class: "responses-title" }, title, " ", h("span", { class: "badge" }, number(rows.length))),
      rows.length
        ? h(
            "ul",
            { class: "responses-list" },
            rows.map((r) => h("li", { dataset: { studentId: r.student.id } }, h("span", { class: "responses-name", dir: "auto" }, r.student.name), r.note ? h("span", { class: "responses-note", dir: "auto" }, r.note) : null)),
          )
        : null,
    );
  }

  async function load() {
    try {
      const groups = readResponses(await api.get(`/api/events/${ev.id}/responses`, { signal: ctx.scope.signal }));
      nudge.disabled = !groups.waiting.length || ev.cancelled;
      mount(
        box,
        group(t("Yes"), "yes", groups.yes),
        group(t("No"), "no", groups.no),
        group(t("Not answered yet"), "waiting", groups.waiting),
        group(t("No guardian account: please contact the family"), "unreachable", groups.unreachable),
        ev.cancelled ? null : h("div", { class: "row" }, nudge),
      );
    } catch (err) {
      if (err.name === "AbortError") return;
      mount(box, failure(err, t("Answers")));
    }
  }

  nudge.addEventListener("click", async () => {
    try {
      const reply = await busy(nudge, () => api.post(`/api/events/${ev.id}/nudge`));
      const sent = reply && typeof reply.nudged === "number" ? reply.nudged : null;
      ctx.toast(sent === null ? t("Reminder sent.") : tn("Reminder sent to {n} family.", "Reminder sent to {n} families.", sent));
    } catch (err) {
      ctx.toast(messageOf(err), "error");
    }
  });

  const classId = ev.class_id || (ev.source && ev.source.classId);
  if (classId) {
    ctx.scope.live(`class:${classId}:staff`, {
      event(frame) {
        const d = frame.data || {};
        const about = d.event_id || (d.response && d.response.event_id) || (d.event && d.event.id);
        if (frame.type === "event.answered" && (!about || Number(about) === Number(ev.id))) load();
      },
      reset: load,
    });
  }
  load();
  return section;
}
