// A guardian's answer to an event, child by child: Yes or No with an optional note, shown as
// it stands and changeable until the deadline (PUT /api/events/{id}/responses/{student_id}).

import * as api from "../api.js";
import { h, mount, uid } from "../dom.js";
import { dateTime } from "../format.js";
import { t } from "../i18n.js";
import { busy, errorLine, loading, messageOf } from "../ui.js";
import { myAnswers, open } from "../events_api.js";

/** The children this event asks about: its class's, or all of them for a school event. */
export function childrenFor(ev, me) {
  const classId = ev.class_id || (ev.source && ev.source.classId) || null;
  const kids = me.children || [];
  return classId ? kids.filter((c) => c.class_id === classId) : kids;
}

function labels(ev) {
  return ev.rsvp === "consent"
    ? { question: (name) => t("Do you give consent for {name} to take part?", { name }), yes: t("Yes, I give consent"), no: t("No, I do not give consent") }
    : { question: (name) => t("Will {name} come?", { name }), yes: t("Yes, coming"), no: t("No, not coming") };
}

/** The reply form for every child of `me` that `ev` asks about (their answers load into it). */
export function replyForm(ctx, ev) {
  const kids = childrenFor(ev, ctx.me);
  const writable = open(ev);
  const words = labels(ev);
  const until = ev.deadline || ev.starts_at;
  const forms = h("div", {}, loading());
  myAnswers(ev, ctx.scope.signal)
    .catch((err) => {
      if (err.name === "AbortError") throw err;
      return new Map(); // not answered, as far as this page can tell
    })
    .then((answers) => mount(forms, kids.map((kid) => childReply(ev, kid, answers.get(kid.id), words, writable))))
    .catch(() => {});
  return h(
    "section",
    { class: "card event-reply", "aria-label": t("Your answer") },
    h("h2", { class: "card-title" }, ev.rsvp === "consent" ? t("Consent") : t("Your answer")),
    writable ? h("p", { class: "hint" }, t("You can change your answer until {when}.", { when: dateTime(until) })) : null,
    !writable && !ev.cancelled ? h("p", { class: "notice notice-info" }, t("Answers are closed for this event.")) : null,
    forms,
  );
}

function childReply(ev, kid, current, words, writable) {
  let answer = current ? current.answer : null;
  const name = `answer-${uid("kid")}`;
  const status = h("p", { class: "reply-status", role: "status" });
  const error = errorLine();
  const note = h("textarea", { class: "input", name: "note", rows: 2, dir: "auto", disabled: !writable, "aria-label": t("Note for the school (optional)"), placeholder: t("Note for the school (optional)") });
  note.value = current ? current.note : "";
  const choice = (value, label) => {
    const radio = h("input", { type: "radio", name, value, class: "visually-hidden", checked: answer === value, disabled: !writable });
    radio.addEventListener("change", () => {
      answer = value;
    });
    return h("label", { class: `choice choice-${value}` }, radio, h("span", {}, label));
  };
  const send = h("button", { type: "submit", class: "button button-primary", disabled: !writable }, t("Send answer"));
  const showStatus = () => {
    status.textContent = answer === "yes" ? t("Your answer: Yes") : answer === "no" ? t("Your answer: No") : t("Not answered yet");
    status.className = `reply-status is-${answer || "none"}`;
  };
  showStatus();
  const form = h(
    "form",
    { class: "reply-child", dataset: { studentId: kid.id } },
    h("fieldset", {}, h("legend", { class: "reply-question" }, words.question(kid.name)), h("div", { class: "choices" }, choice("yes", words.yes), choice("no", words.no))),
    status,
    note,
    error.el,
    writable ? h("div", { class: "row" }, send) : null,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.clear();
    if (!answer) {
      error.show(t("Please choose Yes or No."));
      return;
    }
    try {
      await busy(send, () => api.put(`/api/events/${ev.id}/responses/${kid.id}`, { answer, note: note.value.trim() }));
      showStatus();
      status.append(" · ", t("Sent to the school."));
    } catch (err) {
      error.show(messageOf(err));
    }
  });
  return form;
}
