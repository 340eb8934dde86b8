r"""Exact fully superposed regions of many targets at once (issue 14), behind
:func:`~superres_widgets.s3dxrd.superposition_map` and the sensitivity maps' support boxes.

The conventions (rules 4-6: measurement lists, lit strips, regions, areas below
``1e-12 b**2`` empty) are those of :mod:`~superres_widgets.s3dxrd.geometry` and
:mod:`~superres_widgets.s3dxrd.superposition`, whose one-target clipping
(:func:`~superres_widgets.s3dxrd.superposed_region`) is the scalar reference.

Rule 4 is arithmetic, targets sharing a list share a polygon, the tightest half-planes of every
list are picked by one slack threshold and clipped in ascending order for all polygons at once,
and the few polygons with many sides (the 720-gon at the axis for 0.5 deg steps) are intersected
in one go as the dual of a convex hull.  The results equal the one-target clipping to rounding
(``tests/test_s3dxrd_superposition_fast.py`` compares with a brute-force reference: areas to
1e-9 relative); vertex counts may differ where the clipping order leaves near-duplicate
vertices.  Geometry-only arrays (normals, their angles, hash weights) are cached for the last 8
geometries (``functools.lru_cache``, a few kB each per angle): a warm call with an equal
geometry reuses them; nothing depending on the targets is kept.
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import numpy as np

from .conventions import check_cancel
from .geometry import ScanGeometry

#: Areas below this many beam widths squared count as empty (superposition rule 6).
_AREA_TOL = 1e-12


def _field_square(geometry: ScanGeometry) -> np.ndarray:
    h = geometry.field_half_width
    return np.array([[-h, -h], [h, -h], [h, h], [-h, h]], dtype=float)


#: Expected half-planes per measurement list in the head: the lists' tightest half-planes, picked
#: by one slack threshold (no sort of whole lists) and clipped in ascending order (issue 14).
_HEAD = 32
#: At most this many polygons still being clipped: the rest of their half-planes at once (dual hull).
_HULL_ROWS = 16
#: Normals closer than this (radians) are one direction in the dual hull (rounding of repeated angles).
_SAME_DIRECTION = 1e-9
#: Clip every target (duplicates too) when more than this fraction of the lists are distinct.
_ALL_ROWS = 0.75
#: Geometries whose geometry-only arrays are kept between calls (bounded cache, issue 14).
_GEOMETRY_CACHE_SIZE = 8


class _GeometryArrays(NamedTuple):
    ax: np.ndarray  # (2n + 4,) normals: constraint id 2k + side (side 0: +n_k, 1: -n_k), then the square's
    ay: np.ndarray
    angle: np.ndarray  # (2n + 4,) their polar angles in [0, 2 pi)
    weights: np.ndarray | None  # (n,) integer-valued hash weights (exact float sums), None: no hashing


@functools.lru_cache(maxsize=_GEOMETRY_CACHE_SIZE)
def _geometry_arrays(geometry: ScanGeometry) -> _GeometryArrays:
    """Geometry-only arrays of :func:`_batch_regions`, reused by calls with an equal geometry.

    Bounded: the last ``_GEOMETRY_CACHE_SIZE`` geometries (a few kB each per angle).
    """
    n = geometry.n_omega
    c, s = geometry._cos_sin()
    sign = np.tile([1.0, -1.0], n)
    ax = np.concatenate([np.repeat(c, 2) * sign, [1.0, -1.0, 0.0, 0.0]])
    ay = np.concatenate([-np.repeat(s, 2) * sign, [0.0, 0.0, 1.0, -1.0]])
    angle = np.mod(np.arctan2(ay, ax), 2 * np.pi)
    # sums of n products (index + 1) * weight stay below 2**52: exact, so equal rows hash equal
    wmax = 2.0**52 / ((geometry.n_positions + 1.0) * n)
    weights = None
    if wmax >= 2**16:
        weights = np.floor(np.random.default_rng(20231028).uniform(1.0, wmax, size=n))
    for a in (ax, ay, angle) + (() if weights is None else (weights,)):
        a.flags.writeable = False
    return _GeometryArrays(ax, ay, angle, weights)


def _distinct_lists(index: np.ndarray, present: np.ndarray, weights: np.ndarray | None) -> tuple[np.ndarray, int]:
    """Each row's representative: the first row with the same measurement list (exact: hashes
    verified), and the number of distinct lists."""
    sig = index.astype(np.float64, copy=False)  # modified in place: a float index is not used again
    sig += 1.0
    np.copyto(sig, 0.0, where=~present)  # 0: no measurement at that angle
    if weights is not None:
        # numpy's own loop, not BLAS (whose threads stall on a loaded machine); exact integer sums
        h = np.einsum("ij,j->i", sig, weights, optimize=False)
        _, first, inverse = np.unique(h, return_index=True, return_inverse=True)
        rep = first[inverse.ravel()]
        dup = np.nonzero(rep != np.arange(rep.size))[0]
        if np.array_equal(sig[dup], sig[rep[dup]]):
            return rep, first.size
    _, first, inverse = np.unique(sig, axis=0, return_index=True, return_inverse=True)
    return first[inverse.ravel()], first.size


def _threshold(near: np.ndarray, k: int, h: float) -> float:
    """A slack below which about ``k`` half-planes of a list lie (quantile of a strided sample)."""
    flat = near.ravel()
    if flat.size == 0:
        return h
    stride = max(1, flat.size // 32768)
    while math.gcd(stride, near.shape[1]) != 1:  # a stride sharing a factor with n would skip angles
        stride += 1
    sample = flat[::stride].copy()
    q = min(sample.size - 1, int(sample.size * k / near.shape[1]))
    tau = float(np.partition(sample, q)[q])
    return min(tau, h) if math.isfinite(tau) else h


def _head(near: np.ndarray, d: np.ndarray, tau: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted slacks, constraint ids and counts of the half-planes with slack ``< tau`` (padded with ``tau``)."""
    U, n = near.shape
    mask = near < tau
    cnt = mask.sum(axis=1)
    m = max(int(cnt.max()) if U else 0, 1)
    flat = np.flatnonzero(mask)  # row-major: rows ascending
    rows = flat // n
    dest = rows * m + (np.arange(flat.size) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    sslack = np.full(U * m, np.inf)
    sslack[dest] = near.ravel()[flat]
    cid = np.zeros(U * m, dtype=np.int64)
    cid[dest] = 2 * (flat - rows * n) + (d.ravel()[flat] < 0)  # the near side: +n_k where d >= 0
    sslack, cid = sslack.reshape(U, m), cid.reshape(U, m)
    o = np.argsort(sslack, axis=1)
    return np.minimum(np.take_along_axis(sslack, o, axis=1), tau), np.take_along_axis(cid, o, axis=1), cnt


def _full_lists(h: float, d: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All ``2n`` half-planes of every list, sorted by slack (``inf``: absent, at the end)."""
    slack = np.empty((d.shape[0], 2 * d.shape[1]))
    slack[:, 0::2] = np.where(present, h - d, np.inf)  # a = +n_k: X + h - u
    slack[:, 1::2] = np.where(present, h + d, np.inf)  # a = -n_k: h - X + u
    order = np.argsort(slack, axis=1)
    return np.take_along_axis(slack, order, axis=1), order, 2 * present.sum(axis=1)


def _concat(pieces: list) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(ids, x, y, counts)`` pieces joined, each padded to the widest with its vertex 0."""
    V = max(p[1].shape[1] for p in pieces)

    def pad(a: np.ndarray) -> np.ndarray:
        return a if a.shape[1] == V else np.concatenate([a, np.repeat(a[:, :1], V - a.shape[1], axis=1)], axis=1)

    return (np.concatenate([p[0] for p in pieces]), np.concatenate([pad(p[1]) for p in pieces]),
            np.concatenate([pad(p[2]) for p in pieces]), np.concatenate([p[3] for p in pieces]))


def _finish(out: dict, pieces: list) -> None:
    """Area, centroid, vertex count and bounding box of padded polygons (padding = vertex 0).

    ``pieces``: ``(ids, x, y, counts)`` with vertex coordinates ``x, y`` of shape (A, V); one
    pass per power-of-two width.
    """
    groups: dict = {}
    for p in pieces:
        groups.setdefault(max(p[1].shape[1] - 1, 1).bit_length(), []).append(p)
    for group in groups.values():
        _finish_padded(out, *_concat(group))


def _finish_padded(out: dict, ids: np.ndarray, x: np.ndarray, y: np.ndarray, counts: np.ndarray) -> None:
    x1, y1 = np.roll(x, -1, axis=1), np.roll(y, -1, axis=1)
    cross = x * y1 - x1 * y  # padding (vertex 0 repeated) adds the closing edge once, then zeros
    area = 0.5 * cross.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["centroid"][ids, 0] = ((x + x1) * cross).sum(axis=1) / (6.0 * area)
        out["centroid"][ids, 1] = ((y + y1) * cross).sum(axis=1) / (6.0 * area)
    out["area"][ids] = np.where(counts > 0, area, 0.0)
    out["n_vertices"][ids] = counts
    has = counts > 0
    out["bbox"][ids[has]] = np.stack([x[has].min(axis=1), x[has].max(axis=1),
                                      y[has].min(axis=1), y[has].max(axis=1)], axis=1)


def _clip_step(x: np.ndarray, y: np.ndarray, counts: np.ndarray, ax: np.ndarray, ay: np.ndarray,
               cc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sutherland-Hodgman: keep the part of every polygon with ``ax x + ay y <= cc`` (one half-plane each).

    Vertices ``x, y`` (A, V) are padded with each polygon's vertex 0, so a vertex's successor is
    the next slot (cyclic) and padding never crosses.  A vertex on the line counts as inside; an
    edge is cut only where it crosses the line strictly (``d * dq < 0``: the vertices are O(1), no
    product underflows).  The emitted vertices are gathered and scattered through flat indices.
    """
    A, V = x.shape
    d = x * ax[:, None] + y * ay[:, None] - cc[:, None]
    dq = np.empty_like(d)
    dq[:, :-1], dq[:, -1] = d[:, 1:], d[:, 0]
    emit = np.empty((A, V, 2), dtype=bool)  # (inside vertex, crossing edge) per slot, in output order
    np.logical_and(d <= 0, np.arange(V) < counts[:, None], out=emit[..., 0])
    np.less(d * dq, 0, out=emit[..., 1])
    flat = np.flatnonzero(emit)
    row, rem = np.divmod(flat, 2 * V)
    slot, is_cross = np.divmod(rem, 2)
    nxt = slot + 1
    nxt[nxt == V] = 0
    xs, ys, ds = x[row, slot], y[row, slot], d[row, slot]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(is_cross == 1, ds / (ds - dq[row, slot]), 0.0)  # inside vertex: t = 0, itself
    vx = xs + t * (x[row, nxt] - xs)
    vy = ys + t * (y[row, nxt] - ys)
    new_counts = np.bincount(row, minlength=A)
    Vn = max(int(new_counts.max()), 1)
    start = np.cumsum(new_counts) - new_counts
    dest = row * Vn + (np.arange(flat.size) - np.repeat(start, new_counts))
    has = new_counts > 0
    nx, ny = np.zeros(A), np.zeros(A)
    nx[has], ny[has] = vx[start[has]], vy[start[has]]
    nx, ny = np.repeat(nx, Vn), np.repeat(ny, Vn)  # padding: the new vertex 0
    nx[dest], ny[dest] = vx, vy
    return nx.reshape(A, Vn), ny.reshape(A, Vn), new_counts


def _clip_loop(x: np.ndarray, y: np.ndarray, counts: np.ndarray, lists: tuple, bound: float,
               geo: _GeometryArrays, pieces: list, ids: np.ndarray, cancel: Any, hull_ok: np.ndarray | None = None,
               start: np.ndarray | None = None) -> tuple[list, np.ndarray]:
    """Clip polygons by their listed half-planes in ascending slack until they retire.

    ``x, y`` (A, V) are the polygons' vertices; ``lists = (sslack, cid, cnt)``: sorted slacks and
    constraint ids (A, m) and the number listed per row, of which the first ``start`` are applied
    already; ``bound`` is a lower bound of the unlisted slacks (``inf``: the lists are complete).
    A polygon retires (appended to ``pieces``) once its next slack ``s >= 0`` has ``s**2`` at least
    its farthest vertex's ``r**2``: no remaining half-plane can cut it.  Returns the rows whose
    list ran out first, as pieces ``(ids, x, y, counts)`` (``left``), and with ``hull_ok`` the ids
    of the rows with ``hull_ok`` once at most ``_HULL_ROWS`` are active (``hull``).
    """
    sslack, cid, cnt = lists
    m = sslack.shape[1]
    act = np.arange(x.shape[0])
    off = np.zeros(act.size, dtype=np.int64) if start is None else start
    left, hull = [], []
    for j in range(m + 1):
        if j % 8 == 7:
            check_cancel(cancel, "superposition_map")
        r2 = (x * x + y * y).max(axis=1)
        col = j + off[act]
        ran_out = col >= cnt[act]
        sj = np.where(ran_out, bound, sslack[act, np.minimum(col, m - 1)])
        done = (counts == 0) | ((sj >= 0) & (sj * sj >= r2))
        out_now = done | ran_out
        if hull_ok is not None and act.size <= _HULL_ROWS:
            to_hull = ~out_now & hull_ok[act]
            hull.append(ids[act[to_hull]])
            out_now |= to_hull
        if out_now.any():
            if done.any():
                pieces.append((ids[act[done]], x[done], y[done], counts[done]))
            lo = ran_out & ~done
            if lo.any():
                left.append((ids[act[lo]], x[lo], y[lo], counts[lo]))
            keep = ~out_now
            act, x, y, counts = act[keep], x[keep], y[keep], counts[keep]
            if act.size == 0:
                break
            vmax = int(counts.max())
            x, y = x[:, :vmax], y[:, :vmax]
            col = col[keep]
        c = cid[act, col]
        x, y, counts = _clip_step(x, y, counts, geo.ax[c], geo.ay[c], sslack[act, col])
    return left, np.concatenate(hull) if hull else np.zeros(0, dtype=np.int64)


def _hull_polygon(ax: np.ndarray, ay: np.ndarray, c: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Vertices (CCW) of the bounded region ``{p : ax p_x + ay p_y <= c}`` with every ``c > 0``.

    The origin is strictly inside, so the region is the polar dual of the convex hull of the points
    ``(ax, ay) / c``.  Graham scan around the origin: the points sorted by angle (the nearer of two
    at one angle last), starting from the farthest (a hull vertex), a point where the chain does
    not turn left is popped.  Each hull vertex is a side of the region; consecutive sides meet at
    its vertices (Cramer's rule).
    """
    o = np.lexsort((c, angle))
    ax, ay, c, angle = ax[o], ay[o], c[o], angle[o]
    # one point per direction (the farthest): repeats of a direction (omega + 360, omega + 180 with
    # the other side) differ by rounding only, and a zero-length edge would turn the scan at random
    group = np.cumsum(np.r_[True, np.diff(angle) > _SAME_DIRECTION])
    if group[-1] > 1 and angle[0] + 2 * np.pi - angle[-1] <= _SAME_DIRECTION:
        group[group == group[-1]] = 1
    best = np.lexsort((c, group))
    best = best[np.r_[True, np.diff(group[best]) > 0]]
    ax, ay, c = ax[best], ay[best], c[best]
    qx, qy = ax / c, ay / c
    start = int(np.argmax(qx * qx + qy * qy))
    X, Y = np.roll(qx, -start).tolist(), np.roll(qy, -start).tolist()
    keep = np.roll(np.arange(qx.size), -start).tolist()
    stack = [0]
    for i in range(1, len(X) + 1):
        k = i % len(X)
        px, py = X[k], Y[k]
        while len(stack) >= 2:
            a, b = stack[-2], stack[-1]
            if (X[b] - X[a]) * (py - Y[b]) - (Y[b] - Y[a]) * (px - X[b]) > 0:
                break
            stack.pop()
        if k:
            stack.append(k)
    idx = np.array([keep[k] for k in stack])
    a1x, a1y, c1 = ax[idx], ay[idx], c[idx]
    a2x, a2y, c2 = np.roll(a1x, -1), np.roll(a1y, -1), np.roll(c1, -1)
    det = a1x * a2y - a1y * a2x
    return np.stack([(c1 * a2y - c2 * a1y) / det, (a1x * c2 - a2x * c1) / det], axis=1)


def _hull_regions(rows: np.ndarray, pieces: list, h: float, d: np.ndarray, present: np.ndarray,
                  x0: np.ndarray, y0: np.ndarray, geo: _GeometryArrays, cancel: Any) -> None:
    """:func:`_hull_polygon` of the lists ``rows`` (all slacks > 0): their strips and field square."""
    for i, r in enumerate(rows):
        if i % 8 == 7:
            check_cancel(cancel, "superposition_map")
        k = np.nonzero(present[r])[0]
        cid = np.concatenate([np.stack([2 * k, 2 * k + 1], axis=1).ravel(), geo.ax.size - 4 + np.arange(4)])
        # the field square relative to the target (vertices x0, y0: corners 0 and 2 are opposite)
        c = np.concatenate([np.stack([h - d[r, k], h + d[r, k]], axis=1).ravel(),
                            [x0[r, 2], -x0[r, 0], y0[r, 2], -y0[r, 0]]])
        V = _hull_polygon(geo.ax[cid], geo.ay[cid], c, geo.angle[cid])
        pieces.append((np.array([r]), V[None, :, 0], V[None, :, 1], np.array([V.shape[0]])))


def _batch_regions(
    geometry: ScanGeometry, tx: np.ndarray, ty: np.ndarray, cancel: Any = None, half_width: float | None = None
) -> dict[str, np.ndarray]:
    """Exact superposed regions of many targets, vectorised over targets.

    Targets with the same measurement list share a region (the first target's: the few duplicates
    go through the cheap head stage with the rest, only the first beyond it; no row gathers).
    Rule 4 is arithmetic (:meth:`ScanGeometry._scan_indices`), giving every measurement's signed
    distance ``d``; the half-planes ``a . p <= h -+ d`` have slack ``h - |d|`` (near side) and
    ``h + |d|``.  1. Head: the half-planes with slack below one threshold ``tau`` (about
    ``_HEAD`` per list; no full sort) are clipped in ascending order, all polygons at once
    (padded ``(A, V, 2)`` arrays, one Python loop over half-planes); a polygon retires when its
    next slack (``tau`` once its list runs out) exceeds its farthest vertex.  2. The few left
    over: with every slack ``> 0`` all their half-planes at once (:func:`_hull_polygon`);
    otherwise the same clipping with complete sorted lists (the hull once at most ``_HULL_ROWS``
    are active).  ``cancel`` is polled every 8 steps (conventions rule 5).  ``half_width``
    replaces the profile's ``clip_half_width`` (e.g. its support, for the sensitivity maps);
    ``bbox`` is each polygon's bounding box ``(xmin, xmax, ymin, ymax)``, NaN where empty.
    """
    b = geometry.beam_width
    h = geometry.profile.clip_half_width(b) if half_width is None else float(half_width)
    geo = _geometry_arrays(geometry)
    index, present, d = geometry._scan_indices(tx, ty, distance=True, index_dtype=np.float64)
    n_meas = present.sum(axis=1)
    rep, U = _distinct_lists(index, present, geo.weights)
    # the rows clipped: all (duplicates, if few, ride along the cheap head stage), else one per list
    rows = np.arange(tx.size) if U > _ALL_ROWS * tx.size else np.flatnonzero(rep == np.arange(tx.size))
    where = np.empty(tx.size, dtype=np.int64)
    where[rows] = np.arange(rows.size)
    if rows.size < tx.size:
        tx, ty, present, d, n_meas_r = tx[rows], ty[rows], present[rows], d[rows], n_meas[rows]
    else:
        n_meas_r = n_meas
    T = rows.size
    check_cancel(cancel, "superposition_map")
    out = {"area": np.zeros(T), "centroid": np.zeros((T, 2)), "n_vertices": np.zeros(T, dtype=np.int64),
           "bbox": np.full((T, 4), np.nan)}
    sq = _field_square(geometry)
    x0, y0 = sq[None, :, 0] - tx[:, None], sq[None, :, 1] - ty[:, None]
    counts0 = np.where(n_meas_r > 0, 4, 0)
    near = np.abs(d)
    np.subtract(h, near, out=near)
    np.copyto(near, np.inf, where=~present)
    tau = _threshold(near, _HEAD, h)
    check_cancel(cancel, "superposition_map")
    pieces: list = []
    head = _head(near, d, tau)
    left, _ = _clip_loop(x0, y0, counts0, head, tau, geo, pieces, np.arange(T), cancel)
    if left:  # beyond the head (one row per list): the rest of each complete sorted list
        ids, xl, yl, cl = _concat(left)
        one = rep[rows[ids]] == rows[ids]
        ids, xl, yl, cl = ids[one], xl[one], yl[one], cl[one]
        _, hull = _clip_loop(xl, yl, cl, _full_lists(h, d[ids], present[ids]), np.inf, geo, pieces, ids,
                             cancel, hull_ok=near[ids].min(axis=1) > 0, start=head[2][ids])
        _hull_regions(hull, pieces, h, d, present, x0, y0, geo, cancel)
    _finish(out, pieces)
    area_u, cen_u, box_u = out["area"], out["centroid"], out["bbox"]
    empty = area_u <= _AREA_TOL * b * b
    area_u[empty] = 0.0
    cen_u[empty] = np.nan
    cen_u[~empty] += np.stack([tx, ty], axis=1)[~empty]
    box_u[empty] = np.nan
    box_u[~empty] += np.repeat(np.stack([tx, ty], axis=1)[~empty], 2, axis=1)
    if U < n_meas.size:  # every target gets its representative's region
        m = where[rep]
        area_u, cen_u, box_u, out["n_vertices"] = area_u[m], cen_u[m], box_u[m], out["n_vertices"][m]
    return {
        "bbox": box_u,
        "area": area_u,
        "centroid": cen_u,
        "n_measurements": n_meas,
        "n_vertices": out["n_vertices"],
        "n_distinct": np.int64(U),
    }
