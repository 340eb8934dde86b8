// Stylesheets injected once per document, keyed by id (one per widget family).

/** Add `css` to the document head under `id` unless a sheet with that id exists. */
export function injectStyle(id, css) {
  if (typeof document === "undefined" || document.getElementById(id)) return;
  const style = document.createElement("style");
  style.id = id;
  style.textContent = css;
  document.head.appendChild(style);
}
