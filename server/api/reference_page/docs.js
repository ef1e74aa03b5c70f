// Renders /api/openapi.json as a reference page. Every string from the document goes into
// the page through textContent or attribute setters, never as HTML.
"use strict";

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function resolve(doc, value, depth) {
  // Inline $refs (to a depth) so a schema reads on its own; cycles stop at the ref.
  if (Array.isArray(value)) return value.map((item) => resolve(doc, item, depth));
  if (!value || typeof value !== "object") return value;
  if (typeof value.$ref === "string" && value.$ref.startsWith("#/")) {
    if (depth > 6) return { $ref: value.$ref };
    let target = doc;
    for (const part of value.$ref.slice(2).split("/")) target = target ? target[part] : undefined;
    return resolve(doc, target || {}, depth + 1);
  }
  const out = {};
  for (const [key, item] of Object.entries(value)) out[key] = resolve(doc, item, depth);
  return out;
}

function schemaBlock(doc, schema) {
  return el("pre", {}, JSON.stringify(resolve(doc, schema, 0), null, 2));
}

function securityText(op) {
  if (!op.security || op.security.length === 0) return "no sign-in";
  const roles = op["x-roles"] ? " · " + op["x-roles"].join(", ") : "";
  return "signed in" + roles;
}

function parametersTable(parameters) {
  const table = el("table", {}, el("tr", {}, el("th", {}, "name"), el("th", {}, "in"), el("th", {}, "schema")));
  for (const p of parameters) {
    table.append(el("tr", {}, el("td", {}, String(p.name)), el("td", {}, String(p.in)),
      el("td", {}, JSON.stringify(p.schema || {}))));
  }
  return table;
}

function operationBlock(doc, path, method, op) {
  const body = el("div", { class: "body" });
  if (op.description) {
    for (const paragraph of String(op.description).split("\n\n")) body.append(el("p", {}, paragraph));
  }
  body.append(el("p", {}, "operationId: ", el("code", {}, String(op.operationId || ""))));
  if (op.parameters && op.parameters.length) body.append(el("h4", {}, "Parameters"), parametersTable(op.parameters));
  if (op.requestBody) {
    const request = resolve(doc, op.requestBody, 0);
    for (const [type, media] of Object.entries(request.content || {})) {
      body.append(el("h4", {}, "Request body (" + type + (request.required ? ", required" : "") + ")"),
        schemaBlock(doc, media.schema || {}));
    }
  }
  body.append(el("h4", {}, "Responses"));
  for (const [status, raw] of Object.entries(op.responses || {})) {
    const response = resolve(doc, raw, 0);
    body.append(el("p", {}, el("strong", {}, status), " " + String(response.description || "")));
    for (const [type, media] of Object.entries(response.content || {})) {
      const schema = media.schema || {};
      if (Object.keys(schema).length) body.append(el("div", {}, type), schemaBlock(doc, schema));
    }
  }
  const summary = el("summary", {},
    el("span", { class: "method m-" + method }, method.toUpperCase()),
    el("span", { class: "path" }, path),
    el("span", { class: "summary" }, String(op.summary || "")),
    el("span", { class: "lock" }, securityText(op)));
  const block = el("details", { class: "op" }, summary, body);
  block.dataset.search = [method, path, op.summary, op.description, (op.tags || []).join(" ")].join(" ").toLowerCase();
  return block;
}

function render(doc) {
  document.getElementById("title").textContent = String(doc.info.title);
  document.getElementById("version").textContent = "Version " + String(doc.info.version) + " · OpenAPI " + String(doc.openapi);
  document.getElementById("intro").textContent = String(doc.info.description || "");
  const byTag = new Map();
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags && op.tags[0]) || "other";
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(operationBlock(doc, path, method, op));
    }
  }
  const main = document.getElementById("operations");
  const toc = document.getElementById("toc");
  main.replaceChildren();
  for (const tag of [...byTag.keys()].sort()) {
    const id = "tag-" + tag.replace(/[^a-z0-9_-]/gi, "-");
    toc.append(el("a", { href: "#" + id }, tag));
    main.append(el("section", { class: "tag", id: id }, el("h2", {}, tag), ...byTag.get(tag)));
  }
  const sockets = doc["x-websockets"] || [];
  if (sockets.length) {
    const section = el("section", { class: "tag", id: "tag-websockets" }, el("h2", {}, "websockets"));
    for (const socket of sockets) section.append(el("p", {}, el("span", { class: "path" }, String(socket.path)), " " + String(socket.description || "")));
    toc.append(el("a", { href: "#tag-websockets" }, "websockets"));
    main.append(section);
  }
  document.getElementById("filter").addEventListener("input", (event) => {
    const words = event.target.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const block of main.querySelectorAll("details.op")) {
      block.classList.toggle("hidden", !words.every((w) => block.dataset.search.includes(w)));
    }
  });
}

fetch("/api/openapi.json", { credentials: "same-origin" })
  .then((response) => {
    if (!response.ok) throw new Error("HTTP " + response.status);
    return response.json();
  })
  .then(render)
  .catch((error) => {
    const status = document.getElementById("status");
    status.className = "error";
    status.textContent = "Could not load /api/openapi.json: " + String(error.message || error);
  });
