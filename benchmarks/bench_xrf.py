"""Speed and memory of superres_widgets.xrf against scikit-image, same run.

Run:  python benchmarks/bench_xrf.py [--repeat N] [--quick]

Prints wall times (best of N), ratios skimage / ours (> 1 means we are
faster) and peak traced memory (tracemalloc: numpy buffers, including
scipy.fft outputs) for

* Richardson-Lucy, 512 x 512, float64 on both sides (``dtype=np.float64`` for
  us: the default working precision is float32), 30 iterations, Gaussian PSF
  sigma 3 and 8 px, vs ``skimage.restoration.richardson_lucy(clip=False)``;
* Biggs-Andrews accelerated RL: the time to reach the data residual that
  skimage has after 30 iterations (residual ``||y - h*x|| / ||y||`` on the
  interior, away from the borders where skimage's zero padding differs);
* the GOAL of issue 13: SGP (scaled gradient projection) reaching the data
  residual of scikit-image's 30-iteration RL (interior, Poisson data) at
  least 8x sooner, float32 and float64 rows, same dtype on both sides,
  ratios from interleaved calls in the same run (``sgp_goal``);
* Wiener, 512 x 512, float64 on both sides, vs ``skimage.restoration.wiener(clip=False)``;
* ``--sizes``: the size sweep of :func:`benchmarks.suite.bench_xrf` (64 to 2048 px with
  primes, 4093/4096 without ``--quick``; float32 and float64 rows on both sides; ratio vs
  scikit-image per row and the median; per-iteration cost vs the nearest fast size with
  the 1.3x goal check).  Our functions return float64 whatever ``dtype=`` (the working
  precision) is: the rows record both and the float32-vs-float64 difference of our results;
* blind_l0 on a 256 x 256 crop of the paper's simulated chart scan.

Not a pytest test; numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from benchmarks._timing import best_times_and_outputs as best_times  # noqa: E402

from skimage import data as skdata  # noqa: E402
from skimage import restoration  # noqa: E402

from superres_widgets import xrf  # noqa: E402


def best_time(fn, repeat):
    best = np.inf
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def peak_mib(fn):
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2 ** 20


def residual(y, x, psf, margin):
    r = y - xrf.convolve(x, psf, boundary="reflect")
    s = (slice(margin, -margin), slice(margin, -margin))
    return float(np.linalg.norm(r[s]) / np.linalg.norm(y[s]))


def test_image(psf, rng):
    truth = skdata.camera().astype(np.float64) / 255.0 * 200.0 + 10.0  # counts
    blurred = xrf.convolve(truth, psf, boundary="reflect")
    return rng.poisson(blurred).astype(np.float64)


def _rl_case(sigma, rng, repeat, rows):
    """Richardson-Lucy at one PSF sigma: ours against scikit-image (appends to ``rows``)."""
    psf = xrf.gaussian_psf(sigma)
    y = test_image(psf, rng)
    margin = psf.shape[0]
    # warm-up (plans, caches) then time
    f64 = np.float64  # same precision as scikit-image's float64 run
    xrf.richardson_lucy(y, psf, 2, dtype=f64)
    restoration.richardson_lucy(y, psf, 2, clip=False)
    (t_sk, t_us, t_per), (x_sk, x_us, _) = best_times(
        [lambda: restoration.richardson_lucy(y, psf, 30, clip=False),
         lambda: xrf.richardson_lucy(y, psf, 30, dtype=f64),
         lambda: xrf.richardson_lucy(y, psf, 30, boundary="periodic", dtype=f64)], repeat)
    m_sk = peak_mib(lambda: restoration.richardson_lucy(y, psf, 30, clip=False))
    m_us = peak_mib(lambda: xrf.richardson_lucy(y, psf, 30, dtype=f64))
    r_sk = residual(y, x_sk, psf, margin)
    r_us = residual(y, x_us, psf, margin)
    print(f"\nRL sigma {sigma:g} px, PSF {psf.shape}, 512x512, 30 it, float64 both")
    print(f"  skimage {t_sk * 1e3:8.1f} ms  peak {m_sk:6.1f} MiB  residual {r_sk:.5f}")
    print(f"  ours    {t_us * 1e3:8.1f} ms  peak {m_us:6.1f} MiB  residual {r_us:.5f}"
          f"  (reflect)  ratio {t_sk / t_us:5.2f}x")
    print(f"  ours    {t_per * 1e3:8.1f} ms  (periodic)  ratio {t_sk / t_per:5.2f}x")
    rows.append((f"RL sigma {sigma:g} speed-up", t_sk / t_us))

    # Biggs-Andrews: iterations and time to reach skimage's 30-it residual
    def n_needed(acc):
        for n in range(1, 61):
            x = xrf.richardson_lucy(y, psf, n, acceleration=acc, dtype=f64)
            if residual(y, x, psf, margin) <= r_sk:
                return n
        return None

    n_ba = n_needed("biggs-andrews")
    n_rl = n_needed(None)
    if n_ba is not None:
        (t_sk2, t_ba), _ = best_times(
            [lambda: restoration.richardson_lucy(y, psf, 30, clip=False),
             lambda: xrf.richardson_lucy(y, psf, n_ba, acceleration="biggs-andrews", dtype=f64)], repeat)
        t_sk = min(t_sk, t_sk2)
        print(f"  Biggs-Andrews reaches it in {n_ba} it (plain RL, ours: {n_rl} it): "
              f"{t_ba * 1e3:.1f} ms -> {t_sk / t_ba:5.2f}x less time than skimage")
        rows.append((f"RL sigma {sigma:g} Biggs-Andrews time-to-residual", t_sk / t_ba))
    else:
        print("  Biggs-Andrews did not reach skimage's residual in 60 iterations")


def _first(fn, y64, psf64, target, cap=60):
    """Fewest iterations ``n`` with ``fn(n)`` at or below ``target`` (interior residual), or None."""
    margin = psf64.shape[0]
    for n in range(1, cap + 1):
        if residual(y64, fn(n), psf64, margin) <= target:
            return n
    return None


def _goal_case(y64, psf64, dt, repeat):
    """(t_skimage, t_sgp, n_sgp, t_ba, n_ba) at one dtype: same dtype on both sides, interleaved calls."""
    y, psf = y64.astype(dt), psf64.astype(dt)
    restoration.richardson_lucy(y, psf, 2, clip=False)  # warm-up
    target = residual(y64, restoration.richardson_lucy(y, psf, 30, clip=False), psf64, psf64.shape[0])
    n_sgp = _first(lambda n: xrf.sgp(y, psf, n, dtype=dt), y64, psf64, target)
    n_ba = _first(lambda n: xrf.richardson_lucy(y, psf, n, acceleration="biggs-andrews", x0="image", dtype=dt),
                  y64, psf64, target)
    fns = [lambda: restoration.richardson_lucy(y, psf, 30, clip=False),
           lambda: xrf.sgp(y, psf, n_sgp, dtype=dt),
           lambda: xrf.richardson_lucy(y, psf, n_ba, acceleration="biggs-andrews", x0="image", dtype=dt)]
    (t_sk, t_sgp, t_ba), _ = best_times(fns, repeat)
    return t_sk, t_sgp, n_sgp, t_ba, n_ba


def sgp_goal(rng, repeat, rows):
    """Time to reach skimage's 30-iteration RL residual: SGP (and Biggs-Andrews RL) vs skimage, same dtype."""
    print("\nGOAL (issue 13): reach skimage's 30-it RL data fit >= 8x sooner, same dtype")
    print(f"  {'case':22s} {'skimage 30 it':>14s} {'SGP':>16s} {'ratio':>7s} {'BA-RL':>16s} {'ratio':>7s}")
    verdicts = []
    for sigma in (3.0, 8.0):
        psf64 = xrf.gaussian_psf(sigma)
        y64 = test_image(psf64, rng)
        for dt in (np.float32, np.float64):
            t_sk, t_sgp, n_sgp, t_ba, n_ba = _goal_case(y64, psf64, dt, repeat)
            name = f"sigma {sigma:g} px {np.dtype(dt).name}"
            print(f"  {name:22s} {t_sk * 1e3:11.1f} ms {t_sgp * 1e3:8.1f} ms ({n_sgp:2d} it) {t_sk / t_sgp:6.2f}x "
                  f"{t_ba * 1e3:8.1f} ms ({n_ba:2d} it) {t_sk / t_ba:6.2f}x")
            rows.append((f"GOAL SGP time-to-residual {name}", t_sk / t_sgp))
            verdicts.append(t_sk / t_sgp >= 8.0)
    met = sum(verdicts)
    print(f"  goal met in {met} of {len(verdicts)} cases" + ("" if met == len(verdicts) else
          " -- MISSED where below 8x: SGP needs 7-9 iterations to the target (skimage: 30), but one of our "
          "iterations (4 DCTs of 512^2 plus the line search) costs 0.5-1x one of skimage's (2 FFT "
          "convolutions of 536^2/576^2, kernel transforms included); the ratio is iterations saved x "
          "per-iteration speed, and the per-iteration speed varies with the transform size and the load"))
    return met == len(verdicts)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="one repeat, skip blind_l0")
    ap.add_argument("--sizes", action="store_true",
                    help="only the size sweep (benchmarks.suite.bench_xrf): every size and dtype vs scikit-image "
                         "and per-iteration cost vs the nearest fast size")
    args = ap.parse_args(argv)
    if args.sizes:
        from benchmarks.suite import bench_xrf

        print(f"numpy {np.__version__}, cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
        bench_xrf(args.quick)
        return
    repeat = 1 if args.quick else args.repeat
    rng = np.random.default_rng(0)
    print(f"numpy {np.__version__}, cores {os.cpu_count()}, repeat {repeat}")
    rows = []

    # ---------------------------------------------------------------- RL
    for sigma in (3.0, 8.0):
        _rl_case(sigma, rng, repeat, rows)

    # ------------------------------------------------------- the SGP goal
    sgp_goal(rng, repeat, rows)

    # ------------------------------------------------------------ Wiener
    psf = xrf.gaussian_psf(3.0)
    y = test_image(psf, rng)
    f64 = np.float64
    restoration.wiener(y, psf, 0.01, clip=False)
    xrf.wiener(y, psf, 0.01, dtype=f64)
    (t_sk, t_rf, t_pe), (w_sk, _, w_pe) = best_times(
        [lambda: restoration.wiener(y, psf, 0.01, clip=False),
         lambda: xrf.wiener(y, psf, 0.01, dtype=f64),
         lambda: xrf.wiener(y, psf, 0.01, boundary="periodic", dtype=f64)], max(10 * repeat, 20))
    m_sk = peak_mib(lambda: restoration.wiener(y, psf, 0.01, clip=False))
    m_us = peak_mib(lambda: xrf.wiener(y, psf, 0.01, dtype=f64))
    print("\nWiener 512x512, sigma 3 px, balance 0.01, float64 both")
    print(f"  skimage {t_sk * 1e3:8.2f} ms  peak {m_sk:6.1f} MiB")
    print(f"  ours    {t_rf * 1e3:8.2f} ms  peak {m_us:6.1f} MiB (reflect)   ratio {t_sk / t_rf:5.2f}x")
    print(f"  ours    {t_pe * 1e3:8.2f} ms  (periodic)  ratio {t_sk / t_pe:5.2f}x, "
          f"max |ours - skimage| = {np.abs(w_pe - w_sk).max():.2e}")
    rows.append(("Wiener speed-up (reflect)", t_sk / t_rf))
    rows.append(("Wiener speed-up (periodic)", t_sk / t_pe))

    # ------------------------------------------------------------ blind
    if not args.quick:
        fine = xrf.usaf1951(2.5)
        scan = xrf.simulate_scan(fine.image, 32.5, 5.0, truth_pixel_um=2.5, rng=1)
        crop = scan.counts[40:296, 344:600]
        t_bl, res = best_time(lambda: xrf.blind_l0(crop, 41), 1)
        m_bl = peak_mib(lambda: xrf.blind_l0(crop, 41))
        sig = xrf.kernel_to_sigma(res.kernel, pixel_size_um=5.0)
        print(f"\nblind_l0 256x256, kernel 41: {t_bl:.2f} s, peak {m_bl:.1f} MiB, "
              f"kernel sigma {sig:.1f} um (truth 32.5)")
        rows.append(("blind_l0 256x256 seconds", t_bl))

    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess max RSS {ru:.0f} MiB")
    print("\nsummary")
    for name, val in rows:
        print(f"  {name:48s} {val:7.2f}")


if __name__ == "__main__":
    main()
