"""tiles.py: the tiled, candidate-pruned N' map on Dask equals the dense map (local schedulers and a Client).

The dense reference is the plain numpy map over all candidates (``prune=False``); the tiled map must give the
same chosen candidate and the same N' at every target, whichever scheduler runs the tiles.
"""

from __future__ import annotations

import numpy as np
import pytest

from superres_widgets.s3dxrd import orientation_map, reconstruct_phantom
from superres_widgets.s3dxrd.tiles import pruned_nprime_map, tile_tasks

pytest.importorskip("dask")


@pytest.fixture(scope="module")
def small():
    """A 100 um, 14-grain realistic scan: grains far apart enough that tiles prune candidates."""
    r = reconstruct_phantom(
        diameter_um=100, n_grains=14, seed=3, omega_step_deg=1.0, detection_probability=0.85, spurious_per_frame=1.0
    )
    dense = {s: orientation_map(r.data, r.table, s, r.phantom.radius_um, prune=False) for s in (1, 4)}
    return r, dense


def test_tiles_cover_every_target_once_and_prune(small):
    r, dense = small
    m = dense[4]
    tasks = tile_tasks(r.table, r.geometry, m.xs, m.ys, m.grid_index, 16)
    targets = np.concatenate([t for t, _ in tasks])
    np.testing.assert_array_equal(np.sort(targets), np.arange(m.n_targets))
    kept = np.array([k.size for _, k in tasks])
    nc = r.table.n_candidates
    assert nc == 14 and kept.max() <= nc and kept.min() < nc // 2  # the test is not vacuous: tiles do prune
    with pytest.raises(ValueError, match=r"^tile must be an integer >= 1, got 0$"):
        tile_tasks(r.table, r.geometry, m.xs, m.ys, m.grid_index, 0)


@pytest.mark.parametrize("scheduler", [None, "threads", "synchronous"])
@pytest.mark.parametrize("subdivision", [1, 4])
def test_tiled_dask_map_equals_the_dense_map(small, scheduler, subdivision):
    r, dense = small
    ref = dense[subdivision]
    m = orientation_map(
        r.data, r.table, subdivision, r.phantom.radius_um, prune=True, tile=16, backend="dask", scheduler=scheduler
    )
    np.testing.assert_array_equal(m.candidate, ref.candidate)
    np.testing.assert_array_equal(m.completeness, ref.completeness)
    assert (m.candidate >= 0).mean() > 0.9  # a real map, not an empty one


def test_tiled_map_on_a_distributed_client_equals_the_dense_map(small):
    distributed = pytest.importorskip("distributed")
    r, dense = small
    ref = dense[4]
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        m = orientation_map(
            r.data, r.table, 4, r.phantom.radius_um, prune=True, tile=16, backend="dask", scheduler=client
        )
        # the tiles ran as tasks of this client, the table and the geometry scattered to it once
        prefixes = client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.task_prefixes))
        assert {"subset_tile_task", "ObservationTable", "ScanGeometry"} <= set(prefixes)
        # an active client is used with scheduler=None too
        m2 = orientation_map(r.data, r.table, 4, r.phantom.radius_um, prune=True, tile=16, backend="dask")
    np.testing.assert_array_equal(m2.candidate, ref.candidate)
    np.testing.assert_array_equal(m.candidate, ref.candidate)
    np.testing.assert_array_equal(m.completeness, ref.completeness)
    # and the function on its own, with numpy, gives the same
    cand, comp = pruned_nprime_map(r.table, r.geometry, ref.xs, ref.ys, ref.grid_index, tile=16)
    np.testing.assert_array_equal(cand, ref.candidate)
    np.testing.assert_array_equal(comp, ref.completeness)
