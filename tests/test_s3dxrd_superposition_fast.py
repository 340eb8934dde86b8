"""The fast exact superposition map (issue 14) against a slow, independent reference.

``superres_widgets.s3dxrd._superposition_batch._batch_regions`` (behind ``superposition_map``) selects the
tightest half-planes by a threshold, clips all polygons at once and finishes the few polygons with
many sides (e.g. the 720-gon at the rotation axis for 0.5 deg steps) as a dual convex hull.  The
reference here is the plain algorithm, target by target: the measurement list by brute-force
nearest-position search (geometry rule 4) and Sutherland-Hodgman clipping of the field square by
every strip, in list order, with no sorting, selection or shortcut.  Areas must agree to 1e-9
relative, centroids and bounding boxes to 1e-9 beam widths, emptiness and list lengths exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

from superres_widgets.s3dxrd import ScanGeometry, cos_sin_deg, superposed_region, superposition_map
from superres_widgets.s3dxrd import _superposition_batch as sup

TOL = 1e-9


# ---------------------------------------------------------------------------
# slow reference (independent of the package's batch code)
# ---------------------------------------------------------------------------
def reference_list(g: ScanGeometry, x: float, y: float) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force rule 4: the nearest scan position at every angle, ties to the one farther from
    the axis, dropped beyond an end position by half the end gap (ties as in the module text)."""
    P = g.x_positions
    c, s = cos_sin_deg(g.omega_deg)
    tol = 1e-9 * g.step
    Xs, keep = [], []
    for k, (ck, sk) in enumerate(zip(c, s)):
        u = x * ck - y * sk
        dist = np.abs(u - P)
        near = np.nonzero(dist <= dist.min() + 2 * tol)[0]
        X = P[near[np.argmax(np.abs(P[near]))]]
        g0 = P[1] - P[0] if P.size > 1 else g.step
        g1 = P[-1] - P[-2] if P.size > 1 else g.step
        below, above = P[0] - u, u - P[-1]
        out_lo = below >= 0.5 * g0 - tol if P[0] < 0 else below > 0.5 * g0 + tol
        out_hi = above >= 0.5 * g1 - tol if P[-1] > 0 else above > 0.5 * g1 + tol
        if not (out_lo or out_hi):
            Xs.append(X)
            keep.append(k)
    return np.array(Xs), np.array(keep, dtype=int)


def clip(poly: list, a: tuple, cval: float) -> list:
    """Keep ``a . p <= cval`` of a convex polygon (list of (x, y)); on-line vertices are inside."""
    out = []
    m = len(poly)
    for i in range(m):
        p, q = poly[i], poly[(i + 1) % m]
        dp = p[0] * a[0] + p[1] * a[1] - cval
        dq = q[0] * a[0] + q[1] * a[1] - cval
        if dp <= 0:
            out.append(p)
        if (dp < 0 < dq) or (dq < 0 < dp):
            t = dp / (dp - dq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


def reference_region(g: ScanGeometry, x: float, y: float, half_width: float | None = None) -> dict:
    """Area, centroid, bounding box and list length of one target, the slow way."""
    b = g.beam_width
    h = g.profile.clip_half_width(b) if half_width is None else half_width
    X, keep = reference_list(g, x, y)
    c, s = cos_sin_deg(g.omega_deg)
    F = g.field_half_width
    poly = [(-F - x, -F - y), (F - x, -F - y), (F - x, F - y), (-F - x, F - y)] if X.size else []
    for Xk, k in zip(X, keep):
        u = x * c[k] - y * s[k]
        poly = clip(poly, (c[k], -s[k]), Xk + h - u)
        poly = clip(poly, (-c[k], s[k]), h - Xk + u)
        if not poly:
            break
    V = np.array(poly, dtype=float).reshape(-1, 2)
    area = 0.0
    if len(V) >= 3:
        x0, y0 = V[:, 0], V[:, 1]
        x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
        cr = x0 * y1 - x1 * y0
        area = 0.5 * cr.sum()
    if area <= 1e-12 * b * b:
        return dict(area=0.0, centroid=None, bbox=None, n=X.size)
    cen = np.array([((x0 + x1) * cr).sum(), ((y0 + y1) * cr).sum()]) / (6 * area) + (x, y)
    bbox = np.array([V[:, 0].min() + x, V[:, 0].max() + x, V[:, 1].min() + y, V[:, 1].max() + y])
    return dict(area=area, centroid=cen, bbox=bbox, n=X.size)


def compare(g: ScanGeometry, xs: np.ndarray, ys: np.ndarray, fast: dict, half_width: float | None = None) -> int:
    """Assert the fast results for targets ``xs, ys`` equal the reference; returns the empty count."""
    b = g.beam_width
    empties = 0
    for i, (x, y) in enumerate(zip(xs, ys)):
        ref = reference_region(g, float(x), float(y), half_width)
        assert fast["n_measurements"][i] == ref["n"], (x, y)
        if ref["centroid"] is None:
            empties += 1
            assert fast["area"][i] == 0.0, (x, y, fast["area"][i])
            assert np.all(np.isnan(fast["centroid"][i])), (x, y)
            continue
        assert abs(fast["area"][i] - ref["area"]) <= TOL * ref["area"], (x, y, fast["area"][i], ref["area"])
        assert np.abs(fast["centroid"][i] - ref["centroid"]).max() <= TOL * b, (x, y)
        if "bbox" in fast:
            assert np.abs(fast["bbox"][i] - ref["bbox"]).max() <= TOL * b, (x, y)
    return empties


def targets(g: ScanGeometry, per_step: int, reach: float, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A random subset of sub-pixel targets within ``reach``, always with the axis and its neighbours."""
    t = np.arange(-int(reach * per_step), int(reach * per_step) + 1) * g.step / per_step
    X, Y = np.meshgrid(t, t)
    inside = X**2 + Y**2 <= reach**2
    xs, ys = X[inside], Y[inside]
    pick = np.random.default_rng(seed).choice(xs.size, size=min(n, xs.size), replace=False)
    centre = np.nonzero((np.abs(xs) <= 0.5 * g.step) & (np.abs(ys) <= 0.5 * g.step))[0]
    pick = np.union1d(pick, centre)
    return xs[pick], ys[pick]


CASES = {
    "box 10deg": ScanGeometry(x_range=10, step=1.0, omega_deg=np.arange(0, 180, 10)),
    "axis offset": ScanGeometry(x_range=6, step=1.0, omega_deg=np.arange(0, 180, 3), axis_offset=0.3),
    "irregular omega": ScanGeometry(x_range=5, step=0.7, omega_deg=np.r_[np.random.default_rng(1).uniform(
        0, 360, 40), 45.0, 45.0, 225.0, 0.0, 180.0]),
    "narrow beam": ScanGeometry(x_range=5, step=1.0, beam_width=0.6, omega_deg=np.arange(0, 180, 5)),
    "wide beam": ScanGeometry(x_range=4, step=1.0, beam_width=2.5, omega_deg=np.arange(0, 180, 2)),
    "gaussian": ScanGeometry(x_range=5, step=1.0, omega_deg=np.arange(0, 180, 4), profile="gaussian"),
    "three turns": ScanGeometry(x_range=10, step=1.0, omega_deg=np.arange(-359, 720, 10)),  # repeated directions
    "positions": ScanGeometry(positions=np.sort(np.random.default_rng(2).uniform(-5, 5, 13)), step=1.0,
                              omega_deg=np.arange(0, 360, 6)),
}


# ---------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("support", [False, True])
def test_batch_regions_match_slow_reference(name, support):
    g = CASES[name]
    hw = g.profile.support(g.beam_width) if support else None
    xs, ys = targets(g, 4, 1.05 * g.x_range, 120, seed=len(name))
    fast = sup._batch_regions(g, xs, ys, half_width=hw)
    empties = compare(g, xs, ys, fast, hw)
    if name == "narrow beam" and not support:
        assert empties > 0  # a beam narrower than the step leaves targets with no region
    assert np.all(np.isnan(fast["bbox"]) == (fast["area"] == 0)[:, None])


@pytest.mark.parametrize("name", ["three turns", "box 10deg", "irregular omega", "wide beam"])
def test_single_target_batches_match_reference(name):
    """One target per call: the head threshold comes from one list, so most polygons end in the
    dual hull (repeated and opposite directions must not upset it: the 'three turns' case)."""
    g = CASES[name]
    xs, ys = targets(g, 4, g.x_range, 25, seed=7)
    xs, ys = np.r_[xs, 3.0, -5.75], np.r_[ys, -9.0, -8.0]
    for x, y in zip(xs, ys):
        fast = sup._batch_regions(g, np.array([x]), np.array([y]))
        compare(g, [x], [y], fast)


def test_paper_half_degree_matches_reference_and_every_path_runs(monkeypatch):
    """The paper's 0.5 deg case: 5025 targets, the 9 on the axis share a 720-gon (the hull path)."""
    g = ScanGeometry(x_range=10, step=1.0, omega_deg=np.arange(0, 180, 0.5))
    calls = {"hull": 0, "full": 0}
    hull, full = sup._hull_polygon, sup._full_lists

    def spy_hull(*a):
        calls["hull"] += 1
        return hull(*a)

    def spy_full(*a):
        calls["full"] += 1
        return full(*a)

    monkeypatch.setattr(sup, "_hull_polygon", spy_hull)
    monkeypatch.setattr(sup, "_full_lists", spy_full)
    res = superposition_map(g, subdivision=4)
    assert res.n_targets == 5025 and calls["hull"] >= 1 and calls["full"] >= 1
    axis = np.nonzero((np.abs(res.xs) <= 0.25) & (np.abs(res.ys) <= 0.25))[0]
    assert axis.size == 9 and np.all(res.n_vertices[axis] == 720)
    # the 720-gon circumscribes the circle of radius 1/2: area 720 tan(pi / 720) / 4
    assert res.area[axis] == pytest.approx(720 * np.tan(np.pi / 720) / 4, rel=1e-12)
    pick = np.union1d(np.random.default_rng(5).choice(res.xs.size, 60, replace=False), axis[:2])
    fast = {"area": res.area[pick], "centroid": res.centroid[pick], "n_measurements": res.n_measurements[pick]}
    compare(g, res.xs[pick], res.ys[pick], fast)
    # the scalar path agrees on the vertex count too
    for i in pick[:25]:
        assert res.n_vertices[i] == len(superposed_region(g, res.xs[i], res.ys[i]).vertices)
    # statistics recorded with the previous implementation (full sort, SH clipping only)
    assert res.stats.mean_relative_size == pytest.approx(0.009156434263304775, rel=1e-9)
    assert res.stats.com_error_fwhm == pytest.approx(0.005823290750731106, rel=1e-9)


def test_paper_ten_degrees_numbers_still_come_out():
    """Kim, Hayashi & Yabashi (2023): mean relative spot size 0.186, COM FWHM 0.126 (4 x 4, X in +-10)."""
    g = ScanGeometry(x_range=10, step=1.0, omega_deg=np.arange(0, 180, 10))
    st = superposition_map(g, subdivision=4).stats
    assert round(st.mean_relative_size, 3) == 0.186
    assert round(st.com_error_fwhm, 3) == 0.126
    # the previous implementation's values, to 1e-9
    assert st.mean_relative_size == pytest.approx(0.18573568646351998, rel=1e-9)
    assert st.com_error_fwhm == pytest.approx(0.12611239525147674, rel=1e-9)


@pytest.mark.parametrize("step", [1.0, 0.7])
def test_scan_indices_arithmetic_equals_lookup(step):
    """The in-place rule 4 of ``_scan_indices`` gives exactly ``_lookup``'s index, mask and distance."""
    g = ScanGeometry(x_range=6 * step, step=step, omega_deg=np.r_[np.arange(0, 360, 7.5), 30.0, 90.0])
    t = np.arange(-30, 31) * step / 4  # half-integer ties included
    xs, ys = [a.ravel() for a in np.meshgrid(t, t)]
    xs = np.r_[xs, 6.5 * step, -6.5 * step]  # beyond the scan
    ys = np.r_[ys, 0.0, 0.0]
    index, present, d = g._scan_indices(xs, ys, distance=True)
    lk = g._lookup(xs, ys)
    assert np.array_equal(index, lk.index) and np.array_equal(present, lk.in_scan)
    assert np.array_equal(d, lk.distance)
    index_f, present_f = g._scan_indices(xs, ys, index_dtype=np.float64)
    assert index_f.dtype == np.float64 and np.array_equal(index_f, index) and np.array_equal(present_f, present)
    assert present[-2:].any() and not present[-2:].all()  # beyond the scan at some angles only
    for i in range(0, xs.size, 97):
        X, keep = reference_list(g, xs[i], ys[i])
        assert np.array_equal(g.x_positions[index[i][present[i]]], X)
        assert np.array_equal(np.nonzero(present[i])[0], keep)


def test_hull_polygon_against_clipping():
    """The dual-hull intersection equals clipping by the same half-planes (random, with repeats)."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        m = int(rng.integers(3, 60))
        ang = np.r_[rng.uniform(0, 2 * np.pi, m), 0, np.pi / 2, np.pi, 1.5 * np.pi]
        ang = np.r_[ang, ang[:5], ang[5:9] + 1e-15, ang[9:12] + 2 * np.pi - 1e-15]  # repeats, rounding
        c = np.r_[rng.uniform(0.2, 1.0, m), 5.0, 5.0, 5.0, 5.0]
        c = np.r_[c, c[:5], c[5:9], 1.5 * c[9:12]]
        ax, ay = np.cos(ang), np.sin(ang)
        V = sup._hull_polygon(ax, ay, c, np.mod(ang, 2 * np.pi))
        poly = [(-6.0, -6.0), (6.0, -6.0), (6.0, 6.0), (-6.0, 6.0)]
        for k in range(ang.size):
            poly = clip(poly, (ax[k], ay[k]), c[k])
        R = np.array(poly)
        area = lambda P: 0.5 * np.sum(P[:, 0] * np.roll(P[:, 1], -1) - np.roll(P[:, 0], -1) * P[:, 1])  # noqa: E731
        assert area(V) == pytest.approx(area(R), rel=1e-12)
        assert np.all(V @ np.stack([ax, ay]) <= c + 1e-12)  # every vertex in every half-plane


def test_geometry_cache_is_bounded_and_reused():
    sup._geometry_arrays.cache_clear()
    for k in range(3 * sup._GEOMETRY_CACHE_SIZE):
        g = ScanGeometry(x_range=3, omega_deg=np.arange(0, 180, 10 + k))
        sup._batch_regions(g, np.array([0.3]), np.array([0.1]))
    info = sup._geometry_arrays.cache_info()
    assert info.currsize <= sup._GEOMETRY_CACHE_SIZE
    g = ScanGeometry(x_range=3, omega_deg=np.arange(0, 180, 10))
    a = sup._geometry_arrays(g)
    assert sup._geometry_arrays(ScanGeometry(x_range=3, omega_deg=np.arange(0, 180, 10))) is a
