r"""USAF-1951 resolution chart: rendering and the resolved-element test.

Chart geometry
--------------
Element ``E`` (1-6) of group ``G`` has the spatial frequency

.. math:: R = 2^{G + (E - 1)/6}\ \text{line pairs per mm}

(Yang et al. 2022, eqn 15).  Its bars are ``w = 1 / (2R)`` mm wide and
``5 w`` long; three bars separated by spaces ``w`` form a ``5w x 5w`` set.
Each element has a *horizontal* set (bars along ``u``; they resolve detail
along ``v``) and, ``2w`` to its right, a *vertical* set (bars along ``v``,
resolving ``u``).  The elements of a group are stacked downwards with ``2w``
spacing, forming a column ``12 w_1`` wide.  Groups 2 and 3 stand side by
side, the smaller groups nest below group 3 (4 | 5, then 6 | 7 below 5), and
a ``600 um`` reference square (the paper's knife-edge target) sits in the
free corner.  The arrangement is compact rather than a copy of the printed
chart's; no two features come closer than ``2 w`` of the finer one.

Frames and units
----------------
Positions are micrometres in the frame of :mod:`superres_widgets.xrf.psf`:
pixel ``(r, c)`` of an image with pixel size ``p`` is centred at
``(v, u) = (r p, c p)`` and covers ``[r p - p/2, r p + p/2)``.  Rendering
is exact area coverage (0 glass ... 1 chrome), so a chart rendered at 5 um
is the same chart as one rendered at 1 um, sampled on the 5 um grid.  The
field is ``field_um`` wide from ``-p/2``; charts at different pixel sizes
thus share element positions, and a scan with step ``s`` of a truth rendered
at ``p`` (``s / p`` integer) lands on the chart rendered at ``s``.

Resolved-element criterion
--------------------------
See :func:`resolved_element`.

References
----------
.. [1] MIL-STD-150A, section 5.1.1.7 (USAF 1951 target), 1959.
.. [2] J. Yang, Z. Zhang and Q. Cheng, J. Anal. At. Spectrom. 37, 750 (2022).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from collections.abc import Iterable, Sequence

import numpy as np
from scipy import ndimage

from .. import validate as _v
from ._validate import as_image, check_positive

__all__ = ["RestorationScore", "score_restoration", "lp_per_mm", "USAFBarSet", "USAFElement", "USAFChart", "usaf1951",
           "ElementContrast", "ResolvedElement", "resolved_element", "chart_levels"]

Rect = tuple[float, float, float, float]  # (v0, v1, u0, u1) in um, half-open


def lp_per_mm(group: int, element: int) -> float:
    """Spatial frequency of a USAF-1951 element, ``2**(G + (E-1)/6)`` lp/mm (groups -10..20, elements 1..6)."""
    group = _v.check_int(group, "group", -10, 20)
    element = _v.check_int(element, "element", 1, 6)
    return 2.0 ** (group + (element - 1) / 6.0)


def _check_chart(chart, name: str = "chart") -> None:
    if not isinstance(chart, USAFChart):
        raise ValueError(f"{name} must be a USAFChart (from usaf1951), got {type(chart).__name__}")


@dataclass(frozen=True)
class USAFBarSet:
    """Three bars of one orientation.

    Attributes
    ----------
    orientation : {"horizontal", "vertical"}
        Direction of the bars' long axis (``"horizontal"`` = along ``u``).
    bars : tuple of (v0, v1, u0, u1)
        The three bar rectangles, um, top/left first.
    bbox : (v0, v1, u0, u1)
        Bounding box of the set, um.
    """

    orientation: str
    bars: tuple[Rect, Rect, Rect]
    bbox: Rect

    @property
    def profile_axis(self) -> str:
        """Axis across the bars: ``"v"`` for horizontal bars, ``"u"`` for vertical."""
        return "v" if self.orientation == "horizontal" else "u"


@dataclass(frozen=True)
class USAFElement:
    """One element (two bar sets) of the chart.

    Attributes
    ----------
    group, element : int
    lp_per_mm : float
        ``2**(G + (E-1)/6)``.
    bar_width_um : float
        ``1000 / (2 lp_per_mm)``.
    horizontal, vertical : USAFBarSet
    """

    group: int
    element: int
    lp_per_mm: float
    bar_width_um: float
    horizontal: USAFBarSet
    vertical: USAFBarSet

    @property
    def label(self) -> str:
        """``"G3E4"`` style label."""
        return f"G{self.group}E{self.element}"

    @property
    def sets(self) -> tuple[USAFBarSet, USAFBarSet]:
        return (self.horizontal, self.vertical)


def _bar_set(orientation: str, v0: float, u0: float, w: float) -> USAFBarSet:
    bars = []
    for i in range(3):
        if orientation == "horizontal":
            bars.append((v0 + 2 * i * w, v0 + (2 * i + 1) * w, u0, u0 + 5 * w))
        else:
            bars.append((v0, v0 + 5 * w, u0 + 2 * i * w, u0 + (2 * i + 1) * w))
    return USAFBarSet(orientation, tuple(bars), (v0, v0 + 5 * w, u0, u0 + 5 * w))


def _group_column(group: int, v0: float, u0: float) -> tuple[list[USAFElement], float, float]:
    """Elements of one group stacked from (v0, u0); returns elements, width, height."""
    elements = []
    v = v0
    w1 = 1000.0 / (2.0 * lp_per_mm(group, 1))
    for e in range(1, 7):
        r = lp_per_mm(group, e)
        w = 1000.0 / (2.0 * r)
        hset = _bar_set("horizontal", v, u0, w)
        vset = _bar_set("vertical", v, u0 + 7 * w, w)
        elements.append(USAFElement(group, e, r, w, hset, vset))
        v += 7 * w
    return elements, 12 * w1, v - v0 - 2 * (1000.0 / (2.0 * lp_per_mm(group, 6)))


def _w1(group: int) -> float:
    return 1000.0 / (2.0 * lp_per_mm(group, 1))


def _layout(groups: Sequence[int], margin_um: float):
    """Place the requested groups; returns elements, square rect, field (H, W).

    Coarsest group: a column at the left.  Second group: a column to its
    right.  Further groups: in rows of two below the second group.  The
    reference square goes below the right-hand column.
    """
    groups = sorted(set(int(g) for g in groups))
    elements: list[USAFElement] = []
    m = margin_um
    col, width0, height0 = _group_column(groups[0], m, m)
    elements += col
    right_u = m + width0 + 2 * _w1(groups[0])
    bottom_left = m + height0
    bottom_right = m
    right_edge = m + width0
    if len(groups) > 1:
        col, width1, height1 = _group_column(groups[1], m, right_u)
        elements += col
        bottom_right = m + height1
        right_edge = right_u + width1
        row_gap = 2 * _w1(groups[1])
        rest = groups[2:]
        for j in range(0, len(rest), 2):
            v_row = bottom_right + row_gap
            pair = rest[j:j + 2]
            u = right_u
            row_bottom = v_row
            for g in pair:
                col, wdt, hgt = _group_column(g, v_row, u)
                elements += col
                right_edge = max(right_edge, u + wdt)
                row_bottom = max(row_bottom, v_row + hgt)
                u += wdt + 2 * _w1(g)
            bottom_right = row_bottom
            row_gap = 2 * _w1(pair[0])
    side = 600.0
    sq_v0 = bottom_right + 150.0
    square = (sq_v0, sq_v0 + side, right_u, right_u + side)
    height = max(bottom_left, square[1]) + m
    width = max(right_edge, square[3]) + m
    return elements, square, (height, width)


def _coverage_1d(lo: float, hi: float, n: int, p: float) -> np.ndarray:
    """Fraction of each pixel [r p - p/2, r p + p/2) covered by [lo, hi)."""
    edges = (np.arange(n + 1) - 0.5) * p
    return np.clip(np.minimum(edges[1:], hi) - np.maximum(edges[:-1], lo), 0, None) / p


def _render(rects: Iterable[Rect], shape: tuple[int, int], p: float) -> np.ndarray:
    img = np.zeros(shape)
    for v0, v1, u0, u1 in rects:
        r0 = max(int(math.floor(v0 / p + 0.5)) - 1, 0)
        r1 = min(int(math.ceil(v1 / p + 0.5)) + 1, shape[0])
        c0 = max(int(math.floor(u0 / p + 0.5)) - 1, 0)
        c1 = min(int(math.ceil(u1 / p + 0.5)) + 1, shape[1])
        if r1 <= r0 or c1 <= c0:
            continue
        cv = _coverage_1d(v0 - r0 * p, v1 - r0 * p, r1 - r0, p)
        cu = _coverage_1d(u0 - c0 * p, u1 - c0 * p, c1 - c0, p)
        img[r0:r1, c0:c1] += np.outer(cv, cu)
    return np.minimum(img, 1.0)


@dataclass
class USAFChart:
    r"""A rendered USAF-1951 chart and the geometry of its elements.

    Attributes
    ----------
    image : (rows, cols) ndarray of float64
        Chrome coverage per pixel, 0 (glass) ... 1 (chrome).
    pixel_size_um : float
    elements : list of USAFElement
        Coarsest first (group, then element ascending).
    square : (v0, v1, u0, u1)
        The reference square, um.
    field_um : (height, width)
        Size of the field, um.
    origin_um : (v, u)
        Position (um, chart frame) of the centre of pixel (0, 0); non-zero
        only for crops.
    margin_um : float
        Empty glass around the pattern, um.
    """

    image: np.ndarray
    pixel_size_um: float
    elements: list[USAFElement]
    square: Rect
    field_um: tuple[float, float]
    origin_um: tuple[float, float] = (0.0, 0.0)
    margin_um: float = 250.0

    def element(self, group: int, element: int) -> USAFElement:
        """Look up an element by group and number."""
        for e in self.elements:
            if e.group == group and e.element == element:
                return e
        raise KeyError(f"G{group}E{element} is not on this chart")

    def to_pixels(self, v_um: float, u_um: float) -> tuple[float, float]:
        """Chart-frame um -> (row, col) of this image (may be fractional)."""
        p = self.pixel_size_um
        return ((v_um - self.origin_um[0]) / p, (u_um - self.origin_um[1]) / p)

    def rect_pixels(self, rect: Rect) -> tuple[float, float, float, float]:
        """A (v0, v1, u0, u1) rectangle in um -> (row0, row1, col0, col1), fractional."""
        r0, c0 = self.to_pixels(rect[0], rect[2])
        r1, c1 = self.to_pixels(rect[1], rect[3])
        return r0, r1, c0, c1

    def rendered(self, pixel_size_um: float) -> USAFChart:
        """The same chart (same groups and positions) at another pixel size."""
        return usaf1951(pixel_size_um, groups=sorted({e.group for e in self.elements}),
                        margin_um=self.margin_um)

    def crop(self, rows: slice, cols: slice) -> USAFChart:
        """Sub-image with the elements that lie completely inside it."""
        r0 = rows.start or 0
        c0 = cols.start or 0
        img = self.image[rows, cols]
        p = self.pixel_size_um
        origin = (self.origin_um[0] + r0 * p, self.origin_um[1] + c0 * p)
        v_lo, u_lo = origin[0] - p / 2, origin[1] - p / 2
        v_hi, u_hi = v_lo + img.shape[0] * p, u_lo + img.shape[1] * p

        def inside(rect):
            return rect[0] >= v_lo and rect[1] <= v_hi and rect[2] >= u_lo and rect[3] <= u_hi

        kept = [e for e in self.elements if inside(e.horizontal.bbox) and inside(e.vertical.bbox)]
        return replace(self, image=img, elements=kept, origin_um=origin)


def usaf1951(pixel_size_um: float, groups: Sequence[int] = (2, 3, 4, 5, 6, 7), *,
             margin_um: float = 250.0) -> USAFChart:
    r"""Render a USAF-1951 chart (groups ``groups``, elements 1-6) at a pixel size.

    Parameters
    ----------
    pixel_size_um : float
        Pixel size of the rendered image, um.
    groups : sequence of int
        Groups to draw (paper: 2-7).  Any integers; coarsest first.
    margin_um : float
        Empty glass around the pattern, um.

    Returns
    -------
    USAFChart
        ``chart.image`` (0-1 coverage) and the element geometry.

    Notes
    -----
    ``R = 2^{G+(E-1)/6}`` lp/mm, bar width ``w = 1/(2R)`` mm, bar length
    ``5w``; see the module docstring for the layout.  At 5 um and groups
    2-7 the image is about 900 x 600 pixels.

    Examples
    --------
    >>> chart = usaf1951(5.0)
    >>> e = chart.element(3, 4)
    >>> round(e.lp_per_mm, 1), round(e.bar_width_um, 1)
    (11.3, 44.2)
    """
    p = check_positive(pixel_size_um, "pixel_size_um")
    groups = list(groups)
    if not groups:
        raise ValueError("groups must not be empty")
    for g in groups:
        if not isinstance(g, (int, np.integer)) or isinstance(g, bool):
            raise ValueError(f"groups must be integers, got {g!r}")
    margin = _v.check_positive(margin_um, "margin_um", hi=1e6)
    elements, square, (h_um, w_um) = _layout(groups, margin)
    # field size: round up to a multiple of 20 um so common pixel sizes divide it
    h_um = 20.0 * math.ceil(h_um / 20.0)
    w_um = 20.0 * math.ceil(w_um / 20.0)
    shape = (int(math.ceil(h_um / p - 1e-9)), int(math.ceil(w_um / p - 1e-9)))
    if shape[0] * shape[1] > 2e8:
        raise ValueError(f"pixel_size_um={p} and margin_um={margin:g} give a {shape} image; too large "
                         "(over 2e8 pixels)")
    rects: list[Rect] = [square]
    for e in elements:
        rects += list(e.horizontal.bars) + list(e.vertical.bars)
    img = _render(rects, shape, p)
    return USAFChart(img, p, elements, square, (h_um, w_um), margin_um=margin)


# --------------------------------------------------------------------------
# resolved element
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ElementContrast:
    """Bar modulation of one element.

    Attributes
    ----------
    group, element : int
    lp_per_mm : float
    modulation_h, modulation_v : float
        Bar-to-space modulation of the horizontal-bar set (profile along v)
        and of the vertical-bar set (profile along u); see
        :func:`resolved_element`.
    dip_h, dip_v : float
        Smallest margin by which a space is darker than its two neighbouring
        bars (same normalisation); must be > 0.
    resolved : bool
        Both sets pass and the bars are at least one pixel wide.
    """

    group: int
    element: int
    lp_per_mm: float
    modulation_h: float
    modulation_v: float
    dip_h: float
    dip_v: float
    resolved: bool

    @property
    def label(self) -> str:
        return f"G{self.group}E{self.element}"


@dataclass(frozen=True)
class ResolvedElement:
    """Result of :func:`resolved_element`.

    Attributes
    ----------
    group, element : int or None
        The finest resolved element (None if not even the coarsest is).
    lp_per_mm : float
        Its frequency (0 if none).
    bar_width_um : float
    threshold : float
    levels : (low, high)
        Glass and chrome levels used to normalise the modulation.
    table : tuple of ElementContrast
        Every element, coarsest first.
    """

    group: int | None
    element: int | None
    lp_per_mm: float
    bar_width_um: float
    threshold: float
    levels: tuple[float, float]
    table: tuple[ElementContrast, ...]

    @property
    def label(self) -> str:
        return "none" if self.group is None else f"G{self.group}E{self.element}"

    def gain_over(self, other: ResolvedElement) -> float:
        """Relative resolution gain ``R / R_other - 1`` (the paper's % figures)."""
        if other.lp_per_mm <= 0:
            return math.inf
        return self.lp_per_mm / other.lp_per_mm - 1.0


def _dist_inside(mask: np.ndarray) -> np.ndarray:
    return ndimage.distance_transform_edt(mask)


def chart_levels(image, chart: USAFChart, *, margin_um: float = 150.0) -> tuple[float, float]:
    r"""Glass and chrome levels of ``image`` (registered to ``chart``).

    ``low`` is the median of ``image`` over glass pixels at least
    ``margin_um`` from any chrome; ``high`` the median over the reference
    square's pixels at least ``margin_um`` inside its edge (falling back to
    the bar centres of the coarsest element if the square is not in view).
    Deep inside uniform areas the blur and the ringing of a restoration have
    died out, so these are the two levels the bars should reach.
    """
    img = as_image(image, "image")
    _check_chart(chart)
    if img.shape != chart.image.shape:
        raise ValueError(f"image shape {img.shape} differs from the chart shape {chart.image.shape}")
    p = chart.pixel_size_um
    margin_um = _v.check_nonnegative(margin_um, "margin_um", hi=1e6)
    d = margin_um / p
    glass = chart.image <= 0
    far_glass = _dist_inside(glass) >= d
    if far_glass.sum() < 10:
        far_glass = _dist_inside(glass) >= max(d / 3, 1.0)
    if far_glass.sum() < 1:
        raise ValueError(f"chart has no glass area margin_um={margin_um:g} um from the chrome to estimate the "
                         "low level")
    low = float(np.median(img[far_glass]))
    r0, r1, c0, c1 = chart.rect_pixels(chart.square)
    sq = np.zeros(img.shape, bool)
    rr0, rr1 = int(math.ceil(r0 + d)), int(math.floor(r1 - d))
    cc0, cc1 = int(math.ceil(c0 + d)), int(math.floor(c1 - d))
    rr0, cc0 = max(rr0, 0), max(cc0, 0)
    rr1, cc1 = min(rr1, img.shape[0]), min(cc1, img.shape[1])
    if rr1 > rr0 and cc1 > cc0:
        sq[rr0:rr1, cc0:cc1] = True
    if sq.sum() >= 4:
        high = float(np.median(img[sq]))
    else:
        e = chart.elements[0]
        vals = [_bar_means(img, chart, s)[0] for s in e.sets]
        high = float(np.median(np.concatenate(vals)))
        warnings.warn(
            "chart_levels: the reference square is not in view; the chrome level is taken from the bars of "
            f"G{e.group}E{e.element}, which the blur lowers -- pass explicit levels=(glass, chrome) counts",
            UserWarning, stacklevel=2,
        )
    return low, high


def _axis_samples(lo_um: float, hi_um: float, origin: float, p: float, n: int, frac: float):
    """Pixel indices whose centres fall in the central ``frac`` of [lo, hi)."""
    mid = 0.5 * (lo_um + hi_um)
    half = 0.5 * frac * (hi_um - lo_um)
    i0 = int(math.ceil((mid - half - origin) / p - 1e-9))
    i1 = int(math.floor((mid + half - origin) / p + 1e-9))
    if i1 < i0:  # nothing strictly inside: nearest pixel to the middle
        i0 = i1 = int(round((mid - origin) / p))
    return max(i0, 0), min(i1, n - 1)


def _bar_means(img: np.ndarray, chart: USAFChart, bset: USAFBarSet,
               across_frac: float = 0.5, along_frac: float = 0.6):
    """Means over the central parts of the 3 bars and the 2 gaps of a set."""
    p = chart.pixel_size_um
    ov, ou = chart.origin_um
    bars = bset.bars
    if bset.orientation == "horizontal":
        # bars along u: average along u, profile along v
        a0, a1 = _axis_samples(bars[0][2], bars[0][3], ou, p, img.shape[1], along_frac)
        strips = [(b[0], b[1]) for b in bars]
        across_origin, n_across = ov, img.shape[0]
        profile_of = lambda i0, i1: img[i0:i1 + 1, a0:a1 + 1].mean()  # noqa: E731
    else:
        a0, a1 = _axis_samples(bars[0][0], bars[0][1], ov, p, img.shape[0], along_frac)
        strips = [(b[2], b[3]) for b in bars]
        across_origin, n_across = ou, img.shape[1]
        profile_of = lambda i0, i1: img[a0:a1 + 1, i0:i1 + 1].mean()  # noqa: E731
    w = strips[0][1] - strips[0][0]
    bar_vals = []
    for lo, hi in strips:
        i0, i1 = _axis_samples(lo, hi, across_origin, p, n_across, across_frac)
        bar_vals.append(profile_of(i0, i1))
    gap_vals = []
    for k in range(2):
        lo, hi = strips[k][1], strips[k][1] + w
        i0, i1 = _axis_samples(lo, hi, across_origin, p, n_across, across_frac)
        gap_vals.append(profile_of(i0, i1))
    return np.array(bar_vals), np.array(gap_vals)


def _set_modulation(img, chart, bset, scale):
    """(modulation, worst dip) of one bar set, both normalised by ``scale``."""
    b, g = _bar_means(img, chart, bset)
    modulation = (b.mean() - g.mean()) / scale
    dip = min(min(b[0], b[1]) - g[0], min(b[1], b[2]) - g[1]) / scale
    return float(modulation), float(dip)


def resolved_element(image, chart: USAFChart, *, threshold: float = 0.03,
                     levels: tuple[float, float] | None = None,
                     rule: str = "consecutive") -> ResolvedElement:
    r"""Finest USAF element whose bars are resolved in both orientations.

    Parameters
    ----------
    image : (rows, cols) array_like
        Map registered to ``chart`` (same shape and pixel grid), any units.
    chart : USAFChart
        Chart rendered at the map's pixel size (``usaf1951(step_um)``).
    threshold : float
        Minimum bar-to-space modulation, as a fraction of the glass-to-chrome
        step (default 0.03).
    levels : (low, high), optional
        Glass and chrome levels; default :func:`chart_levels`.
    rule : {"consecutive", "finest"}
        ``"consecutive"`` (default): the finest element such that it and
        every coarser element pass -- how one reads a chart: the first
        pattern whose lines merge ends the search.  ``"finest"``: the finest
        passing element.

    Returns
    -------
    ResolvedElement

    Notes
    -----
    For each bar set the image is averaged along the bars over their central
    60 % and, across them, over the central half of each of the three bars
    (means :math:`b_1, b_2, b_3`) and of the two spaces (:math:`s_1, s_2`),
    at least the nearest pixel.  A set is resolved when

    .. math::

        M = \frac{\bar b - \bar s}{\mathrm{high} - \mathrm{low}} \ge
            \text{threshold}
        \quad\text{and}\quad
        s_j < \min(b_j, b_{j+1}),\ j = 1, 2,

    i.e. the bars stand out from the spaces by the threshold fraction of
    the full glass-chrome contrast and *both* spaces are darker than their
    neighbouring bars (three separate lines are seen).  ``M`` is a Michelson
    contrast with the glass level removed, so it does not depend on the
    background counts, and it is linear in the data, so noise does not bias
    it.  An element is resolved when both its sets are and its bars are at
    least one pixel wide (Nyquist).

    Calibration: for a Gaussian PSF of sigma 6.5 px (the paper's 32.5 um
    at 5 um steps) the noise-free modulation is 0.30, 0.21, 0.13, 0.064,
    0.016, -0.013 for G3E1-G3E6 (negative: contrast reversal).  With the
    paper's counts (Cr 429 / glass 275 cps, 0.5 s) the measured ``M`` has a
    standard deviation of ~0.01, so the default 0.03 puts the raw map at
    G3E4 (11.3 lp/mm), the paper's reading of its Fig. 2c, in nearly every
    noise realisation.
    """
    img = as_image(image, "image")
    _check_chart(chart)
    if img.shape != chart.image.shape:
        raise ValueError(f"image shape {img.shape} differs from the chart shape {chart.image.shape}")
    thr = _v.check_number(threshold, "threshold", lo=0, hi=1, lo_open=True, hi_open=True)
    if rule not in ("consecutive", "finest"):
        raise ValueError(f"rule must be 'consecutive' or 'finest', got {rule!r}")
    if levels is None:
        low, high = chart_levels(img, chart)
    else:
        low, high = (float(v) for v in _v.check_array(levels, "levels", shape=(2,)))
    if not high > low:
        raise ValueError(f"levels: high ({high}) must exceed low ({low})")
    scale = high - low
    p = chart.pixel_size_um
    table = []
    for e in sorted(chart.elements, key=lambda e: e.lp_per_mm):
        mh, dh = _set_modulation(img, chart, e.horizontal, scale)
        mv, dv = _set_modulation(img, chart, e.vertical, scale)
        ok = (e.bar_width_um >= p and mh >= thr and mv >= thr and dh > 0 and dv > 0)
        table.append(ElementContrast(e.group, e.element, e.lp_per_mm, mh, mv, dh, dv, ok))
    best = None
    for row in table:
        if row.resolved:
            best = row
        elif rule == "consecutive":
            break
    if best is None:
        return ResolvedElement(None, None, 0.0, math.inf, thr, (low, high), tuple(table))
    w = 1000.0 / (2.0 * best.lp_per_mm)
    return ResolvedElement(best.group, best.element, best.lp_per_mm, w, thr, (low, high),
                           tuple(table))


@dataclass(frozen=True)
class RestorationScore:
    """How close a restored map is to the truth (:func:`score_restoration`).

    Attributes
    ----------
    mse, ssim : float
        After mapping the map's two levels (``levels``) to 0 and 1, against the
        reference scaled to [0, 1] (seed 001: window 7, K1 0.01, K2 0.03,
        data range 1). NaN-free; ``None`` when no reference was given.
    element : str or None
        Finest resolved USAF element, e.g. ``"G3E4"`` (``None`` without a chart
        or when not even the coarsest element is resolved).
    lp_per_mm : float or None
        Its spatial frequency.
    levels : (low, high)
        The map levels mapped to 0 and 1.
    """

    mse: float | None
    ssim: float | None
    element: str | None
    lp_per_mm: float | None
    levels: tuple[float, float]

    def as_dict(self) -> dict:
        return {"mse": self.mse, "ssim": self.ssim, "element": self.element,
                "lp_per_mm": self.lp_per_mm, "levels": list(self.levels)}


def score_restoration(restored, reference=None, *, chart: USAFChart | None = None,
                      levels: tuple[float, float] | None = None) -> RestorationScore:
    r"""MSE, SSIM and the resolved USAF element of a restored map (seed 001 Sec. 3).

    Parameters
    ----------
    restored : (M, N) array_like
        Restored (or raw) map in counts.
    reference : (M, N) array_like, optional
        Ground truth; scaled to [0, 1] by its own minimum and maximum.
    chart : USAFChart, optional
        The chart the map was scanned from (same shape); gives the resolved
        element, and the default ``levels`` (:func:`chart_levels` of
        ``restored``: glass and chrome counts far from edges).
    levels : (low, high), optional
        Map levels mapped to 0 and 1 before MSE/SSIM. Without a chart the
        default is the 0.5th and 99.5th percentiles of ``restored``. Pass the
        raw map's levels to score several restorations on one scale.

    Returns
    -------
    RestorationScore

    Notes
    -----
    The paper compares normalised images: :math:`\hat x = (x - l)/(h - l)`,
    then MSE and SSIM (Wang et al. 2004, window 7, :math:`K_1=0.01`,
    :math:`K_2=0.03`) against the normalised truth; resolution is the finest
    element resolved in both orientations, :math:`R = 2^{G + (E-1)/6}` lp/mm.
    """
    from .metrics import mse as _mse, normalize as _normalize, ssim as _ssim

    img = as_image(restored, "restored")
    if chart is not None:
        _check_chart(chart)
        if img.shape != chart.image.shape:
            raise ValueError(f"restored shape {img.shape} differs from the chart shape {chart.image.shape}")
    if levels is not None:
        levels = tuple(float(v) for v in _v.check_array(levels, "levels", shape=(2,)))
    if levels is None:
        if chart is not None:
            levels = chart_levels(img, chart)
        else:
            lo, hi = np.percentile(img, [0.5, 99.5])
            levels = (float(lo), float(hi))
    low, high = float(levels[0]), float(levels[1])
    if not (np.isfinite(low) and np.isfinite(high)) or high == low:
        raise ValueError(f"levels must be two different finite values, got {levels}")
    m = s = None
    if reference is not None:
        ref = as_image(reference, "reference")
        if ref.shape != img.shape:
            raise ValueError(f"reference shape {ref.shape} differs from the restored shape {img.shape}")
        ref01 = _normalize(ref) if ref.max() > ref.min() else ref - ref.min()
        x01 = _normalize(img, low, high)
        m = float(_mse(x01, ref01))
        s = float(_ssim(x01, ref01, data_range=1.0))
    element = lp = None
    if chart is not None:
        res = resolved_element(img, chart, levels=(low, high))
        if res.group is not None:
            element, lp = f"G{res.group}E{res.element}", float(res.lp_per_mm)
    return RestorationScore(mse=m, ssim=s, element=element, lp_per_mm=lp, levels=(low, high))
