r"""Matching predicted reflections to observed peaks (indexing rule 6).

A predicted event and a peak match when the ring is equal, ``|d omega| <=
tol`` and the wrapped ``|d eta| <= tol``; no wrap-around is made at the
ends of the omega range (the N' observation table adds the 0/360 seam
itself).  :class:`PeakIndex` sorts the observations once by
``ring * offset + omega`` so that thousands of trial orientations of one
indexing run match against the same sorted spots (:func:`match_peaks` sorts
on every call).  Checked in ``tests/test_s3dxrd_recon_indexing.py``.

Examples
--------
>>> [a.tolist() for a in match_peaks([0], [10.2], [5.1], [0, 1], [10.0, 10.0], [5.0, 5.0])]
[[0], [0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .conventions import check_cancel
from .conventions import finite_array as _finite_array

__all__ = ["match_peaks", "PeakIndex"]

_KEY_OFFSET = 1.0e4  # ring * offset + omega keeps rings apart (|omega| < 2000)


# ---------------------------------------------------------------------------
# matching
# ---------------------------------------------------------------------------
def _wrap180(a: np.ndarray) -> np.ndarray:
    return a - 360.0 * np.round(a / 360.0)


def _peaks(ring: Any, eta: Any, omega: Any, names: tuple) -> tuple:
    """(ring int64, eta, omega) as equal-length finite 1-D arrays, or ``ValueError`` naming the parameter."""
    r = _finite_array(ring, names[0]).ravel()
    if np.any(r != np.round(r)) or np.any(r < 0):
        raise ValueError(f"{names[0]} must be ring indices (integers >= 0)")
    e = _finite_array(eta, names[1]).ravel()
    w = _finite_array(omega, names[2]).ravel()
    if not r.size == e.size == w.size:
        raise ValueError(f"{names[0]}, {names[1]} and {names[2]} must have the same length, got {r.size}, "
                         f"{e.size} and {w.size}")
    return r.astype(np.int64), e, w


def _tolerance(value: Any, name: str) -> float:
    from ..validate import check_number

    return float(check_number(value, name, lo=0, lo_open=True, hi=180))


def match_peaks(
    pred_ring: Any,
    pred_eta_deg: Any,
    pred_omega_deg: Any,
    obs_ring: Any,
    obs_eta_deg: Any,
    obs_omega_deg: Any,
    eta_tol_deg: float = 0.5,
    omega_tol_deg: float = 0.5,
    cancel: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """All (predicted, observed) pairs that match (module rule 6).

    ``cancel`` (conventions rule 5) is polled between blocks of 16384
    predicted peaks.

    Returns
    -------
    pred_index, obs_index : ndarray of int
        Parallel arrays, one entry per matching pair, sorted by
        ``pred_index``.
    """
    _peaks(obs_ring, obs_eta_deg, obs_omega_deg, ("obs_ring", "obs_eta_deg", "obs_omega_deg"))
    _peaks(pred_ring, pred_eta_deg, pred_omega_deg, ("pred_ring", "pred_eta_deg", "pred_omega_deg"))
    return PeakIndex(obs_ring, obs_eta_deg, obs_omega_deg).match(
        pred_ring, pred_eta_deg, pred_omega_deg, eta_tol_deg, omega_tol_deg, cancel=cancel
    )


_MATCH_BLOCK = 16384


class PeakIndex:
    """Observed peaks sorted **once** by ``ring * offset + omega`` for many :meth:`match` calls (rule 6).

    :func:`match_peaks` sorts its observations on every call; an indexing
    run matches thousands of trial orientations against the same spots, so
    :class:`Spots` keeps one index (:attr:`Spots.index`).

    Examples
    --------
    >>> ix = PeakIndex([0, 0, 1], [10.0, 50.0, 10.0], [5.0, 5.2, 5.0])
    >>> [a.tolist() for a in ix.match([0], [10.2], [5.1], 0.5, 0.5)]
    [[0], [0]]
    """

    def __init__(self, ring: Any, eta_deg: Any, omega_deg: Any):
        self.ring, self.eta_deg, ow = _peaks(ring, eta_deg, omega_deg, ("ring", "eta_deg", "omega_deg"))
        key = self.ring * _KEY_OFFSET + ow
        self.order = np.argsort(key, kind="stable")
        self.keys = key[self.order]

    @property
    def n_peaks(self) -> int:
        return int(self.ring.size)

    def match(
        self, pred_ring: Any, pred_eta_deg: Any, pred_omega_deg: Any, eta_tol_deg: float = 0.5,
        omega_tol_deg: float = 0.5, cancel: Any = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """As :func:`match_peaks` against these observations."""
        pr, pe, pw = _peaks(pred_ring, pred_eta_deg, pred_omega_deg, ("pred_ring", "pred_eta_deg", "pred_omega_deg"))
        te = _tolerance(eta_tol_deg, "eta_tol_deg")
        tw = _tolerance(omega_tol_deg, "omega_tol_deg")
        if pr.size == 0 or self.ring.size == 0:
            z = np.zeros(0, dtype=np.int64)
            return z, z.copy()
        args = (self.ring, self.eta_deg, self.order, self.keys, te, tw)
        if pr.size > _MATCH_BLOCK:  # blocks of predicted peaks: bounded memory, cancellable
            parts = []
            for a in range(0, pr.size, _MATCH_BLOCK):
                check_cancel(cancel, "match_peaks")
                b = slice(a, a + _MATCH_BLOCK)
                pi, oi = _match_sorted(pr[b], pe[b], pw[b], *args)
                parts.append((pi + a, oi))
            return np.concatenate([p for p, _ in parts]), np.concatenate([o for _, o in parts])
        return _match_sorted(pr, pe, pw, *args)


def _match_sorted(pr, pe, pw, orr, oe, order, ks, te, tw) -> tuple[np.ndarray, np.ndarray]:
    """match_peaks against observations already sorted by ``ring * offset + omega``."""
    pk = pr * _KEY_OFFSET + pw
    lo = np.searchsorted(ks, pk - tw, side="left")
    hi = np.searchsorted(ks, pk + tw, side="right")
    cnt = hi - lo
    tot = int(cnt.sum())
    if tot == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z.copy()
    pi = np.repeat(np.arange(pk.size), cnt)
    start = np.cumsum(cnt) - cnt
    pos = np.arange(tot) - np.repeat(start, cnt) + np.repeat(lo, cnt)
    oi = order[pos]
    ok = (np.abs(_wrap180(pe[pi] - oe[oi])) <= te) & (orr[oi] == pr[pi])
    return pi[ok], oi[ok]
