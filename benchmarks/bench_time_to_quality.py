"""Time to quality: how soon each of our Poisson methods reaches scikit-image's 30-iteration RL data fit.

Run:  python benchmarks/bench_time_to_quality.py [--quick] [--repeat N] [--out FILE]

Issue 13/14 goal: reach the data fit of ``skimage.restoration.richardson_lucy`` after 30
iterations at least **8x sooner** in wall time, same dtype on both sides.

Set-up (every case: sizes 256², 512², 1024², 538 x 601; float32 and float64):

* Truth: a piecewise-constant phantom (background 20 counts, smooth-edged phases of 200
  counts, 1-2 px inclusions of 600 counts); the data are Poisson draws of the truth blurred
  by a Gaussian PSF (sigma 3 px, reflect boundary).  Both sides get the same array in the
  same dtype (float32 rows: the counts cast to float32; float64 rows: float64).
* Data fit: interior relative residual ``||y - H x|| / ||y||`` over the pixels at least
  3 sigma (9 px) from the border, with ``H`` the reflect-boundary blur computed in float64
  (``xrf.convolve``) -- the same function for scikit-image's estimate and ours.  The
  target is that residual of scikit-image's own 30-iteration output (``clip=False``).
* Our methods (defaults unless stated): plain RL (``richardson_lucy``, flat start like
  scikit-image), RL with Biggs-Andrews acceleration (``acceleration="biggs-andrews"``,
  ``x0="image"``), SGP (``sgp``, map start); one scipy.fft worker (``WORKERS``), like
  scikit-image's single-threaded ``fftconvolve``.  The fewest iterations reaching the target are
  found in an instrumented run (a callback measures residual and MSE; its own time is left
  out of the curve times); then the ratios come from UNinstrumented calls alternating with
  scikit-image's 30 iterations in the same process, best of ``repeat`` rounds.
* MSE to truth against time for each method (curves to ``cap`` iterations): with Poisson
  noise RL semi-converges, so the best iteration and MSE of each method are printed.

Writes ``benchmarks/time_to_quality.json``.  ``run(quick)`` returns the same dictionary
(``python -m benchmarks`` can call it).  Numbers depend on the machine and its load: the
ratios are what compares, measured in one run.
"""

from __future__ import annotations

import math
import os
import pathlib
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from benchmarks._timing import best_times, json_main  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
SIZES = ((256, 256), (512, 512), (1024, 1024), (538, 601))
DTYPES = ("float32", "float64")
SIGMA = 3.0
GOAL = 8.0
SK_ITER = 30
#: scipy.fft workers for our methods: one, like scikit-image's fftconvolve (and ``benchmarks/suite.py``)
WORKERS = 1


def phantom(shape, rng) -> np.ndarray:
    """Truth in counts: background 20, smooth-edged phases 200, small inclusions 600."""
    from scipy import ndimage

    field = ndimage.gaussian_filter(rng.standard_normal(shape), 8.0, mode="wrap")
    truth = np.where(field > 0.4 * field.std(), 200.0, 20.0)
    n_dots = shape[0] * shape[1] // 2000
    rr, cc = rng.integers(2, shape[0] - 2, n_dots), rng.integers(2, shape[1] - 2, n_dots)
    for r, c, s in zip(rr, cc, rng.integers(1, 3, n_dots)):
        truth[r - s + 1:r + s, c - s + 1:c + s] = 600.0
    return truth


def margin_px(sigma: float = SIGMA) -> int:
    return int(math.ceil(3 * sigma))


def interior_residual(y64, x, psf64, margin) -> float:
    """``||y - H x|| / ||y||`` over pixels >= ``margin`` from the border (reflect blur, float64)."""
    from superres_widgets import xrf

    r = y64 - xrf.convolve(np.asarray(x, np.float64), psf64, boundary="reflect")
    s = (slice(margin, -margin), slice(margin, -margin))
    return float(np.linalg.norm(r[s]) / np.linalg.norm(y64[s]))


def our_methods():
    """(label, callable(y, psf, n, dtype, **kw)) of the Poisson methods, looked up in the registry."""
    from superres_widgets.xrf import methods

    reg = {m.name: m.function for m in methods()}
    rl, sgp = reg["richardson_lucy"], reg["sgp"]
    return [
        ("rl", lambda y, psf, n, dt, **kw: rl(y, psf, n, dtype=dt, workers=WORKERS, **kw)),
        ("rl_biggs_andrews", lambda y, psf, n, dt, **kw: rl(y, psf, n, acceleration="biggs-andrews",
                                                            x0="image", dtype=dt, workers=WORKERS, **kw)),
        ("sgp", lambda y, psf, n, dt, **kw: sgp(y, psf, n, dtype=dt, workers=WORKERS, **kw)),
        # the same iterations from the Wiener-Hunt start (balance by the unbiased predictive risk)
        ("sgp_wiener", lambda y, psf, n, dt, **kw: sgp(y, psf, n, x0="wiener", dtype=dt, workers=WORKERS, **kw)),
        ("rl_wiener", lambda y, psf, n, dt, **kw: rl(y, psf, n, x0="wiener", dtype=dt, workers=WORKERS, **kw)),
    ]


def curve(fn, y, psf, dt, cap, y64, psf64, truth, margin):
    """One instrumented run: per iteration (k, seconds excluding the callback, residual, MSE)."""
    rows = []
    excl = [0.0]
    t0 = time.perf_counter()

    def cb(k, x):
        c0 = time.perf_counter()
        rows.append((k, c0 - t0 - excl[0], interior_residual(y64, x, psf64, margin),
                     float(np.mean((x - truth) ** 2))))
        excl[0] += time.perf_counter() - c0

    fn(y, psf, cap, dt, callback=cb)
    return rows


def _g(v: float) -> float:
    """Six significant digits (keeps the JSON small)."""
    return float(f"{v:.6g}")


def run_case(shape, dt_name, quick, repeat, rng) -> dict:
    from skimage import restoration

    from superres_widgets import xrf

    dt = np.dtype(dt_name)
    psf64 = xrf.gaussian_psf(SIGMA)
    truth = phantom(shape, rng)
    y64 = rng.poisson(xrf.convolve(truth, psf64, boundary="reflect")).astype(np.float64)
    y, psf = y64.astype(dt), psf64.astype(dt)
    margin = margin_px()
    caps = {"rl": 60 if quick else 120, "rl_biggs_andrews": 30 if quick else 60, "sgp": 30 if quick else 60,
            "sgp_wiener": 30 if quick else 60, "rl_wiener": 30 if quick else 60}

    def sk30():
        return restoration.richardson_lucy(y, psf, SK_ITER, clip=False)

    x_sk = sk30()  # warm-up and the target
    target = interior_residual(y64, x_sk, psf64, margin)
    case = {"shape": list(shape), "dtype": dt_name, "sigma_px": SIGMA, "margin_px": margin,
            "skimage_out_dtype": str(x_sk.dtype), "target_residual": target,
            "skimage_mse_30": float(np.mean((x_sk - truth) ** 2)), "methods": {},
            "wiener_start": wiener_start_row(y, psf, dt, y64, psf64, truth, margin)}
    fns, names = [sk30], ["skimage_30"]
    for name, fn in our_methods():
        rows = curve(fn, y, psf, dt, caps[name], y64, psf64, truth, margin)
        n = next((k for k, _, r, _ in rows if r <= target), None)
        best = min(rows, key=lambda r: r[3])
        case["methods"][name] = {
            "iterations_to_target": n, "cap": caps[name],
            "best_mse_iteration": best[0], "best_mse": best[3], "best_mse_time_s": best[1],
            "best_at_cap": best[0] == caps[name],
            "curve": {"iteration": [r[0] for r in rows], "time_s": [_g(r[1]) for r in rows],
                      "residual": [_g(r[2]) for r in rows], "mse": [_g(r[3]) for r in rows]}}
        if n is not None:
            fn(y, psf, n, dt)  # warm-up
            fns.append(lambda fn=fn, n=n: fn(y, psf, n, dt))
            names.append(name)
    times = dict(zip(names, best_times(fns, repeat)))
    case["skimage_30_s"] = times["skimage_30"]
    for name, m in case["methods"].items():
        m["time_to_target_s"] = times.get(name)
        m["ratio"] = times["skimage_30"] / times[name] if name in times else None
        m["goal_met"] = m["ratio"] is not None and m["ratio"] >= GOAL
    return case


def wiener_start_row(y, psf, dt, y64, psf64, truth, margin) -> dict:
    """The Wiener-Hunt start alone (iteration 0 of ``x0="wiener"``): its data fit, MSE and time."""
    from superres_widgets.xrf._operators import ConvolutionOperator
    from superres_widgets.xrf._start import wiener_start

    op = ConvolutionOperator(psf.astype(np.float64) / psf.sum(), y.shape, "reflect", dtype=dt, workers=WORKERS)
    x = op.crop(wiener_start(y, op, dt, float(y.mean()) * 1e-3))
    t = best_times([lambda: wiener_start(y, op, dt, 1e-3)], 5)[0]
    return {"residual": interior_residual(y64, x, psf64, margin), "mse": float(np.mean((x - truth) ** 2)),
            "time_s": t}


def print_case(c) -> None:
    shape = "x".join(map(str, c["shape"]))
    print(f"\n{shape} {c['dtype']}: skimage 30 it {c['skimage_30_s'] * 1e3:.1f} ms, target residual "
          f"{c['target_residual']:.5f} (interior >= {c['margin_px']} px), skimage MSE@30 {c['skimage_mse_30']:.2f}")
    w = c["wiener_start"]
    print(f"  wiener start alone: residual {w['residual'] / c['target_residual']:.3f} x target, MSE {w['mse']:.2f}, "
          f"{w['time_s'] * 1e3:.1f} ms (transfers cached)")
    for name, m in c["methods"].items():
        if m["ratio"] is None:
            tt = f"target not reached in {m['cap']} it"
        else:
            tt = (f"{m['iterations_to_target']:3d} it {m['time_to_target_s'] * 1e3:8.1f} ms  ratio "
                  f"{m['ratio']:5.2f}x{'  (goal met)' if m['goal_met'] else ''}")
        best = (f"best MSE {m['best_mse']:.2f} at it {m['best_mse_iteration']}"
                f"{' (= cap, still falling)' if m['best_at_cap'] else ''} ({m['best_mse_time_s']:.2f} s)")
        print(f"  {name:17s} {tt:45s} {best}")


def profile_iteration(shape=(512, 512), dt_name="float32", repeat=15) -> dict:
    """Per-iteration cost of RL, SGP and scikit-image, and of SGP's pieces (best of ``repeat``, ms).

    Iteration costs are ``(t(31 it) - t(1 it)) / 30`` of whole calls; the pieces are timed on
    SGP's own operator and objective (private API): the blur and its adjoint (2 transforms
    each), the line-search objective (one log over the map), and the step-length update.
    """
    from skimage import restoration

    from superres_widgets import xrf
    from superres_widgets.xrf._problem import setup_problem
    from superres_widgets.xrf.poisson import _BOUNDARIES, _KL, _next_step

    dt = np.dtype(dt_name)
    rng = np.random.default_rng(1)
    psf = xrf.gaussian_psf(SIGMA).astype(dt)
    y = rng.poisson(xrf.convolve(phantom(shape, rng), psf.astype(np.float64))).astype(dt)

    def per_it(f):
        t1, t31 = best_times([lambda: f(1), lambda: f(31)], max(3, repeat // 5))
        return (t31 - t1) / 30 * 1e3

    out = {"shape": list(shape), "dtype": dt_name,
           "rl_ms": per_it(lambda n: xrf.richardson_lucy(y, psf, n, dtype=dt, workers=WORKERS)),
           "sgp_ms": per_it(lambda n: xrf.sgp(y, psf, n, dtype=dt, workers=WORKERS)),
           "skimage_ms": per_it(lambda n: restoration.richardson_lucy(y, psf, n, clip=False))}
    pb = setup_problem(y, psf, boundary="reflect", boundaries=_BOUNDARIES, mask=None, negative="offset",
                       dtype=dt, workers=WORKERS)
    op, x = pb.op, pb.op.extend(pb.data.image)
    kl = _KL(pb.y, pb.w, dt.type(1e-6), dt)
    hx, buf = op.forward(x), np.empty_like(x)
    s, z = x * dt.type(0.01), x * dt.type(0.02)
    work = {k: np.empty_like(x) for k in ("dk", "sd", "dz")}
    pieces = {"forward_ms": lambda: op.forward(x), "adjoint_ms": lambda: op.adjoint(x),
              "objective_ms": lambda: kl.value(hx), "ratio_ms": lambda: kl.ratio(hx, buf),
              "step_length_ms": lambda: _next_step(x, s, z, None, 1.0, 0.5, [], 1e-10, 1e10, work),
              "one_array_pass_ms": lambda: np.multiply(x, x, out=buf)}
    for k, t in zip(pieces, best_times(list(pieces.values()), repeat)):
        out[k] = t * 1e3
    out["transforms_ms"] = out["forward_ms"] + out["adjoint_ms"]
    out["sgp_over_rl"] = out["sgp_ms"] / out["rl_ms"]
    out["skimage_over_rl"] = out["skimage_ms"] / out["rl_ms"]
    print(f"\nper iteration, {shape[0]}x{shape[1]} {dt_name}: RL {out['rl_ms']:.2f} ms, SGP {out['sgp_ms']:.2f} ms "
          f"({out['sgp_over_rl']:.2f}x RL), scikit-image {out['skimage_ms']:.2f} ms "
          f"({out['skimage_over_rl']:.2f}x RL); "
          f"4 transforms {out['transforms_ms']:.2f} ms, SGP objective {out['objective_ms']:.2f} ms, step length "
          f"{out['step_length_ms']:.2f} ms, one array pass {out['one_array_pass_ms']:.3f} ms")
    return out


def environment() -> dict:
    import scipy
    import skimage

    return {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
            "scikit-image": skimage.__version__, "cpu_count": os.cpu_count(), "load_avg": os.getloadavg(),
            "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def run(quick: bool = False, repeat: int | None = None, sizes=SIZES, dtypes=DTYPES, profile: bool = True) -> dict:
    """All cases; returns the results dictionary (what ``time_to_quality.json`` holds)."""
    repeat = repeat or (2 if quick else 3)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    res = {"quick": quick, "repeat": repeat, "goal_ratio": GOAL, "our_fft_workers": WORKERS,
           "skimage_iterations": SK_ITER, "environment": environment(), "cases": []}
    for shape in sizes:
        for dt in dtypes:
            c = run_case(shape, dt, quick, repeat, rng)
            print_case(c)
            res["cases"].append(c)
    if profile:
        res["profile"] = [profile_iteration((512, 512), dt, repeat=5 if quick else 15) for dt in dtypes]
    res["wall_s"] = time.perf_counter() - t0
    print()
    for name in ("sgp", "sgp_wiener"):
        ratios = [c["methods"][name]["ratio"] for c in res["cases"]]
        met = sum(1 for r in ratios if r is not None and r >= GOAL)
        res[f"{name}_goal_met"] = f"{met} of {len(ratios)}"
        got = [r for r in ratios if r is not None]
        span = f"{min(got):.2f}-{max(got):.2f}x" if got else "never reached"
        print(f"{name}: goal (>= {GOAL:g}x sooner than skimage's 30-it RL data fit, same dtype) met in {met} of "
              f"{len(ratios)} cases ({span})")
    print(f"load average at start {res['environment']['load_avg'][0]:.1f}; wall {res['wall_s']:.0f} s")
    return res


def main(argv=None) -> int:
    return json_main(__doc__, run, HERE / "time_to_quality.json", "smoke run: shorter curves, 2 repeats", argv)


if __name__ == "__main__":
    sys.exit(main())
