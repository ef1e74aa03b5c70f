// Homeroom's service worker: the app shell for offline start, the last feed and
// conversations for offline reading, and Web Push notifications.
//
// Static files: network first (so a new version is used at once), the saved copy when
// the server cannot be reached. Reading endpoints (the feed, stories, conversations,
// messages, the user and school): network first, and the last answer is kept; offline,
// the kept answer is returned marked with `X-Homeroom-Offline: 1` so the page says it is
// showing saved data. Nothing else is kept, and everything kept is dropped on sign-out.
//
// A push's payload is {type, title, body, url, tag} in the reader's language, written by
// the server; a click opens (or focuses) Homeroom at its url.

const SHELL_CACHE = "homeroom-shell-v1";
const DATA_CACHE = "homeroom-data-v1";
const SHELL = [
  "/",
  "/css/app.css",
  "/favicon.svg",
  "/manifest.webmanifest",
  "/icons/icon-192.png",
  "/js/app.js",
  "/js/alerts.js",
  "/js/api.js",
  "/js/avatar.js",
  "/js/dom.js",
  "/js/format.js",
  "/js/i18n.js",
  "/js/live.js",
  "/js/push.js",
  "/js/quiet.js",
  "/js/sound.js",
  "/js/translation.js",
  "/js/ui.js",
  "/js/views/account.js",
  "/js/views/auth.js",
  "/js/views/board.js",
  "/js/views/leader.js",
  "/js/views/messages.js",
  "/js/views/notifications.js",
  "/js/views/parent.js",
  "/js/views/pupil.js",
  "/js/views/stories.js",
  "/js/views/teacher.js",
  "/js/views/translation.js",
  "/js/events_api.js",
  "/js/views/calendar.js",
  "/js/views/calendar_feed.js",
  "/js/views/event_card.js",
  "/js/views/event_form.js",
  "/js/views/event_page.js",
  "/js/views/event_reply.js",
  "/js/views/event_responses.js",
  "/js/views/absence.js",
  "/js/views/absences_office.js",
];
const READING = [
  /^\/api\/me$/,
  /^\/api\/school$/,
  /^\/api\/feed$/,
  /^\/api\/school\/posts$/,
  /^\/api\/classes\/\d+\/posts$/,
  /^\/api\/classes\/\d+\/events$/,
  /^\/api\/school\/events$/,
  /^\/api\/classes$/,
  /^\/api\/conversations$/,
  /^\/api\/conversations\/\d+\/messages$/,
  /^\/api\/skills$/,
  /^\/api\/avatar-parts$/,
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE).then((cache) =>
      Promise.all(SHELL.map((path) => cache.add(path).catch(() => undefined))),
    ).then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n !== SHELL_CACHE && n !== DATA_CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "signed-out") event.waitUntil(caches.delete(DATA_CACHE));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/")) {
    if (READING.some((pattern) => pattern.test(url.pathname))) event.respondWith(reading(request));
    return; // everything else goes to the network only
  }
  if (url.pathname === "/ws" || url.pathname.startsWith("/api")) return;
  event.respondWith(shell(request, url));
});

async function shell(request, url) {
  const cache = await caches.open(SHELL_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && (SHELL.includes(url.pathname) || request.mode === "navigate")) {
      cache.put(request.mode === "navigate" ? "/" : request, response.clone());
    }
    return response;
  } catch (error) {
    const saved = await cache.match(request.mode === "navigate" ? "/" : request, { ignoreSearch: true });
    if (saved) return saved;
    throw error;
  }
}

async function reading(request) {
  const cache = await caches.open(DATA_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) cache.put(request, response.clone());
    return response;
  } catch (error) {
    const saved = await cache.match(request);
    if (!saved) throw error;
    const headers = new Headers(saved.headers);
    headers.set("X-Homeroom-Offline", "1");
    return new Response(await saved.blob(), { status: 200, headers });
  }
}

self.addEventListener("push", (event) => {
  let payload = {};
  try {
    payload = event.data ? event.data.json() : {};
  } catch {
    payload = { title: "Homeroom", body: event.data ? event.data.text() : "" };
  }
  const title = payload.title || "Homeroom";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: payload.body || "",
      tag: payload.tag || undefined,
      icon: "/icons/icon-192.png",
      badge: "/icons/badge-96.png",
      lang: payload.lang || undefined,
      data: { url: payload.url || "/#/", type: payload.type || "" },
    }),
  );
});

/** Open Homeroom at the notification's page: an open window is reused, else a new one. */
async function openFromNotification(notification) {
  const target = new URL((notification.data && notification.data.url) || "/#/", self.location.origin).href;
  notification.close();
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  for (const client of windows) {
    if (new URL(client.url).origin !== self.location.origin) continue;
    const opened = client.url === target ? client : await client.navigate(target).catch(() => null);
    if (opened) {
      await opened.focus().catch(() => undefined);
      return opened;
    }
  }
  return self.clients.openWindow(target);
}
self.openFromNotification = openFromNotification;

self.addEventListener("notificationclick", (event) => {
  event.waitUntil(openFromNotification(event.notification));
});
