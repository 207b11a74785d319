// Small DOM helpers: every element is built with createElement and
// textContent, never from HTML strings (the CSP requires Trusted Types, and
// nothing the API returns is ever parsed as markup).

/** h("button", {type: "button", onclick: f}, "Text", child...) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** A labelled input: returns [label, input]. */
export function field(id, label, attrs = {}) {
  const input = h("input", { id, name: id, ...attrs });
  return [h("label", { for: id }, label), input];
}

/**
 * A table with a caption for screen readers. Each cell also carries its
 * column's name (data-label), which a phone shows when rows become cards.
 */
export function table(caption, headers, rows) {
  for (const row of rows) {
    [...row.children].forEach((td, i) => td.setAttribute("data-label", headers[i] || ""));
  }
  return h("div", { class: "table" },
    h("table", {},
      h("caption", { class: "muted" }, caption),
      h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows)));
}

/** Formats an RFC 3339 time for people, or a dash. */
export function when(t) {
  if (!t) return "—";
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? t : d.toLocaleString();
}

/** datetime-local value → the contract's YYYY-MM-DDThh:mm:ssZ, or undefined. */
export function toAPITime(v) {
  if (!v) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return undefined;
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}
