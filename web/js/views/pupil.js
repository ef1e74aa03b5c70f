// The pupil area: make your monster, see your points, do your home learning and
// read your class story. There is no messaging here, by design (P5).

import * as api from "../api.js";
import { h, icon, mount, focus, uid } from "../dom.js";
import { CATEGORIES, DEFAULT_AVATAR, loadCatalogue, monster, partPreview } from "../avatar.js";
import { date } from "../format.js";
import { playAward } from "../sound.js";
import { busy, empty, errorLine, failure, loading, messageOf, pageTitle, toast } from "../ui.js";
import { pointsView, portfolioCard } from "./parent.js";
import { captionInput, storyList } from "./stories.js";
import { activityBody } from "../translation.js";
import { N_, t, tn } from "../i18n.js";

const CATEGORY_LABELS = { body: N_("Body"), eyes: N_("Eyes"), mouth: N_("Mouth"), colour: N_("Colour"), accessory: N_("Extras") };

export async function monsterEditor(ctx) {
  const me = ctx.me;
  const pupil = me.student || { avatar: DEFAULT_AVATAR };
  mount(ctx.root, pageTitle(t("Hi {name}!", { name: me.name })), loading(t("Getting the monster parts…")));
  const catalogue = await loadCatalogue();
  if (!catalogue) {
    mount(
      ctx.root,
      pageTitle(t("Hi {name}!", { name: me.name }), t("This is your monster.")),
      h("div", { class: "card monster-stage" }, monster(pupil.avatar, null, { label: t("Your monster") })),
      empty(t("Monster making is coming soon"), t("You will be able to change your monster here."), "monster"),
    );
    return;
  }
  const saved = { ...DEFAULT_AVATAR, ...(pupil.avatar || {}) };
  const choice = { ...saved };
  const stage = h("div", { class: "monster-stage", "aria-live": "polite" });
  const saveButton = h("button", { type: "button", class: "button button-primary button-huge" }, icon("check"), t("Save my monster"));
  const error = errorLine();
  const picker = h("div", { class: "part-picker" });
  const panelId = uid("parts");
  let category = "body";

  function drawStage() {
    mount(stage, monster(choice, catalogue, { label: t("Your monster: {description}", { description: describe(choice) }) }));
    const changed = CATEGORIES.some((c) => choice[c] !== saved[c]);
    saveButton.disabled = !changed;
  }

  function describe(avatar) {
    return CATEGORIES.map((c) => {
      const part = (catalogue[c] || []).find((p) => p.id === avatar[c]);
      return part ? t(part.name) : "";
    })
      .filter(Boolean)
      .join(", ");
  }

  function drawPicker() {
    const parts = catalogue[category] || [];
    const group = h("div", { class: "part-grid", role: "radiogroup", "aria-label": t(CATEGORY_LABELS[category]) });
    const panel = h("div", { role: "tabpanel", id: panelId, "aria-labelledby": `${panelId}-${category}` }, group);
    const buttons = parts.map((part) => {
      const on = choice[category] === part.id;
      const b = h(
        "button",
        {
          type: "button",
          role: "radio",
          class: "part",
          "aria-checked": on ? "true" : "false",
          tabindex: on ? "0" : "-1",
          "data-part": `${category}:${part.id}`,
        },
        partPreview(catalogue, category, part, choice.colour),
        h("span", { class: "part-name" }, t(part.name)),
      );
      b.addEventListener("click", () => pick(part.id));
      return b;
    });
    group.addEventListener("keydown", (event) => {
      const i = buttons.indexOf(document.activeElement);
      if (i < 0) return;
      const rtl = document.documentElement.dir === "rtl";
      const step = { ArrowRight: rtl ? -1 : 1, ArrowDown: 1, ArrowLeft: rtl ? 1 : -1, ArrowUp: -1 }[event.key];
      if (step) {
        event.preventDefault();
        const next = (i + step + buttons.length) % buttons.length;
        pick(parts[next].id, true);
      }
    });
    group.append(...buttons);
    const tabsRow = h(
      "div",
      { class: "part-tabs", role: "tablist", "aria-label": t("Monster parts") },
      CATEGORIES.map((c) => {
        const tab = h(
          "button",
          {
            type: "button",
            role: "tab",
            class: "part-tab",
            "aria-selected": c === category ? "true" : "false",
            "aria-controls": panelId,
            id: `${panelId}-${c}`,
          },
          t(CATEGORY_LABELS[c]),
        );
        tab.addEventListener("click", () => {
          category = c;
          drawPicker();
          picker.querySelector('[aria-selected="true"]').focus();
        });
        return tab;
      }),
    );
    mount(picker, tabsRow, panel);
  }

  function pick(id, keyboard = false) {
    choice[category] = id;
    drawStage();
    drawPicker();
    if (keyboard) picker.querySelector('[aria-checked="true"]').focus();
  }

  saveButton.addEventListener("click", () =>
    busy(saveButton, async () => {
      error.clear();
      try {
        const reply = await api.patch("/api/me/avatar", { avatar: choice });
        Object.assign(saved, reply.avatar || choice);
        if (ctx.me.student) ctx.me.student.avatar = { ...saved };
        playAward(1);
        stage.classList.remove("wiggle");
        void stage.offsetWidth;
        stage.classList.add("wiggle");
        toast(t("Your monster is saved!"), "success");
      } catch (err) {
        error.show(messageOf(err));
      }
      drawStage();
    }),
  );

  mount(
    ctx.root,
    pageTitle(t("Hi {name}!", { name: me.name }), t("Make your monster. Your teacher will see it on the class board.")),
    h("div", { class: "monster-layout" }, h("div", { class: "card monster-card" }, stage, error.el, saveButton), h("div", { class: "card" }, picker)),
  );
  drawStage();
  drawPicker();
}

export async function points(ctx) {
  const host = h("div", {});
  mount(ctx.root, pageTitle(t("My points")), host);
  if (!ctx.me.student) {
    mount(host, empty(t("No points yet"), "", "star"));
    return;
  }
  await pointsView(ctx, host, ctx.me.student, { pupil: true });
}

export async function story(ctx) {
  const pupil = ctx.me.student;
  if (!pupil) {
    mount(ctx.root, pageTitle(t("Class story")), empty(t("No class yet"), "", "story"));
    return;
  }
  const list = storyList(ctx, {
    path: `/api/classes/${pupil.class_id}/posts`,
    channels: [`class:${pupil.class_id}`],
    canLike: false,
    staff: false,
    what: t("The class story"),
    emptyTitle: t("No news yet"),
    emptyText: t("Your teacher shares class news here."),
  });
  mount(ctx.root, pageTitle(t("Class story")), list.el);
}

const MAX_WORK_PHOTOS = 4;

export async function learning(ctx) {
  const pupil = ctx.me.student;
  mount(ctx.root, pageTitle(t("Home learning")), loading());
  if (!pupil) {
    mount(ctx.root, pageTitle(t("Home learning")), empty(t("No class yet"), "", "book"));
    return;
  }
  let activities;
  try {
    activities = await api.get(`/api/classes/${pupil.class_id}/activities`);
  } catch (err) {
    mount(ctx.root, pageTitle(t("Home learning")), failure(err, t("Home learning")));
    return;
  }
  const mine = await api.getOptional("/api/me/submissions", { items: [] }).catch(() => ({ items: [] }));
  const list = h("div", { class: "activity-list" });
  const work = h("div", { class: "portfolio-list" });
  const cards = new Map();

  function activityCard(a) {
    const submitted = a.my_submission;
    const text = h("textarea", { class: "input", rows: "4", maxlength: "5000" });
    const send = h("button", { type: "submit", class: "button button-primary" }, icon("send"), t("Hand it in"));
    const error = errorLine();
    const photos = [];
    const previews = h("ul", { class: "composer-previews", "aria-label": t("My photos") });
    const picker = h("input", {
      type: "file",
      accept: "image/jpeg,image/png,image/webp,video/*,audio/*",
      multiple: true,
      class: "visually-hidden",
      id: uid("photo"),
    });
    // On a phone or tablet this opens the camera (or the sound recorder) straight away.
    const recorder = h("input", {
      type: "file",
      accept: "video/*,audio/*",
      capture: true,
      class: "visually-hidden",
      id: uid("record"),
    });
    const progress = h("progress", { class: "upload-progress", max: "1", value: "0", hidden: true, "aria-label": t("Uploading") });
    function drawPhotos() {
      mount(
        previews,
        photos.map((p, i) =>
          h(
            "li",
            { class: "composer-preview" },
            p.kind === "video"
              ? h("video", { src: p.url, muted: true, playsinline: true, preload: "metadata", "aria-label": t("My video {n}", { n: i + 1 }) })
              : p.kind === "audio"
                ? h("span", { class: "composer-preview-audio", role: "img", "aria-label": t("My recording {n}", { n: i + 1 }) }, icon("sound"), p.file.name)
                : h("img", { src: p.url, alt: t("My photo {n}", { n: i + 1 }) }),
            p.kind === "image" ? null : captionInput(p, t("What is it? (optional, for item {n})", { n: i + 1 })),
            h(
              "button",
              {
                type: "button",
                class: "icon-button remove-photo",
                "aria-label": t("Take away photo {n}", { n: i + 1 }),
                onclick: () => {
                  URL.revokeObjectURL(p.url);
                  photos.splice(i, 1);
                  drawPhotos();
                },
              },
              icon("x"),
            ),
          ),
        ),
      );
    }
    function addFiles(input) {
      for (const file of input.files) {
        if (photos.length >= MAX_WORK_PHOTOS) {
          toast(t("You can add up to {n} photos and recordings.", { n: MAX_WORK_PHOTOS }), "error");
          break;
        }
        const kind = file.type.startsWith("video/") ? "video" : file.type.startsWith("audio/") ? "audio" : "image";
        const limit = kind === "image" ? 10 * 1024 * 1024 : 200 * 1024 * 1024;
        if (file.size > limit) {
          toast(kind === "image" ? t("That photo is too big. Ask a grown-up to help.") : t("That recording is too big. Ask a grown-up to help."), "error");
          continue;
        }
        photos.push({ file, kind, url: URL.createObjectURL(file) });
      }
      input.value = "";
      if (photos.length) error.clear();
      drawPhotos();
    }
    picker.addEventListener("change", () => addFiles(picker));
    recorder.addEventListener("change", () => addFiles(recorder));
    ctx.scope.onDispose(() => photos.forEach((p) => URL.revokeObjectURL(p.url)));
    const form = h(
      "form",
      { class: "stack", novalidate: true },
      h("label", { for: (text.id = uid("work")) }, t("My work")),
      text,
      previews,
      progress,
      error.el,
      h(
        "div",
        { class: "row" },
        h("label", { class: "button button-soft", for: picker.id }, icon("camera"), t("Add a photo")),
        picker,
        h("label", { class: "button button-soft", for: recorder.id }, icon("sound"), t("Record myself")),
        recorder,
        send,
      ),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.clear();
      if (!text.value.trim() && !photos.length) {
        error.show(t("Write your work in the box or add a photo first."));
        focus(text);
        return;
      }
      await busy(send, async () => {
        try {
          const mediaIds = [];
          const total = photos.reduce((sum, p) => sum + p.file.size, 0) || 1;
          let done = 0;
          progress.hidden = false;
          progress.value = 0;
          try {
            for (const p of photos) {
              const uploaded = await api.uploadFile(
                p.file,
                (fraction) => {
                  progress.value = (done + fraction * p.file.size) / total;
                },
                p.kind === "image" ? {} : { caption: (p.caption || "").trim() },
              );
              done += p.file.size;
              mediaIds.push(uploaded.id);
            }
          } finally {
            progress.hidden = true;
          }
          const body = { media_ids: mediaIds };
          if (text.value.trim()) body.text = text.value.trim();
          const item = await api.post(`/api/activities/${a.id}/submissions`, body);
          playAward(1);
          toast(t("Handed in! Well done."), "success");
          replaceActivity({ ...a, my_submission: { id: item.id, status: item.status } });
          addWork(item, true);
        } catch (err) {
          error.show(messageOf(err));
        }
      });
    });
    const status = submitted
      ? h("p", { class: `badge badge-${submitted.status}` }, submitted.status === "returned" ? t("Returned: have another go") : submitted.status === "approved" ? t("Approved") : t("Handed in"))
      : null;
    const due = a.due_at ? h("p", { class: "activity-due" }, icon("clock", "icon-small"), `Due ${date(a.due_at, { weekday: "long", day: "numeric", month: "long" })}`) : null;
    const body = activityBody(a, ctx.me, { heading: "h2", due });
    const card = h("article", { class: "card activity", "data-activity-id": a.id }, body, status, !submitted || submitted.status === "returned" ? form : null);
    card.translated = body.translated;
    return card;
  }

  function replaceActivity(a, top = false) {
    const card = activityCard(a);
    if (cards.has(a.id)) cards.get(a.id).replaceWith(card);
    else if (top) list.prepend(card);
    else list.append(card);
    cards.set(a.id, card);
    list.querySelector(".empty")?.remove();
  }

  const mediaOfWork = new Map(); // item id → ids of its files, to follow recordings being prepared
  function addWork(item, top = false) {
    work.querySelector(`[data-item-id="${item.id}"]`)?.remove();
    mediaOfWork.set(item.id, (item.media || []).map((m) => m.id));
    const card = portfolioCard(item);
    if (top) work.prepend(card);
    else work.append(card);
    work.querySelector(".empty")?.remove();
  }

  for (const a of activities.items || []) replaceActivity(a);
  if (!cards.size) list.append(empty(t("No home learning right now"), t("When your teacher sets a task it will be here."), "book"));
  for (const item of mine.items || []) addWork(item);
  if (!work.children.length) work.append(empty(t("Nothing handed in yet"), "", "book"));

  mount(
    ctx.root,
    pageTitle(t("Home learning")),
    h("div", { class: "two-col" }, h("div", {}, list), h("div", {}, h("h2", { class: "section-title" }, t("My work")), work)),
  );

  ctx.scope.live(`class:${pupil.class_id}`, {
    event(frame) {
      if (frame.type === "activity.created" || frame.type === "activity.updated") replaceActivity(frame.data.activity, true);
      if (frame.type === "activity.translated") cards.get(frame.data.activity_id)?.translated(frame.data);
      if (frame.type === "activity.deleted") {
        cards.get(frame.data.activity_id)?.remove();
        cards.delete(frame.data.activity_id);
      }
    },
  });
  // A recording of ours finished preparing: show the player (or why not) in the work that has it.
  async function refreshWork(itemId) {
    try {
      const item = await api.get(`/api/submissions/${itemId}`);
      const old = work.querySelector(`[data-item-id="${itemId}"]`);
      if (!old) return;
      mediaOfWork.set(item.id, (item.media || []).map((m) => m.id));
      old.replaceWith(portfolioCard(item));
    } catch {
      // the next visit shows it
    }
  }
  const onItem = (frame) => {
    if ((frame.type === "media.ready" || frame.type === "media.failed") && frame.data.media) {
      for (const [itemId, ids] of mediaOfWork) if (ids.includes(frame.data.media.id)) refreshWork(itemId);
    }
    if ((frame.type === "portfolio.approved" || frame.type === "portfolio.returned") && frame.data.item) {
      addWork(frame.data.item, true);
      toast(frame.type === "portfolio.approved" ? t("Your teacher approved your work!") : t("Your teacher sent your work back with a comment."));
    }
  };
  ctx.scope.live(`student:${pupil.id}`, { event: onItem });
  ctx.scope.live(`user:${ctx.me.id}`, { event: onItem });
}
