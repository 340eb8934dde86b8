"""Real beams in s3DXRD: how much of the paper's sub-pixel gain survives tails, blur, offsets and full scans.

Plain script (no pytest):

    PYTHONPATH=. python benchmarks/bench_real_beams.py [--maps-only] [--seeds 0 1]

Part 1, the superposition statistics of Fig. 4 (X in +-10, step 1, 10 deg
steps, 4 x 4 sub-pixels) for the box of the paper, a Gaussian of FWHM = step
and a box of width = step blurred by a Gaussian of FWHM 0.25 step: mean
relative spot size ``sqrt(A / A(0, 0))`` (r >= 0.5), the Gaussian-fit FWHM of
``r - r(COM)`` and the mean absolute spot size ``sqrt(A) / b``, where A is the
exact polygon (box) or the effective area of the sensitivity map (product,
and minimum, of the weights; ``superres_widgets.s3dxrd.sensitivity``).

Part 2, the phantom of Fig. 5-6 (160 um, 40 grains, 4 um beam and step,
0.5 deg): weighted mean boundary displacement of the conventional (4 um) and
sub-pixel (1 um) maps and the fraction of correct sub-pixels, for the three
beams, half (0-180 deg) vs full (0-360 deg) scans, a full scan with a
quarter-step rotation-axis offset, and the tails with a detection threshold
(intensity >= 0.1 b^2, module rule 5 of ``forward``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from superres_widgets.s3dxrd import ScanGeometry, reconstruct_phantom, superposition_map

BEAMS = ("box", "gaussian", "box_gaussian")


def map_rows() -> list[dict]:
    rows = []
    g = ScanGeometry(x_range=10, step=1.0, omega_deg=np.arange(0.0, 180.0, 10.0))
    for name in BEAMS:
        for combine in (("product",) if name == "box" else ("product", "minimum")):
            t0 = time.perf_counter()
            st = superposition_map(g.replace(profile=name), subdivision=4, combine=combine).stats
            rows.append(dict(beam=name, combine="polygon" if name == "box" else combine,
                             mean_relative_size=st.mean_relative_size, com_error_fwhm=st.com_error_fwhm,
                             mean_spot_size=st.mean_spot_size, area_centre=st.area_centre,
                             seconds=time.perf_counter() - t0))
    return rows


PHANTOM_CASES = (
    ("box", "half", {}),
    ("gaussian", "half", {}),
    ("box_gaussian", "half", {}),
    ("box", "full", dict(omega_range_deg=360.0)),
    ("gaussian", "full", dict(omega_range_deg=360.0)),
    ("box_gaussian", "full", dict(omega_range_deg=360.0)),
    ("box", "full, y0 = step/4", dict(omega_range_deg=360.0, axis_offset_um=1.0)),
    ("gaussian", "half, threshold 0.1", dict(detection_threshold=0.1)),
    ("box_gaussian", "half, threshold 0.1", dict(detection_threshold=0.1)),
)


def phantom_rows(seeds: list[int]) -> list[dict]:
    rows = []
    for name, scan, kw in PHANTOM_CASES:
        conv, sub, frac, peaks, secs = [], [], [], [], []
        for seed in seeds:
            t0 = time.perf_counter()
            r = reconstruct_phantom(seed=seed, profile=name, **kw)
            secs.append(time.perf_counter() - t0)
            conv.append(r.conventional.mean_displacement_um)
            sub.append(r.subpixel.mean_displacement_um)
            frac.append(r.subpixel.fraction_correct)
            peaks.append(r.data.n_peaks)
        rows.append(dict(beam=name, scan=scan, conventional_um=float(np.mean(conv)), subpixel_um=float(np.mean(sub)),
                         fraction_correct=float(np.mean(frac)), n_peaks=int(np.mean(peaks)),
                         seconds=float(np.mean(secs))))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--maps-only", action="store_true", help="only part 1")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="phantom seeds (default 0)")
    args = ap.parse_args()

    print("Part 1: Fig. 4 statistics, X in +-10, step 1, 10 deg, 4x4 sub-pixels (beam width = step)")
    print(f"{'beam':>13} {'measure':>8} {'mean rel. size':>14} {'COM FWHM':>9} {'mean sqrt(A)/b':>14} "
          f"{'A(0,0)/b^2':>10} {'s':>6}")
    for row in map_rows():
        print(f"{row['beam']:>13} {row['combine']:>8} {row['mean_relative_size']:14.4f} "
              f"{row['com_error_fwhm']:9.4f} {row['mean_spot_size']:14.4f} {row['area_centre']:10.4f} "
              f"{row['seconds']:6.2f}")
    if args.maps_only:
        return
    print()
    print(f"Part 2: phantom 160 um, 40 grains, 4 um beam and step, 0.5 deg, 4x4 sub-pixels, seeds {args.seeds}")
    print(f"{'beam':>13} {'scan':>20} {'conv. (um)':>10} {'sub-px (um)':>11} {'correct':>8} {'peaks':>7} {'s':>6}")
    for row in phantom_rows(args.seeds):
        print(f"{row['beam']:>13} {row['scan']:>20} {row['conventional_um']:10.3f} {row['subpixel_um']:11.3f} "
              f"{row['fraction_correct']:8.3f} {row['n_peaks']:7d} {row['seconds']:6.1f}")


if __name__ == "__main__":
    main()
