"""A restoration method registered from OUTSIDE the package, used by every consumer (issue 9, item 1).

The method is Landweber's iteration, defined in this test module (and, for
the command line, in a plugin file the test writes), checked against its
closed form in Fourier space; it is then used, without touching the package,
by DeconvolutionExplorer, PSFSweep, ElementStack, deconvolve_stack and the
``superres-widgets`` command line (``--plugin``). Names, aliases and unknown
names are checked in every consumer too.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from superres_widgets import cli
from superres_widgets.io import load_map
from superres_widgets.widgets import DeconvolutionExplorer, ElementStack, PSFSweep
from superres_widgets.xrf import (DeconvolutionCancelled, Parameter, convolve, deconvolve_stack, gaussian_psf,
                                  get_method, register_method, richardson_lucy, unregister_method)

PIXEL = 5.0
SCRIPT = Path(sys.executable).with_name("superres-widgets")


def landweber(image, psf, num_iter=10, tau=1.0, *, callback=None, callback_every=1, cancel=None):
    r"""Landweber iterations :math:`x_{k+1} = x_k + \tau H^T (y - H x_k)`, ``x_0 = y``, periodic boundary."""
    y = np.asarray(image, dtype=float)
    x = y.copy()
    adjoint = psf[::-1, ::-1]
    for k in range(1, num_iter + 1):
        if cancel is not None and cancel.is_set():
            raise DeconvolutionCancelled(k - 1, x)
        x = x + tau * convolve(y - convolve(x, psf, boundary="periodic"), adjoint, boundary="periodic")
        if callback is not None and (k % callback_every == 0 or k == num_iter):
            callback(k, x.copy())
    return x


def _registration(name="user_landweber"):
    return dict(
        name=name, function=landweber,
        parameters=[Parameter("num_iter", 10, lo=1, hi=500, log=True, slider=(1, 200), label="iterations"),
                    Parameter("tau", 1.0, lo=0.0, hi=2.0, step=0.05, label="step τ", doc="relaxation")],
        label="Landweber", aliases=["ulw"], iterative=True, boundaries=("periodic",),
        # each iteration reaches two PSF radii: the exact reach of n iterations
        halo=lambda s, p: 2 * p["num_iter"] * math.ceil(4 * s))


@pytest.fixture
def user_method():
    m = register_method(**_registration())
    yield m
    unregister_method("user_landweber")


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(7)
    truth = np.full((64, 72), 30.0)
    truth[16:40, 20:30] = 200.0
    truth[44:52, 40:66] = 120.0
    return rng.poisson(convolve(truth, gaussian_psf(10.0 / PIXEL), boundary="periodic")).astype(float)


def _fourier_landweber(y, psf, n, tau):
    """The closed form: with A = 1 - tau |H|^2, X_n = A^n Y + tau conj(H) Y sum_{j<n} A^j."""
    k = np.zeros_like(y)
    k[:psf.shape[0], :psf.shape[1]] = psf
    k = np.roll(k, (-(psf.shape[0] // 2), -(psf.shape[1] // 2)), axis=(0, 1))
    h = np.fft.fft2(k)
    a = 1 - tau * np.abs(h) ** 2
    big_y = np.fft.fft2(y)
    x = a ** n * big_y + tau * np.conj(h) * big_y * sum(a ** j for j in range(n))
    return np.real(np.fft.ifft2(x))


def test_the_user_method_is_landweber(image):
    psf = gaussian_psf(10.0, pixel_size_um=PIXEL)
    np.testing.assert_allclose(landweber(image, psf, 6, 0.8), _fourier_landweber(image, psf, 6, 0.8),
                               rtol=1e-10, atol=1e-9)


def test_it_appears_in_deconvolution_explorer_with_its_sliders(image, user_method):
    psf = gaussian_psf(10.0, pixel_size_um=PIXEL)
    frames = []
    w = DeconvolutionExplorer(image=image, pixel_size_um=PIXEL, psf_sigma_um=10.0, method="ulw", num_iter=40,
                              tau=0.8)
    w.observe(lambda c: frames.append((w.iteration, w.final)), "frame_id")
    w.wait()
    assert w.method == "user_landweber" and w.error == ""
    np.testing.assert_allclose(w.restored, _fourier_landweber(image, psf, 40, 0.8), rtol=1e-9, atol=1e-8)
    assert w.parameters() == {"method": "user_landweber", "pixel_size_um": PIXEL, "psf_sigma_um": 10.0,
                              "psf_sigma_v_um": None, "psf_rho": 0.0, "num_iter": 40, "tau": 0.8}
    assert frames and frames[-1] == (40, True)  # iterative: it streamed, and ended on the final frame
    # its declaration reached the front-end's table: the JS draws the tau slider from it
    lw = next(m for m in w.method_table["methods"] if m["name"] == "user_landweber")
    tau = lw["parameters"][1]
    assert (lw["label"], lw["aliases"], tau["name"], tau["slider_lo"], tau["slider_hi"], tau["step"]) == \
        ("Landweber", ["ulw"], "tau", 0.0, 2.0, 0.05)
    # its limits are enforced like the built-ins' (clamped, with a notice)
    w.tau = 5.0
    assert w.tau == 2.0 and "tau=5 is out of range [0, 2]; clamped to 2" in w.notice
    # the shared num_iter trait obeys the current method's range: 500 here, 2000 for Richardson-Lucy
    w.num_iter = 1000
    assert w.num_iter == 500
    w.method = "rl"
    w.num_iter = 1000
    assert w.num_iter == 1000
    w.close()


def test_it_appears_in_psf_sweep_and_element_stack(image, user_method):
    sw = PSFSweep(image=image, pixel_size_um=PIXEL, sigmas_um=[8.0, 10.0], method="ULW", num_iter=5, tau=0.5)
    sw.wait(60)
    assert sw.method == "user_landweber" and sw.error == "" and sw.results.complete
    for s in (8.0, 10.0):
        want = _fourier_landweber(image, gaussian_psf(s, pixel_size_um=PIXEL), 5, 0.5).astype(np.float32)
        np.testing.assert_allclose(sw.restored_image(s), want, rtol=1e-5, atol=1e-3)
    assert sw.results.parameters["tau"] == 0.5
    maps = {"Fe": image, "Ca": image[::-1].copy()}
    st = ElementStack(maps=maps, sigmas_um={"Fe": 10.0, "Ca": 7.5}, pixel_size_um=PIXEL, method="user_landweber",
                      num_iter=3, tau=1.2).wait(60)
    assert st.error == "" and st.parameters()["tau"] == 1.2
    for name, s in (("Fe", 10.0), ("Ca", 7.5)):
        want = _fourier_landweber(maps[name], gaussian_psf(s, pixel_size_um=PIXEL), 3, 1.2)
        np.testing.assert_allclose(st.restored[name], want, rtol=1e-9, atol=1e-8)
    sw.close()
    st.close()


def test_it_is_cancelled_like_the_built_ins(image, user_method):
    calls = []

    def slow(*args, **kwargs):
        calls.append(kwargs["num_iter"])
        return landweber(*args, **kwargs)

    register_method(**{**_registration("slow_landweber"), "function": slow, "aliases": []})
    try:
        w = DeconvolutionExplorer(image=np.tile(image, (4, 4)), pixel_size_um=PIXEL, psf_sigma_um=10.0,
                                  method="slow_landweber", num_iter=500)
        w.num_iter = 2
        w.wait(60)
        psf = gaussian_psf(10.0, pixel_size_um=PIXEL)
        np.testing.assert_allclose(w.restored, landweber(np.tile(image, (4, 4)), psf, 2), rtol=1e-12)
        assert calls[-1] == 2 and w.error == ""
        w.close()
    finally:
        unregister_method("slow_landweber")


def test_a_widget_made_before_the_registration_does_not_offer_it(image):
    w = DeconvolutionExplorer(image=image, pixel_size_um=PIXEL, psf_sigma_um=10.0, method="wiener").wait()
    m = register_method(**_registration())
    try:
        with pytest.raises(ValueError, match="method 'ulw' .user_landweber. is not offered by DeconvolutionExplorer: "
                                             "it was "
                                             "registered after this widget was created; create a new widget"):
            w.method = "ulw"
        w2 = DeconvolutionExplorer(image=image, pixel_size_um=PIXEL, psf_sigma_um=10.0, method="user_landweber",
                                   num_iter=2).wait()
        offered = [[d["name"] for d in x.method_table["methods"]] for x in (w, w2)]
        assert w2.current_method is m and "user_landweber" not in offered[0] and "user_landweber" in offered[1]
        w2.close()
    finally:
        unregister_method("user_landweber")
        w.close()


def test_deconvolve_stack_tiles_it_with_its_declared_halo(image, user_method):
    stack = np.stack([np.tile(image, (3, 3)), 0.5 * np.tile(image, (3, 3))])  # 2 x 192 x 216
    sig_um = [7.5, 10.0]
    events = []
    out = deconvolve_stack(stack, sig_um, PIXEL, "ulw", chunk_px=64, num_iter=3, tau=0.9, dtype=np.float64,
                           progress=lambda d, n: events.append((d, n)))
    assert events[-1][0] == events[-1][1] > 2  # really tiled: more tiles than channels
    for c in range(2):
        whole = landweber(stack[c], gaussian_psf(sig_um[c] / PIXEL), 3, 0.9)
        np.testing.assert_allclose(out[c], whole, rtol=1e-10, atol=1e-8)
    with pytest.raises(ValueError, match=r"boundary must be one of \('periodic',\) for user_landweber"):
        deconvolve_stack(stack, sig_um, PIXEL, "ulw", boundary="reflect")


PLUGIN = '''
"""A plugin: Landweber iterations, registered with superres_widgets (outside the package)."""
import math

import numpy as np

from superres_widgets.xrf import Parameter, convolve, register_method


def landweber(image, psf, num_iter=10, tau=1.0, *, callback=None, callback_every=1, cancel=None):
    y = np.asarray(image, dtype=float)
    x = y.copy()
    for k in range(1, num_iter + 1):
        if cancel is not None and cancel.is_set():
            raise RuntimeError("cancelled")
        x = x + tau * convolve(y - convolve(x, psf, boundary="periodic"), psf[::-1, ::-1], boundary="periodic")
        if callback is not None and (k % callback_every == 0 or k == num_iter):
            callback(k, x.copy())
    return x


register_method("user_landweber", landweber,
                [Parameter("num_iter", 10, lo=1, hi=500, log=True, label="iterations"),
                 Parameter("tau", 1.0, lo=0.0, hi=2.0, step=0.05, label="step")],
                label="Landweber", aliases=["ulw"], iterative=True, boundaries=("periodic",),
                halo=lambda s, p: 2 * p["num_iter"] * math.ceil(4 * s))
'''


@pytest.fixture
def plugin(tmp_path):
    path = tmp_path / "plugins" / "my_landweber.py"
    path.parent.mkdir()
    path.write_text(textwrap.dedent(PLUGIN))
    return path


def test_the_command_line_runs_it_from_a_plugin_module(image, plugin, tmp_path, capsys, monkeypatch):
    src = tmp_path / "fe.npy"
    np.save(src, image)
    out = tmp_path / "fe_lw.tif"
    monkeypatch.syspath_prepend(str(plugin.parent))
    try:
        code = cli.main(["deconvolve", str(src), "--plugin", "my_landweber", "--method", "ulw", "--tau", "0.5",
                         "-n", "3", "--psf-sigma-um", "10", "--pixel-size-um", str(PIXEL), "--out", str(out)])
        _, err = capsys.readouterr()
        assert code == 0, err
        m = load_map(out)
        want = _fourier_landweber(image, gaussian_psf(10.0, pixel_size_um=PIXEL), 3, 0.5)
        np.testing.assert_allclose(m.data, want, rtol=1e-5, atol=1e-3)  # float32 file
        md = m.metadata
        assert md["method"] == "user_landweber"
        assert md["parameters"]["num_iter"] == 3 and md["parameters"]["tau"] == 0.5
        if "plugins" in md:
            assert md["plugins"] == ["my_landweber"]
        # its flag is in --help; a value out of its range is a one-line error naming the flag
        with pytest.raises(SystemExit):
            cli.main(["deconvolve", "--plugin", "my_landweber", "--help"])
        assert "--tau TAU" in capsys.readouterr().out
        code = cli.main(["deconvolve", str(src), "--plugin", "my_landweber", "--method", "ulw", "--tau", "3",
                         "--psf-sigma-um", "10", "--pixel-size-um", str(PIXEL), "--out", str(tmp_path / "x.tif")])
        err = capsys.readouterr().err.strip()
        assert code == 2 and err == ("superres-widgets: error: " + str(src) +
                                     ": --tau: tau must be in [0, 2], got 3")
    finally:
        unregister_method("user_landweber")


def test_the_command_line_runs_it_from_a_plugin_file_in_a_fresh_process(image, plugin, tmp_path):
    src = tmp_path / "fe.npy"
    np.save(src, image)
    out = tmp_path / "fe_lw.tif"
    cmd = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "superres_widgets.cli"]
    r = subprocess.run(cmd + ["deconvolve", str(src), "--plugin", str(plugin), "--method", "user_landweber",
                              "--num-iter", "2", "--psf-sigma-um", "10", "--pixel-size-um", str(PIXEL),
                              "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    want = _fourier_landweber(image, gaussian_psf(10.0, pixel_size_um=PIXEL), 2, 1.0)
    np.testing.assert_allclose(load_map(out).data, want, rtol=1e-5, atol=1e-3)
    # without the plugin the method does not exist: argparse lists the valid ones
    r = subprocess.run(cmd + ["deconvolve", str(src), "--method", "user_landweber", "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "invalid choice: 'user_landweber'" in r.stderr and "richardson_lucy" in r.stderr
    # a broken plugin is one line
    r = subprocess.run(cmd + ["deconvolve", str(src), "--plugin", str(tmp_path / "nope.py"), "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "no such plugin file" in r.stderr


# -------------------------------------------------------------------------------------------
# names and aliases everywhere, and unknown names
# -------------------------------------------------------------------------------------------

def test_aliases_are_accepted_everywhere(image, tmp_path, capsys):
    psf = gaussian_psf(10.0, pixel_size_um=PIXEL)
    want = richardson_lucy(image, psf, 3)
    w = DeconvolutionExplorer(image=image, pixel_size_um=PIXEL, psf_sigma_um=10.0, method="rl", num_iter=3).wait()
    assert w.method == "richardson_lucy"
    np.testing.assert_allclose(w.restored, want, rtol=1e-6)
    w.method = "BLIND"
    assert w.method == "blind_l0"
    w.close()
    sw = PSFSweep(image=image, pixel_size_um=PIXEL, sigmas_um=[10.0], method="RL", num_iter=3,
                  acceleration=False).wait(60)
    assert sw.method == "richardson_lucy"
    np.testing.assert_array_equal(sw.restored_image(10.0), want.astype(np.float32))
    st = ElementStack(maps={"Fe": image}, sigmas_um=10.0, pixel_size_um=PIXEL, method="rl", num_iter=3).wait(60)
    assert st.method == "richardson_lucy"
    np.testing.assert_array_equal(st.restored["Fe"], want)
    np.testing.assert_allclose(deconvolve_stack(image, 10.0, PIXEL, "rl", num_iter=3, dtype=np.float64), want,
                               rtol=1e-6, atol=1e-6)
    src = tmp_path / "fe.npy"
    np.save(src, image)
    for alias, canonical in (("rl", "richardson_lucy"), ("richardson_lucy", "richardson_lucy")):
        out = tmp_path / f"{alias}.tif"
        assert cli.main(["deconvolve", str(src), "--method", alias, "-n", "3", "--psf-sigma-um", "10",
                         "--pixel-size-um", str(PIXEL), "--out", str(out)]) == 0
        assert load_map(out).metadata["method"] == canonical
    sw.close()
    st.close()


def test_an_unknown_name_is_a_value_error_listing_the_names_everywhere(image):
    listing = "valid: wiener, richardson_lucy (alias rl), fista, blind_l0 (alias blind)"
    for make in (lambda: get_method("magic"),
                 lambda: deconvolve_stack(image, 10.0, PIXEL, "magic"),
                 lambda: DeconvolutionExplorer(image=image, pixel_size_um=PIXEL, method="magic")):
        with pytest.raises(ValueError, match="method 'magic' is unknown; " + listing.replace("(", r"\(")
                           .replace(")", r"\)")):
            make()
    for make in (lambda: PSFSweep(image=image, method="magic"),
                 lambda: ElementStack(maps={"Fe": image}, sigmas_um=10.0, method="magic")):
        with pytest.raises(ValueError, match=r"method 'magic' is unknown; valid: wiener, richardson_lucy \(alias rl\), "
                                             r"fista, richardson_lucy_tv \(alias rl_tv, rltv\), sgp, "
                                             r"landweber \(alias lw\), tikhonov_miller \(alias tm, ictm\)$"):
            make()
    # a method a widget does not offer is named as such
    with pytest.raises(ValueError, match="method 'blind' .blind_l0. is not offered by PSFSweep: it estimates its own "
                                         "PSF"):
        PSFSweep(image=image, method="blind")
