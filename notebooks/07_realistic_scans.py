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
# # 07 · Realistic scans: missed peaks, noise, spurious peaks — and ImageD11 beside us
#
# *Course notebook for Kim, Hayashi & Yabashi (2023), Sections 3–5, taken to data a beamline really records.*
#
# Notebook 05 reproduced the paper on **ideal** simulated data: every diffraction peak recorded, at its exact angle, and nothing else. A real detector misses weak peaks, measures angles with noise and records peaks that belong to no grain (a neighbour's tail, a powder ring, a hot pixel). Here we ask what survives of the five-fold resolution gain, and build a scorer that keeps it.
#
# You will:
# 1. simulate a **realistic scan** (80 % of the peaks detected, 0.05° noise in η and ω, 2 spurious peaks per frame) and see why the paper's rule $N' = N/M$ loses most of its gain;
# 2. meet the **model-based (likelihood) scorer**: it estimates the detection probability and the spurious rate from the data and asks *where the grain is* rather than *which grain is most complete*;
# 3. draw the **robustness curves** of four maps — conventional, the paper's $N'$, our tie-break, the likelihood scorer — against detection, noise and spurious peaks;
# 4. put **ImageD11's own point-by-point map** of the very same scan beside ours;
# 5. map peaks *as a user would* — from an ImageD11 columnfile — and **export** the map to HDF5 and to the `.ctf` text that EBSD tools read; and try a **hexagonal** phase (α-Ti).
#
# The setup is the small one of notebook 05 (80 µm specimen, 12 grains, 4 µm beam and step, 1° steps) so that every cell runs in seconds; `benchmarks/bench_realistic_scans.py` prints the same tables at the paper's scale (160 µm, 40 grains, 0.5°).

# %%
import os
import tempfile
import time

import numpy as np
from bokeh.io import output_notebook, show
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, Legend
from bokeh.plotting import figure
from bokeh.resources import INLINE

from superres_widgets.s3dxrd import (
    evaluate_map, map_boundary_segments, map_rgba, orientation_map, phantom_boundary_segments, phantom_rgba,
    reconstruct_phantom,
)

output_notebook(INLINE, hide_banner=True)

SETUP = dict(diameter_um=80.0, n_grains=12, beam_um=4.0, step_um=4.0, omega_step_deg=1.0, subdivision=4)
REALISTIC = dict(detection_probability=0.8, noise_eta_deg=0.05, noise_omega_deg=0.05, spurious_per_frame=2.0)
METHODS = ["conventional", "paper N'", "tie-break", "likelihood"]
COLOURS = {"conventional": "#969696", "paper N'": "#e6550d", "tie-break": "#3182bd", "likelihood": "#31a354"}


def four_maps(seed=2, **imperfections):
    # one scan, one indexing, one observation table: the four maps differ only in how a target chooses
    r = reconstruct_phantom(**SETUP, seed=seed, **imperfections, scorer="likelihood")
    R, s = r.phantom.radius_um, SETUP["subdivision"]
    maps = {
        "conventional": orientation_map(r.data, r.table, 1, R, tie_break="next"),
        "paper N'": orientation_map(r.data, r.table, s, R, tie_break="first"),
        "tie-break": orientation_map(r.data, r.table, s, R, tie_break="next"),
    }
    maps = {k: evaluate_map(m, r.phantom, interior_margin_um=SETUP["beam_um"]) for k, m in maps.items()}
    maps["likelihood"] = r.subpixel
    return r, maps


def show_map(rgba, extent, segments=(), title="", size=250):
    x0, x1, y0, y1 = extent
    p = figure(width=size, height=size, title=title, x_range=(x0, x1), y_range=(y0, y1), match_aspect=True,
               tools="pan,wheel_zoom,reset,save", x_axis_label="xs (µm)", y_axis_label="ys (µm)")
    p.title.text_font_size = "11px"
    img = np.ascontiguousarray(rgba).view(np.uint32)[..., 0]
    p.image_rgba(image=[img], x=x0, y=y0, dw=x1 - x0, dh=y1 - y0)
    for segs, colour, width in segments:
        p.segment(segs[:, 0], segs[:, 1], segs[:, 2], segs[:, 3], line_color=colour, line_width=width)
    return p


# %% [markdown]
# ## 1 · A realistic scan, and what it does to $N'$
#
# The forward model (notebook 05, Section 2) now drops each recorded peak with probability 0.2, adds Gaussian noise of 0.05° to its η and ω, and scatters on average two spurious peaks into every frame — on a ring of the phase, at a random η and ω, so they look like real peaks. Peaks are matched to a candidate's predicted reflections within 0.5° in η and ω, so the noise alone barely matters; the **missed peaks** do.

# %%
t0 = time.perf_counter()
real, maps = four_maps(**REALISTIC)
ideal, maps_ideal = four_maps()
print(f"two scans, indexing and 2 x 4 maps in {time.perf_counter() - t0:.0f} s")
print(f"realistic scan: {real.data.n_peaks} peaks ({ideal.data.n_peaks} in the ideal one); "
      f"{real.grains_found} of {real.phantom.n_grains} grains found by indexing")
print(f"\n{'map':<14s}{'ideal: displacement':>22s}{'right':>8s}{'realistic: displacement':>27s}{'right':>8s}")
for k in METHODS:
    ei, er = maps_ideal[k].evaluation, maps[k].evaluation
    print(f"{k:<14s}{ei.mean_displacement_um:17.2f} µm{100 * ei.fraction_correct:7.1f}%"
          f"{er.mean_displacement_um:22.2f} µm{100 * er.fraction_correct:7.1f}%")

# %% [markdown]
# On ideal data the tie-break halves the paper's displacement. On the realistic scan both $N'$ rules lose it: a grain at the target should have $N' = 1$, but with 80 % detection it has $N' \approx 0.8 \pm 0.04$ — and so has every neighbour whose strips cover the target at every angle. Near a boundary the choice becomes a coin toss between two noisy numbers, which is why about 14 % of the sub-pixels end up wrong.
#
# Look at one sub-pixel near a boundary: the $N'$ of the two grains in the ideal and in the realistic scan.

# %%
from superres_widgets.s3dxrd import completeness_at  # noqa: E402

sub_i = maps_ideal["tie-break"]
ev_i = sub_i.evaluation
near = np.flatnonzero(ev_i.correct & ~ev_i.interior & (np.hypot(sub_i.xs, sub_i.ys) < 30))
k = int(near[len(near) // 2])
x, y = sub_i.xs[k], sub_i.ys[k]
for name, r in (("ideal", ideal), ("realistic", real)):
    pc = completeness_at(r, x, y)
    top = np.argsort(-pc.n_prime, kind="stable")[:2]
    print(f"{name:>9s} scan at ({x:g}, {y:g}) µm (phantom grain {r.phantom.label_at(x, y)}): "
          + ", ".join(f"candidate {c} (grain {r.candidate_grain[c]}) N' = {pc.n_prime[c]:.3f}" for c in top))

# %% [markdown]
# ## 2 · The likelihood scorer: where is the grain?
#
# Every predicted reflection $e$ of a candidate is looked up at *every* scan position. The positions where it is recorded form a run $lo..hi$: the grain's extent across the beam at the reflection's angle $\omega_e$. The scorer (module `superres_widgets.s3dxrd.scoring`) models that run as a lit interval (each frame inside recorded with the **detection probability** $p_1$, outside with the **spurious probability** $p_0$), puts a prior on it from the grain's fitted centre and from the candidate's reflections at neighbouring angles (a grain's extent changes smoothly with the angle, so a peak missed at the grain's edge is filled in by its neighbours), and turns its posterior into the probability $P_e(u)$ that a point at position $u$ across the beam lies inside the grain. A target's score is $S(p, c) = \sum_e \log(\epsilon + P_e(u_p(\omega_e)))$; a Potts prior (1 nat per unlike neighbour pair, iterated conditional modes) removes isolated sub-pixels.
#
# $p_1$ and $p_0$ are **estimated from the peaks** by expectation–maximisation; nothing of the simulation is read (a test poisons the phantom and the truth objects and gets the same map).

# %%
m = maps["likelihood"].model
print(f"estimated detection probability p1 = {m.detection_probability:.3f} (simulated: 0.8); "
      f"spurious probability p0 = {m.spurious_probability:.4f} per expected reflection and frame")
print(f"ideal scan: p1 = {maps_ideal['likelihood'].model.detection_probability:.3f}")
assert abs(m.detection_probability - 0.8) < 0.05

lik, tb = maps["likelihood"].evaluation, maps["tie-break"].evaluation
print(f"\nrealistic scan, sub-pixel map: likelihood {lik.mean_displacement_um:.2f} µm, {lik.fraction_correct:.1%} right; "
      f"N' with the tie-break {tb.mean_displacement_um:.2f} µm, {tb.fraction_correct:.1%}")
assert lik.mean_displacement_um <= 0.45 and lik.fraction_correct >= 0.97  # issue 12's goal, met on this scan
assert tb.mean_displacement_um > 0.7 and tb.fraction_correct < 0.9
assert maps_ideal["likelihood"].evaluation.mean_displacement_um <= maps_ideal["tie-break"].evaluation.mean_displacement_um

# %% [markdown]
# The four maps of the realistic scan, inverse-pole-figure colours, their own boundaries in black and the phantom's in white:

# %%
ph = real.phantom
ph_img, ph_ext = phantom_rgba(ph)
ph_seg = phantom_boundary_segments(ph)
figs = [show_map(ph_img, ph_ext, [(ph_seg, "black", 1)], "phantom", size=280)]
for k in METHODS:
    mk = maps[k]
    e = mk.evaluation
    figs.append(show_map(map_rgba(mk), mk.extent, [(ph_seg, "white", 2), (map_boundary_segments(mk), "black", 1)],
                         f"{k}: {e.mean_displacement_um:.2f} µm, {e.fraction_correct:.0%}", size=280))
show(column(row(figs[:3]), row(figs[3:])))

# %% [markdown]
# ## 3 · Robustness curves
#
# One imperfection at a time, the others ideal, the same phantom (seed 2): detection probability 1 → 0.6, angular noise 0 → 0.1°, spurious peaks 0 → 5 per frame.

# %%
sweeps = {
    "detection probability": ("detection_probability", [1.0, 0.9, 0.8, 0.7, 0.6]),
    "angular noise (deg)": ("noise", [0.0, 0.05, 0.1]),
    "spurious peaks per frame": ("spurious_per_frame", [0.0, 2.0, 5.0]),
}
curves = {}
t0 = time.perf_counter()
for title, (key, values) in sweeps.items():
    rows = []
    for v in values:
        imp = dict(noise_eta_deg=v, noise_omega_deg=v) if key == "noise" else {key: v}
        _, mm = four_maps(**imp)
        rows.append({k: (mm[k].evaluation.mean_displacement_um, mm[k].evaluation.fraction_correct) for k in METHODS})
    curves[title] = (values, rows)
print(f"{sum(len(v) for v, _ in curves.values())} scans in {time.perf_counter() - t0:.0f} s")
plots = []
for i, (title, (values, rows)) in enumerate(curves.items()):
    last = i == len(curves) - 1
    p = figure(width=400 if last else 290, height=280, title=title, x_axis_label=title,
               y_axis_label="mean boundary displacement (µm)", y_range=(0, 1.45), tools="pan,wheel_zoom,reset,save")
    items = []
    for k in METHODS:
        src = ColumnDataSource(dict(x=values, y=[r[k][0] for r in rows]))
        line = p.line("x", "y", source=src, color=COLOURS[k], line_width=2)
        dots = p.scatter("x", "y", source=src, color=COLOURS[k], size=6)
        items.append((k, [line, dots]))
    if last:  # one legend for the three panels
        p.add_layout(Legend(items=items, label_text_font_size="10px"), "right")
    plots.append(p)
show(row(plots))
for title, (values, rows) in curves.items():
    print(title)
    for v, r in zip(values, rows):
        print(f"  {v:<6g}" + "".join(f"{k:>14s} {r[k][0]:4.2f} µm {100 * r[k][1]:5.1f}%" for k in METHODS))
det = curves["detection probability"][1]
assert det[-1]["likelihood"][0] < 0.5 and det[-1]["likelihood"][1] > 0.95  # at 60 % detection
assert all(r["likelihood"][0] < r["tie-break"][0] for r in det[1:])
assert max(r[k][0] for r in curves["spurious peaks per frame"][1] for k in ("likelihood",)) < 0.4

# %% [markdown]
# Missed peaks are what hurts $N'$; noise within the matching tolerance and spurious peaks (which rarely fall within 0.5° of a predicted reflection) hardly do. The likelihood scorer keeps the sub-pixel map's accuracy from 100 % down to 60 % detection. At the paper's scale (`benchmarks/bench_realistic_scans.py`, seeds 0–3) the realistic scan gives the likelihood map 0.27–0.31 µm and 97.5–98.1 % right, against 0.84–0.92 µm and 85–86 % for $N'$.
#
# ## 4 · ImageD11's own point-by-point map of the same scan
#
# Beamlines map s3DXRD slices with ImageD11's point-by-point code: at each point of a grid (one point per scan step) it keeps the peaks whose `dty` puts the point in the beam, indexes them locally and keeps the orientation with the most unique peaks. We write our realistic scan as an ImageD11 columnfile with its `.par` (far-field detector), let ImageD11 read it with its own reader, and run its per-point indexing on it.

# %%
from superres_widgets.s3dxrd import imaged11_point_by_point, write_columnfile  # noqa: E402

try:  # in the lab and test extras; without it this section only says so
    import ImageD11.columnfile
except ImportError:
    ImageD11 = None
    print("ImageD11 is not installed (pip install ImageD11): the peer comparison below is skipped")

work = tempfile.mkdtemp()
out = write_columnfile(real.data, os.path.join(work, "realistic.flt"))
if ImageD11 is not None:
    colf = ImageD11.columnfile.columnfile(out["columnfile"])
    colf.parameters.loadparameters(out["par"])
    colf.updateGeometry()
    print(f"ImageD11 read {colf.nrows} peaks; its 2θ and η from our detector pixels differ from ours by at most "
          f"{np.abs(colf.tth - real.data.tth_deg).max():.1e}° and {np.abs(colf.eta - real.data.eta_deg).max():.1e}°")
    assert np.abs(colf.tth - real.data.tth_deg).max() < 1e-6

    pbp = imaged11_point_by_point(real.data, radius_um=real.phantom.radius_um)
    print(f"ImageD11 point-by-point: {pbp.map.n_targets} points in {pbp.seconds:.0f} s")
    pbp_map = evaluate_map(pbp.map, real.phantom, interior_margin_um=SETUP["beam_um"])
    rows = [("ImageD11 pbp (4 µm grid)", pbp_map, np.nanmedian(pbp.misorientation_deg(real.phantom)))]
    rows += [(f"ours: {k}", maps[k], np.nanmedian(maps[k].evaluation.misorientation_deg)) for k in METHODS]
    print(f"\n{'map':<28s}{'displacement':>14s}{'right':>8s}{'median misorientation':>24s}")
    for name, mk, mis in rows:
        e = mk.evaluation
        print(f"{name:<28s}{e.mean_displacement_um:11.2f} µm{100 * e.fraction_correct:7.1f}%{mis:20.4f}°")
    ratio = pbp_map.evaluation.mean_displacement_um / maps["likelihood"].evaluation.mean_displacement_um
    print(f"\nImageD11's displacement / ours (likelihood sub-pixel): {ratio:.1f} x")
    assert ratio > 2.5

# %%
if ImageD11 is not None:
    show(row([show_map(map_rgba(pbp_map), pbp_map.extent,
                       [(ph_seg, "white", 2), (map_boundary_segments(pbp_map), "black", 1)],
                       f"ImageD11 pbp: {pbp_map.evaluation.mean_displacement_um:.2f} µm", size=260),
              show_map(map_rgba(maps["likelihood"]), maps["likelihood"].extent,
                       [(ph_seg, "white", 2), (map_boundary_segments(maps["likelihood"]), "black", 1)],
                       f"ours, likelihood: {maps['likelihood'].evaluation.mean_displacement_um:.2f} µm", size=260)]))

# %% [markdown]
# ImageD11's per-point indexing finds the right orientations where a point is well inside a grain (its misorientations are tiny), but on its one-point-per-step grid it cannot place a boundary better than the step; the paper's conventional map is in the same class. The sub-pixel likelihood map is several times closer to the true boundaries. (`benchmarks/bench_realistic_scans.py --pbp-subpixel` also runs ImageD11's per-point code on the 1-µm grid, about 0.1 s per point.)
#
# ## 5 · Your own peaks, and the map out
#
# A beamline user has a columnfile and a `.par` (and often a grain file), not our simulation. `reconstruct_from_peaks` reads them, indexes the peaks (or takes the grain file's orientations and translations) and makes both maps with the likelihood scorer; peaks it cannot use (NaN rows, peaks on no ring, peaks outside the scan) are dropped **and counted**. The result exports to HDF5 (quaternion and UBI per pixel, phase, confidence, IPF colours, boundaries, provenance) and to the `.ctf` text that MTEX, orix and AZtec read.

# %%
from superres_widgets.s3dxrd import (  # noqa: E402
    load_map_ctf, load_map_hdf5, reconstruct_from_peaks, save_map_ctf, save_map_hdf5,
)

yours = reconstruct_from_peaks(out["columnfile"], parameters=out["par"], radius_um=real.phantom.radius_um)
print(f"from the columnfile: {yours.data.n_peaks} peaks (dropped: {yours.dropped or 'none'}), "
      f"{yours.candidates.shape[0]} candidates by {yours.candidate_source}, scorer {yours.subpixel.scorer}")
same = np.mean(yours.subpixel.candidate == real.subpixel.candidate)
print(f"the same map as from the simulation: {same:.1%} of the sub-pixels")
assert same == 1.0
phase = yours.data.reflections.phase
save_map_hdf5(os.path.join(work, "map.h5"), yours.subpixel, phase, parameters=yours.parameters)
save_map_ctf(os.path.join(work, "map.ctf"), yours.subpixel, phase)
back = load_map_hdf5(os.path.join(work, "map.h5"))
ctf = load_map_ctf(os.path.join(work, "map.ctf"))
print(f"HDF5 round trip identical: {np.array_equal(back.candidate, yours.subpixel.candidate)}; "
      f".ctf: {ctf.header['XCells']} x {ctf.header['YCells']} cells of {ctf.header['XStep']:g} µm, "
      f"{int((ctf.phase > 0).sum())} indexed, Laue group {ctf.header['laue_group']} (m-3m)")
print(open(os.path.join(work, "map.ctf")).read().splitlines()[13])

# %% [markdown]
# ## 6 · A hexagonal phase: α-titanium
#
# The phases module adds hexagonal (α-Ti, Mg; space group $P6_3/mmc$ with the hcp structure-factor zeros) and tetragonal phases, with their Laue-group symmetry in the indexing, the boundaries and the misorientations. The same pipeline on a small α-Ti specimen:

# %%
from superres_widgets.s3dxrd import HexagonalPhase  # noqa: E402

ti = HexagonalPhase.titanium()
rti = reconstruct_phantom(diameter_um=40, n_grains=4, seed=3, omega_step_deg=2.0, phase=ti, tth_max_deg=14,
                          scorer="likelihood", **REALISTIC)
refl = rti.data.reflections
print(f"α-Ti: {refl.n_rings} rings below 2θ = 14° at 50 keV: " + ", ".join(refl.ring_label(i) for i in range(6)) + ", ...")
print(f"{rti.grains_found} of 4 grains found; sub-pixel map {rti.subpixel.evaluation.mean_displacement_um:.2f} µm, "
      f"{rti.subpixel.evaluation.fraction_correct:.1%} right")
assert rti.grains_found == 4 and rti.subpixel.evaluation.fraction_correct > 0.93

# %% [markdown]
# ## 7 · The explorer
#
# `ReconstructionExplorer` has the data-quality knobs (detection probability, angular noise, spurious peaks per frame) and the scorer menu; its *Your peaks* fields take a columnfile, its `.par` and a grain file (or call `w.load_peaks("scan.flt", parameters="scan.par")`). With the likelihood scorer the readouts show the estimated detection probability and spurious rate.

# %%
from superres_widgets.widgets import ReconstructionExplorer  # noqa: E402

w = ReconstructionExplorer(**{k: v for k, v in SETUP.items()}, seed=2, scorer="likelihood",
                           detection_probability=0.8, angular_noise_deg=0.05, spurious_per_frame=2.0)
w.wait()
w

# %% [markdown]
# ## What to take away
#
# * With 80 % detection the paper's $N'$ rule loses most of the sub-pixel gain: near a boundary it compares two noisy completenesses.
# * Asking *where* each grain extends, reflection by reflection, with the detection and spurious rates estimated from the peaks and the grain's extent smooth in angle, recovers it: sub-pixel boundaries within about 0.3 µm for a 4 µm beam on the realistic scan, as on ideal data.
# * ImageD11's point-by-point map, on its one-point-per-step grid, places boundaries no better than the conventional map.
# * Your own peaks go in as an ImageD11 columnfile; maps come out as HDF5 or `.ctf`.
