"""What the benchmark scripts share: interleaved best-of-N timing and the JSON-writing command line."""

from __future__ import annotations

import argparse
import json
import pathlib
import time

import numpy as np


def best_times_and_outputs(fns, repeat: int):
    """Best-of-``repeat`` wall times of several functions, calls interleaved; and their last outputs.

    Interleaving spreads the load of a shared machine evenly over the
    contenders, so the ratios are fairer than from back-to-back runs.
    """
    best = [np.inf] * len(fns)
    outs = [None] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            outs[i] = fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best, outs


def best_times(fns, repeat: int) -> list:
    """:func:`best_times_and_outputs` without the outputs."""
    return best_times_and_outputs(fns, repeat)[0]


def json_main(doc: str, run, default_out, quick_help: str, argv=None) -> int:
    """``--quick``/``--repeat``/``--out``: call ``run(quick=, repeat=)`` and write its dictionary as JSON."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=quick_help)
    ap.add_argument("--repeat", type=int, default=None)
    ap.add_argument("--out", default=str(default_out))
    args = ap.parse_args(argv)
    res = run(quick=args.quick, repeat=args.repeat)
    pathlib.Path(args.out).write_text(json.dumps(res, indent=1), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0
