"""The restoration-method registry: declarations, look-up, validation, registration rules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from superres_widgets.xrf import (Parameter, deconvolve_stack, fista, gaussian_psf, get_method, method_table, methods,
                                  register_method, richardson_lucy, unregister_method, wiener)
from superres_widgets.xrf.stack import halo_px

ALL = "wiener, richardson_lucy (alias rl), fista, blind_l0 (alias blind)"


def test_the_built_in_methods_and_their_declarations():
    assert [m.name for m in methods()][:4] == ["wiener", "richardson_lucy", "fista", "blind_l0"]
    assert [m.name for m in methods(needs_psf=False)] == ["blind_l0"]
    rl = get_method("richardson_lucy")
    assert rl.function is richardson_lucy and rl.iterative and rl.streams and rl.nonnegative
    stop = {"stop": "none", "tol": 1e-3}  # every iterative method: a stopping rule (off by default)
    assert rl.parameter_names == ("num_iter", "acceleration", "x0", "stop", "tol")
    assert rl.defaults() == {"num_iter": 30, "acceleration": False, "x0": "flat", **stop}
    # the start estimate is a choice (the Wiener-Hunt start of issue 13's time-to-quality goal)
    assert get_method("sgp").defaults()["x0"] == "image"
    assert get_method("sgp").parameter("x0").choices == ("image", "wiener", "flat")
    assert get_method("fista").defaults() == {"lam": 1.0, "num_iter": 100, **stop}
    assert get_method("wiener").boundaries == ("reflect", "periodic")
    assert not get_method("blind_l0").needs_psf and get_method("blind_l0").halo is None
    # the options each function takes were read from its signature
    assert get_method("wiener").accepts == {"boundary", "dtype", "workers", "mask", "negative"}
    assert get_method("blind_l0").accepts == {"workers", "mask", "negative"}
    assert get_method("sgp").accepts == {"boundary", "dtype", "workers", "mask", "negative", "history"}
    # the methods of issue 13, each with its aliases
    assert [m.name for m in methods()][4:8] == ["richardson_lucy_tv", "sgp", "landweber", "tikhonov_miller"]
    assert [get_method(a).name for a in ("rl_tv", "lw", "tm", "ictm")] == [
        "richardson_lucy_tv", "landweber", "tikhonov_miller", "tikhonov_miller"]
    assert get_method("tm").defaults() == {"balance": 0.03, "num_iter": 50, "constrained": True, **stop}


@pytest.mark.parametrize("name, canonical", [("rl", "richardson_lucy"), ("RL", "richardson_lucy"),
                                             ("Richardson_Lucy", "richardson_lucy"), ("blind", "blind_l0"),
                                             (" wiener ", "wiener"), ("fista", "fista")])
def test_names_and_aliases_any_case(name, canonical):
    assert get_method(name).name == canonical


@pytest.mark.parametrize("bad", ["magic", "", None, 3, "r l"])
def test_an_unknown_name_lists_every_name_and_alias(bad):
    with pytest.raises(ValueError) as info:
        get_method(bad)
    assert f"method {bad!r} is unknown; valid: {ALL}" in str(info.value)


def test_parameter_validation_names_the_parameter_value_and_range():
    n = get_method("rl").parameter("num_iter")
    assert n.kind == "int" and n.validate(12) == 12 and n.validate("12") == 12 and n.validate(12.0) == 12
    for bad, msg in [(0, r"num_iter must be in \[1, 2000\], got 0"), (2001, r"got 2001"),
                     (2.5, "num_iter must be an integer, got 2.5"), (True, "num_iter must be an integer"),
                     ("abc", "num_iter must be an integer, got 'abc'")]:
        with pytest.raises(ValueError, match=msg):
            n.validate(bad)
    assert n.clamp(5000) == (2000, "num_iter=5000 is out of range [1, 2000]; clamped to 2000")
    assert n.clamp(30) == (30, "")
    b = get_method("wiener").parameter("balance")
    with pytest.raises(ValueError, match=r"balance must be in \[0, 1000\], got -1"):
        b.validate(-1)
    with pytest.raises(ValueError, match="balance must be finite"):
        b.validate(float("nan"))
    k = get_method("blind").parameter("kernel_size")
    with pytest.raises(ValueError, match="kernel_size must be odd, got 40"):
        k.validate(40)
    assert k.clamp(40) == (41, "") and k.clamp(500)[0] == 201 and k.clamp(1)[0] == 3
    # a bool whose function argument is a string: every spelling maps, the argument is what the function takes
    a = get_method("rl").parameter("acceleration")
    for value, want in [(True, True), ("biggs-andrews", True), ("none", False), (None, False), ("off", False),
                        (np.bool_(True), True), (1, True)]:
        assert a.validate(value) is want, value
    assert (a.argument(True), a.argument(False)) == ("biggs-andrews", None)
    with pytest.raises(ValueError, match="acceleration must be True/False or None/'biggs-andrews'"):
        a.validate("fast")


def test_a_method_runs_its_function_with_checked_arguments():
    rng = np.random.default_rng(0)
    img = rng.poisson(80.0, (48, 48)).astype(float)
    psf = gaussian_psf(1.5)
    rl = get_method("rl")
    np.testing.assert_array_equal(rl.run(img, psf, {"num_iter": 7, "acceleration": True}),
                                  richardson_lucy(img, psf, 7, acceleration="biggs-andrews"))
    np.testing.assert_array_equal(get_method("wiener").run(img, psf, {}, dtype=np.float32),
                                  wiener(img, psf, 0.03, dtype=np.float32))
    np.testing.assert_array_equal(get_method("fista").run(img, psf, {"lam": 0.5, "num_iter": 4}),
                                  fista(img, psf, 0.5, 4))
    with pytest.raises(ValueError, match=r"wiener has no parameter\(s\) \['num_iter'\]; its parameters: \['balance'\]"):
        get_method("wiener").run(img, psf, {"num_iter": 3})
    with pytest.raises(ValueError, match="richardson_lucy needs a PSF"):
        rl.run(img, None, {})


def test_the_halo_rules_are_the_measured_ones():
    s = 3.0
    assert halo_px("rl", s, num_iter=30) == math.ceil(s * (4 + 2 * math.sqrt(30)))
    assert halo_px("fista", s, num_iter=30) == math.ceil(s * (4 + 4 * math.sqrt(30)))
    assert halo_px("wiener", s, balance=0.03) == math.ceil(s * (14 + 4 * math.log10(1 / 0.03)))
    assert halo_px("rl", 0.5, num_iter=1) == 8  # never below 8 px
    assert halo_px("rl", s, acceleration="biggs-andrews") is None  # Biggs-Andrews: restore whole
    assert get_method("blind").halo_px(s) is None


def test_the_table_for_the_front_ends_is_json_ready_and_complete():
    import json

    table = json.loads(json.dumps(method_table()))
    names = [m["name"] for m in table["methods"]]
    assert names[:4] == ["wiener", "richardson_lucy", "fista", "blind_l0"]
    bal = table["methods"][0]["parameters"][0]
    assert (bal["name"], bal["log"], bal["slider_lo"], bal["slider_hi"], bal["lo"], bal["hi"]) == \
        ("balance", True, 1e-4, 1.0, 0.0, 1000.0)
    rl = table["methods"][1]
    assert rl["aliases"] == ["rl"] and rl["streams"] and rl["needs_psf"] and rl["tileable"]
    assert [p["kind"] for p in rl["parameters"]] == ["int", "bool", "choice", "choice", "float"]
    assert [p["name"] for p in table["psf"]] == ["psf_sigma_um", "psf_rho"]
    # one declaration per parameter: every method's sliders agree (the balance 1 vs 0.5, λ 50 vs 20)
    lam = table["methods"][2]["parameters"][0]
    assert (lam["slider_lo"], lam["slider_hi"], lam["step"]) == (0.0, 50.0, 0.25)


def _scaled(image, psf, gain=2.0):
    return gain * np.asarray(image, float)


@pytest.fixture
def scaled():
    m = register_method("scaled_test", _scaled, [Parameter("gain", 2.0, lo=0.0, hi=10.0, step=0.1)],
                        aliases=["st"], halo=lambda s, p: 0.0)
    yield m
    unregister_method("scaled_test")


def test_register_and_unregister(scaled):
    assert get_method("ST") is scaled and scaled in methods()
    assert scaled.accepts == frozenset() and not scaled.iterative
    stack = np.random.default_rng(1).poisson(20.0, (2, 100, 90)).astype(float)
    out = deconvolve_stack(stack, 2.0, 1.0, "st", chunk_px=32, gain=3.0, dtype=np.float64)  # tiled, 8 px halo
    np.testing.assert_allclose(out, 3.0 * stack, rtol=1e-15)
    with pytest.raises(ValueError, match=r"gain must be in \[0, 10\], got 11"):
        deconvolve_stack(stack, 2.0, 1.0, "st", gain=11)
    unregister_method("st")
    with pytest.raises(ValueError, match="method 'scaled_test' is unknown"):
        get_method("scaled_test")
    register_method(scaled)  # (the fixture unregisters it again)


@pytest.mark.parametrize("kwargs, match", [
    (dict(name="wiener"), "method name 'wiener' is already taken by 'wiener'"),
    (dict(name="new", aliases=["rl"]), "method name 'rl' is already taken by 'richardson_lucy'"),
    (dict(name="bad name"), "letters, digits"),
    (dict(name="new", parameters=[Parameter("num_iter", 2.5)], function=lambda image, psf, num_iter=2.5: image),
     "parameter 'num_iter' is a float here but an int in 'richardson_lucy'"),
    (dict(name="new", parameters=[Parameter("image", 1.0)]), "parameter name 'image' is reserved"),
    (dict(name="new", parameters=[Parameter("missing", 1.0)]), r"does not accept \['missing'\]"),
    (dict(name="new", iterative=True), r"does not accept \['callback', 'callback_every', 'cancel'\]"),
    (dict(name="new", function=lambda image: image), r"must take \(image, psf\)"),
    (dict(name="new", function="nope"), "function must be callable"),
])
def test_registration_refuses_clashes_and_mismatched_functions(kwargs, match):
    kwargs = {"function": _scaled, **kwargs}
    with pytest.raises(ValueError, match=match):
        register_method(**kwargs)
    assert [m.name for m in methods()][:4] == ["wiener", "richardson_lucy", "fista", "blind_l0"]
    assert "new" not in [m.name for m in methods()]


def test_a_method_without_a_halo_rule_is_restored_whole(scaled):
    m = register_method("whole_test", lambda image, psf, gain=1.0: gain * np.asarray(image, float) + psf.shape[0],
                        [Parameter("gain", 1.0, lo=0.0, hi=10.0)])
    try:
        stack = np.ones((80, 80))
        out = deconvolve_stack(stack, 2.0, 1.0, "whole_test", chunk_px=16, dtype=np.float64)
        # one call on the whole map: the kernel it saw is the whole PSF, never a tile's padding
        assert m.halo_px(2.0) is None
        np.testing.assert_array_equal(out, 1.0 + gaussian_psf(2.0).shape[0])
    finally:
        unregister_method("whole_test")


def test_deconvolve_stack_refuses_methods_that_estimate_the_psf():
    with pytest.raises(ValueError, match=r"method 'blind_l0' estimates its own PSF.*\['wiener', 'richardson_lucy'"):
        deconvolve_stack(np.ones((20, 20)), 1.0, 1.0, "blind")
