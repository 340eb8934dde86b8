"""The shared validation vocabulary and the memory budget (superres_widgets.validate).

Property tests (hypothesis) of the scalar checks over arbitrary Python values, the budget's
precedence (set_memory_limit > SUPERRES_WIDGETS_MEMORY_LIMIT > half the machine), and the
budget refusing the issue's allocations before they happen (each would need terabytes).
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import superres_widgets
from superres_widgets import validate as v

ANY = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                st.text(max_size=5), st.binary(max_size=3), st.complex_numbers(),
                st.lists(st.floats(), max_size=2), st.just(np.float32(2.5)), st.just(np.int64(7)),
                st.just(np.array(3.0)), st.just(np.array([1.0, 2.0])), st.just(object()))


@settings(max_examples=400, deadline=None)
@given(value=ANY, lo=st.one_of(st.none(), st.floats(-10, 10)), width=st.floats(0, 10),
       lo_open=st.booleans(), hi_open=st.booleans(), integer=st.booleans())
def test_check_number_returns_a_number_in_range_or_names_the_parameter(value, lo, width, lo_open, hi_open, integer):
    hi = None if lo is None else lo + width
    try:
        out = v.check_number(value, "the_param", lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open, integer=integer)
    except ValueError as exc:
        msg = str(exc)
        assert msg.startswith("the_param must be ")
        assert v.interval_text(lo, hi, lo_open, hi_open) in msg  # the allowed range is said
        return
    # accepted: a real number (never a bool or a string) that lies in the interval
    assert not isinstance(value, (bool, np.bool_, str, bytes))
    assert isinstance(out, int if integer else (int, float)) and not isinstance(out, bool)
    assert math.isfinite(out)
    if lo is not None:
        assert out > lo if lo_open else out >= lo
        assert out < hi if hi_open else out <= hi


@pytest.mark.parametrize("value, why", [
    (True, "(a bool)"), (np.True_, "(a bool)"), ("3", "(a string)"), (b"3", "(a string)"),
    (float("nan"), "nan"), (float("inf"), "inf"), (None, "None"), ([1.0], "(a list)"), (1 + 1j, "(1+1j)"),
])
def test_bools_strings_and_non_finite_values_are_not_numbers(value, why):
    with pytest.raises(ValueError, match=r"^sigma_u must be a finite number in \(0, inf\), got .*" + re.escape(why)):
        v.check_positive(value, "sigma_u")


def test_integers_intervals_and_iteration_caps():
    assert v.check_int(5.0, "n", 1) == 5 and isinstance(v.check_int(np.int32(5), "n", 1), int)
    with pytest.raises(ValueError, match=r"^n must be an integer in \[1, inf\), got 2.5$"):
        v.check_int(2.5, "n", 1)
    with pytest.raises(ValueError, match=r"^num_iter must be an integer in \[1, 100000\], got 1000000000$"):
        v.check_iterations(10**9)
    with pytest.raises(ValueError, match=r"^rho must be a finite number in \(-1, 1\), got 1.0$"):
        v.check_number(1.0, "rho", lo=-1, hi=1, lo_open=True, hi_open=True)
    assert v.check_probability(1, "p") == 1.0
    with pytest.raises(ValueError, match="^flag must be True or False, got 1"):
        v.check_bool(1, "flag")
    with pytest.raises(ValueError, match="^transform must be one of 'rfft', 'dct', got 'bogus'$"):
        v.check_choice("bogus", "transform", ("rfft", "dct"))


def test_check_array_names_the_parameter_for_every_bad_array():
    obj = np.empty(2, dtype=object)
    cases = [([[1.0, 2.0], [3.0]], "must be an array of numbers"), ("abc", "must be an array of numbers"),
             (obj, "Python objects"), (np.array(["a"]), "strings"), (np.ones(2) + 1j, "complex"),
             (np.ones(3), "must be 2-D, got a 1-D array"), (np.zeros((0, 3)), "at least 1 value"),
             (np.array([[1.0, np.nan]]),
              r"must be finite \(no NaN or inf\); 1 of 2 values are not \(first at index \(0, 1\)\)")]
    for value, msg in cases:
        with pytest.raises(ValueError, match=r"^image .*" + msg):
            v.check_array(value, "image", ndim=2)
    assert v.check_array([[1, 2]], "image", ndim=2).dtype == np.float64


def test_sizes_parse_and_print():
    assert v.parse_size("8GiB") == 8 * 2**30 and v.parse_size("500 MB") == 500 * 10**6
    assert v.parse_size(2**20) == 2**20 and v.parse_size("1.5k") == 1500
    assert v.parse_size("50%") == pytest.approx(v.physical_memory() / 2, rel=1e-6)
    for bad in ("lots", "-1 GB", "0", "150%", True, float("nan")):
        with pytest.raises(ValueError, match="^limit must be"):
            v.parse_size(bad, "limit")
    assert v.format_bytes(18.6 * 2**40) == "18.6 TiB" and v.format_bytes(1.2 * 2**50) == "1.2 PiB"
    assert v.array_nbytes((10**200, 10**200)) == math.inf  # never an OverflowError


def test_memory_limit_precedence_and_default(monkeypatch):
    monkeypatch.delenv(v.ENV_VAR, raising=False)
    monkeypatch.setattr(v, "physical_memory", lambda: 16 * 2**30)
    assert v.memory_limit() == 8 * 2**30  # default: half the machine
    monkeypatch.setenv(v.ENV_VAR, "3 GiB")
    assert v.memory_limit() == 3 * 2**30  # the environment variable
    with v.memory_limit_set("1GiB"):
        assert v.memory_limit() == 2**30  # set_memory_limit wins
        assert superres_widgets.memory_limit() == 2**30  # also at the top of the package
    assert v.memory_limit() == 3 * 2**30
    monkeypatch.setenv(v.ENV_VAR, "a lot")
    with pytest.raises(ValueError, match="^the environment variable SUPERRES_WIDGETS_MEMORY_LIMIT must be a size"):
        v.memory_limit()
    monkeypatch.setattr(v, "physical_memory", lambda: None)
    monkeypatch.delenv(v.ENV_VAR)
    assert v.memory_limit() == 8 * 2**30  # unknown machine: 8 GiB


def test_the_budget_refusal_says_how_much_and_how_to_change_it():
    with v.memory_limit_set("8 GiB"), pytest.raises(v.MemoryBudgetError) as info:
        v.check_array_bytes((1_000_000, 1_000_000), "a test grid")
    msg = str(info.value)
    assert msg == ("a test grid (1000000 x 1000000 of float64) would need 7.28 TiB; the memory limit is 8 GiB "
                   "(change it with superres_widgets.set_memory_limit(...) or the environment variable "
                   "SUPERRES_WIDGETS_MEMORY_LIMIT)")
    assert isinstance(info.value, ValueError) and info.value.limit == 8 * 2**30


def test_env_var_reaches_a_fresh_process():
    env = dict(os.environ, SUPERRES_WIDGETS_MEMORY_LIMIT="123 MiB")
    out = subprocess.run([sys.executable, "-c", "import superres_widgets as s; print(s.memory_limit())"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == str(123 * 2**20), out.stderr


def test_regular_files_only(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert v.regular_file_problem(fifo) == "is a FIFO (named pipe), not a regular file"
    link = tmp_path / "zero.csv"
    link.symlink_to("/dev/zero")
    assert v.regular_file_problem(link) == "is a character device, not a regular file"
    assert v.regular_file_problem(tmp_path) == "is a directory, not a file"
    assert v.regular_file_problem(tmp_path / "missing") == "no such file"
    with pytest.raises(FileNotFoundError):
        v.check_regular_file(tmp_path / "missing")
    with pytest.raises(ValueError, match="^path must be a file path, got 3"):
        v.check_regular_file(3)
