"""Run fuzz jobs in worker subprocesses and classify each outcome.

Each job runs in a long-lived worker process (``python fuzz_harness.py --worker``) with an
address-space limit (``RLIMIT_AS``), a memory budget (``SUPERRES_WIDGETS_MEMORY_LIMIT``) and
one thread per BLAS / FFT; the parent gives every call ``timeout`` seconds and kills and
restarts a worker that overruns (a hang) or dies (a crash: segfault, abort).  The outcome
classes:

=============  ===========================================================================
``ok``         finite result (a valid value; or an invalid value refused before the call)
``clean``      ``ValueError`` / ``TypeError`` whose message names the parameter (or the file),
               or a memory-budget refusal
``accepted``   an invalid value (NaN, a bool or a numeric string for a number, ...) gave a
               result instead of an error
``nan``        the result holds NaN / inf where the valid call's result has none
``unclear``    an error that does not name the parameter, or of another type
               (AttributeError, IndexError, OverflowError, ZeroDivisionError, ...)
``memory``     a ``MemoryError`` escaped
``hang``       no answer within the per-call timeout
``crash``      the worker process died (signal or exit)
``skip``       the function or its context does not exist in this checkout
=============  ===========================================================================

Command line (counts per class; ``PYTHONPATH`` or ``--code`` picks the checkout)::

    python tests/fuzz_harness.py --report [--code /work/baseline] [--only xrf] [--timeout 10]
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import select
import subprocess
import sys
import time
import traceback

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
CLASSES = ("ok", "clean", "accepted", "nan", "unclear", "memory", "hang", "crash", "skip")
BAD_CLASSES = ("accepted", "nan", "unclear", "memory", "hang", "crash")
WORKER_AS_LIMIT = 4 * 2**30
WORKER_BUDGET = "1GiB"


# ---------------------------------------------------------------------------
# worker side
# ---------------------------------------------------------------------------
def _nonfinite_paths(value, path="", depth=0, out=None):
    """Paths (``.field[3]``) inside a result that hold NaN or inf."""
    import numpy as np

    out = set() if out is None else out
    if depth > 5:
        return out
    if isinstance(value, (bool, np.bool_)) or value is None or isinstance(value, str):
        return out
    if isinstance(value, (int, float, complex, np.number)):
        try:
            if not np.isfinite(value):
                out.add(path)
        except TypeError:
            pass
        return out
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fc" and value.size and not np.all(np.isfinite(value)):
            out.add(path)
        elif value.dtype == object and value.size <= 1000:
            for i, v in enumerate(value.ravel()):
                _nonfinite_paths(v, f"{path}[{i}]", depth + 1, out)
        return out
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _nonfinite_paths(getattr(value, f.name, None), f"{path}.{f.name}", depth + 1, out)
        return out
    if isinstance(value, dict):
        for k, v in list(value.items())[:200]:
            _nonfinite_paths(v, f"{path}[{k!r}]", depth + 1, out)
        return out
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value[:200]):
            _nonfinite_paths(v, f"{path}[{i}]", depth + 1, out)
    return out


class _Worker:
    def __init__(self):
        import fuzz_catalogue as cat

        self.cat = cat
        self.ctx = cat.Ctx()
        self.valid = {}  # seed key -> nonfinite paths of the valid call, or an error text

    def kwargs(self, seed):
        import copy

        return copy.deepcopy(seed.build(self.ctx))

    def valid_paths(self, seed, fn):
        if seed.key not in self.valid:
            try:
                self.valid[seed.key] = _nonfinite_paths(fn(**self.kwargs(seed)))
            except Exception as exc:  # noqa: BLE001 - the seed is not valid in this checkout
                self.valid[seed.key] = f"{type(exc).__name__}: {exc}"
        return self.valid[seed.key]

    def run(self, job):
        if job["kind"] == "call":
            return self.call(job)
        if job["kind"] == "load":
            return self.load(job)
        raise ValueError(job["kind"])

    def call(self, job):
        seed = self.cat.seeds()[job["seed"]]
        try:
            fn = seed.function()
        except (ImportError, AttributeError) as exc:
            return {"cls": "skip", "msg": f"no function ({exc})"}
        base = self.valid_paths(seed, fn)
        if isinstance(base, str):
            return {"cls": "skip", "msg": f"the valid call fails here: {base[:300]}"}
        muts = {m[0]: m for m in self.cat.mutations(seed.params[job["param"]])}
        _label, factory, invalid = muts[job["mut"]]
        kwargs = self.kwargs(seed)
        value = kwargs[job["param"]] = factory()
        names = [job["param"], *seed.names.get(job["param"], ())]
        if seed.nan_ok:
            base = None  # NaN entries are documented: only errors and acceptance are judged
        if isinstance(value, str) and value:
            names += [f"{value}:", repr(value)]  # a file named in the message ("x: ...", "No such file: 'x'")
        return classify(lambda: fn(**kwargs), names, invalid, base)

    def load(self, job):
        import importlib

        mod, _, attr = job["func"].partition(":")
        fn = getattr(importlib.import_module(mod), attr)
        path = job["path"]
        # NaN pixels of a map are masked pixels (documented): only errors and acceptance are judged
        return classify(lambda: fn(path, **job.get("kwargs", {})), [path, os.path.basename(path)],
                        job.get("invalid", True), None)


def classify(call, names, invalid, base_paths):
    """Run ``call()`` and classify the outcome (see the module docstring)."""
    try:
        result = call()
    except MemoryError as exc:
        return {"cls": "memory", "type": type(exc).__name__, "msg": str(exc)[:300]}
    except RecursionError as exc:
        return {"cls": "unclear", "type": "RecursionError", "msg": str(exc)[:300]}
    except Exception as exc:  # noqa: BLE001 - classified
        msg = str(exc)
        tb = traceback.extract_tb(exc.__traceback__)
        deep = bool(tb) and "superres_widgets" not in tb[-1].filename
        where = f"{pathlib.Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
        budget = type(exc).__name__ == "MemoryBudgetError"
        named = any(n and n in msg for n in names)
        ok_type = isinstance(exc, (ValueError, TypeError, FileNotFoundError))
        cls = "clean" if ok_type and (named or budget) else "unclear"
        return {"cls": cls, "type": type(exc).__name__, "msg": msg[:400], "len": len(msg), "deep": deep,
                "where": where}
    new = [] if base_paths is None else sorted(_nonfinite_paths(result) - base_paths)
    if new:
        return {"cls": "nan", "msg": f"non-finite at {', '.join(new[:5])}"}
    if invalid:
        return {"cls": "accepted", "msg": "an invalid value gave a result"}
    return {"cls": "ok"}


def _limit_resources():
    import resource

    try:
        resource.setrlimit(resource.RLIMIT_AS, (WORKER_AS_LIMIT, WORKER_AS_LIMIT))
    except (ValueError, OSError):
        pass
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        pass


def worker_main():
    _limit_resources()
    import warnings

    warnings.simplefilter("ignore")
    w = _Worker()
    out = sys.stdout
    sys.stdout = sys.stderr  # prints of the code under test do not corrupt the protocol
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        job = json.loads(line)
        try:
            res = w.run(job)
        except Exception as exc:  # noqa: BLE001 - the harness itself: report, keep going
            res = {"cls": "skip", "msg": f"harness: {type(exc).__name__}: {exc}"}
        out.write(json.dumps(res, default=str) + "\n")
        out.flush()


# ---------------------------------------------------------------------------
# parent side
# ---------------------------------------------------------------------------
def worker_env(code: str | os.PathLike | None = None) -> dict:
    env = dict(os.environ)
    paths = [str(HERE)]
    if code is not None:
        paths.insert(0, str(code))
    env["PYTHONPATH"] = os.pathsep.join(paths + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               NUMEXPR_NUM_THREADS="1", PYTHONFAULTHANDLER="1", PYTHONWARNINGS="ignore",
               SUPERRES_WIDGETS_MEMORY_LIMIT=WORKER_BUDGET, MPLBACKEND="Agg")
    return env


class Proc:
    """One worker subprocess."""

    def __init__(self, code=None):
        self.code = code
        self.p = None
        self.job = None
        self.deadline = None
        self.start()

    def start(self):
        cmd = [sys.executable, "-u", str(HERE / "fuzz_harness.py"), "--worker"]
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  env=worker_env(self.code), cwd=str(HERE), text=True, bufsize=1)
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("fuzz worker did not start")

    def send(self, job, timeout):
        self.job = job
        self.deadline = time.monotonic() + timeout
        self.p.stdin.write(json.dumps(job) + "\n")
        self.p.stdin.flush()

    def kill(self):
        try:
            self.p.kill()
        except OSError:
            pass
        self.p.wait()

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()


def run_jobs(jobs, *, code=None, workers=2, timeout=10.0, progress=None):
    """Run every job; returns ``[(job, outcome dict)]`` in job order."""
    pending = list(enumerate(jobs))[::-1]
    results = [None] * len(jobs)
    procs = [Proc(code) for _ in range(min(workers, len(jobs)) or 1)]
    try:
        while pending or any(p.job is not None for p in procs):
            for p in procs:
                if p.job is None and pending:
                    i, job = pending.pop()
                    p.index = i
                    p.send(job, timeout)
            busy = [p for p in procs if p.job is not None]
            wait = max(0.0, min(p.deadline for p in busy) - time.monotonic())
            ready, _, _ = select.select([p.p.stdout for p in busy], [], [], wait)
            now = time.monotonic()
            for p in busy:
                res = None
                if p.p.stdout in ready:
                    line = p.p.stdout.readline()
                    if line:
                        res = json.loads(line)
                    else:
                        code_ = p.p.wait()
                        res = {"cls": "crash", "msg": f"worker died (exit {code_})"}
                        p.start()
                elif now >= p.deadline:
                    res = {"cls": "hang", "msg": f"no answer in {timeout:g} s"}
                    p.kill()
                    p.start()
                if res is not None:
                    results[p.index] = (p.job, res)
                    if progress:
                        progress(p.index, p.job, res)
                    p.job = None
    finally:
        for p in procs:
            p.close()
    return results


def counts(results):
    out = dict.fromkeys(CLASSES, 0)
    for _job, res in results:
        out[res["cls"]] += 1
    return out


def describe(job, res):
    what = f"{job.get('seed', job.get('func'))}({job.get('param', '')}={job.get('mut', job.get('path', ''))})"
    return f"{res['cls']:9s} {what}: {res.get('type', '')} {res.get('msg', '')}"[:400]


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", action="store_true")
    ap.add_argument("--report", action="store_true")
    ap.add_argument("--code", default=None, help="checkout to test (put first on PYTHONPATH)")
    ap.add_argument("--only", default=None)
    ap.add_argument("--seed", default=None, help="only this seed key")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--show", default=",".join(BAD_CLASSES))
    ap.add_argument("--json", default=None, help="write all outcomes here")
    args = ap.parse_args(argv)
    if args.worker:
        return worker_main()
    sys.path.insert(0, str(HERE))
    import fuzz_catalogue as cat

    jobs = cat.jobs(args.only)
    if args.seed:
        jobs = [j for j in jobs if j["seed"] in args.seed.split(",")]
    t0 = time.perf_counter()
    results = run_jobs(jobs, code=args.code, workers=args.workers, timeout=args.timeout)
    show = set(args.show.split(","))
    for job, res in results:
        if res["cls"] in show:
            print(describe(job, res))
    c = counts(results)
    print(f"{len(results)} calls in {time.perf_counter() - t0:.0f} s: " + ", ".join(f"{k} {v}" for k, v in c.items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=0, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
