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
# # 08 · Your own map: a beamline file from open to export
#
# *Course notebook for Yang, Zhang & Cheng (2022), J. Anal. At. Spectrom. 37, 750 — applied to real data.*
#
# The other notebooks restore simulated scans. This one does what a user does with a file from a microprobe beamline: **open it, pick a channel, normalise it, estimate a PSF, restore it with several methods, decide when to stop iterating, and save the result with a record of how it was made.** The data are two real scans from the 2-ID-E microprobe of the Advanced Photon Source (the test files of the XRF-Maps project; `data/xrf-maps-2ide/` in the repository, with their README (source) and LICENSE):
#
# * `2xfm_0010.mda` — a step scan, 11 × 11 pixels of 50 µm, with 69 detectors per pixel (scalers, region-of-interest sums per element line, count rates, the ring current) and the 2000-channel spectra;
# * `2xfm_0011.mda` — a fly scan of the same area.
#
# These maps are tiny and mostly counting noise — they are here to show the **workflow and the file handling** on files as beamlines write them, not to judge resolution (notebooks 03 and 04 do that with known truths). Every number printed below is also asserted, so the notebook fails if a reader or a method changes behaviour.

# %%
from pathlib import Path
import tempfile

import numpy as np

import superres_widgets
from superres_widgets.io import load_map, save_map
from superres_widgets.xrf import (ConvergenceHistory, blind_l0, gaussian_psf, get_method, kernel_to_sigma,
                                  poisson_discrepancy)


def find_data():
    """The 2-ID-E folder: $SUPERRES_DATA, or the repository's data/ folder (beside notebooks/)."""
    import os

    here = Path.cwd()
    candidates = [Path(os.environ["SUPERRES_DATA"])] if "SUPERRES_DATA" in os.environ else []
    candidates += [here.parent / "data" / "xrf-maps-2ide", here / "data" / "xrf-maps-2ide"]
    root = Path(superres_widgets.__file__).resolve().parents[1]  # an editable install: the repository
    candidates += [root / "data" / "xrf-maps-2ide"]
    for c in candidates:
        if (c / "2xfm_0010.mda").is_file():
            return c.resolve()
    raise FileNotFoundError(f"the 2-ID-E files are not in {[str(c) for c in candidates]}; set SUPERRES_DATA")


DATA = find_data()
print(DATA)

# %% [markdown]
# ## 1. Open the file
#
# `load_map` picks the reader from the extension (and, for shared extensions such as `.h5`, from what is inside: XRF-Maps/MAPS, NeXus or plain HDF5). The APS MDA reader turns every per-pixel detector into a named channel and reads the **pixel size from the positioners** (Sample X and Sample Y, in mm). Region-of-interest sums are named by the element line the beamline configured for them (saved with the scan as "extra PVs").

# %%
scan = load_map(DATA / "2xfm_0010.mda")
md = scan.metadata
print(f"{scan.source.name}: MDA {md['mda_version']}, scan {md['scan_number']}, dimensions {md['dimensions']}")
print(f"stack {scan.shape} (channels, rows, cols), pixel {scan.pixel_size_um:g} µm from {md['pixel_size_source']}")
print("positioners:", md["positioners"], md["positioner_units"])
elements = [c for c in scan.channels if c.endswith(("Ka", "La1", "Ma1"))]
totals = {c: float(np.nansum(scan.channel(c).data)) for c in elements}
for c in sorted(totals, key=totals.get, reverse=True)[:6]:
    print(f"  {c:7s} {totals[c]:8.0f} counts in the map")
best = max(totals, key=totals.get)
assert scan.shape == (69, 11, 11) and scan.pixel_size_um == 50.0
assert best == "Cl Ka" and totals["Cl Ka"] == 71707 and totals["Fe Ka"] == 244

# %% [markdown]
# ## 2. Pick a channel and normalise it
#
# Cl-Kα has the most counts (this is a test sample). Fluorescence is proportional to the incident flux, which drifts with the storage-ring current; dividing by a monitor (the ring current here, an upstream ion chamber in general) removes that drift. `normalize=` names the detector (or, in XRF-Maps files, the scaler such as `US_IC`); a name the file does not have is an error that lists the ones it has.

# %%
ca = load_map(DATA / "2xfm_0010.mda", channel=best)
ring = scan.channel("S:SRcurrentAI").data
print(f"ring current {ring.min():.2f}-{ring.max():.2f} mA over the scan")
ca_norm = load_map(DATA / "2xfm_0010.mda", channel=best, normalize="S:SRcurrentAI")
print(f"{best}: {ca.data.sum():.0f} counts; normalised: {ca_norm.data.sum():.2f} counts/mA "
      f"(by {ca_norm.metadata['normalized_by']})")
try:
    load_map(DATA / "2xfm_0010.mda", channel=best, normalize="US_IC")
except ValueError as exc:
    print("→", str(exc)[:160], "…")
assert abs(ca_norm.data.sum() * ring.mean() - ca.data.sum()) < 0.01 * ca.data.sum()

# %% [markdown]
# The fly scan of the same area reads the same way. Its fast positioner states no unit; because it steps by the same number as the slow one (in mm), the reader assumes the same unit and says so:

# %%
fly = load_map(DATA / "2xfm_0011.mda")
print(fly.shape, fly.pixel_size_um, "µm —", fly.metadata["x_unit_assumed"])
assert fly.shape == (52, 11, 11) and fly.pixel_size_um == 50.0

# %% [markdown]
# ## 3. A PSF for these maps
#
# Without a dot scan or a knife edge, the blind method can estimate one. Here the answer is instructive: 2-ID-E focuses its beam to well under a micrometre, while this map steps by **50 µm** — the PSF is far smaller than a pixel, so there is almost nothing to deconvolve. The blind kernel says the same: its sigma comes out below one pixel.

# %%
y = ca.data.astype(float)
blind = blind_l0(y, 5)
sigma_um = float(np.mean(kernel_to_sigma(blind.kernel, pixel_size_um=ca.pixel_size_um)))
print(f"blind kernel {blind.kernel.shape}: σ ≈ {sigma_um:.1f} µm (one pixel is {ca.pixel_size_um:g} µm)")
assert sigma_um < ca.pixel_size_um

# %% [markdown]
# ## 4. Compare methods — and know when to stop
#
# Every iterative method reports, per iteration, the data residual and the **Poisson discrepancy** $D = \frac{2}{N}\sum_i [y_i \ln(y_i/(Hx)_i) + (Hx)_i - y_i]$ (Bertero et al. 2010). For counts that follow the model, $D \approx 1$; iterating past $D \le 1$ fits the noise. `stop="discrepancy"` ends there; `num_iter` is then only a cap.
#
# First the honest answer for this map: restored with a 40 µm Gaussian (a benchtop polycapillary's spot, notebook 04), every method meets $D \le 1$ **after one iteration** — at 50 µm steps the map carries no blur above its counting noise, as the blind kernel said. The rule stops before the methods start fitting noise.

# %%
y = ca.data.astype(float)
psf = gaussian_psf(40.0, pixel_size_um=ca.pixel_size_um)
METHODS = ("richardson_lucy", "sgp", "richardson_lucy_tv", "landweber", "tikhonov_miller")
for name in METHODS:
    h = ConvergenceHistory()
    get_method(name).run(y, psf, {"num_iter": 500, "stop": "discrepancy"}, history=h, dtype=np.float64)
    print(f"{get_method(name).label:24s} stopped at iteration {h.stopped_at}: D = {h.records[-1].discrepancy:.3f}")
    assert h.stopped_at == 1

# %% [markdown]
# To watch the rules at work we need a map that *is* blurred: the Cl-Kα map (upsampled 3×, so 16.7 µm pixels, and 50× the counts — a longer dwell) as the "truth", blurred by a 40 µm Gaussian and drawn again as Poisson counts — a scan of this sample by a benchtop instrument. Now the methods iterate, stop at different places, and we can score them against the truth (MSE per pixel, in counts²). RL-TV's prior keeps it from fitting down to the noise level: it runs to the cap (its `tv_weight` is the regulariser there).

# %%
from superres_widgets.xrf import convolve, mse

truth = 50 * np.kron(ca.data.astype(float), np.ones((3, 3)))  # 33 x 33 pixels of 16.7 µm
pixel = ca.pixel_size_um / 3
psf = gaussian_psf(40.0, pixel_size_um=pixel)
rng = np.random.default_rng(0)
y = rng.poisson(convolve(truth, psf)).astype(float)
print(f"blurred map {y.shape}, {y.sum():.0f} counts; MSE of the blurred map itself: {mse(y, truth):.1f}")
rows = []
for name in METHODS:
    m = get_method(name)
    h = ConvergenceHistory(reference=truth)
    out = m.run(y, psf, {"num_iter": 500, "stop": "discrepancy"}, history=h, dtype=np.float64)
    rows.append((m.label, h.stopped_at, h.records[-1].residual, h.records[-1].discrepancy, mse(out, truth), out))
    print(f"{m.label:24s} stopped at {h.stopped_at!s:>4}: residual {h.records[-1].residual:.4f}, "
          f"D = {h.records[-1].discrepancy:.3f}, MSE {mse(out, truth):7.1f}")
    if name != "richardson_lucy_tv":
        assert h.stopped_at is not None and h.records[-1].discrepancy <= 1
        assert poisson_discrepancy(y, convolve(out, psf)) <= 1.0 + 1e-6
iters = {label: k for label, k, *_ in rows}
assert iters["SGP (fast Poisson)"] < iters["Richardson–Lucy"] / 2
assert all(r[4] < mse(y, truth) for r in rows)  # every stopped restoration is closer to the truth

# %% [markdown]
# SGP (scaled gradient projection, Bonettini et al. 2009) maximises the same Poisson likelihood as Richardson–Lucy, with the same cost per iteration, and gets to the discrepancy level in fewer iterations.
#
# **A better start.** Every iterative method starts somewhere: Richardson–Lucy from a flat map, SGP from the map itself. `x0="wiener"` (the "start" menu in the explorer, `--x0 wiener` on the command line) starts from a Wiener–Hunt estimate whose balance minimises Mallows' unbiased predictive risk, with the noise level read from the frequencies the PSF removes — one forward and one inverse transform. On this map that start is already at the discrepancy level, so SGP stops after its first iteration, closer to the truth than from the map. `benchmarks/bench_time_to_quality.py` measures, on larger maps, how much sooner each start reaches scikit-image's 30-iteration data fit.

# %%
starts = {}
for x0 in ("image", "wiener"):
    h = ConvergenceHistory(reference=truth)
    out = get_method("sgp").run(y, psf, {"num_iter": 500, "stop": "discrepancy", "x0": x0}, history=h,
                                dtype=np.float64)
    starts[x0] = (h.stopped_at, mse(out, truth))
    print(f"SGP from {x0!r:9s} stopped at iteration {h.stopped_at}: D = {h.records[-1].discrepancy:.3f}, "
          f"MSE {mse(out, truth):7.1f}")
assert starts["wiener"][0] == 1 < starts["image"][0] and starts["wiener"][1] < starts["image"][1]

# %% [markdown]
# The same in the explorer: choose a method and a stopping rule; the Bokeh plot below the widget draws the residual and $D$ live and marks the iteration where the rule stopped. Hover the map for the value under the mouse (raw and restored) and its position in µm.

# %%
from superres_widgets.widgets import DeconvolutionExplorer

explorer = DeconvolutionExplorer(image=y, pixel_size_um=pixel, method="sgp", psf_sigma_um=40.0, num_iter=300,
                                 stop="discrepancy", reference=truth)
explorer.wait()
print(explorer.stopped)
assert explorer.history.stopped_at is not None
explorer

# %% [markdown]
# ## 5. Export with provenance
#
# `save_map` writes the result with a record of everything that made it: the method and its parameters, the PSF, the input file and its SHA-256, the channel and the normalisation. The input file is never overwritten.

# %%
out_dir = Path(tempfile.mkdtemp())
# the real map, restored with the rule (one iteration, as found above), saved with its record
real = ca.data.astype(float)
h = ConvergenceHistory()
restored = get_method("sgp").run(real, gaussian_psf(40.0, pixel_size_um=ca.pixel_size_um),
                                 {"num_iter": 500, "stop": "discrepancy"}, history=h)
path = save_map(out_dir / "cl_sgp.h5", restored, pixel_size_um=ca.pixel_size_um, method="sgp",
                parameters={"psf_sigma_um": 40.0, "num_iter": 500, "stop": "discrepancy", "channel": best,
                            "stopped_at": h.stopped_at},
                source=ca, provenance={"history": h.as_dict()})
back = load_map(path)
print(path.name, back.shape, back.pixel_size_um, "µm;", back.metadata["method"], back.metadata["parameters"])
print("source:", Path(back.metadata["source_file"]).name, back.metadata["source_sha256"][:16], "…")
assert back.metadata["method"] == "sgp" and back.pixel_size_um == 50.0
assert Path(back.metadata["source_file"]).name == "2xfm_0010.mda"
np.testing.assert_allclose(back.data, restored, rtol=1e-6, atol=1e-6)

# %% [markdown]
# The same from a terminal, with the scaler normalisation and the stopping rule:
#
# ```
# superres-widgets deconvolve 2xfm_0010.mda --channel "Cl Ka" --normalize S:SRcurrentAI \
#     --method sgp --stop discrepancy --iterations 500 --psf-sigma-um 40 --out cl_sgp.h5
# ```
#
# It prints how long the restoration itself took (not counting reading and writing). Other formats open the same way: XRF-Maps / MAPS HDF5 (`load_map(f, channel="Fe", normalize="US_IC")`), NeXus `NXdata`, TIFF, CSV matrices and x/y point tables; NaN pixels are masked, negative (background-subtracted) pixels follow `negative=`.
