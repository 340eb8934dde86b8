"""Whole-image vs Dask-tiled restoration of a many-channel stack: time and peak memory.

Run:  python benchmarks/bench_stack.py [--size 4096] [--channels 8] [--chunk 1024]
                                       [--num-iter 30] [--sigma 3]

A synthetic ``(channels, size, size)`` float32 stack (Poisson counts of a
blocky phantom blurred by a Gaussian of ``--sigma`` px, a different count
level per channel) is restored with Richardson-Lucy (``--num-iter``
iterations, the same sigma) twice, each in its own child process so that
the memory figures do not mix:

* ``whole``: channel by channel, ``richardson_lucy(..., workers=-1)``
  (scipy.fft threads on all cores), results written into a float32 stack;
* ``dask``: ``deconvolve_stack(stack, ...)`` on Dask's local threaded
  scheduler (tiles of ``--chunk`` px plus the halo of
  :func:`superres_widgets.xrf.stack.halo_px`, ``workers=1`` per tile).

Printed per path: wall time of the restoration (stack generation excluded),
peak resident memory of the child process (``resource.getrusage(
RUSAGE_SELF).ru_maxrss``, so it includes the input stack, the output and
the interpreter), and the peak of traced allocations during the restoration
(:mod:`tracemalloc`, numpy buffers).  Then the time ratio and the seam error
``max |dask - whole| / max |whole|`` over the interior (the halo away from
the outer border) and over the whole map.

Not a pytest test; the numbers depend on the machine and its load.

Measured on the 2-core development machine (shared, so +-20 %):

=====================  =========  =========  ==============  ==============  ==========
stack                  whole      dask       peak RSS w / d  traced w / d    seam error
=====================  =========  =========  ==============  ==============  ==========
8 x 2048 x 2048        23.3 s     22.5 s     501 / 786 MiB   320 / 427 MiB   1.5e-5
2 x 4096 x 4096        46.3 s     46.6 s     934 / 919 MiB   896 / 447 MiB   9.5e-6
=====================  =========  =========  ==============  ==============  ==========

The full 8 x 4096 x 4096 run takes ~4 x the second row (~3 min per path,
~7 min in all) and was not run there.  With 2 cores Dask does not beat
scipy.fft's own threads; its gains are memory per task (one tile's working
arrays instead of a whole channel's), maps read lazily tile by tile, and
clusters via ``distributed``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc

import numpy as np


def make_stack(size: int, channels: int, sigma: float, seed: int = 0) -> np.ndarray:
    from superres_widgets.xrf import convolve, gaussian_psf

    rng = np.random.default_rng(seed)
    truth = np.full((size, size), 5.0)
    n_blobs = max(size * size // 2000, 50)
    r = rng.integers(0, size, n_blobs)
    c = rng.integers(0, size, n_blobs)
    s = rng.integers(2, 16, n_blobs)
    v = rng.uniform(20, 300, n_blobs)
    for ri, ci, si, vi in zip(r, c, s, v):
        truth[max(ri - si, 0):ri + si, max(ci - si, 0):ci + si] += vi
    blurred = convolve(truth, gaussian_psf(sigma))
    stack = np.empty((channels, size, size), dtype=np.float32)
    for k in range(channels):
        stack[k] = rng.poisson(blurred * (0.25 + 0.25 * k))
    return stack


def child(mode: str, args, out_path: str) -> None:
    from superres_widgets.xrf import deconvolve_stack, gaussian_psf, richardson_lucy

    stack = make_stack(args.size, args.channels, args.sigma)
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    if mode == "whole":
        psf = gaussian_psf(args.sigma)
        out = np.empty_like(stack)
        for k in range(stack.shape[0]):
            out[k] = richardson_lucy(stack[k], psf, args.num_iter, workers=-1)
    else:
        out = deconvolve_stack(stack, args.sigma, 1.0, num_iter=args.num_iter,
                               chunk_px=args.chunk, dtype=np.float32)
    elapsed = time.perf_counter() - t0
    traced_peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    maxrss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    np.save(out_path, out)
    print(json.dumps({"mode": mode, "seconds": elapsed, "maxrss_mib": maxrss_mib,
                      "traced_peak_mib": traced_peak / 2**20}))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--chunk", type=int, default=1024)
    ap.add_argument("--num-iter", type=int, default=30)
    ap.add_argument("--sigma", type=float, default=3.0)
    ap.add_argument("--child", choices=("whole", "dask"), help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args, args.out)
        return 0

    from superres_widgets.xrf.stack import halo_px

    halo = halo_px("richardson_lucy", args.sigma, num_iter=args.num_iter)
    stack_mib = args.size ** 2 * args.channels * 4 / 2**20
    print(f"stack {args.channels} x {args.size} x {args.size} float32 ({stack_mib:.0f} MiB), "
          f"RL {args.num_iter} it., sigma {args.sigma:g} px, tiles {args.chunk} px + halo "
          f"{halo} px, {os.cpu_count()} cores")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("whole", "dask"):
            out = os.path.join(tmp, f"{mode}.npy")
            cmd = [sys.executable, __file__, "--child", mode, "--out", out,
                   "--size", str(args.size), "--channels", str(args.channels),
                   "--chunk", str(args.chunk), "--num-iter", str(args.num_iter),
                   "--sigma", str(args.sigma)]
            res = subprocess.run(cmd, check=True, capture_output=True, text=True)
            results[mode] = json.loads(res.stdout.strip().splitlines()[-1])
            r = results[mode]
            print(f"{mode:6s}: {r['seconds']:8.1f} s   peak RSS {r['maxrss_mib']:7.0f} MiB   "
                  f"traced peak {r['traced_peak_mib']:7.0f} MiB", flush=True)
        whole = np.load(os.path.join(tmp, "whole.npy"), mmap_mode="r")
        tiled = np.load(os.path.join(tmp, "dask.npy"), mmap_mode="r")
        worst_in = worst_all = 0.0
        for k in range(whole.shape[0]):
            w = np.asarray(whole[k], dtype=np.float64)
            d = np.asarray(tiled[k], dtype=np.float64)
            scale = np.abs(w).max()
            sl = (slice(halo, -halo),) * 2
            worst_in = max(worst_in, float(np.abs(d[sl] - w[sl]).max() / scale))
            worst_all = max(worst_all, float(np.abs(d - w).max() / scale))
    ratio = results["whole"]["seconds"] / results["dask"]["seconds"]
    print(f"time whole / dask = {ratio:.2f} (> 1: Dask faster)")
    print(f"seam error max|dask - whole| / max|whole|: interior {worst_in:.2e}, "
          f"whole map {worst_all:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
