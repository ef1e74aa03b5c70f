// Monster avatars: composed from the server's parts catalogue (GET /api/avatar-parts),
// one SVG <g> per layer on a 200×200 canvas, coloured through `currentColor`.
// When the catalogue is not served, a built-in monster stands in.
//
// The catalogue is static server data, never user text. It is still parsed as XML
// and copied through an allow-list of shapes and attributes, so nothing but
// drawing can come out of it.

import { getOptional } from "./api.js";
import { s } from "./dom.js";

export const LAYERS = ["body", "eyes", "mouth", "accessory"];
export const CATEGORIES = ["body", "eyes", "mouth", "colour", "accessory"];
const SVG_NS = "http://www.w3.org/2000/svg";
const ALLOWED_TAGS = new Set(["g", "path", "circle", "ellipse", "rect", "line", "polyline", "polygon"]);
const ALLOWED_ATTRS = new Set([
  "d", "cx", "cy", "r", "rx", "ry", "x", "y", "x1", "y1", "x2", "y2", "width", "height", "points",
  "fill", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin", "fill-opacity",
  "stroke-opacity", "opacity", "transform", "fill-rule",
]);

const FALLBACK_COLOURS = {
  teal: "#2bb3a3", coral: "#ff7f66", violet: "#8e6cef", sun: "#ffc93c",
  leaf: "#6cc551", sky: "#4aa8ff", berry: "#d9487e", slate: "#7b8a99",
};

export const DEFAULT_AVATAR = { body: "round", eyes: "two", mouth: "smile", colour: "teal", accessory: "none" };

let catalogue = null; // Promise<{category: [{id, name, svg, hex?, node?}]}> | null
const parsed = new Map(); // "category/id" -> SVGGElement (clone before use)

/** The parts catalogue, fetched once per page; null when the server has none. */
export function loadCatalogue() {
  if (!catalogue) {
    catalogue = getOptional("/api/avatar-parts", null).catch(() => null);
  }
  return catalogue;
}

function cleanCopy(source) {
  if (source.nodeType !== Node.ELEMENT_NODE) return null;
  const tag = source.localName;
  if (!ALLOWED_TAGS.has(tag)) return null;
  const el = document.createElementNS(SVG_NS, tag);
  for (const attr of source.attributes) {
    if (ALLOWED_ATTRS.has(attr.name) && !/url\s*\(|javascript:/i.test(attr.value)) {
      el.setAttribute(attr.name, attr.value);
    }
  }
  for (const child of source.childNodes) {
    const copy = cleanCopy(child);
    if (copy) el.appendChild(copy);
  }
  return el;
}

function partNode(category, part) {
  const key = `${category}/${part.id}`;
  if (!parsed.has(key)) {
    let node = null;
    try {
      const doc = new DOMParser().parseFromString(
        `<svg xmlns="${SVG_NS}">${part.svg || ""}</svg>`,
        "image/svg+xml",
      );
      if (!doc.querySelector("parsererror")) {
        node = s("g");
        for (const child of doc.documentElement.childNodes) {
          const copy = cleanCopy(child);
          if (copy) node.appendChild(copy);
        }
      }
    } catch {
      node = null;
    }
    parsed.set(key, node);
  }
  const node = parsed.get(key);
  return node ? node.cloneNode(true) : null;
}

function find(cat, category, id) {
  const parts = (cat && cat[category]) || [];
  return parts.find((p) => p.id === id) || parts[0] || null;
}

export function colourHex(cat, id) {
  const part = find(cat, "colour", id);
  return (part && part.hex) || FALLBACK_COLOURS[id] || FALLBACK_COLOURS.teal;
}

/** The monster as an <svg>, labelled for screen readers when `label` is given. */
export function monster(avatar, cat, { label, size } = {}) {
  const chosen = { ...DEFAULT_AVATAR, ...(avatar || {}) };
  const svg = s("svg", {
    viewBox: "0 0 200 200",
    class: "monster",
    color: colourHex(cat, chosen.colour),
    role: label ? "img" : null,
    "aria-label": label || null,
    "aria-hidden": label ? null : "true",
    focusable: "false",
    width: size || null,
    height: size || null,
  });
  let drawn = false;
  if (cat) {
    for (const layer of LAYERS) {
      const part = find(cat, layer, chosen[layer]);
      const node = part ? partNode(layer, part) : null;
      if (node) {
        svg.appendChild(node);
        drawn = true;
      }
    }
  }
  if (!drawn) builtIn(svg, chosen);
  return svg;
}

/** A single part on its own (the editor's choice buttons), coloured with `colour`. */
export function partPreview(cat, category, part, colourId) {
  const svg = s("svg", {
    viewBox: "0 0 200 200",
    class: "part-preview",
    color: colourHex(cat, colourId),
    "aria-hidden": "true",
    focusable: "false",
  });
  if (category !== "body" && category !== "colour") {
    // Draw eyes, mouths and accessories on a faint body so they read as parts of a monster.
    const body = find(cat, "body", "round");
    const ghost = body ? partNode("body", body) : null;
    if (ghost) {
      ghost.setAttribute("opacity", "0.25");
      svg.appendChild(ghost);
    }
  }
  const node = partNode(category, part);
  if (node) svg.appendChild(node);
  return svg;
}

const INK = "#2b2b3a";

/** The stand-in monster: a round body, two eyes, a smile, optional antennae. */
function builtIn(svg, avatar) {
  svg.setAttribute("color", FALLBACK_COLOURS[avatar.colour] || FALLBACK_COLOURS.teal);
  const skin = { fill: "currentColor", stroke: INK, "stroke-width": 4 };
  svg.append(
    s("ellipse", { cx: 74, cy: 186, rx: 16, ry: 8, ...skin }),
    s("ellipse", { cx: 126, cy: 186, rx: 16, ry: 8, ...skin }),
    s("circle", { cx: 100, cy: 112, r: 72, ...skin }),
    s("ellipse", { cx: 100, cy: 158, rx: 40, ry: 20, fill: "#fff", "fill-opacity": 0.28 }),
  );
  for (const x of [78, 122]) {
    svg.append(
      s("circle", { cx: x, cy: 92, r: 14, fill: "#fff", stroke: INK, "stroke-width": 3 }),
      s("circle", { cx: x + 2, cy: 94, r: 6, fill: INK }),
    );
  }
  svg.append(
    s("path", {
      d: "M76 126Q100 150 124 126",
      fill: "none",
      stroke: INK,
      "stroke-width": 5,
      "stroke-linecap": "round",
    }),
  );
}
