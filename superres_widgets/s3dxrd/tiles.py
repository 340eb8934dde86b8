r"""Large s3DXRD maps: spatial tiles, candidates pruned per tile, Dask.

At the paper's scale (160 um, 40 grains) N' of every candidate at every
sub-pixel is cheap.  A 1 mm specimen with 500 grains has 785 000 one-micron
sub-pixels and 56 000 predicted reflections: the dense ``N'`` table alone
would be 3 GB and its computation hours.  A grain only matters near where it
is, so :func:`pruned_nprime_map` cuts the map into square tiles of targets,
keeps for each tile the candidates whose grain can reach it, and computes N'
(and the choice, with the same tie-break) only for those -- one independent
task per tile, run on Dask's local scheduler or a ``distributed.Client``.

Conventions
-----------
Checked in ``tests/test_s3dxrd_reconstruction.py`` (pruned equals dense on
the paper's setup), ``tests/test_s3dxrd_tiles.py`` (tiled Dask maps equal
the dense map on the local schedulers and a ``distributed.Client``) and
``benchmarks/bench_scale.py`` (1 mm, 500 grains; ``docs/benchmarks.md``).

1. **Grain extents** (:func:`candidate_extents`): each candidate's centre
   and radius from its observed records by the robust fit of
   :mod:`~superres_widgets.s3dxrd.scoring` (rule 2a there).

2. **Tiles** of ``tile x tile`` targets of the map grid; a candidate is kept
   for a tile when its disc (radius + 2 steps + the beam's support) meets
   the tile's bounding box.  Targets of a tile with no candidate are
   unassigned.  N' of the kept candidates is exactly the dense N' (the same
   kernel on the candidates' own reflections); a pruned candidate could only
   have had the few percent of N' that a strip passing far from its grain
   gives.

3. **Tasks**: one per tile (numpy: in order, cancellable between tiles;
   Dask: ``dask.delayed`` tasks computed with ``scheduler``; the observation
   table and the geometry are one graph key each -- scattered to the workers
   first on a ``distributed.Client`` -- and every task cuts its tile's
   candidates out of the table itself).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .conventions import check_cancel

__all__ = ["candidate_extents", "subset_table", "tile_tasks", "pruned_nprime_map", "chosen_completeness"]


def candidate_extents(table: Any, geometry: Any) -> tuple[np.ndarray, np.ndarray]:
    """Centre ``(xs, ys)`` and radius of every candidate's grain from its records (rule 1).

    Examples
    --------
    >>> r = reconstruct_phantom(diameter_um=40, n_grains=3, seed=1)  # doctest: +SKIP
    >>> candidate_extents(r.table, r.geometry)[0].shape               # doctest: +SKIP
    (3, 2)
    """
    from .conventions import cos_sin_deg
    from ._scoring_runs import _centre_fit

    ev = table.events
    X = np.asarray(geometry.x_positions, dtype=float)
    step = float(geometry.step)
    nc = table.n_candidates
    cen = np.zeros((nc, 2))
    rad = np.full(nc, np.inf)
    for c in range(nc):
        e = np.nonzero(ev.orientation == c)[0]
        obs = table.observed[e]
        if obs.sum() < 2:
            continue  # no information: never pruned
        co, si = cos_sin_deg(ev.omega_deg[e])
        cen[c], rad[c] = _centre_fit(obs, co, si, X, step)
    return cen, rad


def subset_table(table: Any, cands: Any) -> Any:
    """The observation table of some candidates only (renumbered ``0..k-1`` in the given order)."""
    from .nprime import ObservationTable

    cands = np.asarray(cands, dtype=np.int64)
    ev = table.events
    parts = [np.nonzero(ev.orientation == c)[0] for c in cands]
    e = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    counts = np.array([p.size for p in parts], dtype=np.int64)
    new_c = np.repeat(np.arange(cands.size), counts)
    events = dataclasses.replace(
        ev, orientation=new_c, hkl_index=ev.hkl_index[e], solution=ev.solution[e], ring=ev.ring[e],
        omega_deg=ev.omega_deg[e], eta_deg=ev.eta_deg[e], tth_deg=ev.tth_deg[e], counts=counts,
    )
    g = table.group[e]
    new = np.ones(g.size, dtype=bool)
    new[1:] = (g[1:] != g[:-1]) | (new_c[1:] != new_c[:-1])
    group = np.cumsum(new) - 1
    goff = np.concatenate([np.nonzero(new)[0], [g.size]]).astype(np.int64)
    return ObservationTable(
        U=np.asarray(table.U)[cands], events=events, j=table.j[e], observed=table.observed[e],
        group=group.astype(np.int64), group_offsets=goff,
        n_groups_per_candidate=np.asarray(table.n_groups_per_candidate)[cands],
        eta_tol_deg=table.eta_tol_deg, omega_tol_deg=table.omega_tol_deg,
        in_scan=None if table.in_scan is None else table.in_scan[e],
    )


def tile_tasks(table: Any, geometry: Any, xs: np.ndarray, ys: np.ndarray, grid_index: np.ndarray,
               tile: int = 64) -> list[tuple[np.ndarray, np.ndarray]]:
    """The tiles of rule 2: ``(targets, kept candidates)`` per non-empty ``tile x tile`` block of the grid.

    Every target of ``grid_index`` (``>= 0``) is in exactly one tile; a candidate is kept when its disc
    (radius + 2 steps + the beam's support) meets the tile's bounding box.

    Examples
    --------
    >>> r = reconstruct_phantom(diameter_um=40, n_grains=3, seed=1)       # doctest: +SKIP
    >>> m = r.subpixel                                                   # doctest: +SKIP
    >>> len(tile_tasks(r.table, r.geometry, m.xs, m.ys, m.grid_index, 16))  # doctest: +SKIP
    4
    """
    tile = int(tile)
    if tile < 1:
        raise ValueError(f"tile must be an integer >= 1, got {tile!r}")
    cen, rad = candidate_extents(table, geometry)
    reach = rad + 2.0 * float(geometry.step) + float(geometry.profile.support(geometry.beam_width))
    gi = np.asarray(grid_index)
    ny, nx = gi.shape
    tasks = []
    for i0 in range(0, ny, tile):
        for j0 in range(0, nx, tile):
            t = gi[i0 : i0 + tile, j0 : j0 + tile]
            t = t[t >= 0]
            if t.size == 0:
                continue
            x0, x1, y0, y1 = xs[t].min(), xs[t].max(), ys[t].min(), ys[t].max()
            dx = np.maximum(np.maximum(x0 - cen[:, 0], cen[:, 0] - x1), 0.0)
            dy = np.maximum(np.maximum(y0 - cen[:, 1], cen[:, 1] - y1), 0.0)
            keep = np.nonzero(np.hypot(dx, dy) <= reach)[0]
            tasks.append((t, keep))
    return tasks


def _tile_task(sub, geometry, count, want_next, expected, beam_weighting, xs, ys, cands):
    from .nprime import _ChunkKernel

    if cands.size == 0:
        return np.full(xs.size, -1, dtype=np.int64), np.zeros(xs.size)
    kern = _ChunkKernel(sub, geometry, count, want_next, expected, beam_weighting)
    cand = np.empty(xs.size, dtype=np.int64)
    comp = np.empty(xs.size)
    for a in range(0, xs.size, 2048):
        out = kern(xs[a : a + 2048], ys[a : a + 2048])
        k = out[:, -1].astype(np.int64)
        cand[a : a + 2048] = np.where(k >= 0, cands[np.maximum(k, 0)], -1)
        comp[a : a + 2048] = np.where(k >= 0, out[np.arange(k.size), np.maximum(k, 0)], 0.0)
    return cand, comp


def _distributed_client(scheduler: Any) -> Any:
    """The ``distributed.Client`` the tiles will run on: ``scheduler`` itself, or the active one when ``None``."""
    if scheduler is not None:
        return scheduler if hasattr(scheduler, "scatter") and hasattr(scheduler, "get") else None
    try:
        from distributed import default_client

        return default_client()
    except (ImportError, ValueError):
        return None


def _subset_tile_task(table, geometry, count, want_next, expected, beam_weighting, xs, ys, cands):
    return _tile_task(subset_table(table, cands), geometry, count, want_next, expected, beam_weighting, xs, ys, cands)


def pruned_nprime_map(
    table: Any,
    geometry: Any,
    xs: np.ndarray,
    ys: np.ndarray,
    grid_index: np.ndarray,
    *,
    count: str = "reflection",
    expected: str = "predicted",
    tie_break: str = "next",
    beam_weighting: bool = True,
    tile: int = 64,
    backend: str = "numpy",
    scheduler: Any = None,
    cancel: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Chosen candidate and its N' per target, tile by tile with pruned candidates (rules 2-3).

    Returns
    -------
    candidate : ndarray of int, (n,)
    completeness : ndarray, (n,)
    """
    tasks = tile_tasks(table, geometry, xs, ys, grid_index, tile)
    want_next = tie_break == "next"
    cand = np.full(xs.size, -1, dtype=np.int64)
    comp = np.zeros(xs.size)
    if backend == "numpy":
        for t, keep in tasks:
            check_cancel(cancel, "N' map")
            c, v = _tile_task(subset_table(table, keep), geometry, count, want_next, expected, beam_weighting,
                              xs[t], ys[t], keep)
            cand[t], comp[t] = c, v
        return cand, comp
    import uuid

    import dask

    # the table and the geometry enter the graph ONCE (one key each, shipped once to a distributed cluster);
    # each task subsets the table itself, so the caller never holds every tile's table at once
    client = _distributed_client(scheduler)
    if client is not None:  # scattered to the workers ahead of the graph (no "large graph" sent with the tasks)
        tbl, geo = client.scatter([table, geometry], hash=False)
    else:
        tag = uuid.uuid4().hex
        tbl = dask.delayed(table, name=f"s3dxrd-observation-table-{tag}", traverse=False)
        geo = dask.delayed(geometry, name=f"s3dxrd-geometry-{tag}", traverse=False)
    jobs = [dask.delayed(_subset_tile_task)(tbl, geo, count, want_next, expected, beam_weighting, xs[t], ys[t], keep)
            for t, keep in tasks]
    results = dask.compute(*jobs, scheduler=scheduler)
    for (t, _), (c, v) in zip(tasks, results):
        cand[t], comp[t] = c, v
    return cand, comp


def chosen_completeness(table, geometry, xs, ys, cand, count, expected, beam_weighting, cancel) -> np.ndarray:
    """N' of each target's chosen candidate only: one candidate's reflections per group of targets."""
    from .nprime import _ChunkKernel

    out = np.zeros(xs.size)
    for c in np.unique(cand[cand >= 0]):
        check_cancel(cancel, "N' map")
        idx = np.nonzero(cand == c)[0]
        kern = _ChunkKernel(subset_table(table, [int(c)]), geometry, count, False, expected, beam_weighting)
        for a in range(0, idx.size, 2048):
            part = idx[a : a + 2048]
            out[part] = kern(xs[part], ys[part])[:, 0]
    return out
