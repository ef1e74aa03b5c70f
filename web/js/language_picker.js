// The language picker of the signed-out pages (sign-in, pupil sign-in, invite sign-up):
// every language with an interface catalog, each named in itself, and English.

import { h, uid } from "./dom.js";
import { catalogs, interfaceLanguage, t } from "./i18n.js";

function nativeName(code) {
  const tag = code.replace("_", "-");
  try {
    const name = new Intl.DisplayNames([tag], { type: "language" }).of(tag.split("-")[0]);
    return name ? name.charAt(0).toLocaleUpperCase(tag) + name.slice(1) : code;
  } catch {
    return code;
  }
}

/** A labelled <select>; choosing calls `ctx.chooseLanguage(code)`, which re-renders the page. */
export function languagePicker(ctx) {
  const id = uid("interface-language");
  const select = h("select", { class: "input input-inline", id, "data-language-picker": "" });
  const wrap = h(
    "div",
    { class: "language-picker" },
    h("label", { for: id }, t("Language")),
    select,
  );
  catalogs().then((manifest) => {
    const codes = ["en", ...Object.keys(manifest)];
    const entries = codes.map((code) => [code, code === "en" ? "English" : nativeName(code)]);
    entries.sort((a, b) => a[1].localeCompare(b[1]));
    for (const [code, name] of entries) {
      select.append(h("option", { value: code, lang: code.replace("_", "-"), selected: code === interfaceLanguage() }, name));
    }
  });
  select.addEventListener("change", () => ctx.chooseLanguage(select.value));
  return wrap;
}
