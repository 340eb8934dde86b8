"""Fuzz the command line: every failure is exactly one line, ``superres-widgets: error: <file or option>: <reason>``,
with exit code 2 -- usage errors, bad values of every option, memory-budget refusals, missing and hostile files.

All invocations run in ONE worker subprocess (``cli.main`` called per argument list, stdout/stderr captured) with
an address-space limit and a 1 GiB memory budget; a hang fails the test through its timeout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.timeout(900)

PROG = "superres-widgets"
RUNNER = r"""
import contextlib, io, json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
from superres_widgets.cli import main
for line in sys.stdin:
    argv = json.loads(line)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else 0
    print(json.dumps({"rc": rc, "out": out.getvalue(), "err": err.getvalue()}), flush=True)
"""

BAD_NUMBERS = ["nan", "inf", "-inf", "-1", "0", "1e-300", "1e300", "1e6", "1000000000", "abc", "", "1,2,3", "0x10",
               "True"]


def _run_all(argvs, cwd):
    env = dict(os.environ, SUPERRES_WIDGETS_MEMORY_LIMIT="1GiB", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    text = "\n".join(json.dumps(a) for a in argvs) + "\n"
    r = subprocess.run([sys.executable, "-c", RUNNER], input=text, capture_output=True, text=True, timeout=850,
                       env=env, cwd=cwd)
    assert r.returncode == 0, f"the CLI worker died (exit {r.returncode}): {r.stderr[-3000:]}"
    return [json.loads(line) for line in r.stdout.splitlines()]


def _cases(src, out):
    base = ["deconvolve", src, "--out", out, "--pixel-size-um", "5", "--psf-sigma-um", "10", "--num-iter", "2",
            "--no-progress", "--overwrite"]
    cases = []

    def with_option(argv, flag, value):
        argv = list(argv)
        if flag in argv:
            argv[argv.index(flag) + 1] = value
        else:
            argv += [flag, value]
        return argv

    for flag in ("--psf-sigma-um", "--pixel-size-um", "--num-iter", "--chunk-px", "--channel", "--dataset",
                 "--scheduler"):
        for value in BAD_NUMBERS:
            cases.append((flag, with_option(base, flag, value)))
    for method, flag in (("wiener", "--balance"), ("fista", "--lam"), ("blind", "--kernel-size")):
        argv = with_option(base, "--method", method)
        argv.remove("--num-iter")
        argv.remove("2")
        for value in BAD_NUMBERS:
            cases.append((flag, with_option(argv, flag, value)))
    for value in ("bogus", "", "biggs-andrews"):
        cases.append(("--acceleration", with_option(base, "--acceleration", value)))
    cases.append(("--method", with_option(base, "--method", "bogus")))
    # usage errors: one line with a hint to --help
    for argv in ([], ["bogus"], ["deconvolve"], ["deconvolve", src], ["deconvolve", src, "--out"],
                 ["deconvolve", src, "--out", out, "--frobnicate"], ["reproduce"], ["lab", "--notebooks"],
                 ["deconvolve", src, "--out", out, "--progress", "--no-progress"]):
        cases.append(("usage", argv))
    # files: missing, folder, same as input, unsupported output, existing output
    cases += [("file", ["deconvolve", "missing.npy", "--out", out, "--psf-sigma-um", "10"]),
              ("file", ["deconvolve", ".", "--out", out, "--psf-sigma-um", "10"]),
              ("file", with_option(base, "--out", src)),
              ("file", with_option(base, "--out", "result.png")),
              ("file", with_option(base, "--out", "no_such_folder/out.tif"))]
    return cases


def test_every_cli_failure_is_one_line_with_exit_2(tmp_path):
    src = "in.npy"
    np.save(tmp_path / src, 20 + 5 * np.random.default_rng(0).random((24, 24)))
    cases = _cases(src, "out.tif")
    results = _run_all([argv for _, argv in cases], tmp_path)
    assert len(results) == len(cases)
    bad, n_ok, n_err = [], 0, 0
    for (what, argv), res in zip(cases, results):
        lines = [ln for ln in res["err"].splitlines() if not ln.startswith(f"{PROG}: warning:")]
        if res["rc"] == 0:
            n_ok += 1
            continue
        n_err += 1
        ok = (res["rc"] == 2 and len(lines) == 1 and lines[0].startswith(f"{PROG}: error: ")
              and "Traceback" not in res["err"])
        if what == "usage":
            ok = ok and "--help" in lines[0]
        elif what.startswith("--"):  # the error names the option (or the parameter behind it) or the file
            param = what[2:].replace("-", "_")
            ok = ok and any(s in lines[0] for s in (what, param, src, "--method", "method"))
        elif what == "file":
            ok = ok and any(s in lines[0] for s in (src, "out.tif", "missing.npy", "result.png", "no_such_folder",
                                                     "./", ": "))
        if not ok:
            bad.append(f"{' '.join(argv)} -> exit {res['rc']}: {res['err'][-500:]!r}")
    assert not bad, f"{len(bad)} of {len(cases)} invocations broke the one-line contract:\n" + "\n".join(bad)
    assert n_err > 100 and n_ok >= 3, (n_ok, n_err)
    (tmp_path / "out.tif").unlink(missing_ok=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [src]  # no stray output or temporary file


def test_debug_keeps_the_traceback(tmp_path):
    np.save(tmp_path / "in.npy", np.ones((24, 24)))
    res = _run_all([["deconvolve", "in.npy", "--out", "o.tif", "--psf-sigma-um", "1e6", "--pixel-size-um", "1",
                     "--debug"]], tmp_path)[0]
    assert res["rc"] == 2 and "Traceback" in res["err"]
    assert res["err"].splitlines()[-1].startswith(f"{PROG}: error: in.npy: ")
    assert "would need" in res["err"].splitlines()[-1] and "SUPERRES_WIDGETS_MEMORY_LIMIT" in res["err"]
