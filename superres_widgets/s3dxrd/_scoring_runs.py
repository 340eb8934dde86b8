r"""The per-candidate run model of the likelihood scorer (:mod:`~superres_widgets.s3dxrd.scoring`, rules 1-5).

Private helper of :mod:`~superres_widgets.s3dxrd.scoring`: one candidate's reflections in a
window of positions around its grain (:class:`_Candidate`, with the robust centre fit of rule
2a), the bands of ``beta`` and ``alpha``, the tail terms of a profile with tails, the posterior
over runs ``(lo, hi)`` with its centre and support-function priors, the expectation-maximisation
counts of rule 3, the inside probability ``P_e(u)`` (rule 4) and the per-target score (rule 5).
Pure functions of arrays; the scorer itself (rate estimation, candidates' discs, Dask blocks,
top-k, Potts) stays in :mod:`~superres_widgets.s3dxrd.scoring`.

Model and conventions: rules 1-5 (the extent of a reflection, the posterior of its run, p1 and p0
from the data, the inside probability, the score), stated once in the module docstring of
:mod:`~superres_widgets.s3dxrd.scoring` and checked in ``tests/test_s3dxrd_scoring.py``.
"""

from __future__ import annotations

import math

import numpy as np

from .conventions import cos_sin_deg

_EPS = 1e-6
_RES = 16  # table points per scan step (rule 4)


# ---------------------------------------------------------------------------
# per candidate: local windows, run posteriors (rules 1-2)
# ---------------------------------------------------------------------------
class _Candidate:
    """One candidate's reflections restricted to a window of positions around its grain."""

    def __init__(self, obs: np.ndarray, omega: np.ndarray, X: np.ndarray, step: float, centre0=None):
        self.omega = omega
        self.c, self.s = cos_sin_deg(omega)
        self.X = X
        self.step = step
        self.centre, self.spread = _centre_fit(obs, self.c, self.s, X, step, centre0)
        self.u0 = self.centre[0] * self.c - self.centre[1] * self.s
        half = self.spread + 2.0 * step
        nk = X.size
        a = np.searchsorted(X, self.u0 - half, side="left")
        b = np.searchsorted(X, self.u0 + half, side="right")
        L = int(min(nk, max(int((b - a).max()) + 2, 1)))
        start = np.clip(a - 1, 0, nk - L)
        self.idx = start[:, None] + np.arange(L)[None, :]  # (M, L) global positions
        self.obs = obs[np.arange(obs.shape[0])[:, None], self.idx]
        self.n_outside = obs.sum(axis=1) - self.obs.sum(axis=1)  # records outside the window
        self.n_out_cells = nk - L


def _centre_fit(obs, c, s, X, step, centre0=None, iters: int = 8):
    """Robust least squares ``X_k = x0 cos w - y0 sin w`` over the observed records (rule 2a)."""
    e, k = np.nonzero(obs)
    if e.size < 2:
        return np.zeros(2) if centre0 is None else np.asarray(centre0, float), 4.0 * step
    A = np.stack([c[e], -s[e]], axis=1)
    y = X[k]
    w = np.ones(y.size)
    if centre0 is not None:
        sol = np.asarray(centre0, dtype=float)
        r = y - A @ sol
        sc = max(1.4826 * float(np.median(np.abs(r))), step)
        t = r / (4.685 * sc)
        w = np.where(np.abs(t) < 1, (1 - t * t) ** 2, 0.0)
    for _ in range(iters):
        sw = np.sqrt(w)
        sol, *_ = np.linalg.lstsq(A * sw[:, None], y * sw, rcond=None)
        r = y - A @ sol
        sc = max(1.4826 * float(np.median(np.abs(r[w > 0]))) if np.any(w > 0) else step, step)
        t = r / (4.685 * sc)
        w = np.where(np.abs(t) < 1, (1 - t * t) ** 2, 0.0)
    good = w > 0
    spread = float(np.percentile(np.abs(r[good]), 95)) if good.any() else 4.0 * step
    return sol, max(spread, step)


def _bands(cand: _Candidate, b_core: float):
    """Bands of ``beta`` (per hi) and ``alpha`` (per lo) in the window: (M, L) bottoms and tops."""
    X = cand.X
    step = cand.step
    Xp = np.concatenate([[X[0] - step], X, [X[-1] + step]])
    i = cand.idx + 1  # into Xp
    beta_bot = Xp[i] - 0.5 * b_core
    beta_top = Xp[i + 1] - 0.5 * b_core
    alpha_bot = Xp[i - 1] + 0.5 * b_core
    alpha_top = Xp[i] + 0.5 * b_core
    return beta_bot, beta_top, alpha_bot, alpha_top


def _tail_terms(cand: _Candidate, p1: float, p0: float, profile, width: float, b_core: float):
    """Separable log-likelihood corrections of the tail frames beyond hi and below lo (rule 1)."""
    M, L = cand.obs.shape
    if profile is None:
        return np.zeros((M, L)), np.zeros((M, L))
    step = cand.step
    s = float(profile.support(width))
    J = int(math.floor((s + 0.5 * step - 0.5 * b_core) / step + 1e-9))
    thi = np.zeros((M, L))
    tlo = np.zeros((M, L))
    if J < 1:
        return thi, tlo
    l0 = np.log(p0), np.log1p(-p0)
    for j in range(1, J + 1):
        d = j * step + 0.5 * b_core - 0.5 * step
        w = float(np.asarray(profile.weight(np.array([d]), width))[0])
        if w <= 1e-6:
            continue
        pj = p0 + (p1 - p0) * min(w, 1.0)
        t1 = np.log(pj) - l0[0]
        t0 = np.log1p(-pj) - l0[1]
        o = cand.obs
        up = np.zeros((M, L))  # term at position hi + j
        up[:, : L - j] = np.where(o[:, j:], t1, t0)
        dn = np.zeros((M, L))  # term at position lo - j
        dn[:, j:] = np.where(o[:, : L - j], t1, t0)
        thi += up
        tlo += dn
    return thi, tlo


def _posterior(cand: _Candidate, p1: float, p0: float, logprior: np.ndarray, tails) -> np.ndarray:
    """Posterior over runs ``(lo, hi)`` of every reflection, shape (M, L, L)."""
    o = cand.obs
    M, L = o.shape
    a = np.where(o, math.log(p1), math.log1p(-p1)) - np.where(o, math.log(p0), math.log1p(-p0))
    C = np.concatenate([np.zeros((M, 1)), np.cumsum(a, axis=1)], axis=1)
    Lg = C[:, None, 1:] - C[:, :-1, None] + logprior
    thi, tlo = tails
    Lg = Lg + thi[:, None, :] + tlo[:, :, None]
    tri = np.triu(np.ones((L, L), dtype=bool))
    Lg = np.where(tri, Lg, -np.inf)
    m = Lg.max(axis=(1, 2), keepdims=True)
    post = np.exp(Lg - m)
    post /= post.sum(axis=(1, 2), keepdims=True)
    return post


def _centre_prior(cand: _Candidate) -> np.ndarray:
    Xw = cand.X[cand.idx]  # (M, L)
    mid = 0.5 * (Xw[:, :, None] + Xw[:, None, :])
    return -0.5 * ((mid - cand.u0[:, None, None]) / cand.spread) ** 2


def _em_counts(cand: _Candidate, post: np.ndarray) -> tuple[float, float, float, float]:
    """Expected (records inside, cells inside, records outside, cells outside)."""
    o = cand.obs
    M, L = o.shape
    cum = np.concatenate([np.zeros((M, 1)), np.cumsum(o, axis=1)], axis=1)
    lo = np.arange(L)[:, None]
    hi = np.arange(L)[None, :]
    n_in = np.where(hi >= lo, hi - lo + 1, 0)
    o_in = np.where(hi >= lo, cum[:, None, 1:] - cum[:, :-1, None], 0)
    e_n = float((post * n_in).sum())
    e_o = float((post * o_in).sum())
    tot_o = float(o.sum() + cand.n_outside.sum())
    tot_n = float(M * (L + cand.n_out_cells))
    return e_o, e_n, tot_o - e_o, tot_n - e_n


def _local_linear(phi: np.ndarray, h: np.ndarray, window: float) -> np.ndarray:
    """Leave-one-out local linear prediction of ``h`` at each ``phi`` from neighbours within ``window`` deg."""
    d = np.deg2rad((phi[None, :] - phi[:, None] + 180.0) % 360.0 - 180.0)
    w = (np.abs(d) <= math.radians(window)).astype(float)
    np.fill_diagonal(w, 0.0)
    S0 = w.sum(1)
    S1 = (w * d).sum(1)
    S2 = (w * d * d).sum(1)
    T0 = w @ h
    T1 = (w * d) @ h
    det = S0 * S2 - S1 * S1
    lin = np.where(np.abs(det) > 1e-12, (S2 * T0 - S1 * T1) / np.where(np.abs(det) > 1e-12, det, 1.0), np.nan)
    mean = np.where(S0 > 0, T0 / np.maximum(S0, 1e-300), np.nan)
    return np.where(S0 >= 3, lin, mean)


def _support_prior(cand: _Candidate, post: np.ndarray, bands, window: float, width: float) -> np.ndarray:
    """Rule 2b: Gaussian run prior about the support predicted from the neighbouring angles."""
    beta_bot, beta_top, alpha_bot, alpha_top = bands
    bmid = 0.5 * (beta_bot + beta_top)
    amid = 0.5 * (alpha_bot + alpha_top)
    p_hi = post.sum(axis=1)
    p_lo = post.sum(axis=2)
    mh = (p_hi * bmid).sum(1)
    ml = (p_lo * amid).sum(1)
    phi = np.concatenate([cand.omega, cand.omega + 180.0])
    pred = _local_linear(phi, np.concatenate([mh, -ml]), window)
    M = cand.omega.size
    ph, pl = pred[:M], -pred[M:]
    lp_hi = -0.5 * ((bmid - ph[:, None]) / width) ** 2
    lp_lo = -0.5 * ((amid - pl[:, None]) / width) ** 2
    lp_hi = np.where(np.isfinite(lp_hi), lp_hi, 0.0)
    lp_lo = np.where(np.isfinite(lp_lo), lp_lo, 0.0)
    return lp_lo[:, :, None] + lp_hi[:, None, :]


def _inside_table(cand: _Candidate, post: np.ndarray, bands) -> tuple[np.ndarray, np.ndarray, float]:
    """``P_e(u)`` on a grid every step/16 across the window (rule 4): (u_start (M,), table (M, n_u), du).

    The bands are contiguous, so at ``u`` every ``lo`` band below ``u`` has ramp 1, the one holding
    ``u`` a fraction, the rest 0 (likewise ``hi``): ``P(u)`` is a corner sum of the run posterior
    plus two edge sums and one cell, from cumulative sums (no ``(M, L, n_u)`` arrays).
    """
    beta_bot, beta_top, alpha_bot, alpha_top = bands
    M, L = alpha_top.shape
    du = cand.step / _RES
    u_start = alpha_bot[:, 0] - cand.step
    u_end = beta_top[:, -1] + cand.step
    n_u = int(np.ceil((u_end - u_start).max() / du)) + 1
    u = u_start[:, None] + du * np.arange(n_u)[None, :]  # (M, n_u)
    # corner sums R[l, h] = sum_{l' < l, h' >= h} post, edges rowsuf[l, h] = sum_{h' >= h} post[l],
    # colpre[l, h] = sum_{l' < l} post[., h]
    rowsuf = np.zeros((M, L, L + 1))
    rowsuf[:, :, :L] = np.cumsum(post[:, :, ::-1], axis=2)[:, :, ::-1]
    R = np.zeros((M, L + 1, L + 1))
    R[:, 1:, :] = np.cumsum(rowsuf, axis=1)
    colpre = np.zeros((M, L + 1, L))
    colpre[:, 1:, :] = np.cumsum(post, axis=1)
    a = np.empty((M, n_u), dtype=np.int64)
    b = np.empty((M, n_u), dtype=np.int64)
    for e in range(M):
        a[e] = np.searchsorted(alpha_top[e], u[e], side="right")  # lo bands wholly at or below u
        b[e] = np.searchsorted(beta_bot[e], u[e], side="left")  # first hi band wholly at or above u
    rows = np.arange(M)[:, None]
    ac = np.minimum(a, L - 1)
    bc = np.maximum(b - 1, 0)
    fa = np.where(a < L, np.clip((u - alpha_bot[rows, ac]) / (alpha_top[rows, ac] - alpha_bot[rows, ac]), 0, 1), 0.0)
    fb = np.where(b >= 1, np.clip((beta_top[rows, bc] - u) / (beta_top[rows, bc] - beta_bot[rows, bc]), 0, 1), 0.0)
    T = R[rows, a, b] + fa * rowsuf[rows, ac, b] + fb * colpre[rows, a, bc] + fa * fb * post[rows, ac, bc]
    return u_start, T, du


def _score_targets(cand: _Candidate, table, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    u_start, T, du = table
    u = np.multiply.outer(xs, cand.c) - np.multiply.outer(ys, cand.s)  # (n, M)
    g = (u - u_start[None, :]) / du
    n_u = T.shape[1]
    g = np.clip(g, 0.0, n_u - 1.000001)
    g0 = np.floor(g).astype(np.int64)
    f = g - g0
    rows = np.arange(T.shape[0])[None, :]
    val = T[rows, g0] * (1.0 - f) + T[rows, g0 + 1] * f
    return np.log(_EPS + val).sum(axis=1)
