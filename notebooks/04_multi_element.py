# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · Several elements, several PSFs
#
# *Course notebook for Yang, Zhang & Cheng (2022), J. Anal. At. Spectrom. 37, 750 — Fig. 9, the iron skarn.*
#
# The last experiment of the paper leaves the resolution chart for a rock: a polished **iron skarn** made of magnetite (Fe₃O₄, strong Fe-Kα), calcite (CaCO₃, strong Ca-Kα), garnet (andradite-grossular, moderate Ca-Kα and Fe-Kα) and **quartz veins** (SiO₂, Si-Kα), mapped on the same Bruker M6 Jetstream with a 10 µm step. Its element maps are not equally sharp: **Fe-Kα is the sharpest, Ca-Kα blurrier, Si-Kα very blurry and noisy.** The authors restored each map with Richardson–Lucy and a Gaussian PSF of its own: **σ = 40 µm for Fe-Kα, 50 µm for Ca-Kα and 80 µm for Si-Kα.** Fe and Ca came out with sharper grain boundaries and *closer* resolutions; Si did not improve.
#
# This notebook explains why one instrument has several PSFs, builds a skarn-like section in simulation, and restores it with the `ElementStack` widget.

# %% [markdown]
# ## Why does every element have its own PSF?
#
# The PSF of a micro-XRF map is the area from which the detected fluorescence of that element comes. Three effects make it depend on the line's energy — Fe-Kα 6.40 keV, Ca-Kα 3.69 keV, Si-Kα 1.74 keV:
#
# 1. **The optics are chromatic.** A polycapillary guides X-rays by total external reflection, whose critical angle falls as $\theta_c \propto 1/E$. Low-energy photons leave the capillaries with a larger divergence and are focused to a larger spot; the tube spectrum (Rh anode, 50 kV) is focused best at one energy and the rest is more or less out of focus. A light element's line is excited by *low*-energy tube photons (just above its absorption edge: 1.84 keV for Si, 4.04 keV for Ca, 7.11 keV for Fe) — exactly those with the largest spot. So the lower the line's energy, the larger its excitation spot.
# 2. **The excitation volume depends on the mineral.** In light, low-density minerals such as quartz, the primary beam penetrates deeper and scatters more before it is absorbed, so the fluorescence comes from a wider region (the paper calls the quartz signal *dispersive*). The polycapillary beam is a cone, so excitation at depth is also excitation away from the focus.
# 3. **Low-energy lines are weak and noisy.** The M6 works in air: Si-Kα photons are strongly absorbed on their way to the detector, so the Si map has few counts. Restoration amplifies noise; with few counts there is little to restore.
#
# In the paper's words: from Fe-Kα to Ca-Kα and then to Si-Kα the maps get blurrier as the fluorescence energy decreases. A single PSF would under-restore Si and over-restore Fe; one PSF per element lets the restoration bring the maps to a *similar* resolution — useful when maps are combined (mineral classification, ratios).

# %%
import numpy as np
from IPython.display import HTML, display
from bokeh.io import output_notebook, show
from bokeh.layouts import row
from bokeh.models import LinearColorMapper
from bokeh.plotting import figure
from bokeh.resources import INLINE

from superres_widgets.widgets import ElementStack
from superres_widgets.xrf.phantoms import BACKGROUND_CPS, PHASES, RATES_CPS
from superres_widgets.widgets.element_stack import ELEMENT_COLORS
from superres_widgets.xrf import convolve, gaussian_psf, mse

output_notebook(INLINE, hide_banner=True)


def image_figure(img, title, palette, low, high, width=260):
    '''A Bokeh image of a 2-D array, row 0 at the top, pixels square.'''
    ny, nx = img.shape
    p = figure(title=title, width=width, height=int(width * ny / nx) + 30, x_range=(0, nx), y_range=(0, ny),
               toolbar_location=None)
    p.image(image=[np.asarray(img, dtype=np.float32)[::-1]], x=0, y=0, dw=nx, dh=ny,
            color_mapper=LinearColorMapper(palette=palette, low=low, high=high))
    p.axis.visible = False
    p.grid.visible = False
    return p


def tint(hex_color):
    '''256 colours black -> element colour -> white, as in the widget.'''
    rgb = [int(hex_color[i:i + 2], 16) for i in (1, 3, 5)]
    out = []
    for i in range(256):
        t = i / 255
        c = [v * t / 0.75 for v in rgb] if t <= 0.75 else [v + (245 - v) * (t - 0.75) / 0.25 for v in rgb]
        out.append("#" + "".join(f"{int(round(x)):02x}" for x in c))
    return out


# %% [markdown]
# ## A simulated skarn section
#
# `ElementStack.demo()` draws a 192 × 192 pixel section (1.92 mm at the paper's 10 µm step): a garnet matrix, calcite grains (cells of a Voronoi tessellation), magnetite grains (ellipses, partly clustered) and two sinuous quartz veins. Each element's count rate depends on the mineral (table below — plausible for a benchtop instrument, not measured), its map is blurred with **its own Gaussian PSF (Fe 40, Ca 50, Si 80 µm)** and Poisson counts are drawn for 0.1 s per pixel:
#
# $$y_e \sim \mathrm{Poisson}\big(\tau\,[\,h_{\sigma_e} * (r_e(\text{mineral}) + b_e)\,]\big).$$
#
# `stack.truth` keeps the noise-free, unblurred maps, so here — unlike in the paper — we can measure how close each restoration gets.

# %%
rows = "".join(f"<tr><td>{e}-Kα</td>" + "".join(f"<td>{RATES_CPS[e][p]:.0f}</td>" for p in PHASES)
               + f"<td>{BACKGROUND_CPS[e]:.0f}</td></tr>" for e in RATES_CPS)
display(HTML("<table><tr><th>cps</th>" + "".join(f"<th>{p}</th>" for p in PHASES)
             + "<th>background</th></tr>" + rows + "</table>"))

stack = ElementStack.demo(shape=(192, 192), pixel_size_um=10.0, dwell_s=0.1, seed=0)
ph = stack.phantom
print("PSF sigmas (µm):", ph.metadata["sigmas_um"], "| mean counts per pixel:",
      {k: round(float(v.mean()), 1) for k, v in ph.counts.items()})
phase_colors = ["#b5651d", "#f0ead6", "#202020", "#9ecae1"]  # garnet, calcite, magnetite, quartz
figs = [image_figure(ph.phases, "garnet, calcite, magnetite, quartz", phase_colors, -0.5, 3.5)]
for e in ("Fe", "Ca", "Si"):
    t = ph.truth[e]
    figs.append(image_figure(t, f"{e}-Kα, no blur, no noise", tint(ELEMENT_COLORS[e]), 0, t.max()))
show(row(*figs))

# %% [markdown]
# ## Restoring every element with its own PSF
#
# Below: each element's measured map and its restoration side by side, on one colour scale per element. Each row has its own **PSF σ slider**; the **method** and its parameters are shared. Channels are restored one after the other in the background, each with its own progress bar; a change restores only the channels it affects (move the Si slider: Fe and Ca are not recomputed).
#
# Things to try:
# * give Fe the Si's 80 µm — the magnetite grains get dark halos (ringing: the PSF is too large);
# * give Si the Fe's 40 µm — the veins stay blurred (PSF too small);
# * raise the iterations to 100 and watch the noisy Si map break into blobs.

# %%
stack

# %% [markdown]
# Above the per-element rows, the **RGB composite** shows three elements at once — red, green and blue chosen in its menus (or `stack.rgb_channels = ["Fe", "Ca", "Si"]`), each on the same scale as its own panels, measured beside restored. Mineral boundaries that no single map shows sharply (magnetite in garnet, calcite against quartz) stand out in colour; `stack.rgb()` returns the composite as an array for a figure.

# %%
stack.wait()
composite = stack.rgb(restored=True)
print(composite.shape, f"{composite.min():.2f}-{composite.max():.2f}")
assert composite.shape == (192, 192, 3) and 0 <= composite.min() and composite.max() <= 1

# %% [markdown]
# ## How much sharper?
#
# A single number for "how blurred is this map": the σ of the Gaussian blur that, applied to the truth, comes closest (least squares) to the map — its **effective PSF σ**. For the raw maps it returns the σ they were simulated with; for a restoration it tells how much blur is left. The relative error is the RMS difference to the truth divided by the truth's standard deviation.

# %%
stack.wait()
grid = np.arange(0.0, 100.01, 2.5)


def effective_sigma(img, truth, pixel_um=10.0):
    errors = [mse(img, truth if s == 0 else convolve(truth, gaussian_psf(s, pixel_size_um=pixel_um))) for s in grid]
    return grid[int(np.argmin(errors))]


rows = []
for e in stack.names:
    t, raw, rest = stack.truth[e], stack.maps[e], stack.restored[e]
    rows.append((e, stack.sigmas_um[e], effective_sigma(raw, t), effective_sigma(rest, t),
                 np.sqrt(mse(raw, t)) / t.std(), np.sqrt(mse(rest, t)) / t.std()))
display(HTML("<table><tr><th>line</th><th>PSF σ used (µm)</th><th>effective σ, raw</th><th>effective σ, restored</th>"
             "<th>relative error, raw</th><th>relative error, restored</th></tr>"
             + "".join(f"<tr><td>{e}-Kα</td><td>{s:g}</td><td>{a:g}</td><td><b>{b:g}</b></td><td>{c:.2f}</td>"
                       f"<td><b>{d:.2f}</b></td></tr>" for e, s, a, b, c, d in rows) + "</table>"))
fe, ca = rows[0], rows[1]
print(f"Fe/Ca effective sigma: raw {fe[2]:g} / {ca[2]:g} µm (difference {ca[2] - fe[2]:g} µm) -> "
      f"restored {fe[3]:g} / {ca[3]:g} µm (difference {ca[3] - fe[3]:g} µm)")

# %% [markdown]
# **Reading the table.** RL with each element's own PSF roughly halves the blur of every map, and the gap between the Fe and Ca maps shrinks (the last printed line) — the paper's observation that "the restored images of Fe-Kα and Ca-Kα had closer resolutions". The magnetite and calcite grain boundaries are visibly sharper in the widget, and the error to the truth drops for every element.
#
# Our Si map also improves, unlike the paper's. The simulation is kind to Si: its PSF is *exactly* the Gaussian we restore with, and the quartz veins are sharp. In the paper, the quartz signal was dispersive (the excitation spreads deeper and wider in quartz than in the other minerals, so a single Gaussian is the wrong model there) and the map was very noisy. Noise alone is enough to show the effect: with 20 times fewer counts (0.005 s per pixel, a fast survey map), more iterations make the Si restoration *worse*, not better — RL starts fitting the Poisson noise.

# %%
fast = ElementStack.demo(shape=(192, 192), dwell_s=0.005, seed=0)
t_si = fast.truth["Si"]
print(f"Si at 0.005 s per pixel: {fast.maps['Si'].mean():.2f} counts per pixel on average")
print(f"  raw map: relative error {np.sqrt(mse(fast.maps['Si'], t_si)) / t_si.std():.2f}")
for n_iter in (10, 30, 100):
    fast.num_iter = n_iter
    fast.wait()
    print(f"  RL, {n_iter:3d} iterations: relative error {np.sqrt(mse(fast.restored['Si'], t_si)) / t_si.std():.2f}")
fast

# %% [markdown]
# ## Your own maps
#
# `ElementStack` takes a dict of maps (or a 3-D stack with `names`) from any source, the pixel size and one σ per element, e.g.
#
# ```python
# stack = ElementStack(maps={"Fe": fe_counts, "Ca": ca_counts, "Si": si_counts}, pixel_size_um=10,
#                      sigmas_um={"Fe": 40, "Ca": 50, "Si": 80})
# stack.wait().restored["Fe"]       # float64 counts, same shape
# ```
#
# The σ of each element can come from a knife edge or a dot scan on a standard of that element (notebook 02), or from a sweep like Fig. 8 (notebook 03) on a sharp feature of the sample.
#
# ## Exercises
#
# 1. Find, with the sliders, the σ for each element that gives the visually best map. Is it the σ the map was simulated with? Compare with the effective-σ table.
# 2. Switch the method to Wiener. Which element suffers most from the noise, and why?
# 3. The paper concludes that "images that have extremely high noise and materials that have dispersive textures are not suitable for image restoration". Using the `fast` stack above, find the largest number of iterations that still improves the Si map.
