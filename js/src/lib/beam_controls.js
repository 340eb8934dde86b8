// Beam controls shared by the s3DXRD widgets: the beam-profile menu (its
// options are the registered profiles Python sends as "profile_names") and
// the blur slider that only the box ⊗ Gaussian profile uses.
import { traitChoice } from "./controls.js";
import { h } from "./dom.js";

/** Menu label of a profile name: "box_gaussian" -> "box ⊗ gaussian". */
export function profileLabel(name) {
  return String(name).replace("_", " ⊗ ");
}

/**
 * Labelled <select> bound to the string trait `name` (default "profile")
 * whose options follow the list trait `namesTrait`. Returns {el, input, off}.
 */
export function profileChoice(model, name = "profile", namesTrait = "profile_names", label = "beam profile") {
  const names = () => (model.get(namesTrait) || []).map((n) => [n, profileLabel(n)]);
  const first = names();
  const choice = traitChoice(model, name, label, first.length ? first : [[model.get(name), profileLabel(model.get(name))]]);
  const refill = () => {
    const opts = names();
    if (!opts.length) return;
    choice.input.replaceChildren(...opts.map(([v, text]) => h("option", { value: v, text })));
    choice.update();
  };
  model.on(`change:${namesTrait}`, refill);
  return {
    el: choice.el,
    input: choice.input,
    off: () => {
      model.off(`change:${namesTrait}`, refill);
      choice.off();
    },
  };
}

/** Show `control` (an element) only while the trait `name` equals `value`; returns the unbinding function. */
export function showWhen(model, control, name, value) {
  const update = () => {
    control.style.display = model.get(name) === value ? "" : "none";
  };
  model.on(`change:${name}`, update);
  update();
  return () => model.off(`change:${name}`, update);
}

/**
 * Grey out the omega range sliders (`{name: slider}` with `.el` and
 * `.input`) while the angles come from the list trait `omega_list`.
 */
export function greyWhenOmegaList(model, sliders) {
  const update = () => {
    const list = (model.get("omega_list") || []).length > 0;
    for (const s of sliders) {
      if (!s) continue;
      s.input.disabled = list;
      s.el.style.opacity = list ? "0.45" : "";
      s.el.title = list ? "the angles come from omega_list (set it to [] to use the range)" : "";
    }
  };
  model.on("change:omega_list", update);
  update();
  return () => model.off("change:omega_list", update);
}
