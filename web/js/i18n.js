// The interface's own words in the reader's language.
//
// Every text the client shows goes through t() or tn(); placeholders are named, in braces:
// t("Hello {name}", { name }). Constants defined before a language is chosen are marked with
// N_("…") and passed through t() where they are shown. `tools/catalogs.py extract` finds the
// messages by these three names. Catalogs are compiled JSON files with a content hash in their
// name (cached for good); /i18n/catalogs.json lists them. English is the source: no catalog.

const listeners = new Set();
let catalog = null; // { language, plural_categories, messages }
let language = "en";
let pluralRules = new Intl.PluralRules("en");
let manifestPromise = null;

/** Mark `message` for extraction; translate it with t() where it is shown. */
export function N_(message) {
  return message;
}

/** `message` in the interface language, placeholders filled. */
export function t(message, values) {
  const found = catalog && catalog.messages[message];
  return fill(typeof found === "string" && found ? found : message, values);
}

/** The form of singular/plural for `n` in the interface language; `{n}` is filled too. */
export function tn(singular, plural, n, values) {
  const all = { n, ...(values || {}) };
  const forms = catalog && catalog.messages[`${singular}\u0000${plural}`];
  if (Array.isArray(forms) && forms.length) {
    const categories = catalog.plural_categories || ["one", "other"];
    let index = categories.indexOf(pluralRules.select(n));
    if (index < 0) index = categories.indexOf("other");
    const form = forms[index] || forms[forms.length - 1];
    if (form) return fill(form, all);
  }
  return fill(n === 1 ? singular : plural, all);
}

function fill(message, values) {
  if (!values) return message;
  return message.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** The interface language now in use (a catalog's code such as "es" or "zh_Hans", or "en"). */
export function interfaceLanguage() {
  return language;
}

/** Call `fn` after every change of interface language (views re-render themselves). */
export function onLanguageChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Every catalog the server has: { code: { file, complete, translated, total } }. */
export function catalogs() {
  if (!manifestPromise) {
    manifestPromise = fetch("/i18n/catalogs.json", { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : {}))
      .catch(() => ({}));
  }
  return manifestPromise;
}

/** The catalog code that serves a BCP 47 tag ("pt-BR" → "pt", "zh-CN" → "zh_Hans"), or null. */
export function catalogFor(tag, manifest) {
  if (!tag) return null;
  const code = String(tag).replace(/-/g, "_");
  const primary = code.split("_")[0].toLowerCase();
  if (primary === "en") return "en";
  if (primary === "zh") return manifest.zh_Hans ? "zh_Hans" : null;
  if (manifest[code]) return code;
  if (manifest[primary]) return primary;
  return null;
}

/** The first of the browser's languages the interface speaks ("en" when none). */
export async function browserLanguage() {
  const manifest = await catalogs();
  for (const tag of navigator.languages || [navigator.language]) {
    const code = catalogFor(tag, manifest);
    if (code) return code;
  }
  return "en";
}

/** Switch the interface to `code` (a user's language or a catalog code) and re-render at once. */
export async function setInterfaceLanguage(code) {
  const manifest = await catalogs();
  const wanted = catalogFor(code, manifest) || "en";
  if (wanted === language && (catalog || wanted === "en")) return language;
  let next = null;
  if (wanted !== "en") {
    try {
      const reply = await fetch(`/i18n/${manifest[wanted].file}`, { credentials: "same-origin" });
      if (reply.ok) next = await reply.json();
    } catch {
      next = null;
    }
  }
  catalog = next;
  language = next ? wanted : "en";
  const tag = language.replace("_", "-");
  try {
    pluralRules = new Intl.PluralRules(tag);
  } catch {
    pluralRules = new Intl.PluralRules("en");
  }
  for (const fn of listeners) fn(language);
  return language;
}

/**
 * A translated message whose placeholders are elements: parts(t("Joining {school}"), { school: h(...) })
 * gives ["Joining ", <strong>…</strong>] to append, so translators can move the pieces freely.
 */
export function parts(message, nodes) {
  const out = [];
  let last = 0;
  message.replace(/\{(\w+)\}/g, (whole, name, offset) => {
    if (!(name in nodes)) return whole;
    if (offset > last) out.push(message.slice(last, offset));
    out.push(nodes[name]);
    last = offset + whole.length;
    return whole;
  });
  if (last < message.length) out.push(message.slice(last));
  return out;
}
