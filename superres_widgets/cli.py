"""The ``superres-widgets`` command line.

::

    superres-widgets lab [--notebooks DIR] [--dry-run] [-- jupyter-lab-args...]
    superres-widgets deconvolve INPUT --out OUTPUT [--method NAME] [--plugin MODULE_OR_FILE ...]
                                 [--psf-sigma-um S[,S2,...] | --psf FILE] [--pixel-size-um P]
                                 [--stop none|discrepancy|relative_change] [--tol T]
                                 [--negative offset|clip|error|keep] [--normalize SCALER]
                                 [--num-iter N | --iterations N | -n N] [--balance B] [--lam L]
                                 [--acceleration none|biggs-andrews] [--kernel-size K]
                                 [--dataset NAME] [--channel C] [--scheduler ADDRESS]
                                 [--progress | --no-progress] [--overwrite]
    superres-widgets reproduce --out DIR [--quick]

Every subcommand takes ``--debug`` (show the traceback on error).  Problems
with files or parameters are reported as one line,
``superres-widgets: error: <file>: <reason>``, with exit code 2.

Methods and their flags come from the restoration-method registry
(:func:`superres_widgets.xrf.methods`): ``--method`` takes every registered
name and alias (``wiener``, ``richardson_lucy``/``rl``, ``fista``,
``blind_l0``/``blind``), every parameter of a method is a flag
(``--num-iter``, with the aliases its declaration gives, e.g.
``--iterations``/``-n``), its default is the chosen method's, and the
values the method ran with are recorded in the output's provenance.

Plugins: ``--plugin my_methods`` (an importable module) or
``--plugin ./my_methods.py`` (a file) is imported before the command line
is read; a plugin calls :func:`superres_widgets.xrf.register_method`, and its
methods become ``--method`` choices with their own flags.  Repeat
``--plugin`` for several.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import pathlib
import shlex
import shutil
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Sequence

PROG = "superres-widgets"
EXIT_ERROR = 2

OUT_EXTENSIONS = (".tif", ".tiff", ".h5", ".hdf5")


class CLIError(Exception):
    """A user-facing error: ``<file>: <reason>`` (``file`` may be None)."""

    def __init__(self, file, reason: str):
        self.file = file
        self.reason = reason
        super().__init__(f"{file}: {reason}" if file is not None else reason)


# ----------------------------------------------------------------------------
# progress bar
# ----------------------------------------------------------------------------

class ProgressBar:
    """A text progress bar on a stream (stderr); silent when disabled.

    Callable as ``bar(fraction)`` or ``bar(done, total)`` (optionally a third
    ``text`` argument), so it can be passed as a ``progress=`` hook.
    """

    def __init__(self, label: str = "", enabled: bool = True, stream=None, width: int = 30):
        self.label = label
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.t0 = time.perf_counter()
        self._last = -1.0
        self._shown = False

    def __call__(self, *args, **kwargs):
        if not self.enabled:
            return
        text = kwargs.get("text", "")
        nums = [a for a in args if isinstance(a, (int, float)) and not isinstance(a, bool)]
        strs = [a for a in args if isinstance(a, str)]
        if strs:
            text = strs[0]
        if len(nums) >= 2 and nums[1]:
            frac = nums[0] / nums[1]
        elif nums:
            frac = float(nums[0])
        else:
            return
        frac = min(max(frac, 0.0), 1.0)
        if frac < 1.0 and frac - self._last < 0.005:
            return
        self._last = frac
        n = int(round(frac * self.width))
        line = (f"\r{self.label} [{'#' * n}{'.' * (self.width - n)}] {100 * frac:5.1f} % "
                f"{time.perf_counter() - self.t0:6.1f} s {text}")
        self.stream.write(line[:200])
        self.stream.flush()
        self._shown = True

    def close(self):
        if self.enabled and self._shown:
            self(1.0)
            self.stream.write("\n")
            self.stream.flush()


# ----------------------------------------------------------------------------
# lab
# ----------------------------------------------------------------------------

def find_notebooks(explicit: str | None = None) -> pathlib.Path:
    """The course notebooks folder: ``explicit``, else ``./notebooks``, else next to the package."""
    if explicit is not None:
        p = pathlib.Path(explicit).expanduser()
        if not p.is_dir():
            raise CLIError(p, "no such folder (give the folder holding the course notebooks)")
        return p.resolve()
    here = pathlib.Path(__file__).resolve().parent
    candidates = [pathlib.Path.cwd() / "notebooks", here.parent / "notebooks"]
    for c in candidates:
        if c.is_dir() and any(c.glob("*.ipynb")):
            return c.resolve()
    raise CLIError(candidates[0], "no course notebooks found here nor next to the package "
                   f"({candidates[1]}); they are not part of the installed package -- clone the "
                   "project repository and run this from its root, or pass --notebooks DIR")


def cmd_lab(args) -> int:
    nb_dir = find_notebooks(args.notebooks)
    jupyter = shutil.which("jupyter", path=os.pathsep.join(
        [str(pathlib.Path(sys.executable).parent), os.environ.get("PATH", "")]))
    cmd = ([jupyter] if jupyter else [sys.executable, "-m", "jupyter"]) + ["lab", str(nb_dir)]
    extra = list(args.lab_args or [])
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        cmd.append("--allow-root")  # JupyterLab refuses to start as root without it (containers, CI)
    cmd += extra
    if args.dry_run:
        print(shlex.join(cmd))
        return 0
    import importlib.util

    if importlib.util.find_spec("jupyterlab") is None:
        raise CLIError(None, "JupyterLab is not installed: pip install 'superres_widgets[lab]'")
    return subprocess.call(cmd)


# ----------------------------------------------------------------------------
# deconvolve
# ----------------------------------------------------------------------------

def _parse_sigmas(text: str | None, n_channels: int, src) -> list[float] | None:
    if text is None:
        return None
    try:
        vals = [float(v) for v in str(text).replace(";", ",").split(",") if v.strip()]
    except ValueError:
        raise CLIError(src, f"--psf-sigma-um must be a number or comma-separated numbers, got {text!r}") from None
    if not vals or any(not (v > 0 and v < float("inf")) for v in vals):
        raise CLIError(src, f"--psf-sigma-um must be positive, got {text!r}")
    if len(vals) == 1:
        return vals * n_channels
    if len(vals) != n_channels:
        raise CLIError(src, f"--psf-sigma-um has {len(vals)} values but the input has "
                       f"{n_channels} channel(s); give one value or one per channel")
    return vals


def _load_input(args):
    from .io import load_map

    kwargs = {}
    if args.pixel_size_um is not None:
        kwargs["pixel_size_um"] = args.pixel_size_um
    if args.channel is not None:
        kwargs["channel"] = args.channel
    if args.dataset is not None:
        kwargs["dataset"] = args.dataset
    if getattr(args, "normalize", None) is not None:
        kwargs["normalize"] = args.normalize
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = load_map(args.input, **kwargs)
    for w in caught:
        if m.pixel_size_um is None and "no pixel size" in str(w.message):
            continue  # reported below as the error
        print(f"{PROG}: warning: {_flags_in(str(w.message))}", file=sys.stderr)
    return m


_FLAG_WORDS = {"pixel_size_um=": "--pixel-size-um ", "pixel_size_um": "--pixel-size-um",
               "psf_sigma_um": "--psf-sigma-um", "normalize=": "--normalize ", "dataset=": "--dataset ",
               "channel=": "--channel "}


def _flags_in(message: str) -> str:
    """A library message in the command line's words (``pixel_size_um=`` -> ``--pixel-size-um``)."""
    for word, flag in _FLAG_WORDS.items():
        message = message.replace(word, flag)
    return message


def _load_psf(args, shape, px, src):
    """The PSF image of ``--psf FILE``: read, pixel size checked against the map's, prepared."""
    from .io import load_map
    from .xrf import prepare_psf

    path = pathlib.Path(args.psf).expanduser()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a PSF file without a pixel size is taken on the map's grid
        k = load_map(path)
    if k.data.ndim != 2:
        raise CLIError(path, f"--psf must be one 2-D PSF image, got shape {k.data.shape} (pick a channel with a "
                       "one-channel file)")
    if k.pixel_size_um is not None and px is not None and abs(k.pixel_size_um - px) > 0.01 * px:
        raise CLIError(path, f"--psf has {k.pixel_size_um:g} um pixels but the map {px:g} um; a PSF image must be "
                       "on the map's pixel grid (resample it, or measure it with the same step)")
    try:
        return prepare_psf(k.data, shape, name=f"--psf {path.name}")
    except ValueError as exc:
        raise CLIError(path, str(exc)) from None


LOCAL_SCHEDULERS = ("threads", "synchronous", "sync", "single-threaded", "processes")


def _connect(scheduler: str | None, src):
    """A ``distributed.Client`` for a scheduler address; None for local Dask schedulers."""
    if scheduler is None or scheduler in LOCAL_SCHEDULERS:
        return None
    try:
        from distributed import Client
    except ImportError:
        raise CLIError(src, f"--scheduler {scheduler} needs the 'distributed' package "
                       "(pip install distributed)") from None
    try:
        return Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise CLIError(src, f"cannot connect to the Dask scheduler at {scheduler}: "
                       f"{_one_line(str(exc)) or type(exc).__name__}") from None


def _method_values(args, method, src) -> dict:
    """The chosen method's parameter values: the flags given (checked), its defaults for the rest."""
    values = {}
    for p in method.parameters:
        text = getattr(args, f"param_{p.name}", None)
        if text is None:
            values[p.name] = p.default
            continue
        try:
            values[p.name] = p.validate(text)
        except ValueError as exc:
            raise CLIError(src, f"--{_flag(p.name)}: {exc}") from None
    for name in _parameter_declarations():
        if name not in values and getattr(args, f"param_{name}", None) is not None:
            print(f"{PROG}: warning: --{_flag(name)} is not a parameter of {method.name}; ignored",
                  file=sys.stderr)
    return values


def _restore_estimating_psf(method, stack, values, px, bar, negative=None):
    """Methods that estimate the PSF: channel by channel; returns (restored, estimated sigmas)."""
    import numpy as np

    from .xrf import kernel_to_sigma

    result, est = np.empty_like(stack), []
    total = method.total_iterations(values)
    for i, img in enumerate(stack):
        def report(k, _estimate, i=i):
            bar((i + min(k / total, 1.0)) / len(stack) if total else i / len(stack), f"iteration {k}")

        r = method.run(img, None, values, callback=report if method.iterative else None, negative=negative)
        result[i] = np.asarray(getattr(r, "image", r))
        kernel = getattr(r, "kernel", None)
        if kernel is not None:
            est.append(float(np.mean(kernel_to_sigma(kernel, pixel_size_um=px))))
        bar((i + 1) / len(stack))
    return result, est


def _check_output(src: pathlib.Path, out: pathlib.Path, overwrite: bool) -> None:
    """The output must not be the input, must be a writable type, new (or --overwrite), in a folder."""
    if os.path.realpath(out) == os.path.realpath(src) or (
            out.exists() and src.exists() and os.path.samefile(out, src)):
        raise CLIError(out, "is the input file; refusing to overwrite the input (choose another --out)")
    if out.suffix.lower() not in OUT_EXTENSIONS:
        raise CLIError(out, f"unsupported output type {out.suffix or '(no extension)'!r}; "
                       f"write one of {', '.join(OUT_EXTENSIONS)}")
    if out.exists() and not overwrite:
        raise CLIError(out, "already exists (pass --overwrite to replace it)")
    if not out.parent.is_dir():
        raise CLIError(out, f"folder {out.parent} does not exist")


def cmd_deconvolve(args) -> int:
    import numpy as np

    from .io import save_map
    from .xrf import deconvolve_stack, get_method, methods

    src = pathlib.Path(args.input).expanduser()
    out = pathlib.Path(args.out).expanduser()
    method = get_method(args.method)
    _check_output(src, out, args.overwrite)
    if args.psf is not None and args.psf_sigma_um is not None:
        raise CLIError(src, "give --psf-sigma-um (a Gaussian) or --psf FILE (a PSF image), not both")
    if method.needs_psf and args.psf_sigma_um is None and args.psf is None:
        blind = [m.name for m in methods(needs_psf=False)]
        raise CLIError(src, f"--psf-sigma-um or --psf FILE is required for --method {args.method} "
                       f"(only methods that estimate the PSF do without: {', '.join(blind) or 'none'})")
    values = _method_values(args, method, src)

    t_read = time.perf_counter()
    m = _load_input(args)
    px = m.pixel_size_um
    if px is None:
        raise CLIError(src, "no pixel size in the file; pass --pixel-size-um (the scan step in um)")
    data = np.asarray(m.data, dtype=float)
    single = data.ndim == 2
    stack = data[None] if single else data
    names = None if single else (m.channels or [str(i) for i in range(stack.shape[0])])
    kernel = _load_psf(args, stack.shape[-2:], px, src) if args.psf is not None else None
    sigmas = None if kernel is not None else _parse_sigmas(args.psf_sigma_um, stack.shape[0], src)
    if m.metadata.get("masked_pixels"):
        print(f"{PROG}: {m.metadata['masked_pixels']} masked (NaN) value(s) in {src.name}: left out of the data fit",
              file=sys.stderr)
    t_read = time.perf_counter() - t_read
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    bar = ProgressBar(f"{method.name} {src.name}", enabled=show)
    params = {}
    if method.needs_psf:
        if kernel is not None:
            params["psf"] = {"file": str(args.psf), "shape": list(kernel.shape)}
        else:
            params["psf_sigma_um"] = sigmas if not single else sigmas[0]
    params.update({p.name: p.argument(values[p.name]) for p in method.parameters})
    if args.negative is not None:
        params["negative"] = args.negative
    estimated = None
    client = _connect(args.scheduler, src) if method.needs_psf else None
    t0 = time.perf_counter()  # the computation only: no imports, no reading or writing
    try:
        if method.needs_psf:
            kw = dict(scheduler=client if client is not None else args.scheduler, progress=bar,
                      negative=args.negative)
            if args.chunk_px is not None:
                kw["chunk_px"] = args.chunk_px
            if kernel is not None:
                result = np.asarray(deconvolve_stack(stack, psf=kernel, method=method.name, **kw, **values))
            else:
                result = np.asarray(deconvolve_stack(stack, sigmas, px, method.name, **kw, **values))
        else:
            result, estimated = _restore_estimating_psf(method, stack, values, px, bar, args.negative)
            if estimated:
                params["estimated_psf_sigma_um"] = estimated[0] if single else estimated
    except (ValueError, TypeError) as exc:
        raise CLIError(src, _flags_in(str(exc))) from exc
    finally:
        seconds = time.perf_counter() - t0
        bar.close()
        if client is not None:
            client.close()
    params["input_file"] = str(src)
    for key in ("channel", "dataset", "normalize"):
        if getattr(args, key, None) is not None:
            params[key] = getattr(args, key)

    t_write = time.perf_counter()
    data_out = result[0] if single else result
    kw = dict(pixel_size_um=px, method=method.name, parameters=params, source=m)
    if names is not None:
        kw["channels"] = names
    fn = method.function
    kw["provenance"] = {"command": shlex.join([PROG] + list(getattr(args, "argv", []))),
                        "scheduler": args.scheduler or "local", "seconds": round(seconds, 3),
                        "method_function": f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', fn)}"}
    if args.plugin:
        kw["provenance"]["plugins"] = list(args.plugin)
    written = save_map(out, data_out, **kw)
    t_write = time.perf_counter() - t_write
    msg = (f"{PROG}: {method.name} on {src} ({'x'.join(map(str, data.shape))}, pixel {px:g} um): restoration "
           f"{_duration(seconds)} (reading {_duration(t_read)}, writing {_duration(t_write)}) -> {written}")
    print(msg)
    for name, sig in zip(names or ["map"], estimated or []):
        print(f"  estimated PSF sigma ({name}): {sig:.2f} um")
    return 0


def _duration(seconds: float) -> str:
    """``12 ms`` below a second, ``1.23 s`` above."""
    return f"{1000 * seconds:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


# ----------------------------------------------------------------------------
# plugins and the registry's flags
# ----------------------------------------------------------------------------

def _flag(name: str) -> str:
    return name.replace("_", "-")


def _value_text(p, value) -> str:
    """How a value is written on the command line (``none``/``biggs-andrews`` for mapped bools)."""
    if p.kind == "bool":
        arg = p.argument(value)
        return "none" if arg is None else str(arg).lower()
    return str(value)


def _parameter_declarations() -> dict:
    """``{parameter name: [(method, Parameter), ...]}`` over every registered method."""
    from .xrf import methods

    out: dict = {}
    for m in methods():
        for p in m.parameters:
            out.setdefault(p.name, []).append((m, p))
    return out


def _add_method_arguments(p: argparse.ArgumentParser) -> None:
    """``--method`` (every name and alias) and one flag per method parameter."""
    from .xrf import methods

    choices = [n for m in methods() for n in (m.name, *m.aliases)]
    p.add_argument("--method", "-m", choices=choices, default="richardson_lucy", metavar="NAME",
                   help="restoration method: " + "; ".join(
                       f"{m.name}{' (' + ', '.join(m.aliases) + ')' if m.aliases else ''}: {m.label or m.name}"
                       + ("" if m.needs_psf else ", estimates the PSF") for m in methods())
                   + " (default richardson_lucy)")
    for name, decls in _parameter_declarations().items():
        first = decls[0][1]
        flags = [f"--{_flag(name)}"] + [f"-{a}" if len(a) == 1 else f"--{_flag(a)}" for a in first.aliases]
        defaults = ", ".join(f"{m.name}: {_value_text(p, p.default)}" for m, p in decls)
        lo_hi = "" if first.kind in ("bool", "choice") else f" in {first.range_text()}"
        values = ("{" + ",".join(_value_text(first, v) for v in (False, True)) + "}"
                  if first.values else ("{" + ",".join(first.choices) + "}" if first.choices else None))
        try:
            p.add_argument(*flags, dest=f"param_{name}", default=None, metavar=values or name.upper(),
                           help=f"{first.label or name}{' (' + first.unit + ')' if first.unit else ''}{lo_hi}; "
                                f"default {defaults}")
        except argparse.ArgumentError as exc:
            owners = ", ".join(m.name for m, _ in decls)
            raise CLIError(None, f"parameter {name!r} of {owners} clashes with a command-line option "
                           f"({exc.message})") from None


def _plugin_specs(argv: Sequence[str]) -> list:
    """The ``--plugin`` values in ``argv`` (read before the parser, which needs their methods)."""
    out = []
    it = iter(argv)
    for a in it:
        if a == "--":
            break
        if a == "--plugin":
            out.append(next(it, ""))
        elif a.startswith("--plugin="):
            out.append(a.split("=", 1)[1])
    return out


def load_plugin(spec: str):
    """Import a plugin: a module name, or the path of a ``.py`` file. Returns the module."""
    path = pathlib.Path(spec).expanduser()
    try:
        if spec.endswith(".py") or path.is_file():
            if not path.is_file():
                raise CLIError(path, "no such plugin file")
            name = f"superres_widgets_plugin_{path.stem}"
            module_spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[name] = module
            module_spec.loader.exec_module(module)
            return module
        if not spec:
            raise CLIError(None, "--plugin needs a module name or a .py file")
        return importlib.import_module(spec)
    except CLIError:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken plugin is a one-line user error
        raise CLIError(spec, f"cannot load the plugin: {type(exc).__name__}: {_one_line(str(exc))}") from exc


# ----------------------------------------------------------------------------
# reproduce
# ----------------------------------------------------------------------------

def cmd_reproduce(args) -> int:
    from .report import build_report

    out = pathlib.Path(args.out).expanduser()
    if out.exists() and not out.is_dir():
        raise CLIError(out, "exists and is not a folder")
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    t0 = time.perf_counter()
    index = build_report(out, quick=args.quick, log=(lambda s: print(s, file=sys.stderr)) if show else None)
    print(f"{PROG}: report written to {index} in {time.perf_counter() - t0:.1f} s")
    return 0


# ----------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show the full traceback on error")

    parser = argparse.ArgumentParser(
        prog=PROG, parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Super-resolution for X-ray microscopy: course notebooks, deconvolution of "
                    "your maps, and the papers' figures.",
        epilog="examples:\n"
               "  superres-widgets lab\n"
               "  superres-widgets deconvolve fe.tif --method rl --psf-sigma-um 32.5 "
               "--iterations 50 --acceleration biggs-andrews --out fe_rl.tif\n"
               "  superres-widgets deconvolve maps.h5 --dataset xrf/stack --psf-sigma-um 40,50,80 "
               "--pixel-size-um 10 --out restored.h5\n"
               "  superres-widgets deconvolve fe.csv --method blind --pixel-size-um 5 --out fe_blind.tif\n"
               "  superres-widgets deconvolve fe.tif --plugin ./landweber.py --method landweber "
               "--psf-sigma-um 32.5 --out fe_lw.tif\n"
               "  superres-widgets reproduce --out report/")
    from . import __version__
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{lab,deconvolve,reproduce}")
    sub.required = True

    p = sub.add_parser("lab", parents=[common], help="open JupyterLab on the course notebooks")
    p.add_argument("--notebooks", metavar="DIR", help="folder of the course notebooks "
                   "(default: ./notebooks, else the repository's notebooks/ next to the package)")
    p.add_argument("--dry-run", action="store_true", help="print the command instead of running it")
    p.add_argument("lab_args", nargs=argparse.REMAINDER,
                   help="further arguments for jupyter lab (after --)")
    p.set_defaults(func=cmd_lab)

    p = sub.add_parser("deconvolve", parents=[common], help="deconvolve a map or a stack of channels",
                       description="Deconvolve a map (TIFF, NPY, CSV/TXT, HDF5) and save it with its "
                                   "provenance.  Channels of a stack run in parallel with Dask.")
    p.add_argument("input", help="input map: .tif/.tiff, .npy, .csv/.tsv/.txt/.dat (matrix or x/y table), "
                                 ".h5/.hdf5/.nxs (HDF5, XRF-Maps/MAPS, NeXus), .mda (APS)")
    p.add_argument("--out", "-o", required=True, help="output file (.tif/.tiff or .h5/.hdf5)")
    p.add_argument("--plugin", action="append", metavar="MODULE_OR_FILE",
                   help="import a module or a .py file that registers restoration methods "
                        "(superres_widgets.xrf.register_method) before the command line is read; repeatable")
    p.add_argument("--psf-sigma-um", metavar="S[,S...]",
                   help="Gaussian PSF sigma in um: one value, or one per channel (comma-separated); "
                        "required except for the methods that estimate the PSF")
    p.add_argument("--psf", metavar="FILE",
                   help="a PSF image (any map format: a measured dot scan, the blind method's kernel) on the map's "
                        "pixel grid, instead of --psf-sigma-um; checked, normalised and centred")
    p.add_argument("--pixel-size-um", type=float, metavar="P",
                   help="pixel size (scan step) in um; default: from the file's metadata")
    p.add_argument("--negative", choices=("offset", "clip", "error", "keep"), default=None,
                   help="negative pixels (background-subtracted maps): 'offset' shifts the map to a minimum of 0 and "
                        "back (default of the Poisson methods), 'clip', 'error', 'keep' (default of the "
                        "least-squares methods)")
    p.add_argument("--normalize", metavar="SCALER",
                   help="MAPS HDF5 / MDA: divide every channel by this scaler or detector (e.g. the upstream ion "
                        "chamber)")
    p.add_argument("--dataset", metavar="NAME", help="HDF5: the dataset to read")
    p.add_argument("--channel", metavar="C", help="a stack: restore only this channel (index or name)")
    p.add_argument("--chunk-px", type=int, metavar="PX", help="Dask chunk size in pixels for large maps")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="address of a Dask distributed scheduler, e.g. tcp://host:8786 (default: "
                        "local threads; also 'threads', 'synchronous' or 'processes')")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--progress", dest="progress", action="store_true", default=None,
                   help="show the progress bar even when stderr is not a terminal")
    g.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    _add_method_arguments(p)  # last: a plugin's parameter clashing with an option above is reported
    p.set_defaults(func=cmd_deconvolve)

    p = sub.add_parser("reproduce", parents=[common],
                       help="rebuild the papers' figures as a static HTML report",
                       description="Regenerate every figure of the two papers that the package "
                                   "rebuilds, as one self-contained, offline index.html with the "
                                   "paper's numbers beside ours.")
    p.add_argument("--out", "-o", required=True, help="output folder (created)")
    p.add_argument("--quick", action="store_true", help="smaller sizes (every figure, for tests)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--progress", dest="progress", action="store_true", default=None,
                   help="log each figure on stderr even when it is not a terminal")
    g.add_argument("--no-progress", dest="progress", action="store_false")
    p.set_defaults(func=cmd_reproduce)
    return parser


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings as one line each on stderr (never the source line under them)."""
    print(f"{PROG}: warning: {_one_line(str(message))}", file=sys.stderr)


def _parse_args(parser: argparse.ArgumentParser, argv: list) -> argparse.Namespace:
    """``parser.parse_args(argv)``; a usage error is a :class:`CLIError` (one line, a hint to ``--help``)."""
    import contextlib
    import io

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            return parser.parse_args(argv)
    except SystemExit as exc:
        text = err.getvalue()
        if not exc.code:  # --help, --version: their output went to stdout
            sys.stderr.write(text)
            raise
        last = [ln for ln in text.splitlines() if ": error: " in ln]
        prog, _, reason = (last[-1] if last else f"{PROG}: error: {_one_line(text)}").partition(": error: ")
        prog = prog.strip() or PROG
        command = next((a for a in argv if a in ("lab", "deconvolve", "reproduce")), None)
        if prog == PROG and command:  # unrecognized arguments are reported by the top parser
            prog = f"{PROG} {command}"
        raise CLIError(None, f"{reason} (see '{prog} --help')") from None


def _error_message(exc: BaseException, args) -> str:
    """``<file or option>: <reason>`` for an exception raised by a command."""
    from .io import MapFileError

    if isinstance(exc, CLIError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return (f"{getattr(args, 'input', None) or PROG}: out of memory ({_one_line(str(exc)) or 'MemoryError'}); "
                "try smaller inputs or settings")
    if isinstance(exc, OSError) and not isinstance(exc, MapFileError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    if not isinstance(exc, (ValueError, OSError)):
        return (f"internal error ({type(exc).__name__}: {_one_line(str(exc))[:300]}); rerun with --debug "
                "for the traceback")
    msg = str(exc)
    file = getattr(args, "input", None)
    if file and not isinstance(exc, MapFileError) and not msg.startswith(str(file)) \
            and not msg.startswith(str(getattr(args, "out", ""))):
        msg = f"{file}: {msg}"
    return msg


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; every failure is one line ``superres-widgets: error: ...`` and exit code 2.

    ``--debug`` prints the traceback first.  Usage errors (argparse) are one
    line with a hint to ``--help``; ``MemoryError``, memory-budget refusals,
    I/O errors and unexpected errors are one line too.
    """
    argv = [str(a) for a in (sys.argv[1:] if argv is None else argv)]
    debug = "--debug" in argv
    args = None
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            for spec in _plugin_specs(argv):
                load_plugin(spec)
            parser = build_parser()
            args = _parse_args(parser, argv)
            args.argv = list(argv)
            if getattr(args, "lab_args", None) and args.lab_args[:1] == ["--"]:
                args.lab_args = args.lab_args[1:]
            return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - every failure is one line
        if debug:
            traceback.print_exc()
        print(f"{PROG}: error: {_one_line(_error_message(exc, args))}", file=sys.stderr)
        return EXIT_ERROR

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
