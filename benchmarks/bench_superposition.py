"""Benchmark: exact superposition map vs the paper's raster method.

Plain script (no pytest):

    PYTHONPATH=. python benchmarks/bench_superposition.py [--full] [--subset N]

For X in +-10 (step 1, beam 1) with 4 x 4 sub-pixels it times
``superposition_map`` at 10 deg and 0.5 deg angular steps (first call, then
the median of warm repeats) and, in the same run, the paper's raster method
(``superposed_mask`` at 20 px per beam, one call per target, on a window
``target +- (b + step)/2`` that holds the whole region because 0 and 90 deg
are in both angle lists).  By default the raster is timed on a seeded random
subset of ``--subset`` targets and extrapolated to all targets; ``--full``
times it on every target (slow at 0.5 deg: roughly a minute).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from superres_widgets.s3dxrd import ScanGeometry, superposed_mask, superposition_map


def time_map(geometry: ScanGeometry, repeats: int) -> tuple[float, float, object]:
    t0 = time.perf_counter()
    res = superposition_map(geometry, subdivision=4)
    first = time.perf_counter() - t0
    warm = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = superposition_map(geometry, subdivision=4)
        warm.append(time.perf_counter() - t0)
    return first, statistics.median(warm), res


def time_raster(geometry: ScanGeometry, xs: np.ndarray, ys: np.ndarray) -> tuple[float, np.ndarray]:
    h = 0.5 * (geometry.beam_width + geometry.step)
    counts = np.empty(xs.size, dtype=np.int64)
    t0 = time.perf_counter()
    for i, (x, y) in enumerate(zip(xs, ys)):
        counts[i] = superposed_mask(geometry, x, y, px_per_beam=20, extent=(x - h, x + h, y - h, y + h)).count
    return time.perf_counter() - t0, counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="raster every target instead of a subset")
    ap.add_argument("--subset", type=int, default=250, help="raster subset size (default 250)")
    ap.add_argument("--repeats", type=int, default=5, help="warm repeats of the exact map")
    args = ap.parse_args()

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
