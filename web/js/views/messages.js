// Messages between a family and a member of staff: the list of conversations and
// one conversation, live, with the quiet-time state (P7), the school's automatic
// notices (quiet time, office routing) and the report button (P9).
// Pupils never reach this module: the router refuses them and their nav has no link.

import * as api from "../api.js";
import { h, icon, mount, focus, uid } from "../dom.js";
import { base, dateTime, dirOf, languageName, timeEl } from "../format.js";
import { quietState } from "../quiet.js";
import { playPop } from "../sound.js";
import { busy, dialog, empty, errorLine, failure, loading, messageOf, pageTitle, toast } from "../ui.js";
import { notTranslatedLine, reportTranslationButton } from "../translation.js";
import { t, N_, tn } from "../i18n.js";
import { mediaBlock } from "./stories.js";

const STAFF = new Set(["admin", "teacher", "office"]);
const ABSENCE_TOPICS = new Set(["absence", "sickness"]);

function quietBanner(ctx) {
  const state = quietState(ctx.school);
  if (!state.quiet) {
    return h("p", { class: "quiet quiet-open" }, icon("clock", "icon-small"), t("School is open: staff read messages during working hours and reply within one working day."));
  }
  const when = state.opensDay ? " " + t("Messages sent now are seen {day} from {time}, and staff reply within one working day after that.", { day: state.opensDay, time: state.opensAt }) : "";
  return h(
    "p",
    { class: "quiet quiet-on", role: "note" },
    icon("clock", "icon-small"),
    STAFF.has(ctx.me.role) ? t("Quiet time: you are outside school working hours.") : t("It is quiet time at school.") + when,
  );
}

/** What a message without text carries, for the conversation list: "Voice note", "Video" or "Photo". */
function attachmentWord(m) {
  const first = m.media && m.media[0];
  if (!first) return "";
  return first.kind === "audio" ? t("Voice note") : first.kind === "video" ? t("Video") : first.kind === "image" ? t("Photo") : t("File");
}

function otherSide(ctx, c) {
  return STAFF.has(ctx.me.role) ? c.guardian : c.staff;
}

export async function inbox(ctx) {
  mount(ctx.root, pageTitle(t("Messages")), loading());
  let reply;
  try {
    reply = await api.get("/api/conversations");
  } catch (err) {
    mount(ctx.root, pageTitle(t("Messages")), quietBanner(ctx), failure(err, t("Messaging")));
    return;
  }
  const list = h("ul", { class: "conversation-list" });
  const rows = new Map();

  function row(c) {
    const who = otherSide(ctx, c);
    const last = c.last_message;
    const li = h(
      "li",
      { "data-conversation-id": c.id },
      h(
        "a",
        { href: `#/messages/${c.id}`, class: `conversation card ${c.unread_count ? "is-unread" : ""}` },
        h("span", { class: "post-avatar", "aria-hidden": "true" }, (who && who.name ? who.name : "?").charAt(0)),
        h(
          "span",
          { class: "conversation-text" },
          h("span", { class: "conversation-who" }, who ? who.name : "Deleted user", c.student ? h("span", { class: "muted" }, ` · about ${c.student.name}`) : null),
          last ? h("span", { class: "conversation-last", lang: last.lang || null, dir: last.lang ? dirOf(last.lang) : null }, last.text || attachmentWord(last)) : null,
        ),
        h(
          "span",
          { class: "conversation-side" },
          timeEl(c.last_message_at || c.created_at),
          c.unread_count ? h("span", { class: "unread", "aria-label": t("{n} unread", { n: c.unread_count }) }, String(c.unread_count)) : null,
        ),
      ),
    );
    return li;
  }

  function draw(items) {
    mount(list);
    rows.clear();
    for (const c of items) {
      const li = row(c);
      rows.set(c.id, li);
      list.append(li);
    }
  }
  draw(reply.items || []);

  const start = h("button", { type: "button", class: "button button-primary" }, icon("plus"), t("New message"));
  start.addEventListener("click", () => newConversation(ctx));

  mount(
    ctx.root,
    h("div", { class: "page-head page-head-row" }, h("h1", { class: "page-title", tabindex: "-1" }, t("Messages")), start),
    quietBanner(ctx),
    rows.size ? list : empty(t("No messages yet"), ctx.me.role === "parent" ? t("Start a private conversation with your child's teacher.") : t("Messages from families appear here. Start one with a pupil's parents or carers."), "chat"),
  );

  ctx.scope.live(`user:${ctx.me.id}`, {
    event(frame) {
      if (frame.type === "message.created" || frame.type === "message.translated") {
        api
          .get("/api/conversations")
          .then((fresh) => {
            draw(fresh.items || []);
            if (!list.isConnected) ctx.root.querySelector(".empty")?.replaceWith(list);
          })
          .catch(() => {});
      }
    },
    reset: () => inbox(ctx),
  });
}

/** Fill a <select> with options (and optgroups), keeping it disabled while empty. */
function fillSelect(select, groups) {
  mount(select);
  for (const [label, items] of groups) {
    if (!items.length) continue;
    const parent = label ? h("optgroup", { label }) : select;
    for (const item of items) parent.append(h("option", { value: item.id }, item.name));
    if (label) select.append(parent);
  }
  select.disabled = !select.options.length;
}

/**
 * Start a conversation about one pupil. A parent picks their child and a member of staff
 * (the class's staff first, then the school's leaders and office); staff pick a class, a
 * pupil and one of the pupil's guardians. Both lists come from /api/students/{id}/contacts.
 */
async function newConversation(ctx) {
  const staffSide = STAFF.has(ctx.me.role);
  const error = errorLine();
  const go = h("button", { type: "button", class: "button button-primary" }, t("Start"));
  const who = h("select", { class: "input", id: uid("to") });
  const pupilSelect = h("select", { class: "input", id: uid("pupil") });
  const fields = [];
  let classSelect = null;

  // Selections can change faster than the server answers: only the latest answer counts.
  let contactsAsked = 0;
  let pupilsAsked = 0;

  async function loadContacts() {
    const asked = ++contactsAsked;
    error.clear();
    fillSelect(who, []);
    go.disabled = true;
    if (!pupilSelect.value) return;
    try {
      const reply = await api.get(`/api/students/${pupilSelect.value}/contacts`);
      if (asked !== contactsAsked) return;
      const items = reply.items || [];
      if (staffSide) fillSelect(who, [["", items]]);
      else {
        fillSelect(who, [
          [t("Your child's class"), items.filter((i) => i.class_staff)],
          [t("School"), items.filter((i) => !i.class_staff)],
        ]);
      }
      go.disabled = who.disabled;
      if (who.disabled) error.show(staffSide ? t("This pupil has no parent or carer on Homeroom yet.") : t("There is nobody to write to yet."));
    } catch (err) {
      if (asked === contactsAsked) error.show(messageOf(err));
    }
  }

  async function loadPupils() {
    const asked = ++pupilsAsked;
    fillSelect(pupilSelect, []);
    try {
      const reply = await api.get(`/api/classes/${classSelect.value}/students`);
      if (asked !== pupilsAsked) return;
      fillSelect(pupilSelect, [["", (reply.items || []).filter((p) => !p.left_at)]]);
    } catch (err) {
      if (asked === pupilsAsked) error.show(messageOf(err));
      return;
    }
    await loadContacts();
  }

  if (staffSide) {
    classSelect = h("select", { class: "input", id: uid("class") });
    try {
      const classes = await api.get("/api/classes");
      fillSelect(classSelect, [["", classes.items || []]]);
    } catch (err) {
      error.show(messageOf(err));
    }
    classSelect.addEventListener("change", loadPupils);
    fields.push(h("div", { class: "field" }, h("label", { for: classSelect.id }, t("Class")), classSelect));
  } else {
    fillSelect(pupilSelect, [["", ctx.me.children || []]]);
  }
  pupilSelect.addEventListener("change", loadContacts);
  fields.push(
    h("div", { class: "field" }, h("label", { for: pupilSelect.id }, staffSide ? t("Pupil") : t("About")), pupilSelect),
    h("div", { class: "field" }, h("label", { for: who.id }, staffSide ? t("To (parent or carer)") : t("To")), who),
  );
  const body = h(
    "div",
    { class: "stack" },
    ...fields,
    staffSide ? null : h("p", { class: "hint" }, t("For absence, sickness, dinners, music lessons or appointments, contact the school office.")),
    error.el,
  );
  const dlg = dialog(t("New message"), body, [go]);
  go.addEventListener("click", () =>
    busy(go, async () => {
      try {
        const target = staffSide ? { guardian_id: Number(who.value) } : { staff_id: Number(who.value) };
        const conv = await api.post("/api/conversations", { student_id: Number(pupilSelect.value), ...target });
        dlg.close();
        ctx.navigate(`/messages/${conv.id}`);
      } catch (err) {
        error.show(messageOf(err));
      }
    }),
  );
  if (staffSide) await loadPupils();
  else await loadContacts();
}

export async function conversation(ctx) {
  const id = Number(ctx.params.id);
  mount(ctx.root, loading());
  let conv;
  let page;
  try {
    [conv, page] = await Promise.all([api.get(`/api/conversations/${id}`), api.get(`/api/conversations/${id}/messages${api.qs({ limit: 50 })}`)]);
  } catch (err) {
    mount(ctx.root, pageTitle(t("Messages")), failure(err, t("Messaging")));
    return;
  }
  const who = otherSide(ctx, conv);
  const thread = h("ol", { class: "thread", "aria-label": t("Messages"), "aria-live": "polite" });
  const shown = new Map();

  function bubble(m) {
    if (m.system) {
      return h("li", { class: "notice-message", "data-message-id": m.id }, icon("clock", "icon-small"), h("span", { lang: m.lang || null, dir: m.lang ? dirOf(m.lang) : null }, m.text));
    }
    const mine = m.sender && m.sender.id === ctx.me.id;
    let showOriginal = false;
    const li = h("li", { class: `message ${mine ? "is-mine" : "is-theirs"}`, "data-message-id": m.id });
    const draw = () => {
      const translated = m.translation && m.translation.status === "ready" && m.original && m.original.lang !== m.lang;
      const text = translated && showOriginal ? m.original.text : m.text;
      const lang = translated && showOriginal ? m.original.lang : m.lang;
      const textEl = text ? h("p", { class: "message-text", lang: lang || null, dir: lang ? dirOf(lang) : null }) : null;
      if (textEl) textEl.textContent = text;
      const attached = m.media && m.media.length ? h("div", { class: "message-media" }, mediaBlock(m.media)) : null;
      const meta = [timeEl(m.created_at)];
      if (mine && m.delivery === "held_quiet_hours" && !m.released_at) {
        meta.push(h("span", { class: "held" }, icon("clock", "icon-small"), m.held_until ? t("Quiet time: seen {when}", { when: dateTime(m.held_until) }) : t("Quiet time: seen when school opens")));
      } else if (mine && m.read_at) {
        meta.push(h("span", { class: "read" }, icon("check", "icon-small"), t("Read")));
      }
      if (translated) {
        const toggle = h("button", { type: "button", class: "link-button" }, showOriginal ? t("See translation") : t("See original"));
        toggle.addEventListener("click", () => {
          showOriginal = !showOriginal;
          draw();
        });
        meta.push(h("span", { class: "muted" }, t("Translated from {language}", { language: languageName(m.original.lang) }) + " · ", toggle, " · ", reportTranslationButton("message", m.id, m.lang)));
      } else if (!mine && m.translation && m.translation.status === "unavailable") {
        meta.push(notTranslatedLine(m.lang));
      }
      if (!mine && m.sender && m.sender.role === "office") {
        meta.push(h("span", { class: "badge" }, t("School office")));
      }
      // A family's message the office routing read as an absence: the form does it in a few taps.
      if (mine && ctx.me.role === "parent" && ABSENCE_TOPICS.has(m.office_topic)) {
        meta.push(h("a", { class: "link-button", href: "#/absence", "data-offer": "absence" }, t("Report an absence")));
      }
      if (m.office_topic && m.office_done_at && STAFF.has(ctx.me.role)) {
        meta.push(h("span", { class: "badge badge-approved", "data-office-done": "true" }, icon("check", "icon-small"), t("Handled by the office")));
      }
      if (!mine && m.sender && m.sender.id) {
        const report = h("button", { type: "button", class: "link-button muted" }, t("Report"));
        report.addEventListener("click", () => reportMessage(m));
        meta.push(report);
      }
      mount(li, h("div", { class: "message-bubble" }, attached, textEl), h("p", { class: "message-meta" }, meta));
    };
    draw();
    li.setRead = () => {
      m.read_at = m.read_at || new Date().toISOString();
      draw();
    };
    li.update = (next) => {
      Object.assign(m, next);
      draw();
    };
    // A voice note or video of this message finished preparing (or failed): show the player.
    li.mediaChanged = (media) => {
      if (!m.media || !m.media.some((x) => x.id === media.id)) return;
      m.media = m.media.map((x) => (x.id === media.id ? { ...x, ...media } : x));
      draw();
    };
    return li;
  }

  function add(m) {
    if (shown.has(m.id)) {
      shown.get(m.id).update?.(m);
      return;
    }
    const li = bubble(m);
    shown.set(m.id, li);
    const after = [...thread.children].find((c) => Number(c.dataset.messageId) > m.id);
    thread.insertBefore(li, after || null);
  }

  for (const m of [...(page.items || [])].reverse()) add(m);

  const text = h("textarea", { class: "input reply-text", rows: "2", maxlength: "5000", id: uid("reply") });
  const send = h("button", { type: "submit", class: "button button-primary" }, icon("send"), t("Send"));
  const error = errorLine();
  // One photo, voice note or short video per message: recorded on the spot (`capture`
  // opens the phone's camera or recorder) or picked from the device.
  let attachment = null; // { file, kind }
  const ACCEPT = "audio/*,video/*,image/*";
  const recordInput = h("input", { type: "file", accept: ACCEPT, capture: "user", class: "visually-hidden", id: uid("record") });
  const pickInput = h("input", { type: "file", accept: ACCEPT, class: "visually-hidden", id: uid("attach") });
  const caption = h("input", { type: "text", class: "input", maxlength: "500", id: uid("caption"), placeholder: t("Describe it for anyone who cannot see or hear it") });
  const captionField = h("div", { class: "field reply-caption", hidden: true }, h("label", { for: caption.id }, t("Caption (optional)")), caption);
  const chosen = h("p", { class: "reply-attachment", hidden: true });
  const progress = h("progress", { class: "upload-progress", max: "1", value: "0", hidden: true, "aria-label": t("Uploading") });

  function drawAttachment() {
    if (!attachment) {
      chosen.hidden = true;
      captionField.hidden = true;
      caption.value = "";
      mount(chosen);
      return;
    }
    const what = attachment.kind === "audio" ? t("Voice note") : attachment.kind === "video" ? t("Video") : t("Photo");
    const remove = h("button", { type: "button", class: "link-button" }, t("Remove"));
    remove.addEventListener("click", () => {
      attachment = null;
      drawAttachment();
    });
    const name = h("span", {});
    name.textContent = `${what}: ${attachment.file.name}`;
    mount(chosen, icon(attachment.kind === "image" ? "plus" : "sound", "icon-small"), name, " ", remove);
    chosen.hidden = false;
    captionField.hidden = attachment.kind === "image";
  }

  for (const input of [recordInput, pickInput]) {
    input.addEventListener("change", () => {
      const file = input.files && input.files[0];
      input.value = "";
      if (!file) return;
      const kind = file.type.startsWith("video/") ? "video" : file.type.startsWith("audio/") ? "audio" : "image";
      const limit = kind === "image" ? 10 : 200; // MB, as in the story composer
      if (file.size > limit * 1024 * 1024) {
        toast(t("{file} is larger than {size} MB.", { file: file.name, size: limit }), "error");
        return;
      }
      attachment = { file, kind };
      drawAttachment();
    });
  }

  const form = h(
    "form",
    { class: "reply-form", novalidate: true },
    h(
      "div",
      { class: "reply-tools" },
      recordInput,
      h("label", { for: recordInput.id, class: "button button-soft" }, icon("sound", "icon-small"), t("Record")),
      pickInput,
      h("label", { for: pickInput.id, class: "button button-soft" }, icon("camera", "icon-small"), t("Attach")),
    ),
    chosen,
    captionField,
    progress,
    h(
      "div",
      { class: "reply" },
      h("label", { for: text.id, class: "visually-hidden" }, t("Message to {name}", { name: who ? who.name : "" })),
      text,
      send,
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.clear();
    const body = text.value.trim();
    if (!body && !attachment) {
      focus(text);
      return;
    }
    await busy(send, async () => {
      try {
        const mediaIds = [];
        if (attachment) {
          progress.value = 0;
          progress.hidden = false;
          try {
            const uploaded = await api.uploadFile(
              attachment.file,
              (fraction) => {
                progress.value = fraction;
              },
              attachment.kind === "image" ? {} : { caption: caption.value.trim() },
            );
            mediaIds.push(uploaded.id);
          } finally {
            progress.hidden = true;
          }
        }
        const message = await api.post(`/api/conversations/${id}/messages`, {
          text: body,
          media_ids: mediaIds,
          client_id: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`,
        });
        text.value = "";
        attachment = null;
        drawAttachment();
        if (!thread.isConnected) ctx.root.querySelector(".thread-card .empty")?.replaceWith(thread);
        add(message);
        scrollDown();
        if (!window.homeroom || window.homeroom.live.state !== "open") {
          // Without live updates, fetch the school's notices the message may have earned.
          const fresh = await api.get(`/api/conversations/${id}/messages${api.qs({ limit: 10 })}`);
          for (const m of fresh.items || []) add(m);
        }
        focus(text);
      } catch (err) {
        error.show(messageOf(err));
      }
    });
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });

  mount(
    ctx.root,
    h(
      "div",
      { class: "page-head conversation-head" },
      h("a", { href: "#/messages", class: "back-link" }, "← All messages"),
      h("h1", { class: "page-title", tabindex: "-1" }, who ? who.name : "Deleted user"),
      conv.student ? h("p", { class: "page-sub" }, t("About {name}", { name: conv.student.name })) : null,
    ),
    quietBanner(ctx),
    h("div", { class: "card thread-card" }, thread.children.length ? thread : empty(t("No messages yet"), t("Say hello!"), "chat"), form, error.el),
  );

  function scrollDown() {
    thread.lastElementChild?.scrollIntoView({ block: "nearest" });
  }
  scrollDown();

  async function markRead() {
    const theirs = [...shown].filter(([, li]) => li.classList.contains("is-theirs")).map(([mid]) => mid);
    if (!theirs.length) return;
    try {
      await api.post(`/api/conversations/${id}/read`, { message_id: Math.max(...theirs) });
    } catch {
      // a read receipt is a nicety
    }
  }
  markRead();

  ctx.scope.live(`user:${ctx.me.id}`, {
    event(frame) {
      const d = frame.data || {};
      if (frame.type === "message.created" && d.message && d.message.conversation_id === id) {
        if (!thread.isConnected) ctx.root.querySelector(".thread-card .empty")?.replaceWith(thread);
        const fresh = !shown.has(d.message.id);
        add(d.message);
        scrollDown();
        if (fresh && d.message.sender && d.message.sender.id !== ctx.me.id) {
          playPop();
          markRead();
        }
      } else if (frame.type === "office.done" && d.conversation_id === id && shown.has(d.message_id)) {
        shown.get(d.message_id).update?.({ office_done_at: d.done_at });
      } else if (frame.type === "message.translated" && d.conversation_id === id && shown.has(d.message_id)) {
        // The translation arrived: show it at once, keeping the original behind "See original".
        if (base(d.lang) === base(ctx.me.language)) {
          shown.get(d.message_id).update?.({ text: d.text, lang: d.lang, translation: { status: "ready", engine: d.engine } });
        }
      } else if ((frame.type === "media.ready" || frame.type === "media.failed") && d.media) {
        for (const li of shown.values()) li.mediaChanged?.(d.media);
      } else if (frame.type === "message.read" && d.conversation_id === id && d.reader_id !== ctx.me.id) {
        for (const [mid, li] of shown) if (mid <= d.message_id && li.classList.contains("is-mine")) li.setRead?.();
      }
    },
    reset: () => conversation(ctx),
  });
}

function reportMessage(m) {
  const reason = h("textarea", { class: "input", rows: "3", maxlength: "2000", id: uid("reason") });
  const error = errorLine();
  const send = h("button", { type: "button", class: "button button-danger" }, t("Report"));
  const dlg = dialog(
    t("Report this message"),
    h("div", { class: "stack" }, h("p", {}, t("The school's leaders will see this message and what you write here.")), h("div", { class: "field" }, h("label", { for: reason.id }, t("What is wrong?")), reason), error.el),
    [send],
  );
  send.addEventListener("click", () =>
    busy(send, async () => {
      if (!reason.value.trim()) {
        error.show(t("Please say what is wrong."));
        return;
      }
      try {
        await api.post(`/api/messages/${m.id}/report`, { reason: reason.value.trim() });
        dlg.close();
        toast(t("Reported. Thank you: a school leader will look at it."));
      } catch (err) {
        error.show(messageOf(err));
      }
    }),
  );
  focus(reason);
}

