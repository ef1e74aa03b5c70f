// Building the page out of elements and text nodes. Text a user wrote only ever
// reaches the page through text nodes (never innerHTML), so it cannot become markup.

const SVG_NS = "http://www.w3.org/2000/svg";

function applyAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) {
      // Handlers are functions only: an "on…" attribute string would be script.
      if (typeof value === "function") el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "value" && "value" in el) el.value = value;
    else if (key === "checked" || key === "selected" || key === "disabled") el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** h("p", {class: "x"}, "text", child, [more]) — an element; strings become text nodes. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs && !(attrs instanceof Node) && !Array.isArray(attrs) && typeof attrs === "object") {
    applyAttrs(el, attrs);
  } else if (attrs !== undefined) {
    children.unshift(attrs);
  }
  append(el, children);
  return el;
}

/** An SVG element with attributes (for icons and the built-in monster). */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

/** Replace everything inside `el` with `children`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

let idCounter = 0;
export function uid(prefix = "id") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** A labelled form field: label above the control, an optional hint, an error slot. */
export function field(label, control, hint) {
  const id = control.id || uid("f");
  control.id = id;
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), hintEl, control);
}

const ICONS = {
  home: "M3 11 12 3l9 8v9a1 1 0 0 1-1 1h-5v-6H9v6H4a1 1 0 0 1-1-1Z",
  story: "M4 4h16v12H7l-3 3Z",
  star: "m12 3 2.7 5.6 6.1.9-4.4 4.3 1 6.1L12 17l-5.4 2.9 1-6.1L3.2 9.5l6.1-.9Z",
  chat: "M4 5h16v11H9l-5 4Z",
  school: "M12 3 2 8l10 5 10-5Zm-6 7v5c0 2 3 4 6 4s6-2 6-4v-5",
  book: "M5 4h11a3 3 0 0 1 3 3v13H8a3 3 0 0 1-3-3Zm0 13a3 3 0 0 1 3-3h11",
  flag: "M5 21V4m0 0h11l-2 4 2 4H5",
  users: "M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8Zm-7 10a7 7 0 0 1 14 0m1-10a3 3 0 1 0 0-6m2 16a6 6 0 0 0-3-5",
  settings: "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6Zm7.4-3 2-1.6-2-3.4-2.4.9a7 7 0 0 0-1.9-1.1L14.7 4h-4l-.4 2.6a7 7 0 0 0-1.9 1.1L6 6.8 4 10.2 6 12l-2 1.6 2 3.4 2.4-.9a7 7 0 0 0 1.9 1.1l.4 2.6h4l.4-2.6a7 7 0 0 0 1.9-1.1l2.4.9 2-3.4Z",
  heart: "M12 20s-7-4.4-9-8.6C1.6 8.2 3.6 5 6.8 5c2 0 3.4 1.1 5.2 3 1.8-1.9 3.2-3 5.2-3 3.2 0 5.2 3.2 3.8 6.4C19 15.6 12 20 12 20Z",
  camera: "M4 8h3l2-3h6l2 3h3v11H4Zm8 9a4 4 0 1 0 0-8 4 4 0 0 0 0 8Z",
  monster: "M6 20v-9a6 6 0 0 1 12 0v9l-2-2-2 2-2-2-2 2-2-2Zm4-9h.01M14 11h.01",
  clock: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18Zm0-14v5l3 2",
  send: "M4 12 20 4l-6 16-3-7Z",
  globe: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18Zm-9-9h18M12 3c3 3 3 15 0 18M12 3c-3 3-3 15 0 18",
  shield: "M12 3 4 6v6c0 5 3.5 8 8 9 4.5-1 8-4 8-9V6Z",
  check: "m5 12 5 5 9-10",
  x: "M6 6l12 12M18 6 6 18",
  logout: "M15 4h4v16h-4M10 8l-4 4 4 4M6 12h10",
  plus: "M12 5v14M5 12h14",
  team: "M8 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6Zm8 0a3 3 0 1 0 0-6 3 3 0 0 0 0 6ZM2 20a6 6 0 0 1 12 0m-2-1a6 6 0 0 1 10 1",
  mountain: "m2 20 7-12 4 6 3-4 6 10Z",
  lightbulb: "M9 18h6m-5 3h4M12 3a6 6 0 0 0-4 10.5c.7.7 1 1.5 1 2.5h6c0-1 .3-1.8 1-2.5A6 6 0 0 0 12 3Z",
  handshake: "m3 12 4-4 4 2 3-2 7 4-4 5-4-3-2 2-3-2-2 2Z",
  undo: "M9 14 4 9l5-5M4 9h11a5 5 0 0 1 0 10h-3",
  sound: "M4 9v6h4l5 4V5L8 9Zm12 0a4 4 0 0 1 0 6m2-9a8 8 0 0 1 0 12",
  mute: "M4 9v6h4l5 4V5L8 9Zm12 0 5 6m0-6-5 6",
  calendar: "M4 6h16v14H4Zm0 4h16M8 3v5m8-5v5",
  pin: "M12 21s-6-5.5-6-11a6 6 0 0 1 12 0c0 5.5-6 11-6 11Zm0-9a2 2 0 1 0 0-4 2 2 0 0 0 0 4Z",
  next: "m9 5 7 7-7 7",
  back: "m15 5-7 7 7 7",
  bed: "M3 19V6m0 7h18v6M3 13h6V9h8a4 4 0 0 1 4 4",
};

/** A small line icon, hidden from screen readers (the button or link carries the words). */
// Icons whose drawing points a direction (send, sign out, undo): mirrored in right-to-left pages.
const DIRECTIONAL = new Set(["send", "logout", "undo", "next", "back"]);

export function icon(name, cls = "icon") {
  return s(
    "svg",
    {
      class: cls,
      viewBox: "0 0 24 24",
      "aria-hidden": "true",
      focusable: "false",
      "data-mirror": DIRECTIONAL.has(name) ? "" : null,
    },
    s("path", { d: ICONS[name] || ICONS.star }),
  );
}

/** Move keyboard and screen-reader focus to an element (headings get tabindex=-1). */
export function focus(el) {
  if (!el) return;
  if (!el.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(el.tagName)) {
    el.setAttribute("tabindex", "-1");
  }
  el.focus({ preventScroll: false });
}
