"""Bokeh panels of the static HTML report (:mod:`superres_widgets.report`): figures, images, grids.

Private helper of :mod:`superres_widgets.report`: a titled figure with the report's tools, an
image of ``img[row, col]`` (row 0 at the top when ``flip``; ``extent`` ``(x0, x1, y0, y1)`` puts
it in data coordinates with axes), a grid of panels, and the strips-and-region panel of seed 000
Figs. 2-3 (:func:`~superres_widgets.s3dxrd.superposed_mask` and the exact polygon of
:func:`~superres_widgets.s3dxrd.superposed_region`).  Like the report it uses only the algorithm
layer (:mod:`superres_widgets.s3dxrd`) and Bokeh, imported inside the functions; no widget module.
"""

from __future__ import annotations

import numpy as np


# ---------------------------------------------------------------------------
# small Bokeh helpers
# ---------------------------------------------------------------------------

def _fig(title, width=300, height=300, **kw):
    from bokeh.plotting import figure

    kw.setdefault("tools", "pan,wheel_zoom,box_zoom,reset,save")
    p = figure(title=title, width=width, height=height, **kw)
    p.title.text_font_size = "11px"
    return p


def _image(img, title, low=None, high=None, width=260, palette="Viridis256", flip=True, extent=None,
           **kw):
    """A Bokeh image of ``img[row, col]``; row 0 at the top when ``flip``."""
    from bokeh.models import LinearColorMapper

    img = np.asarray(img, dtype=np.float32)
    ny, nx = img.shape
    low = float(np.nanmin(img)) if low is None else low
    high = float(np.nanmax(img)) if high is None else high
    if high <= low:
        high = low + 1
    x0, x1, y0, y1 = extent if extent is not None else (0, nx, 0, ny)
    height = int(width * (y1 - y0) / (x1 - x0)) + 40
    p = _fig(title, width=width, height=min(height, 3 * width), x_range=(x0, x1), y_range=(y0, y1),
             **kw)
    mapper = LinearColorMapper(palette=palette, low=low, high=high)
    p.image(image=[img[::-1] if flip else img], x=x0, y=y0, dw=x1 - x0, dh=y1 - y0,
            color_mapper=mapper)
    if extent is None:
        p.axis.visible = False
    p.grid.visible = False
    return p


def _grid(figs, ncols):
    from bokeh.layouts import gridplot

    return gridplot([figs[i:i + ncols] for i in range(0, len(figs), ncols)], toolbar_location=None)


# ---------------------------------------------------------------------------
# seed 000: s3DXRD
# ---------------------------------------------------------------------------

def _region_panel(geometry, xs, ys, title, compare=None):
    from superres_widgets.s3dxrd import superposed_mask, superposed_region

    half = 1.2
    mask = superposed_mask(geometry, xs, ys, px_per_beam=20,
                           extent=(xs - half, xs + half, ys - half, ys + half))
    exact = superposed_region(geometry, xs, ys)
    x0, x1, y0, y1 = mask.extent
    p = _fig(title, width=400, height=380, x_range=(x0, x1), y_range=(y0, y1),
             x_axis_label="xs (beam widths)", y_axis_label="ys (beam widths)")
    from bokeh.models import LinearColorMapper

    p.image(image=[mask.hits.astype(np.float32)], x=x0, y=y0, dw=x1 - x0, dh=y1 - y0,
            color_mapper=LinearColorMapper(palette="Greys256", low=mask.n_measurements, high=0))
    if len(exact.vertices):
        v = np.asarray(exact.vertices)
        p.patch(v[:, 0], v[:, 1], fill_color="#d62728", fill_alpha=0.35, line_color="#d62728",
                line_width=2, legend_label="exact superposed region")
    if compare is not None:
        c = np.asarray(superposed_region(geometry, *compare).vertices)
        if len(c):
            p.patch(c[:, 0], c[:, 1], fill_alpha=0, line_color="#1f77b4", line_width=2,
                    line_dash="dashed", legend_label=f"region of {compare}")
    p.scatter([xs], [ys], marker="x", size=10, color="#ff7f0e")
    p.legend.label_text_font_size = "9px"
    p.legend.location = "top_left"
    p.grid.visible = False
    return p, mask, exact
