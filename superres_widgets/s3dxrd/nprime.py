r"""Completeness N' of candidate orientations at (sub-)pixels of an s3DXRD slice.

The computational core of the reconstruction of Kim, Hayashi & Yabashi
(2023), sections 3-4: which frame sees a target at each angle
(:func:`scan_indices`), which predicted reflection of which candidate is
observed where (:func:`observation_table`), the completeness

.. math:: N'[p, c] = \frac{1}{M_c} \sum_{e \in c} \mathrm{obs}[e, K[p, j_e]]

of every candidate at every target (:func:`completeness`, chunked, numpy or
Dask) and the orientation map that picks the best candidate per target
(:func:`orientation_map`).  The conventions are rules 1-5 and 8 of
:mod:`superres_widgets.s3dxrd.reconstruction`; evaluation against a phantom
(rules 6-7) is in :mod:`~superres_widgets.s3dxrd.evaluation`.

References
----------
.. [1] Kim, Hayashi & Yabashi (2023), J. Synchrotron Rad., sections 3-4.
.. [2] Y. Hayashi, Y. Hirose & Y. Seno (2015), J. Appl. Cryst. 48, 1094-1101.

Examples
--------
>>> xs, ys, *_ = map_targets(4.0, 1, 8.0)
>>> xs.size
13
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .conventions import check_cancel, check_type, cos_sin_deg, round_half_away
from .conventions import positive_scalar as _positive
from .crystal import PredictedReflections, check_orientations, predict_reflections
from .forward import ScanData
from .geometry import ScanGeometry
from .indexing import match_peaks

__all__ = [
    "ObservationTable",
    "OrientationMap",
    "observation_table",
    "scan_indices",
    "completeness",
    "map_targets",
    "orientation_map",
]

_TIE = 1e-9
#: Tolerance (in steps) of the lit test of a target's nearest frame (rule 2).
_LIT_TOL = 1e-6


# ---------------------------------------------------------------------------
# measurement lists, vectorised (module rule 2)
# ---------------------------------------------------------------------------
def scan_indices(geometry: ScanGeometry, xs: Any, ys: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scan-position index of many points at every angle (module rule 2).

    Parameters
    ----------
    geometry : ScanGeometry
    xs, ys : array_like, (n,)

    Returns
    -------
    k : ndarray of int32, (n, n_omega)
        Index into ``geometry.x_positions`` (``k_max`` added to the signed
        index), clipped to the scan.
    ok : ndarray of bool, (n, n_omega)
        The rounded position was scanned (else the measurement is absent).
    k2 : ndarray of int32, (n, n_omega)
        The next-nearest position (module rule 5), clipped to the scan.

    Notes
    -----
    ``ok`` is also False where the beam profile does not light the target
    at its nearest position (``w(d) = 0`` at ``d = u - X``, tolerance
    ``1e-6 step``; reconstruction rule 2) -- never for a box at least one
    step wide.
    """
    check_type(geometry, ScanGeometry, "geometry")
    _points(xs, ys)
    k, ok, k2, _ = geometry.frame_weights(xs, ys, _LIT_TOL)  # offsets and position lists too
    return k, ok, k2


def _points(xs: Any, ys: Any) -> tuple:
    """``xs``, ``ys`` as equal-length finite 1-D arrays (flattened), or ``ValueError`` naming them."""
    from .conventions import finite_array

    x = finite_array(xs, "xs").ravel()
    y = finite_array(ys, "ys").ravel()
    if x.size != y.size:
        raise ValueError(f"xs and ys must have the same number of points, got {x.size} and {y.size}")
    return x, y


def _chunk_size(value: Any) -> int:
    from ..validate import check_int

    return check_int(value, "chunk_size", 1)


def _scan_indices_raw(
    omega_deg: np.ndarray, step: float, kmax: int, xs: Any, ys: Any, beam: tuple | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs = np.asarray(xs, dtype=float).ravel()
    ys = np.asarray(ys, dtype=float).ravel()
    c, s = cos_sin_deg(omega_deg)
    q = (np.multiply.outer(xs, c) - np.multiply.outer(ys, s)) / step
    ks = round_half_away(q).astype(float)  # the geometry layer's rule 4, one implementation
    ok = np.abs(ks) <= kmax
    if beam is not None:  # the profile lights the target in that frame (rule 2)
        profile, width = beam
        ok &= profile.lit((q - ks) * step, width, _LIT_TOL * step)
    k2 = ks + np.where(q >= ks, 1.0, -1.0)
    k = np.clip(ks + kmax, 0, 2 * kmax).astype(np.int32)
    k2 = np.clip(k2 + kmax, 0, 2 * kmax).astype(np.int32)
    return k, ok, k2


# ---------------------------------------------------------------------------
# observation table (module rule 3)
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ObservationTable:
    """Which predicted event of which candidate is seen at which position.

    Attributes
    ----------
    U : ndarray, (n_c, 3, 3)
        Candidate orientations.
    events : PredictedReflections
        Predicted events of every candidate in the scanned range, grouped by
        candidate.
    j : ndarray of int, (m,)
        Omega bin of each event.
    observed : ndarray of bool, (m, n_positions)
        ``obs[e, k]`` of module rule 3.
    group : ndarray of int, (m,)
        Index of the ``(candidate, hkl)`` of each event.
    group_offsets : ndarray of int
        Start event of each group (plus the end).
    n_groups_per_candidate : ndarray of int, (n_c,)
    eta_tol_deg, omega_tol_deg : float

    Notes
    -----
    ``n_expected(count, expected)`` gives ``M`` per candidate (rule 4).
    """

    U: np.ndarray
    events: PredictedReflections
    j: np.ndarray
    observed: np.ndarray
    group: np.ndarray
    group_offsets: np.ndarray
    n_groups_per_candidate: np.ndarray
    eta_tol_deg: float
    omega_tol_deg: float
    in_scan: np.ndarray | None = None  # event's omega in a scanned bin (False in a gap of an omega list)

    @property
    def n_candidates(self) -> int:
        return int(self.U.shape[0])

    @property
    def n_events(self) -> int:
        return int(self.j.size)

    def n_expected(self, count: str = "reflection", expected: str = "predicted") -> np.ndarray:
        """``M`` per candidate for ``count`` and ``expected`` (module rule 4)."""
        n_c = self.n_candidates
        if expected == "predicted":
            if count == "reflection":
                return self.events.counts.copy()
            return self.n_groups_per_candidate.copy()
        seen = self.observed.any(axis=1)
        if count == "reflection":
            return np.bincount(self.events.orientation[seen], minlength=n_c).astype(np.int64)
        gseen = np.maximum.reduceat(seen, self.group_offsets[:-1]) if seen.size else seen
        gcand = self.events.orientation[self.group_offsets[:-1]]
        return np.bincount(gcand[gseen], minlength=n_c).astype(np.int64)


def observation_table(
    data: ScanData, candidates: Any, *, eta_tol_deg: float = 0.5, omega_tol_deg: float = 0.5, cancel: Any = None
) -> ObservationTable:
    """Build ``obs[e, k]`` for every candidate's events (module rule 3).

    Parameters
    ----------
    data : ScanData
    candidates : array_like, (n_c, 3, 3)
        Proper rotations; ``ValueError`` naming ``candidates`` when empty or
        not orthonormal.
    eta_tol_deg, omega_tol_deg : float, default 0.5
    cancel : threading.Event, callable or None
        Conventions rule 5.

    Examples
    --------
    >>> r = reconstruct_phantom(diameter_um=40, n_grains=4, seed=1)  # doctest: +SKIP
    >>> observation_table(r.data, r.candidates).observed.shape[1] == r.data.n_positions  # doctest: +SKIP
    True
    """
    check_type(data, ScanData, "data")
    U = check_orientations(candidates, "candidates")
    te = _positive(eta_tol_deg, "eta_tol_deg")
    tw = _positive(omega_tol_deg, "omega_tol_deg")
    ev = predict_reflections(U, data.reflections, data.omega_start_deg, data.omega_range_deg)
    j, in_bin = data.bin_of(ev.omega_deg)  # irregular omega lists, gaps
    nk = data.n_positions
    obs = np.zeros((ev.n_events, nk), dtype=bool)
    # omega modulo 360 (full scans, peaks given in (-180, 180]); events near the seam also match across it
    w0 = data.omega_start_deg
    ow = w0 + np.mod(data.omega_deg - w0, 360.0)
    pi, oi = match_peaks(ev.ring, ev.eta_deg, ev.omega_deg, data.ring, data.eta_deg, ow, te, tw, cancel=cancel)
    for shift in (360.0, -360.0):
        near = np.nonzero(np.abs(ev.omega_deg + shift - (w0 + 180.0)) <= 180.0 + tw)[0]
        if near.size:
            p2, o2 = match_peaks(ev.ring[near], ev.eta_deg[near], ev.omega_deg[near] + shift, data.ring,
                                 data.eta_deg, ow, te, tw, cancel=cancel)
            pi, oi = np.concatenate([pi, near[p2]]), np.concatenate([oi, o2])
    obs[pi, data.k[oi]] = True
    # groups of (candidate, hkl): contiguous because events are ordered so
    key = ev.orientation * (data.reflections.n_reflections + 1) + ev.hkl_index
    new = np.ones(key.size, dtype=bool)
    new[1:] = key[1:] != key[:-1]
    group = np.cumsum(new) - 1
    goff = np.concatenate([np.nonzero(new)[0], [key.size]]).astype(np.int64)
    gcand = ev.orientation[goff[:-1]] if key.size else np.zeros(0, dtype=np.int64)
    ngc = np.bincount(gcand, minlength=U.shape[0]).astype(np.int64)
    return ObservationTable(
        U=U,
        events=ev,
        j=j,
        observed=obs,
        group=group.astype(np.int64),
        group_offsets=goff,
        n_groups_per_candidate=ngc,
        eta_tol_deg=te,
        omega_tol_deg=tw,
        in_scan=in_bin,
    )


# ---------------------------------------------------------------------------
# completeness, chunked (module rules 4, 8)
# ---------------------------------------------------------------------------
def _indicator(owner: np.ndarray, n: int) -> np.ndarray:
    ind = np.zeros((owner.size, n), dtype=np.float32)
    ind[np.arange(owner.size), owner] = 1.0
    return ind


def _segments(owner):
    """``(starts, candidates)`` of the non-empty runs of a sorted ``owner`` array, else ``None``.

    Segment sums over these runs replace products with the one-hot :func:`_indicator` (issue 14).
    """
    owner = np.asarray(owner)
    if owner.size == 0 or np.any(np.diff(owner) < 0):
        return None
    cand = np.unique(owner)
    return np.searchsorted(owner, cand).astype(np.int64), cand


class _ChunkKernel:
    """N' (and next-nearest N') of a chunk of targets; picklable for Dask."""

    def __init__(
        self,
        table: ObservationTable,
        geometry: ScanGeometry,
        count: str,
        want_next: bool,
        expected: str = "predicted",
        beam_weighting: bool = True,
    ):
        # arrays and the (picklable) geometry, so that the kernel pickles
        # (Dask processes / distributed workers)
        self.geometry = geometry
        self.beam_weighting = bool(beam_weighting)
        seen = table.observed.any(axis=1) if expected == "observed" else np.ones(table.n_events, dtype=bool)
        if table.in_scan is not None:
            seen = seen & table.in_scan
        self.emask = seen.astype(np.float32)  # events expected at all (module rule 4)
        self.count = count
        self.want_next = want_next
        nk = table.observed.shape[1]
        self.nk = nk
        self.j = table.j.astype(np.int64)
        itype = np.int32 if table.n_events * nk < 2**31 - 1 else np.int64
        self.base = np.arange(table.n_events, dtype=itype) * itype(nk)
        self.obs_flat = table.observed.ravel()
        n_c = table.n_candidates
        M = table.n_expected(count, expected)
        if count == "reflection":
            self.ind = _indicator(table.events.orientation, n_c)
        else:
            self.ind = _indicator(table.events.orientation[table.group_offsets[:-1]], n_c)
        self.goff = table.group_offsets[:-1]
        owner = table.events.orientation if count == "reflection" else table.events.orientation[self.goff]
        self.seg = _segments(owner)
        with np.errstate(divide="ignore"):
            self.invM = np.where(M > 0, 1.0 / np.maximum(M, 1), 0.0)

    def _sum(self, K: np.ndarray, ok: np.ndarray, W: np.ndarray | None = None) -> np.ndarray:
        idx = K[:, self.j].astype(self.base.dtype, copy=False) + self.base  # (p, m)
        val = self.obs_flat[idx] & ok[:, self.j]
        weighted = self.beam_weighting and W is not None and not (np.all(W == 1) and np.all(self.emask == 1))
        if not weighted:  # the paper's N' = N / M (every weight 1: bitwise the weighted formula)
            if self.count == "hkl" and val.shape[1]:
                val = np.maximum.reduceat(val, self.goff, axis=1)
            if self.seg is not None:  # segment sums of the 0/1 counts: exact, like the one-hot product
                out = np.zeros((val.shape[0], self.ind.shape[1]))
                out[:, self.seg[1]] = np.add.reduceat(val, self.seg[0], axis=1, dtype=np.int64)
                return out * self.invM
            return (val.astype(np.float32) @ self.ind).astype(np.float64) * self.invM
        # expected reflections weighted by the beam at the target (module rule 4)
        w = W[:, self.j].astype(np.float32) * self.emask
        if self.count == "hkl" and val.shape[1]:
            val = np.maximum.reduceat(val, self.goff, axis=1)
            w = np.maximum.reduceat(w, self.goff, axis=1)
        num = (val * w) @ self.ind
        den = (w @ self.ind).astype(np.float64)
        return num.astype(np.float64) * np.where(den > 0, 1.0 / np.maximum(den, 1e-30), 0.0)

    def __call__(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """``[N'(p, c) for c] + [chosen candidate]``, shape (p, n_c + 1)."""
        xs = np.asarray(xs, dtype=float)
        ys = np.asarray(ys, dtype=float)
        K, ok, K2, W = self.geometry.frame_weights(xs, ys, _LIT_TOL)
        n1 = self._sum(K, ok, W)
        n2 = None
        if self.want_next and n1.shape[1] > 1:
            best = n1.max(axis=1, keepdims=True)
            tied = np.nonzero(((n1 >= best - 1e-12).sum(axis=1) > 1) & (best[:, 0] > 0))[0]
            n2 = np.zeros_like(n1)
            if tied.size:
                n2[tied] = self._sum(K2[tied], ok[tied], W[tied])
        pick = _choose(n1, n2)
        return np.concatenate([n1, pick[:, None].astype(float)], axis=1)

    def next_completeness(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Next-nearest completeness (module rule 5), shape (p, n_c)."""
        K, ok, K2, W = self.geometry.frame_weights(xs, ys, _LIT_TOL)
        return self._sum(K2, ok, W)


def _check_expected(expected: str) -> None:
    if expected not in ("predicted", "observed"):
        raise ValueError(f"expected must be 'predicted' or 'observed', got {expected!r}")


def _check_backend(backend: str) -> None:
    if backend not in ("numpy", "dask"):
        raise ValueError(f"backend must be 'numpy' or 'dask', got {backend!r}")


def _run_chunks(
    kernel: _ChunkKernel,
    xs: np.ndarray,
    ys: np.ndarray,
    width: int,
    chunk_size: int,
    backend: str,
    scheduler: Any,
    cancel: Any = None,
) -> np.ndarray:
    n = xs.size
    if backend == "numpy":
        out = np.empty((n, width))
        for a in range(0, n, chunk_size):
            check_cancel(cancel, "N' map")
            out[a : a + chunk_size] = kernel(xs[a : a + chunk_size], ys[a : a + chunk_size])
        return out
    import dask.array as da

    xd = da.from_array(xs, chunks=chunk_size)
    yd = da.from_array(ys, chunks=chunk_size)
    res = da.map_blocks(
        kernel,
        xd,
        yd,
        dtype=float,
        chunks=(xd.chunks[0], (width,)),
        new_axis=1,
        meta=np.empty((0, width)),
    )
    return np.asarray(res.compute(scheduler=scheduler))


def completeness(
    table: ObservationTable,
    geometry: ScanGeometry,
    xs: Any,
    ys: Any,
    *,
    count: str = "reflection",
    expected: str = "predicted",
    chunk_size: int = 1024,
    backend: str = "numpy",
    scheduler: Any = None,
    cancel: Any = None,
    beam_weighting: bool = True,
) -> np.ndarray:
    """``N'[p, c]`` of targets ``(xs, ys)`` for every candidate (rule 4).

    Parameters
    ----------
    table : ObservationTable
    geometry : ScanGeometry
        The scan's geometry (``ScanData.geometry``).
    xs, ys : array_like, (n,)
    count : {"reflection", "hkl"}
    expected : {"predicted", "observed"}
        ``M`` of module rule 4.
    chunk_size : int, default 1024
    backend : {"numpy", "dask"}
    scheduler : optional
        Dask scheduler for ``backend="dask"`` (module rule 8).
    cancel : threading.Event, callable or None
        Polled between chunks (numpy backend); once set,
        :class:`~superres_widgets.s3dxrd.ComputationCancelled` is raised
        (conventions rule 5).
    beam_weighting : bool, default True
        Weight each expected reflection by the beam at the target in its
        frame (module rule 4); identical to the paper's ``N / M`` for a box
        at least one step wide.

    Returns
    -------
    ndarray, (n, n_candidates)

    Examples
    --------
    >>> r = reconstruct_phantom(diameter_um=40, n_grains=4, seed=1)  # doctest: +SKIP
    >>> completeness(r.table, r.geometry, [0.0], [0.0]).max() <= 1.0  # doctest: +SKIP
    True
    """
    if count not in ("reflection", "hkl"):
        raise ValueError(f"count must be 'reflection' or 'hkl', got {count!r}")
    _check_backend(backend)
    check_type(table, ObservationTable, "table")
    check_type(geometry, ScanGeometry, "geometry")
    cs = _chunk_size(chunk_size)
    xs, ys = _points(xs, ys)
    _check_expected(expected)
    kern = _ChunkKernel(table, geometry, count, False, expected, beam_weighting)
    return _run_chunks(kern, xs, ys, table.n_candidates + 1, cs, backend, scheduler, cancel)[:, :-1]


def _choose(n1: np.ndarray, n2: np.ndarray | None) -> np.ndarray:
    if n1.shape[1] == 0:
        return np.full(n1.shape[0], -1, dtype=np.int64)
    best = n1.max(axis=1)
    if n2 is None:
        pick = np.argmax(n1, axis=1)
    else:
        tied = n1 >= best[:, None] - 1e-12
        pick = np.argmax(np.where(tied, n2, -1.0), axis=1)
    return np.where(best > 0, pick, -1).astype(np.int64)



from .maps import OrientationMap, _check_subdivision, map_targets  # noqa: E402,F401 - they used to live here


def orientation_map(
    data: ScanData,
    table: ObservationTable,
    subdivision: int = 4,
    radius_um: float | None = None,
    *,
    count: str = "reflection",
    expected: str = "predicted",
    tie_break: str = "next",
    chunk_size: int = 1024,
    backend: str = "numpy",
    scheduler: Any = None,
    cancel: Any = None,
    beam_weighting: bool = True,
    scorer: str = "nprime",
    scorer_options: dict | None = None,
    keep_n_prime: bool = True,
    prune: bool | None = None,
    tile: int = 64,
) -> OrientationMap:
    """The N' orientation map of a slice (module rules 1, 4, 5, 8).

    Parameters
    ----------
    data : ScanData
    table : ObservationTable
        From :func:`observation_table` on the same data.
    subdivision : int, default 4
        ``>= 1``; 1 gives the conventional map (pixel = step).
    radius_um : float, optional
        Specimen radius; default ``x_range - step/2`` of the scan.
    count : {"reflection", "hkl"}
    expected : {"predicted", "observed"}
        ``M`` of module rule 4.
    tie_break : {"next", "first"}
    chunk_size : int, default 1024
    backend : {"numpy", "dask"}
    scheduler : optional
    cancel : threading.Event, callable or None
        Polled between chunks (numpy backend); once set,
        :class:`~superres_widgets.s3dxrd.ComputationCancelled` is raised
        (conventions rule 5).
    beam_weighting : bool, default True
        As for :func:`completeness`.
    scorer : {"nprime", "likelihood"}, default "nprime"
        How a target's candidate is chosen: the paper's largest N' (ties by
        ``tie_break``) or the model-based scorer of
        :mod:`~superres_widgets.s3dxrd.scoring` (detection and spurious
        rates estimated from the data, beam-weighted, Potts prior).
    scorer_options : dict, optional
        Keyword arguments of
        :func:`~superres_widgets.s3dxrd.scoring.likelihood_scores`
        (``window_deg``, ``prior_width``, ``passes``, ``smoothing``,
        ``top_k``, ``centres_um``).
    keep_n_prime : bool, default True
        Keep ``N'`` of every candidate (``n_prime``, ``n x n_c``); with
        ``False`` and the likelihood scorer only the chosen candidate's N'
        is computed (large maps).
    prune : bool, optional
        N' (``scorer="nprime"``) tile by tile with only the candidates whose
        grain can reach the tile (:mod:`~superres_widgets.s3dxrd.tiles`);
        ``n_prime`` is then empty.  Default: when ``n_targets * n_candidates``
        exceeds 5e6 (a 1 mm specimen, not the paper's).
    tile : int, default 64
        Tile side in targets (``prune``); one Dask task per tile.

    Returns
    -------
    OrientationMap

    Examples
    --------
    >>> r = reconstruct_phantom(diameter_um=40, n_grains=4, seed=1)  # doctest: +SKIP
    >>> orientation_map(r.data, r.table, 2).spacing_um                # doctest: +SKIP
    2.0
    """
    s = _check_subdivision(subdivision)
    if count not in ("reflection", "hkl"):
        raise ValueError(f"count must be 'reflection' or 'hkl', got {count!r}")
    if tie_break not in ("next", "first"):
        raise ValueError(f"tie_break must be 'next' or 'first', got {tie_break!r}")
    _check_backend(backend)
    check_type(data, ScanData, "data")
    check_type(table, ObservationTable, "table")
    cs = _chunk_size(chunk_size)
    geom = data.geometry
    R = geom.x_range - 0.5 * geom.step if radius_um is None else _positive(radius_um, "radius_um")
    xs, ys, gxt, gyt, gidx = map_targets(geom.step, s, R)
    _check_expected(expected)
    if scorer not in ("nprime", "likelihood"):
        raise ValueError(f"scorer must be 'nprime' or 'likelihood', got {scorer!r}")
    nc = table.n_candidates
    model = None
    if prune is None:
        prune = xs.size * nc > 5e6
    if scorer == "nprime" and prune:
        from .tiles import pruned_nprime_map

        cand, comp = pruned_nprime_map(table, geom, xs, ys, gidx, count=count, expected=expected,
                                       tie_break=tie_break, beam_weighting=beam_weighting, tile=int(tile),
                                       backend=backend, scheduler=scheduler, cancel=cancel)
        n1 = np.zeros((xs.size, 0))
        conf = comp
    elif scorer == "nprime":
        kern = _ChunkKernel(table, geom, count, tie_break == "next", expected, beam_weighting)
        out = _run_chunks(kern, xs, ys, nc + 1, cs, backend, scheduler, cancel)
        n1 = out[:, :nc]
        cand = out[:, nc].astype(np.int64)
        comp = np.where(cand >= 0, n1[np.arange(xs.size), np.maximum(cand, 0)], 0.0)
        conf = comp
    else:
        from .scoring import likelihood_scores, potts_icm

        opts = dict(scorer_options or {})
        opts.setdefault("backend", backend)
        opts.setdefault("scheduler", scheduler)
        sc = likelihood_scores(table, geom, xs, ys, beam_weighting=beam_weighting, cancel=cancel, **opts)
        cand = potts_icm(sc, gidx, sc.model.smoothing)
        conf = sc.confidence(cand)
        model = sc.model
        if keep_n_prime and not prune:
            kern = _ChunkKernel(table, geom, count, False, expected, beam_weighting)
            n1 = _run_chunks(kern, xs, ys, nc + 1, cs, backend, scheduler, cancel)[:, :nc]
            comp = np.where(cand >= 0, n1[np.arange(xs.size), np.maximum(cand, 0)], 0.0)
        else:
            n1 = np.zeros((xs.size, 0))
            from .tiles import chosen_completeness

            comp = chosen_completeness(table, geom, xs, ys, cand, count, expected, beam_weighting, cancel)
    return OrientationMap(
        subdivision=s,
        spacing_um=geom.step / s,
        xs=xs,
        ys=ys,
        grid_x=gxt,
        grid_y=gyt,
        grid_index=gidx,
        candidate=cand,
        completeness=comp,
        n_prime=n1,
        U=table.U,
        count=count,
        tie_break=tie_break,
        expected=expected,
        scorer=scorer,
        confidence=np.asarray(conf, dtype=float),
        model=model,
    )

