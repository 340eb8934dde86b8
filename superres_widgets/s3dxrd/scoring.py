r"""A model-based sub-pixel scorer that survives imperfect s3DXRD data.

The paper's rule (Kim, Hayashi & Yabashi 2023, section 3) gives a target
``p`` the candidate of largest completeness ``N' = N / M`` over the frames
that see ``p``.  On ideal data the true grain has ``N' = 1`` and so does every
neighbour whose *shadow* covers ``p``: ties, resolved by
:mod:`~superres_widgets.s3dxrd.nprime`'s next-nearest tie-break.  With 80 %
detection, angular noise and spurious peaks the ties become noisy
comparisons of ``0.8 +- 0.04`` and both rules lose (about 86 % of the
sub-pixels right on the realistic scan).

This scorer (``scorer="likelihood"``) asks instead *where is the grain*:
every predicted reflection ``e`` of a candidate ``c`` is looked up at every
scan position, and the positions where it is observed tell how far the grain
extends across the beam at the reflection's angle ``omega_e``.  A target is
scored by the probability that it lies inside those extents.

Model and conventions
---------------------
Checked in ``tests/test_s3dxrd_scoring.py``.

1. **Extent of a reflection.**  At its angle ``omega_e`` the grain covers
   ``u in [alpha, beta]`` across the beam (``u = xs cos w - ys sin w``,
   geometry rule 2).  A frame at position ``X_k`` records the reflection
   when the beam's core (width ``b_core``: the box width, else the width at
   half maximum of the profile) meets the grain, i.e. for the contiguous run
   of positions ``lo..hi`` with ``beta`` in
   ``[X_hi - b_core/2, X_hi+1 - b_core/2)`` and ``alpha`` in
   ``(X_lo-1 + b_core/2, X_lo + b_core/2]``; inside the run a record is
   present with the **detection probability** ``p1``, outside with the
   **spurious probability** ``p0`` (spurious peaks, other grains' peaks that
   happen to match).  Beyond the core a profile with tails records with
   ``p0 + (p1 - p0) w(d)``, ``d`` the distance of the frame's centre line
   from the expected grain edge (beam weighting; none for a box).

2. **Posterior of the run** over ``(lo, hi)`` for every reflection, from
   its row of the observation table ``obs[e, :]`` (any position, reflection
   rule 3 of :mod:`~superres_widgets.s3dxrd.nprime`), with priors that use
   only the data:

   a. a **grain-centre prior**: the centre ``(x0, y0)`` of the candidate is
      fitted to all its observed ``(omega_e, X_k)`` by robust least squares
      (``X = x0 cos w - y0 sin w``, Tukey biweight; the grain-file
      translation is the start when given), the run's centre is Gaussian
      about it with the 95th percentile of the residuals as width.  This
      sends the runs of *another* grain that happen to match a reflection
      to the background;
   b. a **support-function prior**: a grain's extreme ``beta(omega)`` (its
      support function, with ``alpha(omega) = -beta(omega + 180)``) changes
      smoothly with the angle, so each reflection's ``beta`` is predicted
      by a local linear fit (leave-one-out) of the posterior means of the
      candidate's other reflections within ``window_deg`` (default 8 deg),
      and its run prior is Gaussian about the prediction, width
      ``prior_width`` scan steps (default 0.5).  A record missed at the
      edge of the grain (20 % of them at ``p1 = 0.8``) is filled in by the
      neighbouring angles.  Applied ``passes`` times (default 2).

   Reflections observed at no position are left out (a weak reflection, as
   ``expected="observed"`` of the N' maps); so are reflections in a gap of
   an omega list.

3. **p1 and p0 are estimated from the data** by expectation-maximisation
   over all reflections of all candidates (3 iterations under prior a):
   ``p1`` = expected records inside the runs / expected run lengths,
   ``p0`` = the rest / the rest of the table.  No simulation parameter is
   read (a test proves it with a phantom that raises when touched).

4. **Inside probability.**  Given the run, ``beta`` and ``alpha`` are
   uniform in their bands, so ``P(u <= beta) = (top - u) / (top - bottom)``
   clipped to ``[0, 1]`` (a ramp over the band), likewise for ``alpha``;
   ``P_e(u)`` sums the product of the two ramps over the posterior of the
   run (tabulated every 1/16 step).

5. **Score** of candidate ``c`` at target ``p``:
   ``S(p, c) = sum_e log(eps + P_e(u_p(omega_e)))`` over its reflections
   (``eps = 1e-6``).  A candidate is scored only within its disc
   (fitted centre, radius = residual spread + 2 steps + the beam); outside
   it has ``S = -inf``.  The **confidence** of the chosen candidate is its
   softmax weight among the best ``top_k`` scores of the target.

6. **Spatial prior** (Potts): the map maximises
   ``sum_p S(p, L_p) - beta sum_{p~q} [L_p != L_q]`` over 4-neighbour pairs
   by iterated conditional modes (checkerboard sweeps, at most 20) started
   from the per-target argmax; ``beta`` (``smoothing``, default 1 nat per
   unlike pair) is small next to the score differences across a boundary
   (tens of nats), so it removes isolated sub-pixels without moving
   boundaries.  ``smoothing=0`` is the plain argmax.

The scorer has no notion of the true grain map: its inputs are the
observation table (candidates' predicted reflections matched to the peaks),
the scan geometry and the targets.

References
----------
.. [1] Kim, Hayashi & Yabashi (2023), J. Synchrotron Rad., sections 3-5.
.. [2] J. Besag (1986), On the statistical analysis of dirty pictures,
   J. R. Stat. Soc. B 48, 259-302 (iterated conditional modes).
.. [3] A. P. Dempster, N. M. Laird & D. B. Rubin (1977), J. R. Stat. Soc. B
   39, 1-38 (expectation-maximisation).

Examples
--------
>>> r = reconstruct_phantom(diameter_um=40, n_grains=4, seed=1, scorer="likelihood")  # doctest: +SKIP
>>> r.subpixel.scorer, 0.5 < r.subpixel.model.detection_probability <= 1  # doctest: +SKIP
('likelihood', True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .conventions import check_cancel
from .conventions import finite_scalar as _finite
from .conventions import positive_scalar as _positive
from ._scoring_runs import (_bands, _Candidate, _centre_prior, _em_counts, _inside_table, _posterior,
                            _score_targets, _support_prior, _tail_terms)

if TYPE_CHECKING:  # pragma: no cover
    from .geometry import ScanGeometry
    from .nprime import ObservationTable

__all__ = ["SCORERS", "LikelihoodModel", "LikelihoodScores", "likelihood_scores", "potts_icm", "core_width"]

#: Sub-pixel scorers of :func:`~superres_widgets.s3dxrd.orientation_map`.
SCORERS: tuple[str, ...] = ("nprime", "likelihood")

_NEG = -1e30


def core_width(profile: Any, width: float) -> float:
    """Width of the beam's core (rule 1): the box width, else where ``w >= 1/2``.

    Examples
    --------
    >>> from superres_widgets.s3dxrd import get_beam_profile
    >>> core_width(get_beam_profile("box"), 4.0)
    4.0
    """
    from .beam import get_beam_profile

    profile = get_beam_profile(profile)
    width = _positive(width, "width")
    s = float(profile.support(width))
    d = np.linspace(0.0, s, 4097)
    w = np.asarray(profile.weight(d, width), dtype=float)
    above = np.nonzero(w >= 0.5)[0]
    return float(2.0 * d[above[-1]]) if above.size else float(width)


@dataclass(frozen=True, eq=False)
class LikelihoodModel:
    """What the scorer estimated from the data (rules 2-3).

    Attributes
    ----------
    detection_probability, spurious_probability : float
        ``p1`` and ``p0`` (rule 3).
    centres_um : ndarray, (n_c, 2)
        Fitted grain centre ``(xs, ys)`` of every candidate (rule 2a).
    radii_um : ndarray, (n_c,)
        Residual spread (about the grain radius).
    n_reflections : ndarray of int, (n_c,)
        Reflections used (observed somewhere, in a scanned bin).
    window_deg, prior_width, smoothing : float
    core_width : float
        ``b_core`` of rule 1.
    """

    detection_probability: float
    spurious_probability: float
    centres_um: np.ndarray
    radii_um: np.ndarray
    n_reflections: np.ndarray
    window_deg: float
    prior_width: float
    smoothing: float
    core_width: float


@dataclass(frozen=True, eq=False)
class LikelihoodScores:
    """Per-target scores (rule 5): the best ``top_k`` candidates of each target.

    Attributes
    ----------
    candidates : ndarray of int, (n, k)
        Candidate indices (``-1``: none), best first.
    scores : ndarray, (n, k)
        ``S(p, c)`` (``-1e30`` where none).
    model : LikelihoodModel
    """

    candidates: np.ndarray
    scores: np.ndarray
    model: LikelihoodModel

    def best(self) -> np.ndarray:
        """Per-target argmax of the score (``-1`` where no candidate is scored)."""
        return self.candidates[:, 0].copy()

    def confidence(self, labels: np.ndarray) -> np.ndarray:
        """Softmax weight of ``labels`` among the target's scored candidates (rule 5)."""
        s = self.scores
        m = s.max(axis=1, keepdims=True)
        with np.errstate(over="ignore", invalid="ignore"):
            p = np.exp(np.where(s > _NEG / 2, s - m, -np.inf))
            p /= np.maximum(p.sum(axis=1, keepdims=True), 1e-300)
        hit = self.candidates == np.asarray(labels)[:, None]
        return np.where(np.asarray(labels) >= 0, (p * hit).sum(axis=1), 0.0)


# ---------------------------------------------------------------------------
# the scorer
# ---------------------------------------------------------------------------
def _estimate_rates(cands: list, priors: list, tails: tuple, cancel: Any, iters: int = 3) -> tuple[float, float]:
    """Rule 3: ``p1`` and ``p0`` by expectation-maximisation over every candidate's runs (centre prior)."""
    p1, p0 = 0.9, 0.01
    for _ in range(iters):
        acc = np.zeros(4)
        for cd, prior in zip(cands, priors):
            if cd is None:
                continue
            check_cancel(cancel, "likelihood scorer")
            acc += _em_counts(cd, _posterior(cd, p1, p0, prior, _tail_terms(cd, p1, p0, *tails)))
        p1 = float(np.clip(acc[0] / max(acc[1], 1e-12), 1e-3, 1 - 1e-6))
        p0 = float(np.clip(acc[2] / max(acc[3], 1e-12), 1e-9, 0.5 * p1))
    return p1, p0


def _candidate_scores(cd, prior, bands, xs, ys, p1, p0, tails_prof, b, b_core, W, width, n_pass) -> np.ndarray:
    """Rules 2b-5 for one candidate at its disc's targets."""
    tails = _tail_terms(cd, p1, p0, tails_prof, b, b_core)
    post = _posterior(cd, p1, p0, prior, tails)
    for _ in range(n_pass):
        post = _posterior(cd, p1, p0, _support_prior(cd, post, bands, W, width), tails)
    tab = _inside_table(cd, post, bands)
    out = np.empty(xs.size)
    for a in range(0, xs.size, 4096):
        out[a : a + 4096] = _score_targets(cd, tab, xs[a : a + 4096], ys[a : a + 4096])
    return out


def _block_scores(args_list, model_args) -> list:
    """A Dask task: the scores of a block of candidates."""
    return [_candidate_scores(*args, *model_args) for args in args_list]


def _merge_topk(top_c, top_s, idx, cand, score):
    """Insert ``score`` of candidate ``cand`` at targets ``idx`` into the per-target top-k lists."""
    cur = top_s[idx]
    pos = np.argmin(cur, axis=1)
    better = score > cur[np.arange(idx.size), pos]
    ii = idx[better]
    top_s[ii, pos[better]] = score[better]
    top_c[ii, pos[better]] = cand


def likelihood_scores(
    table: ObservationTable,
    geometry: ScanGeometry,
    xs: Any,
    ys: Any,
    *,
    window_deg: float = 8.0,
    prior_width: float = 0.5,
    passes: int = 2,
    smoothing: float = 1.0,
    top_k: int = 6,
    centres_um: Any = None,
    beam_weighting: bool = True,
    backend: str = "numpy",
    scheduler: Any = None,
    n_blocks: int = 16,
    cancel: Any = None,
) -> LikelihoodScores:
    r"""Scores ``S(p, c)`` of the model-based scorer at targets ``(xs, ys)`` (module rules 1-5).

    .. math:: S(p, c) = \sum_{e \in c} \log\big(\epsilon + P_e(u_p(\omega_e))\big)

    Parameters
    ----------
    table : ObservationTable
        Candidates' reflections matched to the peaks
        (:func:`~superres_widgets.s3dxrd.observation_table`).
    geometry : ScanGeometry
        The scan (positions, beam profile and width).
    xs, ys : array_like, (n,)
        Targets in the specimen frame.
    window_deg : float, default 8
        Angular window of the support-function prior (rule 2b), ``> 0``.
    prior_width : float, default 0.5
        Its width in scan steps, ``> 0``.
    passes : int, default 2
        Support-function passes, ``>= 0`` (0: centre prior only).
    smoothing : float, default 1
        Stored in the model (used by :func:`potts_icm`), ``>= 0``.
    top_k : int, default 6
        Candidates kept per target.
    centres_um : array_like (n_c, 2), optional
        Start of the centre fits, e.g. a grain file's translations in the
        specimen frame (NaN rows: none).
    beam_weighting : bool, default True
        Tail terms of rule 1 (no effect for a box).
    backend : {"numpy", "dask"}, default "numpy"
        ``"dask"``: the candidates' scores (rules 2b-5) in ``n_blocks``
        ``dask.delayed`` tasks computed with ``scheduler`` (the local
        threads by default, or a ``distributed.Client``); the same numbers.
    scheduler : optional
    n_blocks : int, default 16
    cancel : threading.Event, callable or None
        Polled between candidates (numpy backend).

    Returns
    -------
    LikelihoodScores

    Examples
    --------
    >>> r = reconstruct_phantom(diameter_um=40, n_grains=4, seed=1)   # doctest: +SKIP
    >>> sc = likelihood_scores(r.table, r.geometry, r.subpixel.xs, r.subpixel.ys)  # doctest: +SKIP
    >>> sc.candidates.shape[0] == r.subpixel.n_targets                # doctest: +SKIP
    True
    """
    if backend not in ("numpy", "dask"):
        raise ValueError(f"backend must be 'numpy' or 'dask', got {backend!r}")
    W = _positive(window_deg, "window_deg")
    pw = _positive(prior_width, "prior_width")
    beta = _finite(smoothing, "smoothing")
    if beta < 0:
        raise ValueError(f"smoothing must be >= 0, got {smoothing!r}")
    from ..validate import check_int
    from .conventions import check_type, finite_array
    from .geometry import ScanGeometry
    from .nprime import ObservationTable

    check_type(table, ObservationTable, "table")
    check_type(geometry, ScanGeometry, "geometry")
    n_pass = check_int(passes, "passes", 0, 100)
    xs = finite_array(xs, "xs").ravel()
    ys = finite_array(ys, "ys").ravel()
    if xs.shape != ys.shape:
        raise ValueError(f"xs and ys must have the same length, got {xs.size} and {ys.size}")
    n = xs.size
    nc = table.n_candidates
    K = int(max(1, min(check_int(top_k, "top_k", 1, 10_000), nc)))
    X = np.asarray(geometry.x_positions, dtype=float)
    step = float(geometry.step)
    b = float(geometry.beam_width)
    prof = geometry.profile
    b_core = core_width(prof, b)
    tails_prof = prof if (beam_weighting and not prof.is_flat(b)) else None
    ev = table.events
    seen = table.observed.any(axis=1)
    if table.in_scan is not None:
        seen &= table.in_scan
    cen0 = None if centres_um is None else np.asarray(centres_um, dtype=float).reshape(nc, 2)
    groups = [np.nonzero((ev.orientation == c) & seen)[0] for c in range(nc)]
    cands: list[_Candidate | None] = []
    for c in range(nc):
        check_cancel(cancel, "likelihood scorer")
        e = groups[c]
        if e.size < 3:
            cands.append(None)
            continue
        c0 = None if cen0 is None or not np.all(np.isfinite(cen0[c])) else cen0[c]
        cands.append(_Candidate(table.observed[e], ev.omega_deg[e], X, step, c0))
    priors = [None if cd is None else _centre_prior(cd) for cd in cands]
    bands = [None if cd is None else _bands(cd, b_core) for cd in cands]
    p1, p0 = _estimate_rates(cands, priors, (tails_prof, b, b_core), cancel)
    top_c = np.full((n, K), -1, dtype=np.int64)
    top_s = np.full((n, K), _NEG)
    centres = np.full((nc, 2), np.nan)
    radii = np.full(nc, np.nan)
    n_refl = np.zeros(nc, dtype=np.int64)
    jobs = []
    for c, cd in enumerate(cands):
        if cd is None:
            continue
        r_disc = cd.spread + 2.0 * step + b
        idx = np.nonzero((xs - cd.centre[0]) ** 2 + (ys - cd.centre[1]) ** 2 <= r_disc * r_disc)[0]
        jobs.append((c, idx, (cd, priors[c], bands[c], xs[idx], ys[idx])))
        centres[c] = cd.centre
        radii[c] = cd.spread
        n_refl[c] = cd.omega.size
    model_args = (p1, p0, tails_prof, b, b_core, W, pw * step, n_pass)
    if backend == "numpy":
        for c, idx, args in jobs:
            check_cancel(cancel, "likelihood scorer")
            _merge_topk(top_c, top_s, idx, c, _candidate_scores(*args, *model_args))
    else:
        import dask

        blocks = [jobs[i :: max(1, int(n_blocks))] for i in range(max(1, int(n_blocks)))]
        tasks = [dask.delayed(_block_scores)([a for _, _, a in blk], model_args) for blk in blocks if blk]
        for blk, out in zip([bl for bl in blocks if bl], dask.compute(*tasks, scheduler=scheduler)):
            for (c, idx, _), score in zip(blk, out):
                _merge_topk(top_c, top_s, idx, c, score)
    order = np.argsort(-top_s, axis=1, kind="stable")
    top_s = np.take_along_axis(top_s, order, axis=1)
    top_c = np.take_along_axis(top_c, order, axis=1)
    model = LikelihoodModel(
        detection_probability=p1,
        spurious_probability=p0,
        centres_um=centres,
        radii_um=radii,
        n_reflections=n_refl,
        window_deg=W,
        prior_width=pw,
        smoothing=beta,
        core_width=b_core,
    )
    return LikelihoodScores(candidates=top_c, scores=top_s, model=model)


def potts_icm(
    scores: LikelihoodScores, grid_index: np.ndarray, smoothing: float = 1.0, max_sweeps: int = 20
) -> np.ndarray:
    r"""Labels maximising ``sum_p S(p, L_p) - beta sum_{p~q} [L_p != L_q]`` (module rule 6).

    Iterated conditional modes over the per-target top-k candidates, in two
    checkerboard colours per sweep (4-neighbour pairs on ``grid_index``,
    ``-1`` outside the specimen), started from the argmax.

    Parameters
    ----------
    scores : LikelihoodScores
    grid_index : ndarray of int, (ny, nx)
        Target index per grid cell (``OrientationMap.grid_index``).
    smoothing : float, default 1
        ``beta`` in nats per unlike neighbour pair, ``>= 0``.
    max_sweeps : int, default 20

    Returns
    -------
    ndarray of int, (n,)

    Examples
    --------
    >>> import numpy as np
    >>> sc = LikelihoodScores(np.array([[0, 1], [1, 0], [0, 1]]), np.array([[0., -1], [0., -0.5], [0., -1]]), None)
    >>> potts_icm(sc, np.array([[0, 1, 2]]), smoothing=1.0).tolist()
    [0, 0, 0]
    """
    from ..validate import check_int

    beta = _finite(smoothing, "smoothing")
    if beta < 0:
        raise ValueError(f"smoothing must be >= 0, got {smoothing!r}")
    max_sweeps = check_int(max_sweeps, "max_sweeps", 1, 10_000)
    lab = scores.best()
    if beta == 0 or lab.size == 0:
        return lab
    gi = np.asarray(grid_index)
    ny, nx = gi.shape
    rows, cols = np.nonzero(gi >= 0)
    tid = gi[rows, cols]
    nb = np.full((lab.size, 4), -1, dtype=np.int64)
    for k, (di, dj) in enumerate(((0, 1), (0, -1), (1, 0), (-1, 0))):
        r2, c2 = rows + di, cols + dj
        ok = (r2 >= 0) & (r2 < ny) & (c2 >= 0) & (c2 < nx)
        nb[tid[ok], k] = gi[r2[ok], c2[ok]]
    colour = np.zeros(lab.size, dtype=np.int64)
    colour[tid] = (rows + cols) % 2
    C, S = scores.candidates, scores.scores
    for _ in range(int(max_sweeps)):
        changed = 0
        for col in (0, 1):
            t = np.nonzero(colour == col)[0]
            nl = np.where(nb[t] >= 0, lab[np.maximum(nb[t], 0)], -2)  # (m, 4)
            agree = (C[t][:, :, None] == nl[:, None, :]).sum(axis=2)  # (m, k)
            energy = np.where(C[t] >= 0, S[t] + beta * agree, _NEG)
            new = C[t][np.arange(t.size), np.argmax(energy, axis=1)]
            new = np.where(new >= 0, new, lab[t])
            changed += int(np.sum(new != lab[t]))
            lab[t] = new
        if changed == 0:
            break
    return lab
