// In-app alerts: unread counts on the navigation (messages, new posts, points) and in the
// page title, kept right across tabs and devices.
//
// Counts come from the server (messages: the conversations' unread counts) and move with
// the live layer: a message from someone else, a read receipt from any of the reader's
// devices, a new post or points for their child. Each tab keeps its own live connection,
// so every tab and device hears the same events; what a tab marks as seen (the feed
// opened, a child's points looked at) it tells the reader's other tabs on a
// BroadcastChannel. A member of staff on the points board sees the badge on Messages the
// moment a parent writes.

import * as api from "./api.js";
import { onLanguageChange, t } from "./i18n.js";

const counts = { messages: 0, posts: 0, points: {} };
const tabs = "BroadcastChannel" in window ? new BroadcastChannel("homeroom-alerts") : null;
let me = null;
let stops = [];
let baseTitle = "Homeroom";
let recount = null;
let shown = "";

if (tabs) {
  tabs.onmessage = (event) => {
    const { seen, key } = event.data || {};
    if (seen) forget(seen, key, false);
  };
}

/** Begin counting for the signed-in user (after sign-in or reload). */
export function start(live, who, school) {
  stop();
  me = who;
  if (!me || me.role === "student" || me.needs_policy) return;
  countMessages();
  stops.push(
    live.subscribe(`user:${me.id}`, {
      event: (frame) => {
        if (frame.type === "message.created" || frame.type === "message.read" || frame.type === "message.released") {
          countMessagesSoon();
        }
      },
      reset: () => countMessagesSoon(),
    }),
  );
  if (me.role !== "parent") return;
  const children = me.children || [];
  const channels = [...new Set(children.map((c) => `class:${c.class_id}`))];
  if (school && school.id) channels.push(`school:${school.id}`);
  for (const name of channels) {
    stops.push(
      live.subscribe(name, {
        event: (frame) => {
          const post = frame.data && frame.data.post;
          if (frame.type !== "post.created" || !post || (post.author && post.author.id === me.id)) return;
          if (currentPath() === "/feed") return; // the reader is looking at it
          counts.posts += 1;
          paint();
        },
      }),
    );
  }
  for (const child of children) {
    stops.push(
      live.subscribe(`student:${child.id}`, {
        event: (frame) => {
          if (frame.type !== "points.awarded" || currentPath() === `/child/${child.id}/points`) return;
          counts.points[child.id] = (counts.points[child.id] || 0) + 1;
          paint();
        },
      }),
    );
  }
}

/** Stop counting (sign-out). */
export function stop() {
  for (const fn of stops.splice(0)) fn();
  counts.messages = 0;
  counts.posts = 0;
  counts.points = {};
  me = null;
  paint();
}

/** The reader has seen a place: clear its count here and in their other tabs. */
export function seen(path) {
  if (path === "/feed") forget("posts", null, true);
  const child = /^\/child\/(\d+)\/points$/.exec(path);
  if (child) forget("points", child[1], true);
}

/** Set the page's own title; the unread total goes in front of it. */
export function setTitle(title) {
  baseTitle = title;
  paint();
}

// The badges' labels are words: say them again in a newly chosen interface language.
onLanguageChange(() => paint());

/** Redraw the badges after the navigation was drawn again. */
export function paint() {
  const total = counts.messages + counts.posts + Object.values(counts.points).reduce((a, b) => a + b, 0);
  const title = total ? `(${total}) ${baseTitle}` : baseTitle;
  if (document.title !== title) document.title = title;
  badge('a.nav-link[href="#/messages"]', counts.messages, (n) => t("{n} unread", { n }));
  badge('a.nav-link[href="#/feed"]', counts.posts, (n) => t("{n} new", { n }));
  for (const link of document.querySelectorAll('a.nav-link[href^="#/child/"][href$="/points"]')) {
    const id = /#\/child\/(\d+)\//.exec(link.getAttribute("href"))[1];
    setBadge(link, counts.points[id] || 0, (n) => t("{n} new", { n }));
  }
  const state = `${counts.messages}/${counts.posts}/${JSON.stringify(counts.points)}`;
  if (state !== shown) {
    shown = state;
    document.body.dataset.unread = String(total);
  }
}

function badge(selector, n, label) {
  for (const link of document.querySelectorAll(selector)) setBadge(link, n, label);
}

function setBadge(link, n, label) {
  let el = link.querySelector(".nav-badge");
  if (!n) {
    if (el) el.remove();
    return;
  }
  if (!el) {
    el = document.createElement("span");
    el.className = "nav-badge";
    link.append(el);
  }
  el.textContent = n > 99 ? "99+" : String(n);
  el.setAttribute("aria-label", label(n));
}

function forget(what, key, tell) {
  if (what === "posts") counts.posts = 0;
  if (what === "points" && key !== null) delete counts.points[key];
  if (tell && tabs) tabs.postMessage({ seen: what, key });
  paint();
}

function countMessagesSoon() {
  clearTimeout(recount);
  recount = setTimeout(countMessages, 150);
}

async function countMessages() {
  if (!me) return;
  try {
    const page = await api.get("/api/conversations?limit=100");
    counts.messages = (page.items || []).reduce((sum, c) => sum + (c.unread_count || 0), 0);
  } catch {
    return; // offline or signed out: keep what is shown
  }
  paint();
  document.body.dataset.unreadCounted = "true";
}

function currentPath() {
  const [path] = location.hash.replace(/^#/, "").split("?");
  return path || "/";
}
