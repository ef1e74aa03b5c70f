// Class and school stories: a post card, a live list of posts, and the composer.
//
// Every piece of post text is set with textContent. Likes, edits, deletions and
// translations arrive over the live connection and change the cards in place.

import * as api from "../api.js";
import { h, icon, mount, focus, uid } from "../dom.js";
import { base, dirOf, languageName, list, number, timeEl } from "../format.js";
import { playPop } from "../sound.js";
import { busy, confirmDialog, empty, errorLine, failure, loading, messageOf, toast } from "../ui.js";
import { reportTranslationButton } from "../translation.js";
import { N_, t, tn } from "../i18n.js";

const PAGE = 20;

function mediaUrl(url, size) {
  try {
    const u = new URL(url, location.origin);
    if (u.origin !== location.origin) return null; // only our own server's files
    if (size) u.searchParams.set("size", size);
    return u.pathname + u.search;
  } catch {
    return null;
  }
}

/** A video or voice recording: a player once ready, else a line saying where it is. */
function recordingBlock(m) {
  const what = m.kind === "video" ? "video" : "recording";
  if (m.status === "processing") {
    return h("p", { class: "post-recording-status", role: "status" }, icon("clock", "icon-small"), what === "video" ? t("The video is being prepared…") : t("The voice recording is being prepared…"));
  }
  if (m.status === "failed") {
    return h("p", { class: "post-recording-status error" }, what === "video" ? t("This video could not be prepared.") : t("This voice recording could not be prepared."));
  }
  const src = mediaUrl(m.url);
  if (!src) return null;
  if (m.kind === "video") {
    const poster = m.poster_url ? mediaUrl(m.poster_url) : null;
    return h("video", {
      class: "post-video",
      src,
      poster,
      controls: true,
      preload: "metadata",
      playsinline: true,
      "aria-label": t("Video"),
    });
  }
  return h("audio", { class: "post-audio", src, controls: true, preload: "metadata", "aria-label": t("Voice recording") });
}

/** A recording's caption from its uploader, under the player: plain text, never markup. */
function captionLine(text) {
  const el = h("p", { class: "post-caption" });
  el.textContent = text;
  return el;
}

/**
 * A caption box for a video or recording about to be uploaded; what is typed is kept in
 * `item.caption` (sent as the upload's `caption` field). `label` names it for screen readers.
 */
export function captionInput(item, label) {
  const input = h("input", { type: "text", class: "input composer-caption", maxlength: "500", placeholder: t("Caption (optional)"), "aria-label": label });
  input.value = item.caption || "";
  input.addEventListener("input", () => {
    item.caption = input.value;
  });
  return input;
}

/** Photos (a grid), videos and recordings (players) and other files (links) of a post or a piece of work. */
export function mediaBlock(media) {
  const images = media.filter((m) => m.kind === "image");
  const recordings = media.filter((m) => m.kind === "video" || m.kind === "audio");
  const files = media.filter((m) => m.kind !== "image" && m.kind !== "video" && m.kind !== "audio");
  const out = [];
  if (images.length) {
    out.push(
      h(
        "div",
        { class: `post-photos post-photos-${Math.min(images.length, 4)}` },
        images.map((m, i) => {
          const src = mediaUrl(m.url, "display");
          if (!src) return null;
          return h(
            "a",
            {
              href: mediaUrl(m.url),
              target: "_blank",
              rel: "noopener",
              class: "post-photo",
              "aria-label": images.length > 1 ? t("Open photo {n} of {count} full size", { n: i + 1, count: images.length }) : t("Open the photo full size"),
            },
            h("img", {
              src,
              alt: images.length > 1 ? t("Photo {n} of {count}", { n: i + 1, count: images.length }) : t("Photo"),
              loading: "lazy",
              decoding: "async",
            }),
          );
        }),
      ),
    );
  }
  for (const m of recordings) {
    const el = recordingBlock(m);
    if (el) out.push(el);
    if (m.caption) out.push(captionLine(m.caption));
  }
  for (const m of files) {
    const href = mediaUrl(m.url);
    if (href) out.push(h("a", { href, class: "post-file", download: "" }, icon("book"), t("Open the attached file")));
  }
  return out;
}

function textBlock(text, lang) {
  const el = h("div", { class: "post-text", lang: lang || null, dir: lang ? dirOf(lang) : null });
  el.textContent = text || "";
  return el;
}

/**
 * One post as a card. `opts`: {me, classNames, canLike, staff, onDelete}.
 * The card keeps its post in `card.post` and re-renders itself with `card.update(post)`.
 */
export function postCard(initial, opts) {
  const card = h("article", { class: "card post", "data-post-id": initial.id });
  let post = initial;
  let showOriginal = false;
  let likers = null; // staff: names of people who liked, as they arrive live

  function render() {
    const translated =
      post.translation && post.translation.status === "ready" && post.original && post.original.text !== post.text;
    const shownText = translated && showOriginal ? post.original.text : post.text;
    const shownLang = translated && showOriginal ? post.original.lang : post.lang;
    const where =
      post.scope === "school"
        ? t("School story")
        : opts.classNames && opts.classNames.get(post.class_id)
          ? opts.classNames.get(post.class_id)
          : null;
    const headId = uid("post");
    card.setAttribute("aria-labelledby", headId);
    const head = h(
      "header",
      { class: "post-head" },
      h("div", { class: "post-avatar", "aria-hidden": "true" }, initials(post.author && post.author.name)),
      h(
        "div",
        { class: "post-meta" },
        h("p", { class: "post-author", id: headId }, post.author ? post.author.name : t("Someone")),
        h(
          "p",
          { class: "post-when" },
          where ? h("span", { class: `post-where ${post.scope === "school" ? "is-school" : ""}` }, where) : null,
          timeEl(post.created_at),
          post.edited_at ? h("span", { class: "post-edited" }, " · ", t("edited")) : null,
        ),
      ),
    );
    const parts = [head];
    if (shownText) parts.push(textBlock(shownText, shownLang));
    if (post.translation && post.translation.status === "ready" && post.original && post.original.lang !== post.lang) {
      const toggle = h(
        "button",
        { type: "button", class: "link-button see-original", "aria-pressed": showOriginal ? "true" : "false" },
        showOriginal ? t("See translation") : t("See original"),
      );
      toggle.addEventListener("click", () => {
        showOriginal = !showOriginal;
        render();
        const again = card.querySelector(".see-original");
        if (again) again.focus();
      });
      parts.push(
        h(
          "p",
          { class: "translated-note" },
          icon("globe", "icon-small"),
          showOriginal
            ? t("Original ({language})", { language: languageName(post.original.lang) })
            : t("Translated from {language}", { language: languageName(post.original.lang) }),
          " · ",
          toggle,
          " · ",
          reportTranslationButton("post", post.id, post.lang),
        ),
      );
    } else if (post.translation && post.translation.status === "pending") {
      parts.push(h("p", { class: "translated-note is-pending" }, icon("globe", "icon-small"), t("Translating…")));
    } else if (post.translation && post.translation.status === "unavailable" && opts.me && post.text) {
      parts.push(
        h(
          "p",
          { class: "translated-note" },
          icon("globe", "icon-small"),
          t("Shown in {language}: not translated into {reader} yet", { language: languageName(post.lang), reader: languageName(opts.me.language) }),
        ),
      );
    }
    if (post.media && post.media.length) parts.push(...mediaBlock(post.media));
    if (post.media_withheld) {
      // Only staff are told (P12): a pupil tagged here may no longer appear in photos.
      const n = post.media_withheld;
      parts.push(
        h(
          "p",
          { class: "translated-note withheld-note" },
          icon("camera", "icon-small"),
          tn("{n} photo is hidden: a pupil tagged here has no photo consent now.", "{n} photos are hidden: a pupil tagged here has no photo consent now.", n),
        ),
      );
    }
    if (post.students && post.students.length) {
      parts.push(
        h(
          "p",
          { class: "post-tags" },
          h("span", { class: "visually-hidden" }, t("Pupils in this post: ")),
          post.students.map((s) => h("span", { class: "chip" }, s.name)),
        ),
      );
    }
    parts.push(footer());
    mount(card, ...parts);
  }

  function footer() {
    const count = post.like_count || 0;
    const items = [];
    if (opts.canLike) {
      const like = h(
        "button",
        {
          type: "button",
          class: `like-button ${post.liked ? "is-liked" : ""}`,
          "aria-pressed": post.liked ? "true" : "false",
        },
        icon("heart"),
        h("span", { class: "like-label" }, post.liked ? t("Liked") : t("Like")),
      );
      like.addEventListener("click", () => toggleLike());
      items.push(like);
    }
    items.push(
      h(
        "span",
        { class: "like-count", "data-like-count": count, "aria-live": "polite", dir: "auto" },
        count ? tn("{count} like", "{count} likes", count, { count: number(count) }) : opts.canLike ? "" : t("No likes yet"),
      ),
    );
    if (opts.staff && count) {
      const who = h("button", { type: "button", class: "link-button" }, t("Who liked?"));
      who.addEventListener("click", () => showLikers(who));
      items.push(who);
    }
    if (likers && likers.length) {
      items.push(h("span", { class: "likers" }, t("{names} liked this", { names: list(likers.slice(-3)) })));
    }
    if (opts.onDelete && opts.me && (opts.me.role === "admin" || (post.author && post.author.id === opts.me.id))) {
      const remove = h("button", { type: "button", class: "link-button danger push-end" }, t("Delete"));
      remove.addEventListener("click", () => opts.onDelete(post, remove));
      items.push(remove);
    }
    return h("footer", { class: "post-foot" }, items);
  }

  async function toggleLike() {
    const want = !post.liked;
    post = { ...post, liked: want, like_count: Math.max(0, (post.like_count || 0) + (want ? 1 : -1)) };
    render();
    card.querySelector(".like-button").focus();
    try {
      const reply = want ? await api.put(`/api/posts/${post.id}/like`) : await api.del(`/api/posts/${post.id}/like`);
      post = { ...post, liked: reply.liked, like_count: reply.like_count };
      render();
      card.querySelector(".like-button").focus();
    } catch (err) {
      post = { ...post, liked: !want, like_count: Math.max(0, (post.like_count || 0) + (want ? -1 : 1)) };
      render();
      toast(messageOf(err), "error");
    }
  }

  async function showLikers(button) {
    await busy(button, async () => {
      try {
        const reply = await api.get(`/api/posts/${post.id}/likes`);
        const names = (reply.items || []).map((i) => (i.user ? i.user.name : t("Someone")));
        toast(names.length ? t("Liked by {names}", { names: list(names) }) : t("No likes yet"));
      } catch (err) {
        toast(messageOf(err), "error");
      }
    });
  }

  card.update = (next) => {
    post = { ...post, ...next, liked: next.liked ?? post.liked };
    render();
  };
  card.likes = (count, user) => {
    const changed = count !== post.like_count;
    post = { ...post, like_count: count };
    if (user && opts.staff) likers = [...(likers || []).filter((n) => n !== user.name), user.name];
    render();
    if (changed) {
      const el = card.querySelector(".like-count");
      if (el) {
        el.classList.remove("bump");
        void el.offsetWidth;
        el.classList.add("bump");
      }
    }
  };
  card.translated = (lang, text) => {
    if (base(lang) !== base(opts.me ? opts.me.language : "en")) return;
    post = { ...post, text, lang, translation: { ...(post.translation || {}), status: "ready" } };
    render();
  };
  Object.defineProperty(card, "post", { get: () => post });
  render();
  return card;
}

function initials(name) {
  const words = String(name || "?").replace(/[()]/g, "").split(/\s+/).filter(Boolean);
  const picked = words.filter((w) => !/^(mr|mrs|ms|miss|dr)\.?$/i.test(w));
  return (picked[0] || words[0] || "?").charAt(0).toUpperCase();
}

/**
 * A live list of posts. `opts`: {path, channels: [names], me, classNames, canLike, staff,
 * emptyTitle, emptyText, onDelete}. Returns {el, add(post)}.
 */
export function storyList(ctx, opts) {
  const list = h("div", { class: "post-list", "aria-live": "off" });
  const status = h("div", { class: "list-status" });
  const more = h("button", { type: "button", class: "button button-ghost button-block", hidden: true }, t("Show older posts"));
  // "New posts" pill: posts that arrive while the reader is further down the page.
  const pill = h("button", { type: "button", class: "new-posts-pill", hidden: true });
  let unseen = 0;
  const clearPill = () => {
    unseen = 0;
    pill.hidden = true;
  };
  pill.addEventListener("click", () => {
    clearPill();
    list.scrollIntoView({ behavior: "smooth", block: "start" });
  });
  const onScroll = () => {
    if (unseen && list.getBoundingClientRect().top >= 0) clearPill();
  };
  window.addEventListener("scroll", onScroll, { passive: true });
  ctx.scope.onDispose(() => window.removeEventListener("scroll", onScroll));
  const el = h("section", { class: "stories", "aria-label": opts.label || t("Posts") }, pill, list, status, more);
  const cards = new Map();
  let nextBefore = null;
  let loaded = false;
  const cardOpts = {
    me: ctx.me,
    classNames: opts.classNames,
    canLike: opts.canLike,
    staff: opts.staff,
    onDelete: opts.onDelete || (ctx.me && ctx.me.role !== "parent" && ctx.me.role !== "student" ? deletePost : null),
  };

  async function deletePost(post, button) {
    if (!(await confirmDialog(t("Delete this post?"), t("It will disappear for every family at once."), t("Delete")))) return;
    await busy(button, async () => {
      try {
        await api.del(`/api/posts/${post.id}`);
        remove(post.id);
        toast(t("Post deleted"));
      } catch (err) {
        toast(messageOf(err), "error");
      }
    });
  }

  function place(card) {
    // Newest first, by id.
    const id = card.post.id;
    const after = [...list.children].find((c) => Number(c.dataset.postId) < id);
    list.insertBefore(card, after || null);
  }

  function upsert(post, { live = false } = {}) {
    if (!post || typeof post.id !== "number") return;
    const existing = cards.get(post.id);
    if (existing) {
      existing.update(post);
      return;
    }
    if (opts.accept && !opts.accept(post)) return;
    const card = postCard({ liked: false, like_count: 0, media: [], students: [], ...post }, cardOpts);
    cards.set(post.id, card);
    if (live) {
      card.classList.add("is-new");
      const mine = post.author && ctx.me && post.author.id === ctx.me.id;
      if (!mine) toast(post.author ? t("New post from {name}", { name: post.author.name }) : t("New post from school"));
    }
    place(card);
    refreshStatus();
  }

  function remove(id) {
    const card = cards.get(id);
    if (card) {
      card.remove();
      cards.delete(id);
      refreshStatus();
    }
  }

  function refreshStatus() {
    if (!loaded) return;
    if (cards.size === 0) mount(status, empty(opts.emptyTitle || t("No posts yet"), opts.emptyText || ""));
    else mount(status);
  }

  async function load(reset = false) {
    if (reset) {
      nextBefore = null;
    }
    if (!loaded) mount(status, loading(t("Loading posts…")));
    try {
      const page = await api.get(`${opts.path}${api.qs({ limit: PAGE, before: reset ? null : nextBefore })}`, {
        signal: ctx.scope.signal,
      });
      if (reset) {
        const keep = new Set(page.items.map((p) => p.id));
        const oldest = page.items.length ? page.items[page.items.length - 1].id : Infinity;
        for (const id of [...cards.keys()]) if (id >= oldest && !keep.has(id)) remove(id);
      }
      loaded = true;
      for (const post of page.items) upsert(post);
      nextBefore = page.next_before ?? null;
      more.hidden = !nextBefore;
      refreshStatus();
    } catch (err) {
      if (err.name === "AbortError") return;
      loaded = true;
      mount(status, failure(err, opts.what || t("The story")));
      more.hidden = true;
      if (err instanceof api.ApiError && err.missing && opts.onMissing) opts.onMissing();
      return;
    }
  }

  more.addEventListener("click", () => busy(more, () => load(false)));

  for (const channel of opts.channels || []) {
    ctx.scope.live(channel, {
      event(frame) {
        const data = frame.data || {};
        switch (frame.type) {
          case "post.created":
            upsert(data.post, { live: true });
            if (list.getBoundingClientRect().top < 0) {
              unseen += 1;
              pill.textContent = tn("{n} new post", "{n} new posts", unseen);
              pill.hidden = false;
            }
            break;
          case "post.updated":
            if (data.post && cards.has(data.post.id)) cards.get(data.post.id).update(data.post);
            break;
          case "post.deleted":
            remove(data.post_id);
            break;
          case "post.translated": {
            const card = cards.get(data.post_id);
            if (card) card.translated(data.lang, data.text);
            break;
          }
          case "post.liked":
          case "post.unliked": {
            const card = cards.get(data.post_id);
            if (card) {
              card.likes(data.like_count, frame.type === "post.liked" ? data.user : null);
              if (frame.type === "post.liked" && data.user && opts.staff) playPop();
            }
            break;
          }
          default:
            break;
        }
      },
      reset() {
        load(true);
      },
    });
  }

  load(true);
  return { el, upsert, reload: () => load(true) };
}

/**
 * The composer: text, photos and (for a class) pupil tags. Pupils without photo
 * consent, or in care, are marked, and a post with photos that tags them is refused
 * here, before anything is uploaded (the server refuses it too: 422 consent_required).
 */
export function composer(ctx, { postPath, pupils = null, onPosted, placeholder }) {
  const text = h("textarea", {
    class: "input composer-text",
    rows: "3",
    maxlength: "20000",
    placeholder: placeholder || t("Share some class news…"),
  });
  const files = [];
  const fileInput = h("input", {
    type: "file",
    accept: "image/jpeg,image/png,image/webp,video/*,audio/*",
    multiple: true,
    class: "visually-hidden",
    id: uid("photos"),
  });
  const progress = h("progress", { class: "upload-progress", max: "1", value: "0", hidden: true, "aria-label": t("Uploading") });
  const previews = h("ul", { class: "composer-previews", "aria-label": t("Photos to post") });
  const chosen = new Set();
  const warning = h("p", { class: "notice notice-warn", role: "alert", hidden: true });
  const error = errorLine();
  const submit = h("button", { type: "submit", class: "button button-primary" }, icon("send"), t("Post"));
  const tagBox = pupils ? tagPicker(pupils, chosen, checkConsent) : null;

  function lacking() {
    if (!pupils) return [];
    return pupils.filter((p) => chosen.has(p.id) && (p.photo_consent === false || p.la_care === true));
  }

  function checkConsent() {
    const bad = files.length ? lacking() : [];
    if (bad.length) {
      warning.textContent = tn("No photos of {names}: the school has no photo consent. Remove the photos or untag this pupil.", "No photos of {names}: the school has no photo consent. Remove the photos or untag these pupils.", bad.length, { names: list(bad.map((p) => p.name)) });
      warning.hidden = false;
    } else {
      warning.hidden = true;
      warning.textContent = "";
    }
    return bad;
  }

  function drawPreviews() {
    mount(
      previews,
      files.map((f, i) =>
        h(
          "li",
          { class: "composer-preview" },
          f.kind === "video"
            ? h("video", { src: f.url, muted: true, playsinline: true, preload: "metadata", "aria-label": t("Video {n}: {file}", { n: i + 1, file: f.file.name }) })
            : f.kind === "audio"
              ? h("span", { class: "composer-preview-audio", role: "img", "aria-label": t("Recording {n}: {file}", { n: i + 1, file: f.file.name }) }, icon("sound"), f.file.name)
              : h("img", { src: f.url, alt: t("Photo {n}: {file}", { n: i + 1, file: f.file.name }) }),
          f.kind === "image" ? null : captionInput(f, t("Caption (optional, for item {n})", { n: i + 1 })),
          h(
            "button",
            {
              type: "button",
              class: "icon-button remove-photo",
              "aria-label": t("Remove photo {n}", { n: i + 1 }),
              onclick: () => {
                URL.revokeObjectURL(f.url);
                files.splice(i, 1);
                drawPreviews();
                checkConsent();
              },
            },
            icon("x"),
          ),
        ),
      ),
    );
  }

  fileInput.addEventListener("change", () => {
    for (const file of fileInput.files) {
      if (files.length >= 10) break;
      const kind = file.type.startsWith("video/") ? "video" : file.type.startsWith("audio/") ? "audio" : "image";
      const limit = kind === "image" ? 10 : 200; // MB: photos, and video or audio recordings
      if (file.size > limit * 1024 * 1024) {
        toast(t("{file} is larger than {size} MB.", { file: file.name, size: limit }), "error");
        continue;
      }
      files.push({ file, kind, url: URL.createObjectURL(file) });
    }
    fileInput.value = "";
    drawPreviews();
    checkConsent();
  });
  ctx.scope.onDispose(() => files.forEach((f) => URL.revokeObjectURL(f.url)));

  const form = h(
    "form",
    { class: "card composer", novalidate: true },
    h("label", { class: "visually-hidden", for: (text.id = uid("compose")) }, t("Post text")),
    text,
    previews,
    progress,
    tagBox,
    warning,
    error.el,
    h(
      "div",
      { class: "composer-actions" },
      h("label", { class: "button button-soft", for: fileInput.id }, icon("camera"), t("Add photos")),
      fileInput,
      submit,
    ),
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.clear();
    const body = text.value.trim();
    if (!body && !files.length) {
      error.show(t("Write something or add a photo first."));
      focus(text);
      return;
    }
    if (checkConsent().length) {
      focus(warning);
      return;
    }
    await busy(submit, async () => {
      try {
        const mediaIds = [];
        const total = files.reduce((sum, f) => sum + f.file.size, 0) || 1;
        let sent = 0;
        progress.value = 0;
        progress.hidden = false;
        try {
          for (const f of files) {
            const uploaded = await api.uploadFile(
              f.file,
              (fraction) => {
                progress.value = (sent + fraction * f.file.size) / total;
              },
              f.kind === "image" ? {} : { caption: (f.caption || "").trim() },
            );
            sent += f.file.size;
            mediaIds.push(uploaded.id);
          }
        } finally {
          progress.hidden = true;
        }
        const payload = { text: body, media_ids: mediaIds };
        if (pupils) payload.student_ids = [...chosen];
        const post = await api.post(postPath, payload);
        text.value = "";
        files.forEach((f) => URL.revokeObjectURL(f.url));
        files.length = 0;
        chosen.clear();
        if (tagBox) tagBox.reset();
        drawPreviews();
        checkConsent();
        toast(t("Posted"));
        if (onPosted) onPosted(post);
      } catch (err) {
        if (err instanceof api.ApiError && err.code === "consent_required") {
          const names = ((err.details && err.details.students) || []).map((s) => s.name);
          error.show(names.length ? t("No photo consent for {names}.", { names: list(names) }) : err.message);
        } else {
          error.show(messageOf(err));
        }
      }
    });
  });
  return form;
}

function tagPicker(pupils, chosen, changed) {
  const summary = h("summary", {}, t("Tag pupils"));
  const count = h("span", { class: "tag-count" });
  summary.append(count);
  const grid = h(
    "div",
    { class: "tag-grid" },
    pupils.map((p) => {
      const id = uid("tag");
      const noPhotos = p.photo_consent === false || p.la_care === true;
      const box = h("input", { type: "checkbox", id, class: "check", value: p.id });
      box.addEventListener("change", () => {
        if (box.checked) chosen.add(p.id);
        else chosen.delete(p.id);
        count.textContent = chosen.size ? `(${chosen.size})` : "";
        changed();
      });
      return h(
        "label",
        { for: id, class: `tag-option ${noPhotos ? "no-photos" : ""}` },
        box,
        h("span", {}, p.name),
        noPhotos ? h("span", { class: "badge badge-warn" }, t("No photos")) : null,
      );
    }),
  );
  const el = h("details", { class: "tag-picker" }, summary, grid);
  el.reset = () => {
    for (const box of grid.querySelectorAll("input")) box.checked = false;
    count.textContent = "";
  };
  return el;
}

export { mediaUrl };
