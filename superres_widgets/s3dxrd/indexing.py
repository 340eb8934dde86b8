r"""Global indexing of s3DXRD peaks and ImageD11 grain files.

Finds the candidate grain orientations of Kim, Hayashi & Yabashi (2023),
section 3 ("the most probable orientation ... is selected from the
candidates"), from the peaks of *all* frames, without the grain identity:
the classic pair-of-reflections search of 3DXRD multigrain indexing
(ImageD11 ``indexing``, GrainSpotter; Sørensen et al. 2012).  Candidates can
also come from the user, e.g. an ImageD11 grain file.

Conventions
-----------
Checked in ``tests/test_s3dxrd_recon_indexing.py``.

1. **Spots.**  The same diffraction event is recorded in every frame whose
   beam lights the grain, so peaks are first merged into *spots*: connected
   components of peaks on the same ring linked when ``|d eta|`` and
   ``|d omega|`` are both at most ``merge_deg`` (default 0.05 deg; use about
   3 sigma of the angular noise).  Duplicates that survive the merge only
   add votes.

2. **Scattering vectors** of spots in the sample frame from ``(2 theta,
   eta, omega)`` by :func:`~superres_widgets.s3dxrd.crystal.scattering_vectors`
   (crystal module rules 4-6).

3. **Pairs.**  Spots on two *index rings* (default: the two rings of lowest
   multiplicity among the first four, {200} and {111} for fcc) are paired;
   a pair whose angle matches, within ``angle_tol_deg``, the angle between
   the ring's representative ``h1`` and a reflection ``h2`` of the other
   ring gives one orientation per such ``h2`` (TRIAD: ``U`` takes the
   orthonormal frame of ``(B h1, B h2)`` onto that of ``(g1, g2)``).

4. **Votes.**  Orientations within ``cluster_tol_deg`` of each other (cubic
   misorientation, crystal rule 9) vote for each other; a true grain gets
   hundreds of votes, a wrong pair a few.

5. **Verification.**  In order of decreasing votes, an orientation is
   refined (Kabsch fits of ``U B h`` to the matched ``g``, the first with
   three times the tolerances) and kept when its *spot completeness* --
   predicted events in the scanned omega range with a spot on the same ring
   within ``eta_tol_deg`` and ``omega_tol_deg``, over all predicted events
   -- is at least ``min_completeness`` and it is more than ``distinct_deg``
   from every kept orientation.  A kept orientation retires every
   orientation within ``cluster_tol_deg`` of its start and of its refined
   value; a rejected one only those within ``0.2 cluster_tol_deg`` of it (a
   slightly wrong member of a true grain's cluster -- a pair with a
   coincident spot of another grain -- must not retire the cluster).
   Finally the kept orientations claim their matched spots in order of
   decreasing completeness, and one whose events on still unclaimed spots
   fall below ``min_completeness`` is dropped (a "ghost" made of the spots
   of several true grains).

6. **Matching** (:func:`match_peaks`, also used per sub-pixel): a predicted
   event and a peak match when the ring is equal, ``|d omega| <= tol`` and
   the wrapped ``|d eta| <= tol``.  No wrap-around is made at the ends of
   the omega range.

7. **ImageD11 grain files** (``.map`` / ``.ubi``): :mod:`~superres_widgets.s3dxrd.grainfile`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .conventions import check_cancel, check_type
from .conventions import finite_scalar as _finite
from .conventions import quat_mul as _quat_mul
from .conventions import quaternions as _quaternions
from .crystal import (
    ReflectionSet,
    _sym_quats,
    misorientation_table,
    predict_reflections,
    scattering_vectors,
)
from .forward import ScanData
from .grainfile import (  # noqa: F401 - the grain-file reader used to live here
    GrainFile,
    GrainFileError,
    orientations_from_grain_file,
    read_grain_file,
)

__all__ = [
    "IndexingResult",
    "Spots",
    "index_peaks",
    "match_peaks",
    "merge_spots",
    "refine_orientation",
    "PeakIndex",
]

from .matching import (  # noqa: E402,F401 - the matching used to live here
    _KEY_OFFSET,
    _MATCH_BLOCK,
    PeakIndex,
    _match_sorted,
    _peaks,
    _tolerance,
    _wrap180,
    match_peaks,
)


# ---------------------------------------------------------------------------
# spots
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Spots:
    """Peaks merged over frames (module rule 1).

    Attributes
    ----------
    ring : ndarray of int, (n,)
    eta_deg, omega_deg, tth_deg : ndarray, (n,)
        Mean angles of the merged peaks.
    count : ndarray of int, (n,)
        Number of peaks (frames) merged.
    g : ndarray, (n, 3)
        Unit scattering vectors in the sample frame (module rule 2).
    """

    ring: np.ndarray
    eta_deg: np.ndarray
    omega_deg: np.ndarray
    tth_deg: np.ndarray
    count: np.ndarray
    g: np.ndarray
    _index: PeakIndex | None = dataclasses.field(default=None, init=False, repr=False)

    @property
    def n_spots(self) -> int:
        return int(self.ring.size)

    @property
    def index(self) -> PeakIndex:
        """The spots sorted once for matching (:class:`PeakIndex`), built on first use."""
        if self._index is None:
            object.__setattr__(self, "_index", PeakIndex(self.ring, self.eta_deg, self.omega_deg))
        return self._index


def merge_spots(data: ScanData, merge_deg: float = 0.05, cancel: Any = None) -> Spots:
    """Merge the peaks of all frames into spots (module rule 1).

    Peaks of one ring are linked when ``|d eta|`` and ``|d omega|`` are both
    at most ``merge_deg`` (``eta`` wrapped); a spot is a connected component
    of links, with the mean angles of its peaks.  ``cancel``: conventions
    rule 5.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    check_type(data, ScanData, "data")
    q = _tolerance(merge_deg, "merge_deg")
    n = data.n_peaks
    if n == 0:
        z = np.zeros(0)
        return Spots(np.zeros(0, dtype=np.int64), z, z, z, np.zeros(0, dtype=np.int64), np.zeros((0, 3)))
    # links: same ring, |d omega| <= q, wrapped |d eta| <= q (match_peaks).  A
    # reflection seen at several scan positions gives identical peaks: link
    # the distinct (ring, eta, omega) only (the same components, far fewer pairs)
    rows = np.stack([data.ring.astype(float), data.eta_deg, data.omega_deg], axis=1)
    urows, uinv = np.unique(rows, axis=0, return_inverse=True)
    uinv = uinv.ravel()
    r, e, w = urows[:, 0].astype(np.int64), urows[:, 1], urows[:, 2]
    pi, oi = match_peaks(r, e, w, r, e, w, q, q, cancel=cancel)
    keep = pi < oi
    m = urows.shape[0]
    graph = coo_matrix((np.ones(int(keep.sum()), dtype=np.int8), (pi[keep], oi[keep])), shape=(m, m))
    check_cancel(cancel, "merge_spots")
    n_sp, uc = connected_components(graph, directed=False)
    # number the spots by their first peak, as on the full peak graph
    inv = uc[uinv]
    first_peak = np.full(n_sp, n, dtype=np.int64)
    np.minimum.at(first_peak, inv, np.arange(n))
    rank = np.empty(n_sp, dtype=np.int64)
    rank[np.argsort(first_peak, kind="stable")] = np.arange(n_sp)
    inv = rank[inv]
    cnt = np.bincount(inv, minlength=n_sp)
    ring = np.zeros(n_sp, dtype=np.int64)
    ring[inv] = data.ring
    first = np.full(n_sp, -1, dtype=np.int64)
    first[inv[::-1]] = np.arange(n)[::-1]
    e_ref = data.eta_deg[first]
    de = _wrap180(data.eta_deg - e_ref[inv])
    eta = e_ref + np.bincount(inv, weights=de, minlength=n_sp) / cnt
    eta = 180.0 - np.mod(180.0 - eta, 360.0)
    om = np.bincount(inv, weights=data.omega_deg, minlength=n_sp) / cnt
    tth = data.reflections.ring_tth_deg[ring]
    g = scattering_vectors(tth, eta, om)
    return Spots(ring=ring, eta_deg=eta, omega_deg=om, tth_deg=tth, count=cnt.astype(np.int64), g=g)


# ---------------------------------------------------------------------------
# orientation refinement
# ---------------------------------------------------------------------------
def _kabsch(c: np.ndarray, g: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Rotation ``U`` minimising ``sum w |U c_i - g_i|^2`` (unit vectors)."""
    H = (g * (1.0 if w is None else w[:, None])).T @ c
    W, _, Vt = np.linalg.svd(H)
    d = np.sign(np.linalg.det(W @ Vt))
    return W @ np.diag([1.0, 1.0, d]) @ Vt


def _predict_and_match(
    U: np.ndarray, refl: ReflectionSet, spots: Spots, w0: float, wr: float, te: float, tw: float
) -> tuple[Any, np.ndarray, np.ndarray]:
    pred = predict_reflections(U, refl, w0, wr)
    pi, oi = spots.index.match(pred.ring, pred.eta_deg, pred.omega_deg, te, tw)  # sorted once per run
    return pred, pi, oi


def refine_orientation(
    U: Any,
    spots: Spots,
    reflections: ReflectionSet,
    omega_start_deg: float = 0.0,
    omega_range_deg: float = 180.0,
    eta_tol_deg: float = 0.5,
    omega_tol_deg: float = 0.5,
    n_iter: int = 3,
    coarse: float = 3.0,
) -> tuple[np.ndarray, int, int]:
    """Refine an orientation on the spots it indexes (module rule 5).

    ``n_iter`` Kabsch fits, the first with the tolerances times ``coarse``
    (so a start up to a degree or two off still finds its spots), the others
    with the given tolerances; each predicted event uses its nearest spot.

    Returns
    -------
    U : ndarray (3, 3)
        Refined orientation (unchanged if fewer than 2 spots match).
    n_matched : int
        Predicted events with at least one matching spot within the given
        tolerances (each counted once).
    n_expected : int
        Predicted events in the omega range.
    """
    from ..validate import check_int
    from .orientation import _rotations

    U = _rotations(U, "U")
    check_type(spots, Spots, "spots")
    check_type(reflections, ReflectionSet, "reflections")
    n_iter = check_int(n_iter, "n_iter", 1, 100)
    coarse = _finite(coarse, "coarse")
    if not 1 <= coarse <= 100:
        raise ValueError(f"coarse must be in [1, 100], got {coarse!r}")
    eta_tol_deg = _tolerance(eta_tol_deg, "eta_tol_deg")
    omega_tol_deg = _tolerance(omega_tol_deg, "omega_tol_deg")
    Bm = reflections.B
    for it in range(n_iter):
        f = coarse if it == 0 else 1.0
        pred, pi, oi = _predict_and_match(
            U, reflections, spots, omega_start_deg, omega_range_deg, f * eta_tol_deg, f * omega_tol_deg
        )
        if np.unique(pi).size < 2:
            break
        # the nearest spot per predicted event
        d = np.abs(_wrap180(pred.eta_deg[pi] - spots.eta_deg[oi]))
        d += np.abs(pred.omega_deg[pi] - spots.omega_deg[oi])
        o = np.lexsort((d, pi))
        first = np.ones(o.size, dtype=bool)
        first[1:] = pi[o][1:] != pi[o][:-1]
        pi_b, oi_b = pi[o][first], oi[o][first]
        h = reflections.hkl[pred.hkl_index[pi_b]].astype(float)
        c = h @ Bm.T
        c /= np.linalg.norm(c, axis=1, keepdims=True)
        U = _kabsch(c, spots.g[oi_b])
    pred, pi, oi = _predict_and_match(
        U, reflections, spots, omega_start_deg, omega_range_deg, eta_tol_deg, omega_tol_deg
    )
    return U, int(np.unique(pi).size), int(pred.n_events)


# ---------------------------------------------------------------------------
# global indexing
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class IndexingResult:
    """Candidate orientations found by :func:`index_peaks`.

    Attributes
    ----------
    U : ndarray, (n, 3, 3)
        Refined candidate orientations, in order of discovery (most votes
        first).
    completeness : ndarray, (n,)
        Spot completeness ``n_matched / n_expected`` (module rule 5).
    n_matched, n_expected, votes : ndarray of int, (n,)
    spots : Spots
        The merged spots used.
    index_rings : tuple of int
    n_pairs : int
        Spot pairs whose angle matched (orientations generated).
    n_tested : int
        Orientations refined and scored.
    """

    U: np.ndarray
    completeness: np.ndarray
    n_matched: np.ndarray
    n_expected: np.ndarray
    votes: np.ndarray
    spots: Spots
    index_rings: tuple[int, ...]
    n_pairs: int
    n_tested: int

    @property
    def n_candidates(self) -> int:
        return int(self.U.shape[0])


def _default_rings(refl: ReflectionSet) -> tuple[int, ...]:
    first = np.arange(min(4, refl.n_rings))
    if first.size == 0:
        raise ValueError("reflections: no ring below tth_max_deg; raise tth_max_deg or the energy")
    order = first[np.argsort(refl.ring_multiplicity[first], kind="stable")]
    return tuple(int(r) for r in sorted(order[:2]))


def _frames(v1: np.ndarray, v2: np.ndarray) -> np.ndarray:
    """Orthonormal frames (..., 3, 3) whose columns are t1 || v1, t3 || v1 x v2."""
    t1 = v1 / np.linalg.norm(v1, axis=-1, keepdims=True)
    t3 = np.cross(v1, v2)
    t3 /= np.linalg.norm(t3, axis=-1, keepdims=True)
    t2 = np.cross(t3, t1)
    return np.stack([t1, t2, t3], axis=-1)


def _pair_orientations(
    spots: Spots,
    refl: ReflectionSet,
    rings: tuple[int, ...],
    angle_tol_deg: float,
    same_ring_pairs: bool,
    cancel: Any = None,
) -> np.ndarray:
    Bm = refl.B
    out: list[np.ndarray] = []
    tol = math.radians(angle_tol_deg)
    ring_pairs = []
    for a in rings:
        for b in rings:
            if a < b or (a == b and same_ring_pairs):
                ring_pairs.append((a, b))
    if len(rings) == 1 and not same_ring_pairs:
        ring_pairs = [(rings[0], rings[0])]
    for ra, rb in ring_pairs:
        ia = np.nonzero(spots.ring == ra)[0]
        ib = np.nonzero(spots.ring == rb)[0]
        if ia.size == 0 or ib.size == 0:
            continue
        h1 = refl.hkl[np.nonzero(refl.ring == ra)[0][0]].astype(float)
        H2 = refl.hkl[refl.ring == rb].astype(float)
        c1 = Bm @ h1
        C2 = H2 @ Bm.T
        cosv = (C2 @ c1) / (np.linalg.norm(C2, axis=1) * np.linalg.norm(c1))
        keep = np.abs(cosv) < 1 - 1e-9
        H2, C2, cosv = H2[keep], C2[keep], cosv[keep]
        ang = np.arccos(np.clip(cosv, -1, 1))
        classes = np.unique(np.round(ang, 9))
        Ga, Gb = spots.g[ia], spots.g[ib]
        cosm = np.clip(Ga @ Gb.T, -1, 1)
        angm = np.arccos(cosm)
        for th in classes:
            check_cancel(cancel, "index_peaks")
            sel = np.abs(angm - th) <= tol
            if ra == rb:
                sel = np.triu(sel, 1)
            pa, pb = np.nonzero(sel)
            if pa.size == 0:
                continue
            Tg = _frames(Ga[pa], Gb[pb])  # (p, 3, 3)
            members = np.nonzero(np.abs(ang - th) < 1e-6)[0]
            Tc = _frames(np.broadcast_to(c1, (members.size, 3)), C2[members])  # (m, 3, 3)
            U = np.einsum("pij,mkj->pmik", Tg, Tc).reshape(-1, 3, 3)
            out.append(U)
    if not out:
        return np.zeros((0, 3, 3))
    return np.concatenate(out)


def _fundamental_zone(
    q: np.ndarray, S: np.ndarray, reach_deg: float, cancel: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Symmetry-reduced quaternions for neighbour searches (module rule 4).

    ``canon``: each orientation's equivalent of smallest rotation angle
    (``w >= 0``).  ``points`` / ``owner``: ``canon`` plus the other
    equivalents whose angle is within ``2 reach_deg`` of the smallest, so that
    two orientations within ``reach_deg`` of each other always have
    equivalents that close (near the zone's faces) -- a tree of about ``N``
    points instead of the ``48 N`` of every equivalent and sign.
    """
    n = q.shape[0]
    canon = np.empty((n, 4))
    pts: list[np.ndarray] = []
    own: list[np.ndarray] = []
    lim = math.radians(2.0 * reach_deg) + 1e-9
    for a in range(0, n, 65536):
        check_cancel(cancel, "index_peaks")
        img = _quat_mul(q[a : a + 65536, None, :], S[None, :, :])  # (b, 24, 4)
        img *= np.where(img[..., :1] < 0, -1.0, 1.0)
        ang = 2.0 * np.arccos(np.clip(img[..., 0], -1.0, 1.0))
        best = np.argmin(ang, axis=1)
        rows = np.arange(img.shape[0])
        canon[a : a + img.shape[0]] = img[rows, best]
        keep = ang <= ang[rows, best][:, None] + lim
        pts.append(img[keep])
        own.append(a + np.nonzero(keep)[0])
    return canon, np.concatenate(pts), np.concatenate(own).astype(np.int64)


def index_peaks(
    data: ScanData,
    *,
    index_rings: Any = None,
    angle_tol_deg: float = 0.5,
    eta_tol_deg: float = 0.5,
    omega_tol_deg: float = 0.5,
    cluster_tol_deg: float = 1.0,
    min_votes: int = 3,
    min_completeness: float = 0.5,
    distinct_deg: float = 3.0,
    max_candidates: int | None = None,
    max_failures: int = 200,
    merge_deg: float = 0.05,
    same_ring_pairs: bool = False,
    cancel: Any = None,
) -> IndexingResult:
    r"""Find candidate orientations from all peaks of a scan (module rules 1-5).

    Parameters
    ----------
    data : ScanData
    index_rings : sequence of int, optional
        Rings whose spots are paired; default the two of lowest multiplicity
        among the first four.
    angle_tol_deg : float, default 0.5
        Tolerance on the angle between the two scattering vectors of a pair.
    eta_tol_deg, omega_tol_deg : float, default 0.5
        Spot matching tolerances (module rule 6).
    cluster_tol_deg : float, default 1
        Orientations this close vote for each other (module rule 4).
    min_votes : int, default 3
        Orientations with fewer votes are not tested.
    min_completeness : float, default 0.5
        Smallest spot completeness of a kept candidate, also on the spots
        not claimed by better candidates (module rule 5).
    distinct_deg : float, default 3
        Smallest misorientation between two kept candidates.
    max_candidates : int, optional
        Stop after this many candidates.
    max_failures : int, default 200
        Stop after this many rejected orientations in a row.
    merge_deg : float, default 0.05
        Spot merge grid (module rule 1).
    same_ring_pairs : bool, default False
        Also pair spots of the same ring.
    cancel : threading.Event, callable or None
        Polled between tested orientations; once set,
        :class:`~superres_widgets.s3dxrd.ComputationCancelled` is raised
        (conventions rule 5).

    Returns
    -------
    IndexingResult

    Notes
    -----
    This is a search over the data, with no knowledge of the phantom: only
    the rings (the phase), the scanned omega range and the peaks are used.
    """
    from scipy.spatial import cKDTree

    if not isinstance(data, ScanData):
        raise ValueError(f"data must be ScanData, got {type(data).__name__}")
    refl = data.reflections
    rings = _default_rings(refl) if index_rings is None else tuple(int(r) for r in index_rings)
    if not rings:
        raise ValueError("index_rings must name at least one ring")
    for r in rings:
        if not 0 <= r < refl.n_rings:
            raise ValueError(f"index_rings: ring {r} does not exist (0..{refl.n_rings - 1})")
    from ..validate import check_int, check_number

    at = _tolerance(angle_tol_deg, "angle_tol_deg")
    te = _tolerance(eta_tol_deg, "eta_tol_deg")
    tw = _tolerance(omega_tol_deg, "omega_tol_deg")
    ct = _tolerance(cluster_tol_deg, "cluster_tol_deg")
    mc = float(check_number(min_completeness, "min_completeness", lo=0, hi=1))
    dd = float(check_number(distinct_deg, "distinct_deg", lo=0, hi=180))
    min_votes = check_int(min_votes, "min_votes", 1)
    max_failures = check_int(max_failures, "max_failures", 1)
    if max_candidates is not None:
        max_candidates = check_int(max_candidates, "max_candidates", 1)
    w0, wr = data.omega_start_deg, data.omega_range_deg

    spots = merge_spots(data, merge_deg, cancel=cancel)
    check_cancel(cancel, "index_peaks")
    Us = _pair_orientations(spots, refl, rings, at, same_ring_pairs, cancel)
    check_cancel(cancel, "index_peaks")
    n_pairs = int(Us.shape[0])
    empty = IndexingResult(
        U=np.zeros((0, 3, 3)),
        completeness=np.zeros(0),
        n_matched=np.zeros(0, dtype=np.int64),
        n_expected=np.zeros(0, dtype=np.int64),
        votes=np.zeros(0, dtype=np.int64),
        spots=spots,
        index_rings=rings,
        n_pairs=n_pairs,
        n_tested=0,
    )
    if n_pairs == 0:
        return empty
    S = _sym_quats(refl.phase)  # (n_sym, 4): the phase's Laue group
    canon, pts, owner = _fundamental_zone(_quaternions(Us), S, ct, cancel)
    tree = cKDTree(pts)
    r = 2.0 * math.sin(math.radians(ct) / 4.0)  # chord of a rotation by ct
    N = canon.shape[0]
    votes = np.empty(N, dtype=np.int64)
    for a in range(0, N, 8192):  # blocks: cancellable
        check_cancel(cancel, "index_peaks")
        votes[a : a + 8192] = tree.query_ball_point(canon[a : a + 8192], r, return_length=True)

    order = np.argsort(-votes, kind="stable")
    retired = np.zeros(N, dtype=bool)
    kept_U: list[np.ndarray] = []
    kept_c: list[float] = []
    kept_m: list[int] = []
    kept_e: list[int] = []
    kept_v: list[int] = []
    n_tested = 0
    failures = 0

    r_fail = 2.0 * math.sin(math.radians(0.2 * ct) / 4.0)

    def retire(Uq: np.ndarray, radius: float) -> None:
        qq = _fundamental_zone(_quaternions(Uq)[None], S, 0.0)[0][0]
        idx = np.asarray(tree.query_ball_point(qq, radius), dtype=np.int64)
        if idx.size:
            retired[owner[idx]] = True

    for n in order:
        check_cancel(cancel, "index_peaks")
        if votes[n] < min_votes:
            break
        if retired[n]:
            continue
        if max_candidates is not None and len(kept_U) >= max_candidates:
            break
        n_tested += 1
        U1, nm, ne = refine_orientation(Us[n], spots, refl, w0, wr, te, tw)
        comp = nm / ne if ne else 0.0
        ok = comp >= mc
        if ok and kept_U:
            ok = misorientation_table(U1[None], np.array(kept_U), refl.phase).min() > dd
        if ok:
            retire(Us[n], r)
            retire(U1, r)
            kept_U.append(U1)
            kept_c.append(comp)
            kept_m.append(nm)
            kept_e.append(ne)
            kept_v.append(int(votes[n]))
            failures = 0
        else:
            # retire only the close neighbourhood: a slightly wrong member of
            # a true grain's cluster must not take the cluster down with it
            retire(Us[n], r_fail)
            failures += 1
            if failures >= max_failures:
                break
    if not kept_U:
        return dataclasses.replace(empty, n_tested=n_tested)
    # final pass (rule 5): spots are claimed in order of completeness; a
    # candidate must index min_completeness of its events on unclaimed spots
    claimed = np.zeros(spots.n_spots, dtype=bool)
    keep = np.zeros(len(kept_U), dtype=bool)
    for i in np.argsort(-np.array(kept_c), kind="stable"):
        pred, pi, oi = _predict_and_match(kept_U[i], refl, spots, w0, wr, te, tw)
        free = ~claimed[oi]
        n_free = np.unique(pi[free]).size
        if pred.n_events and n_free / pred.n_events >= mc:
            keep[i] = True
            claimed[oi] = True
    idx = np.nonzero(keep)[0]
    return IndexingResult(
        U=np.array(kept_U)[idx],
        completeness=np.array(kept_c)[idx],
        n_matched=np.array(kept_m, dtype=np.int64)[idx],
        n_expected=np.array(kept_e, dtype=np.int64)[idx],
        votes=np.array(kept_v, dtype=np.int64)[idx],
        spots=spots,
        index_rings=rings,
        n_pairs=n_pairs,
        n_tested=n_tested,
    )
