"""s3DXRD at scale: a 1 mm specimen, 500 grains, 1 um sub-pixels, a 5 um beam -- time and memory.

The sub-pixel stage grows as the specimen area (785 000 one-micron
sub-pixels here, 40x the paper's) and indexing as grains^1.5.  This script
runs the whole pipeline on one machine and prints every stage's wall-clock
and CPU time (user + system, all threads of this process), the peak resident
memory and the machine's load average -- on a shared machine the wall clock
is mostly waiting, so compare CPU times:

* Voronoi phantom (1 um raster), kinematic forward scan (5 um box beam and
  step, 201 positions, 0.5 deg bins over 180 deg);
* global indexing of the ~600 000 peaks (the spots are sorted once per run;
  the vote tree holds symmetry-reduced quaternions);
* the observation table; the conventional map and the sub-pixel N' map
  (tie-break) in spatial tiles with pruned candidates, one Dask task per
  tile; the likelihood scorer's candidates in Dask tasks;
* evaluation against the phantom.

Dask runs on its local threaded scheduler by default; ``--distributed``
starts a ``distributed.LocalCluster`` (2 worker processes) and passes its
``Client`` -- the same maps.  The goal of issue 12: within 4 GB on this
2-core machine.

Run:  .venv/bin/python benchmarks/bench_scale.py [--diameter 1000] [--grains 500] [--distributed]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from superres_widgets.s3dxrd import (  # noqa: E402
    CubicPhase,
    evaluate_map,
    index_peaks,
    misorientation_table,
    observation_table,
    orientation_map,
    simulate_scan,
    voronoi_phantom,
)


def peak_rss_gb() -> float:
    """Peak resident memory of this process (Linux: ru_maxrss in kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def cpu_s() -> float:
    """CPU time (user + system, all threads) of this process so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def load() -> str:
    """The machine's 1/5/15-minute load averages (the 2 cores are shared)."""
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--diameter", type=float, default=1000.0)
    ap.add_argument("--grains", type=int, default=500)
    ap.add_argument("--step", type=float, default=5.0, help="beam width and translation step (um)")
    ap.add_argument("--subdivision", type=int, default=5, help="sub-pixels per step (5: 1 um)")
    ap.add_argument("--omega-step", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--distributed", action="store_true", help="a distributed.LocalCluster instead of threads")
    ap.add_argument("--skip-likelihood", action="store_true")
    ap.add_argument("--distinct-deg", type=float, default=1.0,
                    help="index_peaks' distinct_deg (library default 3): 500 random orientations have ~17 grains "
                         "within 3 deg of another, which 3 deg would merge away")
    args = ap.parse_args()

    scheduler = None
    client = None
    if args.distributed:
        from distributed import Client, LocalCluster

        client = Client(LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="2GB"))
        scheduler = client
    print(f"s3DXRD at scale: {args.diameter:g} um specimen, {args.grains} grains, {args.step:g} um beam and step, "
          f"{args.step / args.subdivision:g} um sub-pixels, {args.omega_step:g} deg; {os.cpu_count()} CPU(s), "
          f"Dask: {'distributed.LocalCluster (2 processes)' if client else 'local threads'}; "
          f"indexing distinct_deg {args.distinct_deg:g}")
    rows = []

    print(f"  machine load (1/5/15 min) at start: {load()}")
    print(f"  {'stage':<44s} {'wall':>8s}   {'CPU':>8s}   peak RSS")

    def stage(name, fn):
        t, c = time.perf_counter(), cpu_s()
        out = fn()
        dt, dc = time.perf_counter() - t, cpu_s() - c
        rows.append((name, dt))
        print(f"  {name:<44s} {dt:8.1f} s {dc:8.1f} s   {peak_rss_gb():5.2f} GB   (load {load()})", flush=True)
        return out

    t_all = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    ph = stage("phantom (1 um raster)", lambda: voronoi_phantom(args.diameter, args.grains, rng, pixel_um=1.0))
    sim = stage("forward scan", lambda: simulate_scan(ph, CubicPhase(), beam_um=args.step, step_um=args.step,
                                                      omega_step_deg=args.omega_step, seed=args.seed + 1))
    data = sim.data
    print(f"    {data.n_peaks} peaks, {data.n_positions} positions x {data.n_bins} bins")
    idx = stage("global indexing", lambda: index_peaks(data, eta_tol_deg=0.5, omega_tol_deg=0.5,
                                                        distinct_deg=args.distinct_deg))
    found = int(np.sum(misorientation_table(idx.U, ph.orientations).min(axis=0) < 1.0))
    print(f"    {idx.n_candidates} candidates, {found} of {ph.n_grains} grains found, {idx.n_pairs} pair orientations")
    table = stage("observation table", lambda: observation_table(data, idx.U, eta_tol_deg=0.5, omega_tol_deg=0.5))
    R = ph.radius_um
    kw = dict(backend="dask", scheduler=scheduler)
    conv = stage("conventional map (N', tiles, Dask)", lambda: orientation_map(data, table, 1, R, **kw))
    sub = stage("sub-pixel map (N' tie-break, tiles, Dask)",
                lambda: orientation_map(data, table, args.subdivision, R, **kw))
    print(f"    {sub.n_targets} sub-pixels x {table.n_candidates} candidates")
    maps = [("conventional N'", conv), ("sub-pixel N' tie-break", sub)]
    if not args.skip_likelihood:
        lik = stage("sub-pixel map (likelihood scorer, Dask)",
                    lambda: orientation_map(data, table, args.subdivision, R, scorer="likelihood",
                                            keep_n_prime=False, **kw))
        maps.append(("sub-pixel likelihood", lik))
    if client is not None:  # the Client path gives the same maps as the local threaded scheduler
        kt = dict(backend="dask", scheduler="threads")
        local = stage("the same maps on local threads (check)",
                      lambda: [orientation_map(data, table, 1, R, **kt), orientation_map(data, table, args.subdivision,
                                                                                         R, **kt)])
        same = all(np.array_equal(a.candidate, b.candidate) and np.array_equal(a.completeness, b.completeness)
                   for a, b in zip(local, (conv, sub)))
        print(f"    distributed.Client maps identical to local threads (candidate and N'): {same}")
    ev = stage("evaluation", lambda: [evaluate_map(m, ph, interior_margin_um=args.step) for _, m in maps])
    total = time.perf_counter() - t_all
    print(f"\n  {'map':<26s} {'displacement':>12s} {'right':>8s}")
    for (name, _), m in zip(maps, ev):
        e = m.evaluation
        print(f"  {name:<26s} {e.mean_displacement_um:9.2f} um {100 * e.fraction_correct:6.1f} %")
    sub_s = sum(dt for name, dt in rows if name.startswith("sub-pixel"))
    print(f"\n  total {total:.0f} s wall, {cpu_s():.0f} s CPU of this process (sub-pixel stage {sub_s:.0f} s wall); "
          f"peak RSS of this process {peak_rss_gb():.2f} GB ({'within' if peak_rss_gb() <= 4.0 else 'OVER'} 4 GB); "
          f"load at end {load()}")
    if client is not None:
        worker = client.run(lambda: (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, cpu_s()))
        print("  worker peak RSS (GB):", {k.split(":")[-1]: round(v[0], 2) for k, v in worker.items()},
              "CPU (s):", {k.split(":")[-1]: round(v[1], 1) for k, v in worker.items()})
        client.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
