// Live updates: one /ws connection per tab, shared by every view.
//
// Views subscribe to channels (API.md "Live updates") with an event handler and a
// reset handler. The connection opens when the first channel is wanted, remembers
// each channel's last seq and epoch, and after a drop reconnects with backoff and
// resubscribes with `since`, so missed events are replayed in order. When the server
// cannot replay (`recovered: false`) the view's reset handler reloads it through REST.
// A drop that lasts more than a moment shows a quiet "Reconnecting…" line.

import { CloseCode } from "./contract.js";
import { t } from "./i18n.js";

const PING_EVERY_MS = 25_000;
const PONG_WITHIN_MS = 10_000;
const SHOW_STATUS_AFTER_MS = 1_500;
const MAX_BACKOFF_MS = 30_000;

class Channel {
  constructor(name) {
    this.name = name;
    this.listeners = new Set();
    this.seq = null;
    this.epoch = null;
    this.pending = false; // a "sub" was sent and no "subbed" came back yet
    this.resuming = false; // the pending "sub" carried `since`
    this.refused = false;
  }
}

export class Live {
  constructor({ url, onSignedOut, statusEl } = {}) {
    this.url = url || defaultUrl();
    this.onSignedOut = onSignedOut || (() => {});
    this.statusEl = statusEl || null;
    this.channels = new Map();
    this.ws = null;
    this.open = false;
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    this.statusTimer = null;
    this.showingStatus = false;
    this.everOpened = false;
    this.ref = 0;
    this.stopped = false;
    this.listeners = new Set(); // connection state listeners (tests and the status line)
    window.addEventListener("online", () => this.reconnectNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.reconnectNow();
    });
  }

  /**
   * Listen to a channel. `handlers.event(frame)` gets every event in order;
   * `handlers.reset()` is called when missed events could not be replayed.
   * Returns a function that stops listening.
   */
  subscribe(name, handlers) {
    let channel = this.channels.get(name);
    const fresh = !channel;
    if (fresh) {
      channel = new Channel(name);
      this.channels.set(name, channel);
    }
    const listener = { event: handlers.event || (() => {}), reset: handlers.reset || (() => {}) };
    channel.listeners.add(listener);
    if (fresh) {
      if (this.open) this.sendSub(channel);
      else this.ensureConnected();
    }
    return () => this.release(name, listener);
  }

  release(name, listener) {
    const channel = this.channels.get(name);
    if (!channel) return;
    channel.listeners.delete(listener);
    if (channel.listeners.size > 0) return;
    this.channels.delete(name);
    if (this.open && !channel.refused) this.send({ op: "unsub", channel: name, ref: this.nextRef() });
  }

  /** Stop for good (sign-out): close the socket and forget every channel. */
  stop() {
    this.stopped = true;
    this.channels.clear();
    this.teardown();
    if (this.ws) {
      try {
        this.ws.close(1000, "signed out");
      } catch {
        // already closing
      }
      this.ws = null;
    }
    this.setStatus(null);
  }

  restart() {
    this.stopped = false;
  }

  onState(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get state() {
    if (this.open) return "open";
    if (this.ws) return "connecting";
    return this.channels.size ? "waiting" : "idle";
  }

  // -- connection --------------------------------------------------------------------------

  ensureConnected() {
    if (this.stopped || this.ws || this.retryTimer || this.channels.size === 0) return;
    this.connect();
  }

  reconnectNow() {
    if (this.stopped || this.open || this.channels.size === 0) return;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    if (!this.ws) this.connect();
  }

  connect() {
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    this.emitState();
    ws.addEventListener("open", () => {
      if (this.ws !== ws) return;
      this.open = true;
      this.everOpened = true;
      this.attempt = 0;
      for (const channel of this.channels.values()) {
        channel.refused = false;
        this.sendSub(channel);
      }
      this.startHeartbeat();
      this.setStatus(this.showingStatus ? "back" : null);
      this.emitState();
    });
    ws.addEventListener("message", (message) => {
      if (this.ws !== ws) return;
      this.heard();
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      this.handle(frame);
    });
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      this.dropped(event.code);
    });
  }

  dropped(code) {
    this.ws = null;
    this.open = false;
    this.teardown();
    for (const channel of this.channels.values()) channel.pending = false;
    this.emitState();
    if (this.stopped) return;
    if (code === CloseCode.UNAUTHENTICATED || code === CloseCode.FORBIDDEN) {
      this.stop();
      this.onSignedOut(code);
      return;
    }
    if (this.channels.size === 0) return;
    this.scheduleRetry(code);
    // Only a connection that worked and dropped is "reconnecting"; a server without live
    // updates just serves the pages as they are.
    if (this.everOpened && !this.statusTimer && !this.showingStatus) {
      this.statusTimer = setTimeout(() => {
        this.statusTimer = null;
        if (!this.open && this.channels.size) this.setStatus("reconnecting");
      }, SHOW_STATUS_AFTER_MS);
    }
  }

  scheduleRetry(code) {
    if (this.retryTimer || this.stopped) return;
    let delay;
    if (code === CloseCode.TOO_SLOW && this.attempt === 0) delay = 0; // too slow: resume at once with `since`
    else {
      const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt);
      delay = base / 2 + Math.random() * (base / 2);
      if (code === CloseCode.RATE_LIMITED) delay = Math.max(delay, 10_000);
    }
    this.attempt += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.ensureConnected();
    }, delay);
  }

  teardown() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.pingTimer = null;
    this.pongTimer = null;
  }

  startHeartbeat() {
    this.teardown();
    this.pingTimer = setInterval(() => {
      if (!this.open) return;
      this.send({ op: "ping", ref: this.nextRef() });
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => {
        // Nothing heard: the connection is dead even if the browser has not noticed.
        const ws = this.ws;
        this.dropped(1006);
        try {
          ws?.close();
        } catch {
          // ignore
        }
      }, PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  }

  heard() {
    clearTimeout(this.pongTimer);
    this.pongTimer = null;
  }

  // -- frames ------------------------------------------------------------------------------

  nextRef() {
    this.ref += 1;
    return this.ref;
  }

  send(frame) {
    if (!this.ws || !this.open) return false;
    try {
      this.ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  sendSub(channel) {
    const frame = { op: "sub", channel: channel.name, ref: this.nextRef() };
    if (channel.seq !== null) {
      frame.since = channel.seq;
      if (channel.epoch) frame.epoch = channel.epoch;
    }
    channel.pending = true;
    channel.resuming = channel.seq !== null;
    this.send(frame);
  }

  handle(frame) {
    const channel = frame.channel ? this.channels.get(frame.channel) : null;
    switch (frame.op) {
      case "event": {
        if (!channel) return;
        if (channel.seq !== null && typeof frame.seq === "number") {
          if (frame.seq <= channel.seq) return; // already seen (replay overlap)
          if (frame.seq > channel.seq + 1 && !channel.pending) {
            // A gap: ask for a replay of what is missing, then carry on.
            this.sendSub(channel);
            return;
          }
        }
        if (typeof frame.seq === "number") channel.seq = frame.seq;
        for (const listener of [...channel.listeners]) safely(() => listener.event(frame));
        break;
      }
      case "subbed": {
        if (!channel) return;
        const resumed = channel.resuming;
        const epochChanged = channel.epoch !== null && frame.epoch !== channel.epoch;
        channel.pending = false;
        channel.resuming = false;
        channel.seq = typeof frame.seq === "number" ? frame.seq : channel.seq;
        channel.epoch = frame.epoch || channel.epoch;
        if ((resumed && frame.recovered === false) || epochChanged) {
          for (const listener of [...channel.listeners]) safely(() => listener.reset());
        }
        break;
      }
      case "error": {
        if (channel && (frame.code === "forbidden" || frame.code === "bad_request")) {
          channel.refused = true;
          channel.pending = false;
        } else if (channel && frame.code === "unavailable") {
          channel.pending = false;
          setTimeout(() => {
            if (this.channels.get(channel.name) === channel && this.open) this.sendSub(channel);
          }, 2_000);
        }
        break;
      }
      default:
        break;
    }
  }

  // -- the quiet status line ------------------------------------------------------------------

  setStatus(kind) {
    clearTimeout(this.statusTimer);
    this.statusTimer = null;
    const el = this.statusEl;
    if (!el) return;
    if (kind === "reconnecting") {
      this.showingStatus = true;
      el.textContent = t("Reconnecting…");
      el.dataset.state = "reconnecting";
      el.hidden = false;
    } else if (kind === "back") {
      this.showingStatus = false;
      el.textContent = t("Back online");
      el.dataset.state = "back";
      el.hidden = false;
      this.statusTimer = setTimeout(() => {
        this.statusTimer = null;
        el.hidden = true;
        el.textContent = "";
      }, 2_000);
    } else {
      this.showingStatus = false;
      el.hidden = true;
      el.textContent = "";
      delete el.dataset.state;
    }
  }

  emitState() {
    for (const fn of this.listeners) safely(() => fn(this.state));
  }
}

function safely(fn) {
  try {
    fn();
  } catch (error) {
    // A view's handler failing must not stop other views or the connection.
    queueMicrotask(() => {
      throw error;
    });
  }
}

function defaultUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}
