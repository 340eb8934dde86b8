"""Run the front-end's pure-logic unit tests (node --test js/tests), and feed the
browser's strip rasteriser the beam profiles Python sends (user profiles defined here,
outside the package)."""

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from superres_widgets.s3dxrd import BeamProfile

JS = Path(__file__).resolve().parents[1] / "js"


def test_js_unit_tests_pass():
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required (it also builds the front-ends)")
    proc = subprocess.run([node, "--test", "tests/"], cwd=JS, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "# fail 0" in proc.stdout and "# pass" in proc.stdout


# ---------------------------------------------------------------------------
# the browser's strip rasteriser with Python's beam profiles
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class NarrowBox(BeamProfile):
    """A box 60 % as wide as the nominal beam."""

    def weight(self, d, width):
        return (np.abs(np.asarray(d, dtype=float)) <= 0.3 * width).astype(float)

    def support(self, width):
        return 0.3 * width


@dataclass(frozen=True)
class Trapezoid(BeamProfile):
    """Flat for |d| <= 0.2 b, falling linearly to 0 at |d| = 0.5 b."""

    def weight(self, d, width):
        t = np.abs(np.asarray(d, dtype=float)) / width
        return np.clip((0.5 - t) / 0.3, 0.0, 1.0)

    def support(self, width):
        return 0.5 * width


_RASTER_JS = """
import { stripIllumination } from "./src/lib/strips.js";
let text = "";
process.stdin.on("data", (d) => (text += d));
process.stdin.on("end", () => {
  const q = JSON.parse(text);
  const view = { bounds: () => q.extent };
  const { counts, weights } = stripIllumination(view, q.nx, q.ny, Float64Array.from(q.X),
    Float64Array.from(q.omega), q.beam);
  process.stdout.write(JSON.stringify({ counts: Array.from(counts), weights: Array.from(weights) }));
});
"""


def _js_raster(extent, nx, ny, X, omega, beam):
    import json

    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required (it also builds the front-ends)")
    script = JS / "_raster_probe.mjs"
    script.write_text(_RASTER_JS)
    try:
        q = dict(extent=[float(v) for v in extent], nx=nx, ny=ny, X=[float(v) for v in X],
                 omega=[float(v) for v in omega], beam=beam)
        proc = subprocess.run([node, str(script)], cwd=JS, input=json.dumps(q), capture_output=True, text=True,
                              timeout=60)
    finally:
        script.unlink()
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    return np.array(out["counts"]).reshape(ny, nx)[::-1], np.array(out["weights"]).reshape(ny, nx)[::-1]


@pytest.mark.parametrize("profile_name", ["box", "js-narrow-box", "js-trapezoid"])
def test_js_strips_with_python_profiles_match_the_python_raster(profile_name):
    """Fully lit pixels of the JS rasteriser (fed profile_samples) = superposed_mask's, per profile."""
    from superres_widgets.s3dxrd import (
        ScanGeometry, cos_sin_deg, profile_samples, register_beam_profile, superposed_mask,
    )

    register_beam_profile("js-narrow-box", NarrowBox(), replace=True)
    register_beam_profile("js-trapezoid", Trapezoid(), replace=True)
    g = ScanGeometry(x_range=10, step=1.0, beam_width=1.2, omega_deg=np.arange(0, 180, 15.0), profile=profile_name)
    full = []
    for xs, ys in [(0.0, 0.0), (2.25, -1.5)]:
        ref = superposed_mask(g, xs, ys, px_per_beam=40)
        m = g.measurements(xs, ys)
        ny, nx = ref.mask.shape
        counts, weights = _js_raster(ref.extent, nx, ny, m.X, m.omega_deg, profile_samples(profile_name, 1.2))
        np.testing.assert_array_equal(counts, ref.hits)
        np.testing.assert_array_equal(counts == len(m.X), ref.mask)
        # the summed weight is the profile's, up to the sampling of the table
        xc, yc = ref.pixel_centres
        c, s = cos_sin_deg(m.omega_deg)
        d = xc[None, :, None] * c - yc[:, None, None] * s - m.X
        exact = g.profile.weight(d, 1.2).sum(axis=2)
        assert np.abs(weights - exact).max() < 0.02 * len(m.X)
        if profile_name == "js-trapezoid":  # partly lit pixels exist
            assert np.count_nonzero((weights > 0) & (weights < counts - 1e-6)) > 0
        full.append(ref.count)
    assert full[0] > 0  # the rotation centre is lit in every measurement
