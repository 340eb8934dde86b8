"""Benchmark: exact superposition map vs the paper's raster method, and against an earlier commit.

Plain script (no pytest):

    PYTHONPATH=. python benchmarks/bench_superposition.py [--full] [--subset N] [--against REF]

For X in +-10 (step 1, beam 1) with 4 x 4 sub-pixels it times
``superposition_map`` at 10 deg and 0.5 deg angular steps (first call, then
the median of warm repeats) and, in the same run, the paper's raster method
(``superposed_mask`` at 20 px per beam, one call per target, on a window
``target +- (b + step)/2`` that holds the whole region because 0 and 90 deg
are in both angle lists).  By default the raster is timed on a seeded random
subset of ``--subset`` targets and extrapolated to all targets; ``--full``
times it on every target (slow at 0.5 deg: roughly a minute).

``--against REF`` (e.g. ``--against f92400e~1``) also times the package of the git commit
``REF`` (``git archive`` into a temporary folder) in a worker process, alternating single calls
with a worker running this tree: per case the best and median warm wall and CPU
(``process_time``) times of both and their ratio, measured in the same run, so a loaded machine
slows both alike.  It checks that both give the same statistics.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent

_WORKER = r"""
import json, sys, time
import numpy as np
from superres_widgets.s3dxrd import ScanGeometry, superposition_map
geoms = {}
for line in sys.stdin:
    step = float(line)
    g = geoms.setdefault(step, ScanGeometry(x_range=10, step=1.0, omega_deg=np.arange(0, 180, step)))
    t0, c0 = time.perf_counter(), time.process_time()
    res = superposition_map(g, subdivision=4)
    out = {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0,
           "mean_relative_size": res.stats.mean_relative_size, "com_error_fwhm": res.stats.com_error_fwhm,
           "file": __import__("superres_widgets").__file__}
    print(json.dumps(out), flush=True)
"""


def time_map(geometry, repeats: int) -> tuple[float, float, object]:
    from superres_widgets.s3dxrd import superposition_map

    t0 = time.perf_counter()
    res = superposition_map(geometry, subdivision=4)
    first = time.perf_counter() - t0
    warm = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = superposition_map(geometry, subdivision=4)
        warm.append(time.perf_counter() - t0)
    return first, statistics.median(warm), res


def time_raster(geometry, xs: np.ndarray, ys: np.ndarray) -> tuple[float, np.ndarray]:
    from superres_widgets.s3dxrd import superposed_mask

    h = 0.5 * (geometry.beam_width + geometry.step)
    counts = np.empty(xs.size, dtype=np.int64)
    t0 = time.perf_counter()
    for i, (x, y) in enumerate(zip(xs, ys)):
        counts[i] = superposed_mask(geometry, x, y, px_per_beam=20, extent=(x - h, x + h, y - h, y + h)).count
    return time.perf_counter() - t0, counts


def _worker(src: pathlib.Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _WORKER], cwd=src, env={"PYTHONPATH": str(src), "PATH": ""},
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def _call(worker: subprocess.Popen, step: float) -> dict:
    worker.stdin.write(f"{step}\n")
    worker.stdin.flush()
    return json.loads(worker.stdout.readline())


def compare_with(ref: str, repeats: int, steps=(10.0, 0.5)) -> list[dict]:
    """Alternating warm calls of this tree and of commit ``ref`` (see the module docstring)."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = pathlib.Path(tmp)
        archive = subprocess.run(["git", "archive", ref, "superres_widgets"], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        (base / "a.tar").write_bytes(archive)
        with tarfile.open(base / "a.tar") as tf:
            tf.extractall(base, filter="data")
        workers = {"before": _worker(base), "after": _worker(ROOT)}
        try:
            for step in steps:
                firsts = {k: _call(w, step) for k, w in workers.items()}  # first calls (imports, caches)
                runs = {k: [] for k in workers}
                for _ in range(repeats):
                    for k, w in workers.items():
                        runs[k].append(_call(w, step))
                row = {"omega_step_deg": step, "ref": ref, "repeats": repeats}
                for k, rs in runs.items():
                    row[k] = {"first_wall_s": firsts[k]["wall"], "first_cpu_s": firsts[k]["cpu"],
                              "best_wall_s": min(r["wall"] for r in rs), "median_wall_s": statistics.median(
                                  r["wall"] for r in rs), "best_cpu_s": min(r["cpu"] for r in rs),
                              "median_cpu_s": statistics.median(r["cpu"] for r in rs), "package": rs[0]["file"]}
                for key in ("mean_relative_size", "com_error_fwhm"):
                    a, b = runs["before"][0][key], runs["after"][0][key]
                    row[f"same_{key}"] = bool(abs(a - b) <= 1e-9 * abs(a))
                b, a = row["before"], row["after"]
                row["speedup_cpu"] = b["best_cpu_s"] / a["best_cpu_s"]
                row["speedup_wall"] = b["best_wall_s"] / a["best_wall_s"]
                rows.append(row)
                print(f"{step:4g} deg  before ({ref}): wall best {b['best_wall_s']:.3f} / median "
                      f"{b['median_wall_s']:.3f} s, CPU best {b['best_cpu_s']:.3f} / median {b['median_cpu_s']:.3f} s"
                      f" | after: wall best {a['best_wall_s']:.3f} / median {a['median_wall_s']:.3f} s, CPU best "
                      f"{a['best_cpu_s']:.3f} / median {a['median_cpu_s']:.3f} s | speed-up CPU "
                      f"{row['speedup_cpu']:.2f}x, wall {row['speedup_wall']:.2f}x | first/warm (after, wall) "
                      f"{a['first_wall_s'] / a['median_wall_s']:.2f} | same stats "
                      f"{row['same_mean_relative_size'] and row['same_com_error_fwhm']}")
        finally:
            for w in workers.values():
                w.stdin.close()
                w.wait(timeout=60)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="raster every target instead of a subset")
    ap.add_argument("--subset", type=int, default=250, help="raster subset size (default 250)")
    ap.add_argument("--repeats", type=int, default=5, help="warm repeats of the exact map")
    ap.add_argument("--against", metavar="REF", help="also time the package of git commit REF, alternating")
    ap.add_argument("--no-raster", action="store_true", help="skip the raster comparison")
    args = ap.parse_args()
    from superres_widgets.s3dxrd import ScanGeometry

    if args.against:
        print(f"superposition_map, X in +-10, 4x4 sub-pixels: this tree vs {args.against}, alternating calls "
              f"({args.repeats} rounds; times in seconds)")
        compare_with(args.against, args.repeats)
    if args.no_raster:
        return
    print("superposition map, X in +-10 (step 1, beam 1), 4x4 sub-pixels, r <= 10")
    print(f"{'omega step':>10} {'angles':>6} {'targets':>7} {'lists':>6} "
          f"{'exact first':>11} {'exact warm':>10} {'raster (20 px/b)':>22} {'ratio':>7}")
    for d_omega in (10.0, 0.5):
        g = ScanGeometry(x_range=10, step=1.0, omega_deg=np.arange(0, 180, d_omega))
        first, warm, res = time_map(g, args.repeats)
        n = res.n_targets
        if args.full or args.subset >= n:
            sel = np.arange(n)
        else:
            sel = np.sort(np.random.default_rng(0).choice(n, size=args.subset, replace=False))
        t_sub, counts = time_raster(g, res.xs[sel], res.ys[sel])
        t_raster = t_sub * n / sel.size
        how = "all" if sel.size == n else f"{sel.size} extrap."
        # sanity: the raster area agrees with the exact area to within the pixel size
        p = g.beam_width / 20
        err = np.abs(counts * p * p - res.area[sel]).max()
        print(f"{d_omega:>9g}d {g.n_omega:>6d} {n:>7d} {res.n_distinct_lists:>6d} "
              f"{first:>10.3f}s {warm:>9.3f}s {t_raster:>9.2f}s ({how:>11}) {t_raster / warm:>6.0f}x")
        st = res.stats
        print(f"{'':>10} mean relative size (r >= 0.5) = {st.mean_relative_size:.4f}, "
              f"COM error FWHM = {st.com_error_fwhm:.4f} (bin {st.hist_bin_width:.4f}), "
              f"max |raster - exact| area = {err:.4f} beam^2")


if __name__ == "__main__":
    main()
