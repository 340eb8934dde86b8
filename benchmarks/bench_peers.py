"""Peers beyond scikit-image: RedLionfish (CPU) and sdeconv (CPU torch) against superres_widgets.xrf.

Run:  python benchmarks/bench_peers.py [--quick] [--repeat N] [--out FILE]
Install the peers with ``pip install -e .[bench]`` (sdeconv pulls torch from PyPI: ~4 GB).

Rows (sizes 256², 512², 1024², 538 x 601; the Poisson phantom of ``bench_time_to_quality``,
Gaussian PSF sigma 3 px, 25 x 25):

* ``sdeconv`` 1.x (``srichardsonlucy``, ``swiener``; torch on the CPU, all cores):
  - RL periodic: ``pad=0`` (periodic boundary, start = the image) against our
    ``richardson_lucy(boundary="periodic", x0="image")`` -- the same problem, compared on
    the whole map;
  - RL reflect: ``pad=13`` (its GUI default: reflection padding, periodic beyond) against
    our ``richardson_lucy(boundary="reflect", x0="image")`` (exact half-sample reflection,
    no padding) -- different boundary conventions, compared at >= ``REFLECT_MARGIN`` px
    from the border;
  - Wiener periodic: ``swiener(beta=0.01, pad=0)`` against our
    ``wiener(0.01, boundary="periodic")`` (both the 5-point Laplacian), whole map.
  torch threads: 1 or all cores, whichever is faster at the start of the run (recorded).
  float32 and float64 rows (sdeconv keeps the image's dtype; its PSF array is float32 whatever
  the image: a float64 row there has float32-rounded PSF values).
  With ``pad=0`` sdeconv uses the PSF array as given, so it gets the PSF on the image grid
  (centre at ``(M // 2, N // 2)``); with ``pad > 0`` it centres a small PSF at
  ``int(W/2 - K/2) + 1 + K//2``, one pixel off the origin when the padded side ``W`` is odd
  and ``K`` odd, so there we append one zero row/column to the PSF (the agreement check
  would show a shift).
* ``RedLionfish`` 0.10 (``doRLDeconvolutionFromNpArrays``): 3-D only and float32 only.
  Its best setting here is ``method="cpu"`` (scipy.fft): ``"gpu"`` needs an OpenCL platform
  and this machine has none (reported).  A single-plane volume is not usable (its PSF
  "circularisation" skips volumes with one plane, leaving the PSF off the origin), so the
  map is given as a 2-plane volume of two identical copies, and the PSF (origin at
  ``K//2`` in its DeconvolutionLab2 convention) padded to 26 x 26 with the origin at 13.
  Periodic boundary, start = the image; an odd last axis is padded by RedLionfish with a
  zero column.  The time ratio is quoted both for the 2-plane call and per plane (peer
  time / 2, favouring the peer); agreement with our periodic RL at >= ``PERIODIC_MARGIN`` px.

Agreement.  Wiener rows: ours against the peer on the whole map (same periodic model).
RL rows: both peers back-project with ``flip`` of the PSF array whose origin is at index 0,
which puts the adjoint's origin at index -1: the back-projection is shifted by one pixel per
axis each iteration (not the adjoint of their forward blur).  Their RL therefore differs from
ours (and from scikit-image's) by ~10 % after 30 iterations; each RL row prints that
difference and, as the check that the peer ran correctly by its own rules, the peer against an
independent numpy reference of that update (float64 FFTs, same start, same padding; ``TOL``).

Our calls use one scipy.fft worker (``WORKERS``).  Ratios are ``our time / peer time``
(< 1: we are faster), calls alternating in one process, best of ``repeat``.  Writes
``benchmarks/peers.json``; ``run(quick)`` returns the same dictionary.  A peer that cannot be
imported or run is reported in one line.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import pathlib
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from benchmarks._timing import best_times_and_outputs as best_times, json_main  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
SIZES = ((256, 256), (512, 512), (1024, 1024), (538, 601))
DTYPES = ("float32", "float64")
SIGMA = 3.0
BALANCE = 0.01
SDECONV_PAD = 13
REFLECT_MARGIN = 64  # px: sdeconv's reflect padding (then periodic) vs our exact reflection
PERIODIC_MARGIN = 16  # px: RedLionfish's zero column on odd sides
WORKERS = 1  # scipy.fft workers for our calls (RedLionfish's scipy.fft calls use one)
TOL = {"float32": 1e-3, "float64": 1e-6}  # max |ours - peer| / max |peer| over the compared pixels


def shifted_adjoint_rl(y, psf_full, n_iter) -> np.ndarray:
    """The peers' RL update in float64 numpy: forward ``k``, back-projection ``flip(k)`` (origin at -1).

    ``psf_full`` is the PSF on the image grid with its centre at ``(M // 2, N // 2)``; the start
    is the image; zeros of the blurred estimate are replaced by 1e-14 (RedLionfish's guard).
    """
    k = np.fft.ifftshift(np.asarray(psf_full, np.float64))
    k /= k.sum()
    tk, tm = np.fft.rfft2(k), np.fft.rfft2(np.flip(k))
    y = np.asarray(y, np.float64)
    x = y.copy()
    for _ in range(n_iter):
        hx = np.fft.irfft2(np.fft.rfft2(x) * tk, s=y.shape)
        hx[hx == 0] = 1e-14
        x = x * np.fft.irfft2(np.fft.rfft2(y / hx) * tm, s=y.shape)
    return x


def rel_diff(a, b, margin: int) -> float:
    s = (slice(margin, -margin), slice(margin, -margin)) if margin else (slice(None), slice(None))
    a, b = np.asarray(a, np.float64)[s], np.asarray(b, np.float64)[s]
    return float(np.abs(a - b).max() / np.abs(b).max())


def version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def peer_status() -> dict:
    """``{peer: {"version": ..., "ok": bool, "reason": ...}}`` (import check, OpenCL check)."""
    out = {}
    try:
        import torch
        from sdeconv.deconv import srichardsonlucy, swiener  # noqa: F401

        out["sdeconv"] = {"version": version("sdeconv"), "torch": torch.__version__, "ok": True,
                          "device": "cpu (torch.cuda.is_available() = %s)" % torch.cuda.is_available(),
                          "torch_threads": torch.get_num_threads()}
    except Exception as exc:  # noqa: BLE001 -- any import failure is "not installed"
        out["sdeconv"] = {"version": version("sdeconv"), "ok": False, "reason": f"{type(exc).__name__}: {exc}"}
    try:
        from RedLionfishDeconv import doRLDeconvolutionFromNpArrays  # noqa: F401

        gpu = "no OpenCL platform"
        try:
            import pyopencl

            plats = pyopencl.get_platforms()
            gpu = f"OpenCL platforms: {[p.name for p in plats]}" if plats else gpu
        except Exception as exc:  # noqa: BLE001
            gpu = f"no OpenCL platform ({exc})"
        out["redlionfish"] = {"version": version("RedLionfish"), "ok": True, "method": "cpu", "gpu": gpu}
    except Exception as exc:  # noqa: BLE001
        out["redlionfish"] = {"version": version("RedLionfish"), "ok": False,
                              "reason": f"{type(exc).__name__}: {exc}"}
    return out


def sdeconv_psf(psf, shape):
    """Pad an odd PSF with a trailing zero row/column on odd (padded) image sides (sdeconv's centring)."""
    pr, pc = (shape[0] % 2, shape[1] % 2)
    return np.pad(psf, ((0, pr), (0, pc)))


def sdeconv_psf_full(psf, shape):
    """The PSF on the image grid with its centre at ``(M // 2, N // 2)``: what sdeconv needs with ``pad=0``."""
    full = np.zeros(shape, psf.dtype)
    r0, c0 = shape[0] // 2 - psf.shape[0] // 2, shape[1] // 2 - psf.shape[1] // 2
    full[r0:r0 + psf.shape[0], c0:c0 + psf.shape[1]] = psf
    return full


def _row(peer, case, dt, shape, n_iter, ours_boundary, t_o, t_p, out_o, out_p, margin, ref=None, ref_margin=0):
    """One result row: times, ratio, ours-vs-peer difference and (RL) peer-vs-own-reference difference."""
    d = rel_diff(out_o, out_p, margin)
    row = {"peer": peer, "case": case, "dtype": dt.name, "shape": list(shape), "n_iter": n_iter,
           "ours_boundary": ours_boundary, "peer_out_dtype": str(out_p.dtype), "ours_s": t_o, "peer_s": t_p,
           "ours_over_peer": t_o / t_p, "compared_from_border_px": margin, "max_rel_diff_ours_peer": d,
           "tol": TOL[dt.name], "agree_with_ours": d <= TOL[dt.name]}
    if ref is not None:
        dr = rel_diff(ref, out_p, ref_margin)
        row.update(max_rel_diff_peer_own_reference=dr, agree_with_own_reference=dr <= TOL[dt.name],
                   note="peer back-projects with a one-pixel-shifted adjoint (see module docstring)")
    return row


def best_torch_threads() -> int:
    """sdeconv's best setting here: 1 torch thread or all cores, whichever runs a 256² RL faster now.

    (On a loaded 2-core machine torch's spinning worker threads made 2 threads 3x slower than 1.)
    """
    import torch
    from sdeconv.deconv import srichardsonlucy

    y = np.random.default_rng(1).random((256, 256)).astype(np.float32) + 1.0
    k = np.zeros_like(y)
    k[128, 127:130] = 1.0 / 3.0
    best = {}
    for th in sorted({1, os.cpu_count() or 1}):
        torch.set_num_threads(th)
        srichardsonlucy(y, k, niter=2, pad=0)
        best[th] = min(best_times([lambda: srichardsonlucy(y, k, niter=5, pad=0)], 3)[0])
    th = min(best, key=best.get)
    torch.set_num_threads(th)
    return th


def sdeconv_rows(y, psf, dt, n_iter, repeat, shape, ref) -> list[dict]:
    import torch
    from sdeconv.deconv import srichardsonlucy, swiener

    from superres_widgets import xrf

    psf_full = sdeconv_psf_full(psf, shape)
    padded = (shape[0] + 2 * SDECONV_PAD, shape[1] + 2 * SDECONV_PAD)
    cases = [
        ("richardson_lucy periodic", "periodic", 0, ref,
         lambda: srichardsonlucy(y, psf_full, niter=n_iter, pad=0),
         lambda: xrf.richardson_lucy(y, psf, n_iter, boundary="periodic", x0="image", dtype=dt, workers=WORKERS)),
        (f"richardson_lucy reflect (pad {SDECONV_PAD})", "reflect", REFLECT_MARGIN, None,
         lambda: srichardsonlucy(y, sdeconv_psf(psf, padded), niter=n_iter, pad=SDECONV_PAD),
         lambda: xrf.richardson_lucy(y, psf, n_iter, boundary="reflect", x0="image", dtype=dt, workers=WORKERS)),
        ("wiener periodic", "periodic", 0, None,
         lambda: swiener(y, psf_full, beta=BALANCE, pad=0),
         lambda: xrf.wiener(y, psf, BALANCE, boundary="periodic", dtype=dt, workers=WORKERS)),
    ]
    rows = []
    for name, ours_boundary, margin, ref_case, f_peer, f_ours in cases:
        def peer(f_peer=f_peer):
            with torch.no_grad():
                return f_peer().cpu().numpy()

        peer(), f_ours()  # warm-up
        (t_o, t_p), (out_o, out_p) = best_times([f_ours, peer], repeat)
        rows.append(_row("sdeconv", name, dt, shape, n_iter if "lucy" in name else None, ours_boundary,
                         t_o, t_p, out_o, out_p, margin, ref_case))
    return rows


def redlionfish_rows(y, psf, dt, n_iter, repeat, shape, ref) -> list[dict]:
    from RedLionfishDeconv import doRLDeconvolutionFromNpArrays

    from superres_widgets import xrf

    vol = np.stack([y, y])
    psf3 = np.pad(psf, ((1, 0), (1, 0)))[None]  # 26 x 26, origin at 13 = 26 // 2

    def peer():
        return doRLDeconvolutionFromNpArrays(vol, psf3, niter=n_iter, method="cpu")[0]

    def ours():
        return xrf.richardson_lucy(y, psf, n_iter, boundary="periodic", x0="image", dtype=dt, workers=WORKERS)

    peer(), ours()
    (t_o, t_p), (out_o, out_p) = best_times([ours, peer], repeat)
    row = _row("redlionfish", "richardson_lucy periodic (method='cpu')", dt, shape, n_iter, "periodic",
               t_o, t_p, out_o, out_p[:, :shape[1]], PERIODIC_MARGIN, ref[:, :shape[1]], 0)
    row["peer_volume"] = "2 identical planes"
    row["ours_over_peer_per_plane"] = t_o / (t_p / 2)
    return [row]


def references(y64, psf64, shape, n_iter, status) -> dict:
    """The peers' own RL update computed in numpy (RedLionfish: odd last axis padded with a zero column)."""
    refs = {}
    if status["sdeconv"]["ok"]:
        refs["sdeconv"] = shifted_adjoint_rl(y64, sdeconv_psf_full(psf64, shape), n_iter)
    if status["redlionfish"]["ok"]:
        even = (shape[0], shape[1] + shape[1] % 2)
        y_even = np.pad(y64, ((0, 0), (0, even[1] - shape[1])))
        refs["redlionfish"] = shifted_adjoint_rl(y_even, sdeconv_psf_full(psf64, even), n_iter)
    return refs


def print_row(r) -> None:
    shape = "x".join(map(str, r["shape"]))
    extra = f" (per plane {r['ours_over_peer_per_plane']:.2f})" if "ours_over_peer_per_plane" in r else ""
    check = (f"ours vs peer {r['max_rel_diff_ours_peer']:.1e} at >= {r['compared_from_border_px']} px "
             f"({'agree' if r['agree_with_ours'] else 'differ'})")
    if "max_rel_diff_peer_own_reference" in r:
        check += (f"; peer vs its own update in numpy {r['max_rel_diff_peer_own_reference']:.1e} "
                  f"({'agree' if r['agree_with_own_reference'] else 'DISAGREE'})")
    print(f"  {r['peer']:11s} {r['case']:34s} {r['dtype']} {shape:>9s}: ours {r['ours_s'] * 1e3:7.1f} ms, "
          f"peer {r['peer_s'] * 1e3:7.1f} ms, ours/peer {r['ours_over_peer']:5.2f}{extra}; {check} [tol {r['tol']:g}]")


def run(quick: bool = False, repeat: int | None = None, sizes=SIZES) -> dict:
    """All rows; returns the results dictionary (what ``peers.json`` holds)."""
    from benchmarks.bench_time_to_quality import phantom

    from superres_widgets import xrf

    repeat = repeat or (2 if quick else 3)
    n_iter = 10 if quick else 30
    status = peer_status()
    if status["sdeconv"]["ok"]:
        status["sdeconv"]["torch_threads"] = best_torch_threads()
    res = {"quick": quick, "repeat": repeat, "n_iter": n_iter, "our_fft_workers": WORKERS, "peers": status,
           "environment": {"python": platform.python_version(), "numpy": np.__version__,
                           "cpu_count": os.cpu_count(), "load_avg": os.getloadavg(),
                           "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
           "rows": []}
    for peer, st in status.items():
        if not st["ok"]:
            print(f"{peer}: not installed: {st['reason']}")
        elif peer == "sdeconv":
            print(f"sdeconv: version {st['version']}, torch {st['torch']} on {st['device']}, "
                  f"{st['torch_threads']} thread(s)")
        else:
            print(f"redlionfish: version {st['version']}, method 'cpu' (gpu path: {st['gpu']})")
    rng = np.random.default_rng(0)
    psf64 = xrf.gaussian_psf(SIGMA)
    for shape in sizes:
        truth = phantom(shape, rng)
        y64 = rng.poisson(xrf.convolve(truth, psf64, boundary="reflect")).astype(np.float64)
        refs = references(y64, psf64, shape, n_iter, status)
        for dt_name in DTYPES:
            dt = np.dtype(dt_name)
            y, psf = y64.astype(dt), psf64.astype(dt)
            rows = []
            if status["sdeconv"]["ok"]:
                rows += sdeconv_rows(y, psf, dt, n_iter, repeat, shape, refs["sdeconv"])
            if status["redlionfish"]["ok"] and dt_name == "float32":
                rows += redlionfish_rows(y, psf, dt, n_iter, repeat, shape, refs["redlionfish"])
            for r in rows:
                print_row(r)
            res["rows"] += rows
    return res


def main(argv=None) -> int:
    return json_main(__doc__, run, HERE / "peers.json", "smoke run: 10 iterations, 2 repeats", argv)


if __name__ == "__main__":
    sys.exit(main())
