// The one way the client talks to the server's REST API: JSON in and out, the
// API.md error shape turned into ApiError, and the CSRF token on unsafe requests.
//
// The session cookie is HttpOnly (the page never sees it); the CSRF token comes
// from the sign-in reply or from GET /api/me and is kept in memory only.

import { interfaceLanguage, t } from "./i18n.js";

const SAFE = new Set(["GET", "HEAD"]);
const SIGNED_IN_HINT = "homeroom.signed-in";

let csrfToken = null;
let onSignedOut = null;
let onPolicyNeeded = null;

export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details || {};
  }

  /** True when the server has no such endpoint (a part of Homeroom this build does not serve yet). */
  get missing() {
    return this.status === 404 || this.status === 405;
  }

  /** Field problems of a 422 validation error, as {field: message}. */
  get fields() {
    return (this.details && this.details.fields) || {};
  }
}

export function setCsrf(token) {
  csrfToken = token || null;
}

/** Called (once per sign-out) when the server says the session is over. */
export function whenSignedOut(handler) {
  onSignedOut = handler;
}

/** Called when the server says the school's code of conduct must be accepted first (P17). */
export function whenPolicyNeeded(handler) {
  onPolicyNeeded = handler;
}

/**
 * A hint kept in localStorage that this browser signed in, so a signed-out visit
 * goes straight to the sign-in form instead of asking the server (and getting 401).
 * It holds no secret; the session itself lives only in the HttpOnly cookie.
 */
export function markSignedIn(yes) {
  try {
    if (yes) localStorage.setItem(SIGNED_IN_HINT, "1");
    else localStorage.removeItem(SIGNED_IN_HINT);
  } catch {
    // Private browsing without storage: every visit asks the server.
  }
}

export function probablySignedIn() {
  try {
    return localStorage.getItem(SIGNED_IN_HINT) === "1";
  } catch {
    return true;
  }
}

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const err = body && body.error;
  if (err && typeof err.code === "string") {
    return new ApiError(response.status, err.code, err.message || t("Something went wrong."), err.details);
  }
  const fallback =
    response.status >= 500
      ? t("The school's server is having a moment. Please try again shortly.")
      : t("Something went wrong.");
  return new ApiError(response.status, response.status >= 500 ? "unavailable" : "error", fallback);
}

/**
 * request("POST", "/api/points", {student_ids: [1], skill_id: 2}) → parsed JSON.
 * `body` may be a plain object (sent as JSON) or FormData (sent as multipart).
 */
let showingSaved = false;

export async function request(method, path, body, { signal } = {}) {
  // Error messages come back in the interface language (the server's reader language before sign-in).
  const headers = { Accept: "application/json", "Accept-Language": interfaceLanguage().replace("_", "-") };
  const init = { method, headers, credentials: "same-origin", signal };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (!SAFE.has(method) && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let response;
  try {
    response = await fetch(path, init);
  } catch (cause) {
    if (cause && cause.name === "AbortError") throw cause;
    throw new ApiError(0, "offline", t("Cannot reach the school's server. Check your connection."));
  }
  if (response.status === 304) return null;
  if (!response.ok) {
    const error = await errorFrom(response);
    if (error.status === 401 && path !== "/api/auth/login" && path !== "/api/auth/student") {
      markSignedIn(false);
      if (onSignedOut) onSignedOut(error);
    } else if (error.code === "policy_not_accepted" && onPolicyNeeded) {
      onPolicyNeeded(error);
    }
    throw error;
  }
  if (response.status === 204) return null;
  // The service worker answered with what it saved: the page says it is offline.
  const saved = response.headers.get("X-Homeroom-Offline") === "1";
  if (saved !== showingSaved) {
    showingSaved = saved;
    window.dispatchEvent(new CustomEvent("homeroom:saved-data", { detail: saved }));
  }
  const type = response.headers.get("content-type") || "";
  return type.includes("application/json") ? response.json() : null;
}

/**
 * Upload one file to POST /api/media with XMLHttpRequest (fetch cannot report upload
 * progress); `onProgress(fraction)` is called as the bytes go. `fields` are extra form
 * fields sent with it (a recording's `caption`). Resolves to the media JSON.
 */
export function uploadFile(file, onProgress, fields = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/media");
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Accept-Language", interfaceLanguage().replace("_", "-"));
    if (csrfToken) xhr.setRequestHeader("X-CSRF-Token", csrfToken);
    xhr.responseType = "text";
    xhr.upload.addEventListener("progress", (event) => {
      if (onProgress && event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", async () => {
      const response = new Response(xhr.responseText, {
        status: xhr.status,
        headers: { "Content-Type": xhr.getResponseHeader("Content-Type") || "" },
      });
      if (xhr.status >= 200 && xhr.status < 300) {
        if (onProgress) onProgress(1);
        resolve(JSON.parse(xhr.responseText));
        return;
      }
      const error = await errorFrom(response);
      if (error.status === 401) {
        markSignedIn(false);
        if (onSignedOut) onSignedOut(error);
      }
      reject(error);
    });
    xhr.addEventListener("error", () =>
      reject(new ApiError(0, "offline", t("Cannot reach the school's server. Check your connection."))),
    );
    const data = new FormData();
    for (const [name, value] of Object.entries(fields)) if (value) data.append(name, value);
    data.append("file", file, file.name);
    xhr.send(data);
  });
}

export const get = (path, opts) => request("GET", path, undefined, opts);
export const post = (path, body, opts) => request("POST", path, body === undefined ? {} : body, opts);
export const put = (path, body, opts) => request("PUT", path, body === undefined ? {} : body, opts);
export const patch = (path, body, opts) => request("PATCH", path, body, opts);
export const del = (path, body, opts) => request("DELETE", path, body, opts);

/** GET that answers `fallback` instead of throwing when the endpoint is not served (yet). */
export async function getOptional(path, fallback = null) {
  try {
    return await get(path);
  } catch (error) {
    if (error instanceof ApiError && error.missing) return fallback;
    throw error;
  }
}

/** A query string from an object, skipping empty values. */
export function qs(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
