// The interface's own words in the reader's language.
//
// Every text the client shows goes through t() or tn(); placeholders are named, in braces:
// t("Hello {name}", { name }). `pybabel extract` finds the messages by these two names.

/** `message` in the interface language, placeholders filled. */
export function t(message, values) {
  return fill(message, values);
}

/** The form of singular/plural for `n` in the interface language; `{n}` is filled too. */
export function tn(singular, plural, n, values) {
  return fill(n === 1 ? singular : plural, { n, ...(values || {}) });
}

function fill(message, values) {
  if (!values) return message;
  return message.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}
