r"""The peer: ImageD11's own point-by-point (pbp) indexing of the same scan.

Beamlines map s3DXRD slices with ImageD11's point-by-point code
(``ImageD11.sinograms.point_by_point``): at every point of a grid in the
slice it keeps the peaks whose ``dty`` puts that point in the beam at their
``omega``, indexes them locally (pairs of rings, ``indexer.find`` /
``scorethem``) and keeps the orientation with the most unique peaks.  This
module runs exactly that code on one of our scans, so our conventional and
sub-pixel maps can be put beside the tool users trust
(:func:`imaged11_point_by_point`).  ImageD11 is optional (``pip install
ImageD11``; it is in the ``test`` extra).

Conventions
-----------
Checked in ``tests/test_s3dxrd_columnfile.py`` and
``benchmarks/bench_imaged11_peer.py``.

1. **Input**: the scan is written with
   :func:`~superres_widgets.s3dxrd.columnfile.write_columnfile` (far-field
   detector) and read back by ImageD11's ``columnfile`` and
   ``updateGeometry`` with the written ``.par``; ``PBP.setpeaks`` selects
   the peaks (``ds_tol``, ``etacut``) and writes the HDF5 ``icolf``.

2. **Points**: ImageD11's step space ``(si, sj)``, sample position
   ``(sx, sy) = (si step, -sj step)`` (``geometry.step_to_sample``), i.e.
   our specimen ``(xs, ys) = (sy, -sx) = (-sj step, -si step)``.  The
   points are the targets of our map with the same ``subdivision``
   (1: ImageD11's own ``gridstep=1`` grid); fractional ``si, sj`` for
   ``subdivision > 1`` run the same per-point function.

3. **Per point**: ImageD11's ``idxpoint`` through its worker functions
   ``initializer`` / ``proxy`` (the pool's code, run in this process, one
   thread); the choice is ``choose_best``'s: the first returned grain with
   more than ``minpeaks`` unique peaks, else unassigned.

4. **Map**: the chosen ``UBI`` -> ``U`` (crystal rule 2, nearest rotation);
   orientations within ``cluster_deg`` (1 deg) are merged into candidates
   (greedy, in order of frequency) so the map is an
   :class:`~superres_widgets.s3dxrd.OrientationMap` that
   :func:`~superres_widgets.s3dxrd.evaluate_map` can judge like ours;
   ``misorientation_deg`` keeps each point's own ``U``.

References
----------
.. [1] J. P. Wright et al., ImageD11, ``ImageD11/sinograms/point_by_point.py``
   (``PBP``, ``idxpoint``, ``nb_choose_best``).
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .conventions import check_cancel
from .crystal import misorientation_table
from .nprime import OrientationMap, map_targets
from .orientation import orientation_from_ubi

__all__ = ["PointByPointMap", "imaged11_point_by_point"]


@dataclass(frozen=True, eq=False)
class PointByPointMap:
    """ImageD11's point-by-point map of a scan (module rules 2-4).

    Attributes
    ----------
    map : OrientationMap
        Clustered candidates (``scorer="imaged11-pbp"``); ``confidence`` is
        the chosen grain's unique-peak count over the best at any point.
    U : ndarray, (n, 3, 3)
        Each point's own orientation (NaN: unassigned).
    n_unique, n_peaks : ndarray of int, (n,)
        ``nuniq`` and ``ntotal`` of the chosen grain (0: none).
    seconds : float
        Time of the per-point indexing.
    parameters : dict
    """

    map: OrientationMap
    U: np.ndarray
    n_unique: np.ndarray
    n_peaks: np.ndarray
    seconds: float
    parameters: dict = field(default_factory=dict)

    def misorientation_deg(self, phantom: Any) -> np.ndarray:
        """Misorientation of each point's own ``U`` to the phantom grain under it (NaN: air, unassigned)."""
        plab = phantom.label_at(self.map.xs, self.map.ys)
        out = np.full(plab.size, np.nan)
        ok = (plab >= 0) & np.all(np.isfinite(self.U), axis=(1, 2))
        if ok.any():
            from .orientation import misorientation_deg

            out[ok] = misorientation_deg(self.U[ok], phantom.orientations[plab[ok]],
                                         self.parameters["symmetry_group"])
        return out


def _cluster(U: np.ndarray, ok: np.ndarray, cluster_deg: float, symmetry: Any = "cubic"):
    """Greedy clustering of orientations within ``cluster_deg`` (rule 4): (candidate per point, representatives)."""
    cand = np.full(U.shape[0], -1, dtype=np.int64)
    reps: list[np.ndarray] = []
    todo = np.nonzero(ok)[0]
    while todo.size:
        # the most frequent orientation first: take the point with most neighbours in a sample
        sample = todo[:: max(1, todo.size // 200)]
        counts = (misorientation_table(U[sample], U[todo], symmetry) < cluster_deg).sum(axis=1)
        seed = sample[int(np.argmax(counts))]
        mt = misorientation_table(U[seed : seed + 1], U[todo], symmetry)[0]
        member = todo[mt < cluster_deg]
        cand[member] = len(reps)
        reps.append(U[seed])
        todo = todo[mt >= cluster_deg]
    return cand, (np.array(reps) if reps else np.zeros((0, 3, 3)))


def imaged11_point_by_point(
    data: Any,
    *,
    subdivision: int = 1,
    radius_um: float | None = None,
    workdir: Any = None,
    y0_um: float = 0.0,
    hkl_tol: float = 0.03,
    fpks: float = 0.5,
    ds_tol: float = 0.005,
    etacut: float = 0.1,
    cosine_tol_deg: float = 0.5,
    foridx: Any = None,
    forgen: Any = None,
    uniqcut: float = 0.75,
    minpeaks: int = 6,
    symmetry: str | None = None,
    cluster_deg: float = 1.0,
    cancel: Any = None,
) -> PointByPointMap:
    """Run ImageD11's point-by-point indexing on ``data`` (module rules 1-4).

    Parameters
    ----------
    data : ScanData
    subdivision : int, default 1
        Points per step (1: ImageD11's ``gridstep=1`` grid, the conventional
        resolution; 4: our 1-um sub-pixels).
    radius_um : float, optional
        Disc of points (default the scan's ``x_range - step/2``).
    workdir : str or path, optional
        Where the columnfile, ``.par`` and ``icolf`` go (default a temporary
        directory, removed afterwards).
    y0_um : float, default 0
    hkl_tol, fpks, ds_tol, etacut, uniqcut, symmetry
        ImageD11 ``PBP`` options (``fpks``: fraction of the expected peaks a
        grain needs; ``symmetry`` defaults to the phase's Laue group);
        ``cosine_tol_deg`` is ``cos(90 - cosine_tol_deg)``.
    foridx, forgen : sequence of int, optional
        Rings used for the peak selection and for pair generation
        (default the first five and the first two).
    minpeaks : int, default 6
        ``choose_best``'s cut on unique peaks.
    cluster_deg : float, default 1
    cancel : threading.Event, callable or None
        Polled between points.

    Returns
    -------
    PointByPointMap

    Raises
    ------
    ImportError
        When ImageD11 is not installed (``pip install ImageD11``).

    Examples
    --------
    >>> r = reconstruct_phantom(diameter_um=40, n_grains=3, seed=1)    # doctest: +SKIP
    >>> pbp = imaged11_point_by_point(r.data)                         # doctest: +SKIP
    >>> evaluate_map(pbp.map, r.phantom).fraction_correct > 0.8        # doctest: +SKIP
    True
    """
    try:
        import ImageD11.columnfile as id11_columnfile
        import ImageD11.sinograms.point_by_point as id11_pbp
    except ImportError as exc:  # pragma: no cover - the test extra has it
        raise ImportError("imaged11_point_by_point needs ImageD11: pip install ImageD11") from exc
    import types

    from .columnfile import write_columnfile

    geom = data.geometry
    symmetry = data.reflections.phase.symmetry if symmetry is None else symmetry
    step = float(geom.step)
    R = geom.x_range - 0.5 * step if radius_um is None else float(radius_um)
    xs, ys, gx, gy, gidx = map_targets(step, subdivision, R)
    own = workdir is None
    tmp = tempfile.TemporaryDirectory() if own else None
    wd = tmp.name if own else os.fspath(workdir)
    try:
        out = write_columnfile(data, os.path.join(wd, "scan.flt"), y0_um=y0_um)
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink):
            colf = id11_columnfile.columnfile(out["columnfile"])
            colf.parameters.loadparameters(out["par"])
            colf.updateGeometry()
            ybc = np.unique(colf.dty)
            dset = types.SimpleNamespace(ybincens=ybc, ystep=step, icolfile=os.path.join(wd, "icolf.h5"))
            nring = data.reflections.n_rings
            pbp = id11_pbp.PBP(
                out["par"], dset, hkl_tol=hkl_tol, fpks=fpks, ds_tol=ds_tol, etacut=etacut, gmax=5,
                cosine_tol=np.cos(np.radians(90.0 - cosine_tol_deg)), y0=y0_um, symmetry=symmetry, loglevel=3,
                foridx=list(range(min(5, nring))) if foridx is None else list(foridx),
                forgen=list(range(min(2, nring))) if forgen is None else list(forgen), uniqcut=uniqcut,
            )
            pbp.setpeaks(colf)
            idxopt = dict(ystep=pbp.ystep, y0=pbp.y0, ymin=pbp.ymin, minpks=pbp.minpks, hkl_tol=pbp.hkl_tol,
                          ds_tol=pbp.ds_tol, cosine_tol=pbp.cosine_tol, forgen=pbp.forgen, hmax=pbp.hmax,
                          uniqcut=pbp.uniqcut)
            id11_pbp.initializer(out["par"], None, symmetry, pbp.icolf_filename, 3)
            t0 = time.perf_counter()
            n = xs.size
            ubi = np.full((n, 3, 3), np.nan)
            nuniq = np.zeros(n, dtype=np.int64)
            ntot = np.zeros(n, dtype=np.int64)
            # our (xs, ys) -> ImageD11 step space: si = -ys / step, sj = -xs / step (rule 2)
            for p in range(n):
                check_cancel(cancel, "ImageD11 point-by-point")
                _, _, grains = id11_pbp.proxy((-ys[p] / step, -xs[p] / step, idxopt))
                for nt, nu, g in grains:
                    if nu > minpeaks:
                        ubi[p], nuniq[p], ntot[p] = g, nu, nt
                        break
            seconds = time.perf_counter() - t0
    finally:
        if tmp is not None:
            tmp.cleanup()
    ok = nuniq > 0
    U = np.full((n, 3, 3), np.nan)
    if ok.any():
        U[ok] = orientation_from_ubi(ubi[ok], data.reflections.phase)
    cand, reps = _cluster(U, ok, cluster_deg, data.reflections.phase)
    best = max(int(nuniq.max()), 1)
    omap = OrientationMap(
        subdivision=int(subdivision), spacing_um=step / subdivision, xs=xs, ys=ys, grid_x=gx, grid_y=gy,
        grid_index=gidx, candidate=cand, completeness=nuniq / best, n_prime=np.zeros((n, 0)),
        U=reps if reps.shape[0] else np.eye(3)[None], count="reflection", tie_break="first",
        scorer="imaged11-pbp", confidence=nuniq / best,
    )
    params = dict(subdivision=int(subdivision), hkl_tol=hkl_tol, fpks=fpks, ds_tol=ds_tol, etacut=etacut,
                  symmetry_group=data.reflections.phase.symmetry,
                  cosine_tol_deg=cosine_tol_deg, minpeaks=minpeaks, uniqcut=uniqcut, symmetry=symmetry,
                  minpks=int(idxopt["minpks"]), cluster_deg=cluster_deg, n_points=int(n))
    return PointByPointMap(map=omap, U=U, n_unique=nuniq, n_peaks=ntot, seconds=seconds, parameters=params)
