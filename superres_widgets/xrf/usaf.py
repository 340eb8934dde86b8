r"""USAF-1951 resolution chart: its geometry and rendering (reading a restored chart: :mod:`.usaf_score`).

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
See :func:`superres_widgets.xrf.usaf_score.resolved_element`.

References
----------
.. [1] MIL-STD-150A, section 5.1.1.7 (USAF 1951 target), 1959.
.. [2] J. Yang, Z. Zhang and Q. Cheng, J. Anal. At. Spectrom. 37, 750 (2022).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from collections.abc import Iterable, Sequence

import numpy as np

from .. import validate as _v
from ._validate import check_positive

__all__ = ["lp_per_mm", "USAFBarSet", "USAFElement", "USAFChart", "usaf1951"]

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
