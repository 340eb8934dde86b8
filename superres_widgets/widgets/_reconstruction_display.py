r"""What the :class:`~superres_widgets.widgets.ReconstructionExplorer` shows of a result.

Private helper of :mod:`superres_widgets.widgets.reconstruction`: pure functions of a
:class:`~superres_widgets.s3dxrd.PhantomReconstruction` (or a
:class:`~superres_widgets.s3dxrd.PeakReconstruction`) that build the arrays sent to the browser
(:func:`display_arrays`), the ``stats`` dict (:func:`result_stats`) and the sub-pixel map's
candidate at a point (:func:`map_choice`).  The widget holds them as static methods
(``_display_arrays``, ``_stats``, ``_map_choice``); the colouring and the boundary tracer are the
algorithm layer's (:mod:`superres_widgets.s3dxrd.ipf`, :mod:`superres_widgets.s3dxrd.boundaries`).

Conventions: those of :mod:`superres_widgets.widgets.reconstruction` (lengths in micrometres in
the specimen frame, RGBA ``uint8`` images with row 0 at the lowest ``ys``, the cubic IPF key,
boundaries on cell edges), stated once in its module docstring.
"""

from __future__ import annotations

import math

import numpy as np

from ..s3dxrd.boundaries import map_boundary_segments, phantom_boundary_segments
from ..s3dxrd.ipf import ipf_colors, map_rgba, phantom_rgba


def display_arrays(result, axis: str) -> dict:
    """The maps of ``result`` as sent to the browser (conventions 2-4, 6), coloured about specimen ``axis``.

    Parameters
    ----------
    result : PhantomReconstruction or PeakReconstruction
        Of :func:`~superres_widgets.s3dxrd.reconstruct_phantom` or
        :func:`~superres_widgets.s3dxrd.reconstruct_from_peaks`.
    axis : {"z", "x", "y"}
        Specimen axis of the inverse-pole-figure colours.

    Returns
    -------
    dict
        ``phantom_*``, ``conventional_*`` and ``subpixel_*`` ``rgba`` / ``extent`` / ``edges``
        and ``candidate_rgb``, keyed by the widget's trait names.
    """
    thr = float(result.parameters.get("boundary_threshold_deg", 3.0))
    conv, sub = result.conventional, result.subpixel
    phantom = getattr(result, "phantom", None)
    if phantom is not None:
        ph_img, ph_ext = phantom_rgba(phantom, axis)
        ph_edges = phantom_boundary_segments(phantom, thr)
    else:  # your peaks: the sub-pixel map's confidence in grey (module rule 6)
        conf = np.clip(np.nan_to_num(np.asarray(sub.confidence, float)), 0, 1)
        grey = np.round(235.0 - 175.0 * sub.to_image(conf, fill=0.0)).astype(np.uint8)  # dark = sure
        ph_img = np.stack([grey, grey, grey, np.where(sub.grid_index >= 0, 255, 0).astype(np.uint8)], axis=-1)
        ph_ext = [float(v) for v in sub.extent]
        ph_edges = np.zeros((0, 4), dtype=np.float32)
    return dict(
        phantom_rgba=ph_img,
        phantom_extent=ph_ext,
        phantom_edges=ph_edges,
        conventional_rgba=map_rgba(conv, axis),
        conventional_extent=[float(v) for v in conv.extent],
        conventional_edges=map_boundary_segments(conv, thr),
        subpixel_rgba=map_rgba(sub, axis),
        subpixel_extent=[float(v) for v in sub.extent],
        subpixel_edges=map_boundary_segments(sub, thr),
        candidate_rgb=np.round(255 * ipf_colors(result.candidates, axis)).astype(np.uint8),
    )


def result_stats(result, seconds: float) -> dict:
    """The ``stats`` dict of ``result``: per map spacing, targets and evaluation, scan and timings (JSON-safe).

    Non-finite numbers become ``None``; with your peaks (module rule 6) a map reports its mean
    confidence instead of the evaluation against a phantom.
    """
    def one(m):
        ev = m.evaluation

        def f(v):
            v = float(v)
            return v if math.isfinite(v) else None

        if ev is None:  # your peaks: no phantom to compare with
            conf = np.asarray(m.confidence, float) if m.confidence is not None else m.completeness
            return dict(spacing_um=float(m.spacing_um), n_targets=int(m.n_targets),
                        unassigned=int(np.sum(m.candidate < 0)), mean_confidence=f(np.mean(conf)),
                        mean_displacement_um=None, fraction_correct=None)
        return dict(
            spacing_um=float(m.spacing_um),
            n_targets=int(m.n_targets),
            unassigned=int(np.sum(m.candidate < 0)),
            mean_displacement_um=f(ev.mean_displacement_um),
            median_displacement_um=f(ev.median_displacement_um),
            max_displacement_um=f(ev.max_displacement_um),
            ideal_mean_displacement_um=f(ev.ideal_mean_displacement_um),
            fraction_correct=f(ev.fraction_correct),
            fraction_correct_interior=f(ev.fraction_correct_interior),
            area_fraction_correct=f(ev.area_fraction_correct),
            grains_present=int(ev.grains_present),
        )

    phantom = getattr(result, "phantom", None)
    model = result.subpixel.model
    extra = {}
    if getattr(model, "detection_probability", None) is not None:
        extra = dict(detection_estimate=float(model.detection_probability),
                     spurious_estimate=float(model.spurious_probability))
    if phantom is None:
        extra.update(source="peaks", dropped={k: int(v) for k, v in result.dropped.items()},
                     candidate_source=str(result.candidate_source))
    return dict(
        conventional=one(result.conventional),
        subpixel=one(result.subpixel),
        n_grains=int(phantom.n_grains) if phantom is not None else None,
        voronoi=phantom is not None and phantom.seeds_um is not None,
        n_candidates=int(result.candidates.shape[0]),
        grains_found=int(result.grains_found) if phantom is not None else None,
        scorer=str(result.subpixel.scorer),
        **extra,
        n_peaks=int(result.data.n_peaks),
        n_measurements=int(result.geometry.omega_deg.size),
        pixel_um=float(phantom.pixel_um) if phantom is not None else None,
        timings={k: float(v) for k, v in result.timings.items()},
        compute_s=float(seconds),
    )


def map_choice(result, xs: float, ys: float) -> int:
    """The sub-pixel map's candidate at its target nearest to ``(xs, ys)`` (the likelihood scorer's choice)."""
    m = result.subpixel
    if m.n_targets == 0:
        return -1
    return int(m.candidate[int(np.argmin((m.xs - xs) ** 2 + (m.ys - ys) ** 2))])
