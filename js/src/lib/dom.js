// Small DOM builders shared by the widgets' build functions.

/**
 * A new element. `props`: className, text (textContent), role (data-role),
 * dataset, style (an object of style properties), any other property set as
 * is (type, min, title, ...); `children` are appended (nodes or strings).
 */
export function h(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  const { className, text, role, dataset, style, ...rest } = props;
  if (className) e.className = className;
  if (text != null) e.textContent = text;
  if (role) e.dataset.role = role;
  if (dataset) Object.assign(e.dataset, dataset);
  if (style) Object.assign(e.style, style);
  Object.assign(e, rest);
  e.append(...children);
  return e;
}

/** A titled panel: div.srw-panel > div.srw-panel-title + children. Returns {el, title}. */
export function panel(titleText, ...children) {
  const title = h("div", { className: "srw-panel-title", text: titleText });
  return { el: h("div", { className: "srw-panel" }, title, ...children), title };
}

/** A flex row (div.srw-row) of children; `style` as for `h`. */
export function row(children, style = null) {
  return h("div", style ? { className: "srw-row", style } : { className: "srw-row" }, ...children);
}

/** A button (class `className`) that calls `onClick` when clicked. */
export function button(label, onClick, className = "srw-btn") {
  const b = h("button", { className, text: label });
  b.addEventListener("click", onClick);
  return b;
}

/** Replace the rows of `table` by `rows` (arrays of cell texts); the first row is the header (th cells). */
export function fillTable(table, rows) {
  table.replaceChildren(
    ...rows.map((cells, i) => h("tr", {}, ...cells.map((c) => h(i === 0 ? "th" : "td", { text: c })))),
  );
}
