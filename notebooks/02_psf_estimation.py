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
# # 02 · Measuring the PSF of a micro-XRF map: dot scan and knife edge
#
# *Course notebook for Yang, Zhang & Cheng (2022), "Resolution enhancement in micro-XRF using image restoration techniques", J. Anal. At. Spectrom. 37, 750 — section "Point spread function (PSF) estimation", Fig. 3 and Fig. 4.*
#
# A micro-XRF map is the true element distribution $x$ blurred by the **point spread function** $h$ — the intensity distribution of the fluorescence spot excited by the focused beam — plus Poisson noise:
#
# $$y = h * x + \varepsilon .$$
#
# Every non-blind restoration (Wiener, Richardson–Lucy, FISTA) needs $h$. The paper measures it in two ways:
#
# 1. **dot scan** (Fig. 3): scan a dot much smaller than the spot; the map *is* the PSF (plus background and noise). Fit a 2-D Gaussian, read $\sigma_u, \sigma_v, \rho$.
# 2. **knife edge** (Fig. 4): scan across a straight edge; the profile across it is the PSF integrated along the edge (the *edge-spread function*), and its derivative is a 1-D cut of the PSF. Fast, and it needs no special target — any sharp edge of the sample will do.
#
# You will fit both on simulated scans made with the paper's count rates, see what the ±1σ/2σ/3σ ellipses mean, why the paper's ellipse pointed at 45°, and which of the estimates to trust.
#
# **Conventions.** `image[row, col]`; $u$ runs along columns, $v$ along rows (down); lengths in µm. FWHM $= 2\sqrt{2\ln 2}\,\sigma \approx 2.355\,\sigma$.

# %%
import math
import numpy as np
from scipy import special
from bokeh.io import output_notebook, show
from bokeh.plotting import figure
from bokeh.resources import INLINE

from superres_widgets.widgets import PSFFitExplorer
from superres_widgets.xrf import (FWHM_PER_SIGMA, PAPER_DWELL_S, PAPER_RATES_CPS, fit_point_scan,
                                  simulate_scan)
output_notebook(INLINE, hide_banner=True)

# %% [markdown]
# ## 1 · The spot model (Fig. 3)
#
# The paper models the measured intensity around a dot as a bivariate normal density on a flat background:
#
# $$g(u,v) = \alpha\,h(u,v) + \beta,\qquad
# h(u,v) = \frac{1}{2\pi\sigma_u\sigma_v\sqrt{1-\rho^2}}
# \exp\left\{-\frac{1}{2(1-\rho^2)}\left[\tilde u^2 + \tilde v^2 - 2\rho\,\tilde u\tilde v\right]\right\},$$
#
# with $\tilde u = (u-\mu_u)/\sigma_u$, $\tilde v = (v-\mu_v)/\sigma_v$. Seven parameters: the integrated signal $\alpha$, the background $\beta$, the centre $(\mu_u, \mu_v)$, the widths $\sigma_u, \sigma_v$ and the correlation $\rho$ that tilts the spot (positive $\rho$: long axis down and to the right on the map).
#
# **The simulated dot scan.** A 5 µm dot scanned at 5 µm steps, 0.5 s per point, over the paper's 275 cps glass background. A dot this small emits little: we let it add 154 cps at the spot centre (the paper's chrome-minus-glass contrast, 429 − 275 cps). The PSF here is slightly elliptical and tilted, $\sigma_u = 30$, $\sigma_v = 36$ µm, $\rho = 0.25$, so that you can see what the fit recovers.

# %%
dot = PSFFitExplorer.demo_dot(sigma_um=30.0, sigma_v_um=36.0, rho=0.25, seed=0)
dot

# %% [markdown]
# The left panel is the map with the fitted **confidence ellipses** — the contours $d^{T}\Sigma^{-1}d = k^2$ of the fitted Gaussian for $k = 1, 2, 3$ — the right panel the **residual** (data − fit, the paper's Fig. 3c), the plots below the cuts through the fitted centre (Fig. 3b).
#
# Note what a "±1σ ellipse" encloses in two dimensions: the fraction $1 - e^{-k^2/2}$ of the spot's signal, i.e. 39 %, 86 % and 99 % — not the 68/95/99.7 % of one dimension.

# %%
for k in (1, 2, 3):
    print(f"±{k} sigma ellipse encloses {100 * (1 - math.exp(-k * k / 2)):5.1f} % of the spot "
          f"(1-D interval: {100 * special.erf(k / math.sqrt(2)):5.1f} %)")
print()
rows = [("sigma_u (um)", dot.sigma_u_um, dot.sigma_u_err_um, 30.0),
        ("sigma_v (um)", dot.sigma_v_um, dot.sigma_v_err_um, 36.0),
        ("rho", dot.rho, dot.rho_err, 0.25)]
for name, value, err, true in rows:
    print(f"{name:13s} fitted {value:7.3f} ± {err:.3f}   simulated {true}")
print(f"reduced chi^2 {dot.chi2_reduced:.2f} (1 = residuals are pure Poisson noise)")
print(f"isotropic equivalent sqrt(sigma_u sigma_v) = {dot.psf_sigma_um:.1f} um, FWHM {dot.fwhm_um:.1f} um")


# %% [markdown]
# A reduced $\chi^2$ near 1 and a residual map without structure (no ring, no dipole) say that the Gaussian describes the spot to within the counting noise — the paper's conclusion from its Fig. 3c. A ring in the residual would mean a spot with tails (common for polycapillary optics); a dipole, a wrong centre or drift during the scan.
#
# *Try it:* in the widget switch the colours to gray; set `dot.image = dot.image[10:-10, 10:-10]` and watch how cropping the field changes the background estimate and the error bars.

# %% [markdown]
# ### Why the paper's ellipse pointed at 45°
#
# The paper found the long axis "in a 45° direction", but "the long axis swung drastically for each measurement", and concluded that the spot is round and ρ ≈ 0. Repeat the measurement of an **isotropic** spot ($\sigma = 32.5$ µm, the paper's value) with new Poisson noise each time. The forward model is `simulate_scan` (see its docstring): the dot is a disc on a fine 1 µm grid, blurred by the PSF, sampled every 5 µm, and the counts are Poisson.

# %%
def dot_scan(sigma_um=32.5, seed=0, size_px=61, step_um=5.0, peak_cps=154.0):
    fine, ratio = 1.0, int(step_um)
    n = (size_px - 1) * ratio + 1
    rr, cc = np.indices((n, n))
    c0 = (n - 1) / 2
    truth = (((rr - c0) ** 2 + (cc - c0) ** 2) <= 2.5 ** 2).astype(float)   # the 5 um dot
    frac = truth.sum() / (2 * math.pi * sigma_um ** 2)       # its blurred peak coverage
    rates = (PAPER_RATES_CPS[1] + peak_cps / frac, PAPER_RATES_CPS[1])
    return simulate_scan(truth, sigma_um, step_um, rates, PAPER_DWELL_S, truth_pixel_um=fine, rng=seed).counts

print(" scan  sigma_u  sigma_v    rho ± err    long axis")
angles = []
for seed in range(6):
    f = fit_point_scan(dot_scan(seed=seed), pixel_size_um=5.0)
    angle = 0.5 * math.degrees(math.atan2(2 * f.rho * f.sigma_u * f.sigma_v, f.sigma_u ** 2 - f.sigma_v ** 2))
    angles.append(angle)
    print(f"{seed:5d}  {f.sigma_u:7.1f}  {f.sigma_v:7.1f}  {f.rho:+.3f} ± {f.errors['rho']:.3f}  {angle:+6.0f} deg")

# %% [markdown]
# For a nearly round spot the orientation of the long axis is undefined: tiny, noise-driven differences between $\sigma_u$, $\sigma_v$ and $\rho$ point it anywhere, while $\rho$ itself stays within one or two standard errors of zero. That is what the paper saw, and why it used an **isotropic** Gaussian in the rest of its work. The lesson for your own dot scans: read $\rho$ together with its error bar before you trust a tilted spot.
#
# ## 2 · The knife edge (Fig. 4)
#
# Scanning across a straight edge between glass and chrome, the intensity profile along the edge normal $x$ is the PSF integrated along the edge — for a Gaussian PSF an error function:
#
# $$E(x) = \beta + \alpha\,\Phi\!\left(\frac{x-\mu}{\sigma}\right), \qquad \frac{dE}{dx} = \frac{\alpha}{\sqrt{2\pi}\,\sigma}\,e^{-(x-\mu)^2/2\sigma^2},$$
#
# so the derivative of the profile (the *line-spread function*) is the Gaussian the paper fits (its eqn 14). The paper defines the spot size as the FWHM $= 2.355\,\sigma$ and notes that for a Gaussian it is the width between 12 % and 88 % of the edge:

# %%
width_12_88 = special.ndtri(0.88) - special.ndtri(0.12)
print(f"12 %-88 % width of the edge: {width_12_88:.4f} sigma;  FWHM: {FWHM_PER_SIGMA:.4f} sigma")
print(f"paper: sigma 37.5 um  ->  FWHM = {FWHM_PER_SIGMA * 37.5:.1f} um (the paper's 88.3 um spot)")

# %% [markdown]
# The simulated knife edge: a chrome area right of a straight edge tilted by 4° (429 cps), glass left of it (275 cps), 5 µm steps, 0.5 s dwell, and the paper's knife-edge PSF, $\sigma = 37.5$ µm. The widget bins the pixels inside the dashed band by their distance to the *fitted* edge — so a tilted edge gives a finely sampled profile (the "slanted edge" method) — then fits the profile with an erf (Fig. 4b) and its gradient with the paper's Gaussian (Fig. 4c).
#
# *Try it:* **drag a new line across the edge** on the map (the arrow is the direction of the profile). Make it short, long, slanted; widen or narrow the band; switch which estimate becomes the PSF result.

# %%
edge = PSFFitExplorer.demo_knife_edge(sigma_um=37.5, seed=0)
edge

# %%
print(f"erf fit of the profile:      sigma = {edge.knife_sigma_um:5.1f} ± {edge.knife_sigma_err_um:.1f} um, "
      f"FWHM {FWHM_PER_SIGMA * edge.knife_sigma_um:5.1f} um")
print(f"Gaussian fit of the gradient: sigma = {edge.knife_sigma_gradient_um:5.1f} ± {edge.knife_sigma_gradient_err_um:.1f} um, "
      f"FWHM {FWHM_PER_SIGMA * edge.knife_sigma_gradient_um:5.1f} um")
print(f"edge normal at {edge.edge_angle_deg:.1f} deg (simulated: 4 deg); step {edge.edge_step:.0f} counts")
print("paper: sigma 37.5 um, FWHM 88.3 um")

# %% [markdown]
# ## 3 · Which estimate to trust?
#
# Both knife-edge estimates measure the same $\sigma$, but not equally well. Repeat the scan with new noise:

# %%
erf_s, grad_s = [], []
for seed in range(6):
    w = PSFFitExplorer.demo_knife_edge(sigma_um=37.5, seed=seed)
    erf_s.append(w.knife_sigma_um)
    grad_s.append(w.knife_sigma_gradient_um)
    w.close()
print(f"erf fit:      {np.mean(erf_s):5.1f} ± {np.std(erf_s, ddof=1):.1f} um over 6 scans  (true 37.5)")
print(f"gradient fit: {np.mean(grad_s):5.1f} ± {np.std(grad_s, ddof=1):.1f} um over 6 scans")

p = figure(width=520, height=260, title="knife-edge sigma over repeated scans",
           x_axis_label="scan (noise realisation)", y_axis_label="sigma (um)")
p.scatter(list(range(6)), erf_s, size=9, legend_label="erf fit of the profile")
p.scatter(list(range(6)), grad_s, size=9, marker="triangle", color="#d62728", legend_label="Gaussian fit of the gradient")
p.line([0, 5], [37.5, 37.5], line_dash="dashed", color="black", legend_label="simulated 37.5 um")
p.legend.location = "bottom_right"
show(p)

# %% [markdown]
# **Reading the numbers.**
#
# * **Erf fit vs gradient fit.** Differentiating the profile amplifies its noise (the red points of Fig. 4c scatter a lot), and only the points near the edge carry information about $\sigma$; the erf fit uses every point of the profile. It is the more precise estimate — compare the scatter of the two over the repeated scans, and their error bars. The gradient fit is the paper's procedure and gives the same $\sigma$ on average. The widget's PSF result uses the erf fit unless you choose the gradient.
# * **Knife edge vs dot scan.** The dot scan gives the full 2-D shape — two widths and a tilt — but its tilt is hard to measure for a round spot, and it is slow. Our simulated dot was generous: it adds the full chrome contrast (154 cps) at the spot centre. A 5 µm dot of the chart's chrome covers a tiny fraction of the spot (next cell), so at the paper's rates it adds well under 1 cps — a good dot scan takes hours, which is why the paper calls it too time-consuming. The knife edge measures one width only, along the edge normal; assume the spot is round (as the paper did, after its dot scan) or measure two perpendicular edges.
#

# %%
dot_area = math.pi * 2.5 ** 2                      # a 5 um dot, um^2
spot_area = 2 * math.pi * 32.5 ** 2                  # effective area of a 32.5 um Gaussian spot
gain = (PAPER_RATES_CPS[0] - PAPER_RATES_CPS[1]) * dot_area / spot_area
print(f"the dot covers {100 * dot_area / spot_area:.2f} % of the spot: it adds {gain:.2f} cps at the centre "
      f"over {PAPER_RATES_CPS[1]:.0f} cps of glass")
snr_per_s = gain / math.sqrt(PAPER_RATES_CPS[1])   # signal / noise after 1 s on the centre pixel
print(f"dwell for a signal-to-noise of 5 on the centre pixel: {(5 / snr_per_s) ** 2 / 3600:.1f} h per point")

# %% [markdown]
# * **What a knife edge includes.** Everything that blurs the map across the edge: the spot, but also a rough or bevelled edge, stage jitter, defocus at the sample's height, and — for on-the-fly scanning — the step itself along the fast axis (a box of one step adds step²/12 to $\sigma^2$: 37.5 → 37.53 µm for 5 µm steps, negligible here). So a knife edge tends to **over**-estimate the PSF. The paper's knife edge gave 37.5 µm, its blind estimate 32.5 µm, and Richardson–Lucy restored best with 32.5 µm.
# * **The final judge is the restoration.** An oversized PSF over-smooths (less noise, less resolution), an undersized one leaves blur and amplifies noise. Use the measured $\sigma$ as the starting point and check it in the deconvolution widget (and its PSF sweep) against a known feature.
#
# Link the PSF result straight into a deconvolution: `edge.link_to(deconvolution_widget)` keeps the deconvolution's `psf_sigma_um` equal to the measured one while you draw new lines (see notebook 00). A dot scan can also send **the measured spot itself** instead of its fitted Gaussian — tails, asymmetry and all: `dot.link_to(deconvolution_widget, source="measured")` (the map around the fitted centre, background removed, normalised and centred: `xrf.psf_from_dot_scan`). On the command line the same image goes in as `--psf FILE`.

# %%
from superres_widgets.xrf import kernel_to_sigma

measured = dot.measured_psf()
print(f"measured PSF {measured.shape} px, σ of its second moments "
      f"{float(np.mean(kernel_to_sigma(measured, pixel_size_um=dot.pixel_size_um))):.1f} µm; "
      f"fitted Gaussian σ {dot.psf_sigma_um:.1f} µm")
assert abs(measured.sum() - 1) < 1e-9

# %% [markdown]
# ## Exercises
#
# 1. In the knife-edge widget, draw lines of different lengths across the edge. When does the erf fit become unstable, and why? (How many $\sigma$ of flat plateau does it need on each side?)
# 2. Narrow the band to ±2 pixels and widen it to ±40. How does the error bar of $\sigma$ scale with the band width? Why can a very wide band hurt on a real sample?
# 3. Simulate a dot scan with `PSFFitExplorer.demo_dot(sigma_um=32.5, dwell_s=5.0)` (ten times the dwell). How much smaller are the error bars, and does the long axis still swing?
# 4. An elliptical spot: `demo_knife_edge(sigma_um=(30, 40, 0))` scans a vertical edge, `demo_knife_edge(sigma_um=(30, 40, 0), angle_deg=90)` a horizontal one. Which $\sigma$ does each measure? What would a single knife edge at 45° give, and what would the paper's isotropic assumption do to the restoration?
