r"""Pixels that are not counts: masks (NaN or a mask array) and negative values.

Every restoration method of :mod:`superres_widgets.xrf` passes its map
through :func:`prepare_data`, so the rules below hold for all of them.

Masks
-----
* A masked pixel is one without a measurement (a dead detector pixel, a
  beam dump, a region the user excludes).  It arrives as ``NaN`` in the map,
  as ``mask=`` (a boolean array of the map's shape, **True = excluded**, the
  :mod:`numpy.ma` convention) or as a :class:`numpy.ma.MaskedArray`; all
  three are combined.  ``inf`` is never a measurement and stays an error.
* Masked pixels are excluded from the data term of every method: the data
  fit is a weighted sum with weight ``w = 0`` on them (the ``"masked"``
  boundary model of Bertero & Boccacci 2005 generalised from the border to
  any pixel).  The object there is still estimated, from the neighbouring
  measurements the PSF spreads into it.
* For starting estimates and displays, masked pixels get the mean of their
  valid neighbours (normalised Gaussian convolution, 2 px, repeated until
  every hole is filled; :func:`fill_masked`).
* A map whose every pixel is masked is a :class:`ValueError`.

Negative values
---------------
Background-subtracted maps have negative pixels, and the Poisson methods
(Richardson-Lucy and its variants, :func:`~superres_widgets.xrf.sgp`) model
counts >= 0.  ``negative=`` chooses what happens (the same words
everywhere):

``"offset"`` (default of the Poisson methods)
    the map is shifted by ``-min`` (over valid pixels) so that its minimum
    is 0, restored, and shifted back (a PSF of unit sum carries a constant
    unchanged, so for a constant background this is the exact Poisson model
    of the counts before the subtraction).  Maps without negative values
    are not changed.
``"clip"``
    negative pixels are set to 0 (loses the noise below zero: biases dark
    regions up).
``"error"``
    a :class:`ValueError` naming the count and the minimum.
``"keep"`` (default of the least-squares methods: Wiener, FISTA, Landweber, Tikhonov-Miller)
    the values are used as they are (Gaussian noise can make a measurement
    negative even when the object is not); refused by the Poisson methods.

The input array is never modified.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

__all__ = ["NEGATIVE_POLICIES", "PreparedData", "prepare_data", "fill_masked", "check_negative_policy"]

#: The values of ``negative=`` (``"keep"``: least-squares methods only).
NEGATIVE_POLICIES = ("offset", "clip", "error", "keep")


def check_negative_policy(negative, poisson: bool = True) -> str:
    """``negative`` if it is one of :data:`NEGATIVE_POLICIES` (not ``"keep"`` for Poisson methods), else ValueError."""
    allowed = NEGATIVE_POLICIES[:3] if poisson else NEGATIVE_POLICIES
    if negative not in allowed:
        why = " ('keep' is for least-squares methods: Poisson counts cannot be negative)" if negative == "keep" else ""
        raise ValueError(f"negative must be one of {list(allowed)}, got {negative!r}{why}")
    return negative


@dataclass
class PreparedData:
    """A map ready for a restoration method (see the module docstring).

    Attributes
    ----------
    image : ndarray of float64
        Finite; masked pixels filled by :func:`fill_masked`; the negative
        policy applied (``offset`` added).
    weights : ndarray of float64 or None
        1 on measured pixels, 0 on masked ones; ``None`` when nothing is masked.
    offset : float
        Added to the map (``negative="offset"``); :meth:`finish` subtracts it.
    n_masked, n_negative : int
        Masked pixels; valid pixels below zero before the policy.
    minimum : float
        Smallest valid value before the policy.
    """

    image: np.ndarray
    weights: np.ndarray | None
    offset: float
    n_masked: int
    n_negative: int
    minimum: float

    @property
    def masked(self) -> bool:
        return self.weights is not None

    def finish(self, x: np.ndarray) -> np.ndarray:
        """The restored map in the input's units (the offset removed), float64."""
        out = np.asarray(x, dtype=np.float64)
        return out - self.offset if self.offset else out

    def notice(self) -> str:
        """One line saying what was done to the map ('' when nothing)."""
        parts = []
        if self.n_masked:
            parts.append(f"{self.n_masked} masked pixel(s) excluded from the data fit")
        if self.n_negative:
            what = (f"shifted by +{self.offset:.4g} and back (negative='offset')" if self.offset
                    else "clipped to 0 (negative='clip')")
            parts.append(f"{self.n_negative} negative pixel(s) (min {self.minimum:.4g}) {what}")
        return "; ".join(parts)


def _mask_of(arr_mask, shape, name: str) -> np.ndarray | None:
    if arr_mask is None:
        return None
    m = np.asarray(arr_mask)
    if m.dtype != bool:
        if not np.issubdtype(m.dtype, np.number) or not np.all(np.isin(m, (0, 1))):
            raise ValueError(f"mask must be a boolean array (True = excluded), got dtype {m.dtype}")
        m = m.astype(bool)
    if m.shape != tuple(shape):
        raise ValueError(f"mask shape {m.shape} differs from the {name} shape {tuple(shape)}")
    return m


def fill_masked(image: np.ndarray, excluded: np.ndarray, sigma_px: float = 2.0) -> np.ndarray:
    """``image`` with its excluded pixels replaced by the mean of their valid neighbours.

    Normalised Gaussian convolution (``sigma_px``), repeated with a doubled
    width until every hole is filled (large holes), then the global mean.

    Examples
    --------
    >>> img = np.arange(81.0).reshape(9, 9); hole = np.zeros((9, 9), bool); hole[4, 4] = True
    >>> round(float(fill_masked(img, hole)[4, 4]), 6)  # a ramp: its neighbours' mean
    40.0
    """
    out = np.array(image, dtype=np.float64)
    hole = np.asarray(excluded, dtype=bool)
    if not hole.any():
        return out
    valid = (~hole).astype(np.float64)
    data = np.where(hole, 0.0, out)
    s = float(sigma_px)
    todo = hole.copy()
    while todo.any() and s < 4 * max(out.shape):
        num = ndimage.gaussian_filter(data, s, mode="reflect")
        den = ndimage.gaussian_filter(valid, s, mode="reflect")
        ok = todo & (den > 1e-6)
        out[ok] = num[ok] / den[ok]
        todo &= ~ok
        s *= 2
    if todo.any():
        out[todo] = float(data.sum() / max(valid.sum(), 1.0))
    return out


def prepare_data(image, mask=None, negative: str = "offset", *, name: str = "image",
                 poisson: bool = True) -> PreparedData:
    """Check a map and apply the mask and negative-value rules of the module docstring.

    Parameters
    ----------
    image : (M, N) array_like
        The map (counts); NaN pixels are masked; a masked array's mask is used.
    mask : (M, N) bool array_like, optional
        True = excluded from the data fit.
    negative : {"offset", "clip", "error", "keep"}
        Policy for valid pixels below zero (``"keep"`` only if not ``poisson``).
    name : str
        Name used in messages.
    poisson : bool
        The method models Poisson counts (>= 0).

    Returns
    -------
    PreparedData

    Examples
    --------
    >>> d = prepare_data([[1.0, np.nan], [-2.0, 3.0]])
    >>> d.weights.tolist(), d.offset, d.image[1].tolist()
    ([[1.0, 0.0], [1.0, 1.0]], 2.0, [0.0, 5.0])
    >>> d.notice()  # doctest: +NORMALIZE_WHITESPACE
    "1 masked pixel(s) excluded from the data fit; 1 negative pixel(s) (min -2) shifted by +2 and back
    (negative='offset')"
    """
    policy = check_negative_policy(negative, poisson)
    given_mask = None
    if isinstance(image, np.ma.MaskedArray):
        given_mask = np.ma.getmaskarray(image)
        image = np.ma.getdata(image)
    if image is None or isinstance(image, (str, bytes)):
        raise ValueError(f"{name} must be a 2-D numeric array, got {type(image).__name__}")
    try:
        arr = np.asarray(image)
    except (TypeError, ValueError) as exc:  # ragged nested sequences
        raise ValueError(f"{name} must be a 2-D numeric array ({' '.join(str(exc).split())[:120]})") from None
    if arr.dtype == object or np.iscomplexobj(arr) or not (
            np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{name} must be a real numeric array, got dtype={arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got ndim={arr.ndim} (shape {arr.shape})")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    arr = arr.astype(np.float64, copy=False)
    all_finite = bool(np.isfinite(arr).all())  # one pass for the common case
    if not all_finite and np.isinf(arr).any():
        raise ValueError(f"{name} contains {int(np.isinf(arr).sum())} infinite value(s); mark unmeasured "
                         "pixels as NaN or with mask= instead")
    excluded = None if all_finite else np.isnan(arr)
    for m in (given_mask, _mask_of(mask, arr.shape, name)):
        if m is not None:
            excluded = np.array(m, dtype=bool) if excluded is None else excluded | m
    n_masked = 0 if excluded is None else int(excluded.sum())
    if n_masked == arr.size:
        raise ValueError(f"{name}: every pixel is masked (NaN or mask=True); nothing to restore")
    valid_values = arr[~excluded] if n_masked else arr
    minimum = float(valid_values.min())
    n_negative = int((valid_values < 0).sum()) if policy != "keep" else 0
    offset = 0.0
    work = fill_masked(arr, excluded) if n_masked else np.array(arr, dtype=np.float64)
    if n_negative:
        if policy == "error":
            raise ValueError(f"{name} has {n_negative} negative value(s) (min {minimum:.4g}) and negative='error'; "
                             "pass negative='offset' (shift and shift back) or negative='clip'")
        if policy == "clip":
            np.maximum(work, 0.0, out=work)
        else:
            offset = -minimum
            work += offset
            np.maximum(work, 0.0, out=work)  # filled holes may dip below the new zero by round-off
    weights = None if not n_masked else (~excluded).astype(np.float64)
    return PreparedData(work, weights, offset, n_masked, n_negative, minimum)
