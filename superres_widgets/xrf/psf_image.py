r"""PSF images from anywhere: measured dot scans, the blind method's kernel, files.

Every restoration method takes a PSF *image* as well as the Gaussian of
:func:`~superres_widgets.xrf.gaussian_psf`; :func:`prepare_psf` turns what a
user has (a crop of a dot scan, a kernel from
:func:`~superres_widgets.xrf.blind_l0`, an image read with
:func:`~superres_widgets.io.load_map`) into the kernel the methods expect,
or says in one line what is wrong with it.

Conventions (those of :mod:`superres_widgets.xrf.psf`)
------------------------------------------------------
* A kernel is a 2-D float64 array of unit sum whose origin -- the pixel that
  lands on the output pixel -- is the centre pixel ``(rows // 2, cols //
  2)``; sides are odd.  Its pixels are the map's pixels (same scan step).
* "Centred" means the kernel's centroid lies within half a pixel of the
  centre pixel: :func:`prepare_psf` shifts a measured PSF by whole pixels
  (zero padding, no resampling) so that a restoration does not move the
  map; a sub-pixel remainder is kept (shifting it would blur the kernel).

Bad input (each a :class:`ValueError` naming ``name`` -- the parameter, or
the file the PSF came from): not 2-D or empty, NaN/inf values, negative
values, all zero, larger than the map.
"""

from __future__ import annotations

import math

import numpy as np

from ..validate import check_array

__all__ = ["prepare_psf", "psf_from_dot_scan", "psf_centroid"]


def psf_centroid(psf) -> tuple:
    """``(row, col)`` of the intensity centroid of a non-negative kernel (pixels).

    Examples
    --------
    >>> k = np.zeros((5, 5)); k[1, 3] = 1.0
    >>> psf_centroid(k)
    (1.0, 3.0)
    """
    k = check_array(psf, "psf", ndim=2, nonnegative=True)
    total = k.sum()
    if not total > 0:
        raise ValueError("psf must have a positive sum (all values are 0)")
    r, c = np.indices(k.shape)
    return float((k * r).sum() / total), float((k * c).sum() / total)


def prepare_psf(psf, image_shape=None, *, name: str = "psf", centre: bool = True) -> np.ndarray:
    """Check a PSF image and return the kernel of unit sum, odd sides, centred (module docstring).

    Parameters
    ----------
    psf : (K_r, K_c) array_like
        The PSF image (intensities >= 0; subtract a background first).
    image_shape : (rows, cols), optional
        The map's shape: the kernel may not be larger.
    name : str
        How messages call the PSF (``"psf"``, a file name, ...).
    centre : bool
        Shift by whole pixels so that the centroid is within half a pixel of
        the centre pixel.

    Returns
    -------
    ndarray of float64
        Unit sum, odd sides (an even side is padded by one zero row/column
        before centring).

    Raises
    ------
    ValueError
        ``"<name> ..."``: not 2-D, empty, NaN/inf, negative values, all zero,
        larger than the map.

    Examples
    --------
    >>> k = np.zeros((6, 6)); k[1:3, 1:3] = 1.0          # an off-centre 2 x 2 spot
    >>> out = prepare_psf(k, (64, 64))
    >>> out.shape, round(float(out.sum()), 12), psf_centroid(out)  # centroid within 1/2 px of the centre
    ((3, 3), 1.0, (1.5, 1.5))
    >>> prepare_psf(-k)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: psf has 4 negative value(s) (min -1); a PSF is an intensity >= 0: ...
    """
    try:
        arr = np.asarray(psf)
    except ValueError as exc:  # ragged sequences
        raise ValueError(f"{name} must be a real numeric image ({exc})") from None
    if arr.dtype == object or np.iscomplexobj(arr) or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{name} must be a real numeric image, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D image, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    k = np.array(arr, dtype=np.float64)
    bad = ~np.isfinite(k)
    if bad.any():
        raise ValueError(f"{name} has {int(bad.sum())} NaN or infinite value(s); a PSF must be finite")
    if (k < 0).any():
        raise ValueError(f"{name} has {int((k < 0).sum())} negative value(s) (min {k.min():.4g}); a PSF is an "
                         "intensity >= 0: subtract the background and clip at 0 (psf_from_dot_scan does)")
    if not k.any():
        raise ValueError(f"{name} is all zero (shape {k.shape}); a PSF needs a positive sum")
    if k.shape[0] % 2 == 0 or k.shape[1] % 2 == 0:
        k = np.pad(k, ((0, 1 - k.shape[0] % 2), (0, 1 - k.shape[1] % 2)))
    if centre:
        rc, cc = psf_centroid(k)
        dr = int(round(k.shape[0] // 2 - rc))
        dc = int(round(k.shape[1] // 2 - cc))
        if dr or dc:
            k = np.pad(k, ((abs(dr), abs(dr)), (abs(dc), abs(dc))))
            k = np.roll(k, (dr, dc), axis=(0, 1))
            k = _trim_zero_border(k)
    if image_shape is not None and (k.shape[0] > image_shape[0] or k.shape[1] > image_shape[1]):
        raise ValueError(f"{name} ({k.shape[0]} x {k.shape[1]} px) is larger than the map "
                         f"({image_shape[0]} x {image_shape[1]} px); crop it to the spot")
    return k / k.sum()


def _trim_zero_border(k: np.ndarray) -> np.ndarray:
    """Remove zero rows/columns symmetrically (the centre pixel stays the centre)."""
    while k.shape[0] > 1 and not k[0].any() and not k[-1].any():
        k = k[1:-1]
    while k.shape[1] > 1 and not k[:, 0].any() and not k[:, -1].any():
        k = k[:, 1:-1]
    return k


def psf_from_dot_scan(image, fit, *, radius_sigmas: float = 4.0) -> np.ndarray:
    r"""The measured PSF of a dot scan: the map around the fitted spot, background removed.

    Parameters
    ----------
    image : (rows, cols) array_like
        The dot scan (counts).
    fit : PointScanFit
        Its :func:`~superres_widgets.xrf.fit_point_scan` result (centre,
        sigmas and background in um, pixel size).
    radius_sigmas : float
        Half-width of the crop in fitted sigmas (the larger of
        :math:`\sigma_u, \sigma_v`).

    Returns
    -------
    ndarray of float64
        ``(image - background)`` on the pixels within ``radius_sigmas`` of
        the fitted centre (rounded to the nearest pixel), clipped at 0, then
        :func:`prepare_psf` (unit sum, odd sides, centred).  Unlike the
        fitted Gaussian it keeps the spot's real shape (tails, asymmetry)
        -- and its noise.

    Examples
    --------
    >>> from superres_widgets.xrf import dot_scan, fit_point_scan
    >>> scan = dot_scan(20.0, size_px=41, seed=0)
    >>> k = psf_from_dot_scan(scan.counts, fit_point_scan(scan.counts, pixel_size_um=5.0))
    >>> k.shape, round(float(k.sum()), 9)
    ((37, 37), 1.0)
    """
    img = np.asarray(image, dtype=np.float64)
    p = float(fit.pixel_size_um)
    r0 = int(round(fit.mu_v / p))
    c0 = int(round(fit.mu_u / p))
    half = int(math.ceil(radius_sigmas * max(fit.sigma_u, fit.sigma_v) / p))
    rows = slice(max(r0 - half, 0), min(r0 + half + 1, img.shape[0]))
    cols = slice(max(c0 - half, 0), min(c0 + half + 1, img.shape[1]))
    crop = np.clip(img[rows, cols] - float(fit.background), 0.0, None)
    # a crop cut by the map's border: pad it back around the centre so the centre pixel stays the origin
    pad = ((half - (r0 - rows.start), half - (rows.stop - 1 - r0)),
           (half - (c0 - cols.start), half - (cols.stop - 1 - c0)))
    crop = np.pad(crop, pad)
    return prepare_psf(crop, img.shape, name="measured PSF")
