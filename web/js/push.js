// The installable app and Web Push: the service worker, the permission request (only ever
// when the person presses "Turn on notifications", never on first load), this device's
// subscription, and the install prompt (offered once, after signing in).

import * as api from "./api.js";
import { t } from "./i18n.js";

const INSTALL_OFFERED = "homeroom.install-offered";
let installEvent = null;

window.addEventListener("beforeinstallprompt", (event) => {
  event.preventDefault(); // offered at a better moment: after signing in, once
  installEvent = event;
});

/** Register the service worker (app shell and offline reading; shows pushes). */
export async function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return null;
  try {
    return await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  } catch {
    return null; // not a secure context, or private browsing: the app works without it
  }
}

/** Whether this browser can receive pushes at all. */
export function pushSupported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

/** The permission state: "granted", "denied", "default" or "unsupported". */
export function permission() {
  return pushSupported() ? Notification.permission : "unsupported";
}

function keyBytes(base64url) {
  const padded = base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (base64url.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

/** Ask for permission (called from a button press), subscribe this device, tell the server. */
export async function enable() {
  const answer = await Notification.requestPermission();
  if (answer !== "granted") return false;
  const registration = await navigator.serviceWorker.ready;
  const { public_key: key } = await api.get("/api/push/key");
  let subscription = await registration.pushManager.getSubscription();
  if (!subscription) {
    subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
  }
  await api.post("/api/push/subscriptions", subscription.toJSON());
  return true;
}

/** Stop pushes to this device: unsubscribe here; the server forgets it too. */
export async function disableHere(serverId) {
  const registration = await navigator.serviceWorker.getRegistration();
  const subscription = registration && (await registration.pushManager.getSubscription());
  if (subscription) await subscription.unsubscribe();
  if (serverId) await api.del(`/api/push/subscriptions/${serverId}`);
}

/** After signing in: offer to install the app, once per browser. */
export function offerInstallOnce(toastWithAction) {
  if (!installEvent) return;
  try {
    if (localStorage.getItem(INSTALL_OFFERED)) return;
    localStorage.setItem(INSTALL_OFFERED, "1");
  } catch {
    return;
  }
  const event = installEvent;
  installEvent = null;
  toastWithAction(t("Add Homeroom to your home screen?"), t("Install"), () => event.prompt());
}

/** Tell the service worker to drop what it saved for offline reading (signing out). */
export function forgetSavedData() {
  if (navigator.serviceWorker && navigator.serviceWorker.controller) {
    navigator.serviceWorker.controller.postMessage({ type: "signed-out" });
  }
}
