"""Widget models of the s3DXRD slice (no browser: state and computation)."""

import math
import time
from dataclasses import dataclass

import numpy as np
import pytest

from superres_widgets.s3dxrd import (
    BeamProfile,
    ScanGeometry,
    register_beam_profile,
    superposed_region,
    superposition_map,
    unregister_beam_profile,
)
from superres_widgets.widgets import BeamTrajectoryExplorer, SuperpositionMap


def test_explorer_reproduces_fig2_numbers():
    w = BeamTrajectoryExplorer(xs=3, ys=2)
    assert w.n_measurements == 18
    assert w.area_beam2 == pytest.approx(0.00693, abs=5e-6)
    assert w.centre_area_beam2 == pytest.approx(0.7874, abs=5e-5)
    assert w.relative_size == pytest.approx(math.sqrt(0.00693 / 0.7874), rel=2e-3)
    assert w.error == ""
    # the polygon sent to the browser is the exact region
    ref = superposed_region(ScanGeometry(), 3, 2)
    np.testing.assert_allclose(w.polygon, ref.vertices)
    assert w.polygon.dtype == np.float64 and w.strip_x.dtype == np.float32


def test_explorer_follows_every_parameter():
    w = BeamTrajectoryExplorer(xs=3, ys=2)
    w.omega_step_deg = 5
    assert w.n_measurements == 36
    small = w.area_beam2
    w.beam_width = 1.5
    assert w.area_beam2 > small
    w.xs, w.ys = 0, 0
    assert w.relative_size == pytest.approx(1.0)
    w.x_range = 4
    g = w.geometry()
    assert g.x_positions.min() == -4 and g.x_positions.max() == 4


def test_explorer_target_follows_the_centroid_readout():
    w = BeamTrajectoryExplorer(xs=5.25, ys=-2.5, subdivision=4)
    region = superposed_region(w.geometry(), 5.25, -2.5)
    assert w.centroid == pytest.approx(list(region.centroid))
    assert w.centroid_offset == pytest.approx(float(np.hypot(*(region.centroid - [5.25, -2.5]))))


def test_explorer_rejects_unknown_keywords():
    with pytest.raises(TypeError, match="unexpected keyword.*omega_step\\b"):
        BeamTrajectoryExplorer(omega_step=5)


@pytest.mark.parametrize(
    "name, value, expected",
    [("beam_width", -1.0, 0.05), ("omega_step_deg", 0.0, 0.1), ("x_range", 500, 60), ("subdivision", 0, 1),
     ("omega_step_deg", float("nan"), 10.0)],
)
def test_explorer_clamps_bad_values_with_a_visible_notice(name, value, expected):
    w = BeamTrajectoryExplorer()
    setattr(w, name, value)
    assert getattr(w, name) == pytest.approx(expected)
    assert name in w.notice
    assert w.error == ""
    setattr(w, name, expected)  # a good value clears the notice
    assert w.notice == ""


def test_explorer_target_is_clamped_to_the_scan_and_x_range_first():
    w = BeamTrajectoryExplorer(x_range=20, xs=15, ys=-15)
    assert (w.xs, w.ys) == (15, -15)
    w.x_range = 5
    assert (w.xs, w.ys) == (5, -5)
    assert "xs" in w.notice


def test_explorer_shows_a_failing_computation_and_keeps_working(monkeypatch):
    import superres_widgets.widgets.beam_trajectory as bt

    w = BeamTrajectoryExplorer(xs=3, ys=2)
    good = w.area_beam2

    def broken(*a, **k):
        raise ValueError("xs must be finite")

    monkeypatch.setattr(bt, "superposed_region", broken)
    w.xs = 1
    assert "xs must be finite" in w.error
    assert w.area_beam2 == good  # last good state kept
    monkeypatch.undo()
    w.xs, w.ys = 0, 0
    assert w.error == "" and w.relative_size == pytest.approx(1.0)


def test_superposition_map_matches_the_algorithm_and_fig4():
    m = SuperpositionMap(omega_step_deg=10, subdivision=4, x_range=10).wait()
    ref = superposition_map(ScanGeometry(omega_deg=np.arange(0, 180, 10)), subdivision=4)
    assert m.mean_relative_size == pytest.approx(ref.stats.mean_relative_size)
    assert 0.16 <= m.mean_relative_size <= 0.22
    assert 0.11 <= m.com_error_fwhm <= 0.16
    assert m.image.dtype == np.float32 and m.image.ndim == 2
    # the image holds every target exactly once, NaN elsewhere
    assert np.isfinite(m.image).sum() == m.n_targets == np.asarray(ref.xs).size
    x0, x1, y0, y1 = m.extent
    assert x0 < -9 and x1 > 9 and y0 < -9 and y1 > 9
    assert m.image.shape[1] == pytest.approx((x1 - x0) * 4)
    # Bokeh sources follow the result
    assert len(m._src_hist.data["top"]) == len(ref.stats.hist_counts)
    assert "FWHM" in m._figures[2].title.text


def test_superposition_map_selection_reads_the_clicked_subpixel():
    m = SuperpositionMap(omega_step_deg=10, subdivision=4).wait()
    m.selected_xs, m.selected_ys = 3.0, 2.0
    xs, ys = np.asarray(m.result.xs), np.asarray(m.result.ys)
    i = int(np.argmin(np.hypot(xs - 3, ys - 2)))
    assert m.selected_value == pytest.approx(float(np.asarray(m.result.stats.relative_size)[i]))
    # (3, 2) is the paper's example: a tiny region
    assert m.selected_value == pytest.approx(math.sqrt(0.00693 / 0.7874), rel=5e-3)


def test_superposition_map_newest_parameters_win():
    m = SuperpositionMap(omega_step_deg=10, subdivision=2)
    for step in (20, 15, 12, 5):
        m.omega_step_deg = step
    m.wait()
    ref = superposition_map(ScanGeometry(omega_deg=np.arange(0, 180, 5.0)), subdivision=2)
    assert m.mean_relative_size == pytest.approx(ref.stats.mean_relative_size)
    assert not m.busy


def test_superposition_map_clamps_and_reports():
    m = SuperpositionMap(subdivision=2).wait()
    m.subdivision = 0
    assert m.subdivision == 1 and "subdivision" in m.notice
    m.wait()
    assert m.error == ""


# ---------------------------------------------------------------------------
# a beam profile registered from outside the package
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Trapezoid(BeamProfile):
    """1 for |d| <= 0.1 b, linear to 0 at |d| = 0.4 b (defined here, not in the package)."""

    def weight(self, d, width):
        t = np.abs(np.asarray(d, dtype=float)) / width
        return np.clip((0.4 - t) / 0.3, 0.0, 1.0)

    def support(self, width):
        return 0.4 * width


@pytest.fixture(scope="module")
def trapezoid():
    register_beam_profile("widget-trapezoid", Trapezoid(), replace=True)
    yield "widget-trapezoid"
    unregister_beam_profile("widget-trapezoid")


def test_explorer_uses_a_user_profile_and_sends_it_to_the_browser(trapezoid):
    w = BeamTrajectoryExplorer(xs=1.25, ys=-0.5, beam_width=1.5)
    assert w.beam_profile["name"] == "box" and w.beam_profile["support"] == 0.75
    box_area = w.area_beam2
    w.profile = trapezoid
    assert w.notice == "" and w.error == ""
    g = w.geometry()
    assert g.profile == Trapezoid() and g.beam_width == 1.5
    ref = superposed_region(g, 1.25, -0.5)
    assert w.area_beam2 == pytest.approx(ref.area / 1.5**2) and w.area_beam2 < box_area
    np.testing.assert_allclose(w.polygon, ref.vertices)
    # the trait the front-end rasterises from is the profile, sampled in steps
    bp = w.beam_profile
    assert bp["name"] == trapezoid and bp["support"] == pytest.approx(0.6) and bp["flat"] is False
    d = np.linspace(-0.6, 0.6, len(bp["weights"]))
    np.testing.assert_allclose(bp["weights"], Trapezoid().weight(d, 1.5), atol=1e-12)
    w.beam_width = 1.0  # the samples follow the width
    assert w.beam_profile["support"] == pytest.approx(0.4)
    w.profile = "no-such-beam"  # refused with a notice, the last profile stays
    assert w.profile == trapezoid and "no-such-beam" in w.notice and "box" in w.notice


def test_explorer_takes_the_profile_as_a_keyword(trapezoid):
    w = BeamTrajectoryExplorer(profile=trapezoid, xs=0, ys=0)
    ref = superposed_region(ScanGeometry(profile=trapezoid), 0, 0)
    assert w.area_beam2 == pytest.approx(ref.area) and w.beam_profile["name"] == trapezoid


def test_superposition_map_uses_a_user_profile(trapezoid):
    m = SuperpositionMap(subdivision=2, x_range=6, profile=trapezoid).wait()
    ref = superposition_map(ScanGeometry(x_range=6, profile=trapezoid), subdivision=2)
    assert m.error == "" and m.result.geometry.profile_name == trapezoid
    assert m.mean_relative_size == pytest.approx(ref.stats.mean_relative_size)
    np.testing.assert_allclose(m.result.area, ref.area)


# ---------------------------------------------------------------------------
# every slider to its limits and back: idle on the newest values, quickly
# ---------------------------------------------------------------------------
def _drag(widget, name, values, pause=0.05):
    for v in values:
        setattr(widget, name, v)
        time.sleep(pause)  # the browser sends a value now and then while dragging


@pytest.mark.timing
def test_superposition_map_sliders_to_their_limits_and_back():
    m = SuperpositionMap().wait()
    ref = dict(m.result.stats.__dict__)
    t0 = time.perf_counter()
    m.omega_step_deg = 10.0 + 1e-9  # one computation of (almost) the final values, for scale
    m.wait()
    m.omega_step_deg = 10.0
    m.wait()
    t_ref = 0.5 * (time.perf_counter() - t0)
    for name, (lo, hi) in SuperpositionMap._LIMITS.items():
        default = getattr(m, name)
        _drag(m, name, [lo, hi])
        setattr(m, name, default)
        t1 = time.perf_counter()
        m.wait(120)
        latency = time.perf_counter() - t1
        one = max(t_ref, m.compute_ms / 1000.0)
        assert latency <= 2.0 * one + 0.05, (name, latency, one)
        assert not m.busy and m.error == "" and getattr(m, name) == default
        g = m.result.geometry
        assert (g.beam_width, g.x_range, m.result.subdivision, g.n_omega) == (m.beam_width, m.x_range,
                                                                            m.subdivision, 18)
    assert m.result.stats.mean_relative_size == ref["mean_relative_size"]
    deadline = time.perf_counter() + 5.0  # stale jobs were cancelled: their threads end
    while m._lifecycle.threads and time.perf_counter() < deadline:
        time.sleep(0.05)
    assert m._lifecycle.threads == []
    m.close()


def test_explorer_sliders_to_their_limits_and_back():
    w = BeamTrajectoryExplorer(xs=3, ys=2)
    fresh = (w.area_beam2, w.n_measurements, w.polygon.copy())
    for name, (lo, hi) in BeamTrajectoryExplorer._LIMITS.items():
        default = getattr(w, name)
        for v in (lo, hi, default):
            setattr(w, name, v)  # computed inline: idle after every move
            assert not w.busy
    w.xs, w.ys = 3, 2  # the target was clamped while x_range was small
    assert (w.area_beam2, w.n_measurements) == fresh[:2] and w.error == ""
    np.testing.assert_array_equal(w.polygon, fresh[2])


# ---------------------------------------------------------------------------
# issue 11: real beams, axis offset and omega lists in the widgets
# ---------------------------------------------------------------------------
def test_explorer_beam_with_tails_sends_its_sensitivity_map():
    from superres_widgets.s3dxrd import sensitivity_map

    w = BeamTrajectoryExplorer(xs=3, ys=2, profile="box_gaussian", blur_fwhm=0.5)
    g = w.geometry()
    assert g.profile.blur_fwhm == 0.5 and not w.flat_profile
    from superres_widgets.widgets.beam_trajectory import _SENSITIVITY_GRID as n

    ref = sensitivity_map(g, 3, 2, n=n)
    assert w.effective_area_beam2 == pytest.approx(ref.effective_area, rel=1e-12)
    assert w.sensitivity.shape == (n, n) and w.sensitivity.dtype == np.float32
    np.testing.assert_allclose(w.sensitivity, ref.normalised, rtol=0, atol=1e-6)
    assert w.sensitivity_extent == pytest.approx(list(ref.extent))
    assert w.sensitivity_centroid == pytest.approx(list(ref.centroid))
    centre = sensitivity_map(g, 0, 0, n=n).effective_area
    assert w.effective_relative_size == pytest.approx(math.sqrt(ref.effective_area / centre), rel=1e-12)
    assert 0 < w.sensitivity_peak < 1 and w.profile_names[:3] == ["box", "gaussian", "box_gaussian"]
    # the box: the exact polygon is the sensitivity, no grid is sent
    w.profile = "box"
    assert w.flat_profile and w.sensitivity.size == 0
    assert w.effective_area_beam2 == pytest.approx(0.006933, abs=5e-7)
    assert w.effective_area_beam2 == pytest.approx(w.area_beam2, rel=1e-12) and w.sensitivity_peak == 1.0


def test_explorer_zoom_fits_the_region_by_default():
    w = BeamTrajectoryExplorer(xs=3, ys=2, omega_step_deg=2)
    reg = superposed_region(w.geometry(), 3, 2)
    half = (w.x_range + 1) / w.zoom  # the zoom panel shows target +- half
    extent = np.abs(reg.vertices - [3, 2]).max()
    assert w.auto_zoom and 0.3 < extent / half < 0.55  # the region fills about half the panel
    assert w.zoom > 8 * 5  # the old default (8) showed a region of a few pixels
    w.zoom = 8  # the user zooms: their zoom stays
    assert not w.auto_zoom and w.zoom == 8
    w.xs = 2.5
    assert w.zoom == 8
    w.auto_zoom = True
    assert w.zoom != 8
    assert BeamTrajectoryExplorer(zoom=5).auto_zoom is False


def test_explorer_axis_offset_and_omega_lists():
    w = BeamTrajectoryExplorer(xs=3, ys=2, axis_offset=0.25, omega_stop_deg=360)
    g = w.geometry()
    assert g.axis_offset == 0.25 and g.n_omega == 36 == w.n_omega
    ref = superposed_region(ScanGeometry(omega_deg=np.arange(0, 360, 10.0), axis_offset=0.25), 3, 2)
    assert w.area_beam2 == pytest.approx(ref.area)
    w.omega_list = [0.0, 45.0, 90.0, 135.0, 200.0]
    assert w.n_omega == 5 and w.geometry().omega_deg.tolist() == [0.0, 45.0, 90.0, 135.0, 200.0]
    w.omega_list = [0.0, float("nan")]  # refused with a notice, the list stays
    assert w.n_omega == 5 and "omega_list" in w.notice
    w.omega_list = []
    assert w.n_omega == 36 and "omega_list" not in w.notice
    w.axis_offset = 50  # clamped to the scan with a notice
    assert w.axis_offset == 10 and "axis_offset" in w.notice
    w.axis_offset = 0
    w.omega_stop_deg = -10  # below the start: one angle, a notice
    assert w.n_omega == 1 and "omega_stop_deg" in w.notice and w.error == ""
    w.omega_stop_deg = 180
    assert w.n_omega == 18 and w.notice == ""
    w.blur_fwhm = -1
    assert w.blur_fwhm == 0.01 and "blur_fwhm" in w.notice


def test_superposition_map_with_tails_offset_and_list():
    m = SuperpositionMap(subdivision=2, x_range=5, profile="box_gaussian", blur_fwhm=0.25).wait()
    ref = superposition_map(ScanGeometry(x_range=5, profile="box_gaussian"), subdivision=2)
    assert m.error == "" and m.measure == "product"
    assert m.mean_relative_size == pytest.approx(ref.stats.mean_relative_size)
    assert m.mean_spot_size == pytest.approx(ref.stats.mean_spot_size)
    m.axis_offset = 0.25
    m.omega_stop_deg = 360
    m.wait()
    g = m.result.geometry
    assert g.axis_offset == 0.25 and g.n_omega == 36
    m.omega_list = [0.0, 60.0, 120.0]
    m.wait()
    assert m.result.geometry.n_omega == 3
    m.axis_offset = -99
    assert m.axis_offset == -5 and "axis_offset" in m.notice
    m.close()


def test_reconstruction_explorer_takes_the_beam_offset_and_scan():
    from superres_widgets.widgets import ReconstructionExplorer

    w = ReconstructionExplorer(diameter_um=32, n_grains=3, omega_step_deg=3.0, profile="box_gaussian",
                               blur_fwhm=0.5, axis_offset_um=1.0, omega_range_deg=360.0, detection_threshold=0.1)
    w.wait()
    assert w.error == ""
    kw = w.reconstruction_kwargs()
    assert kw["profile"].blur_fwhm == 0.5 and kw["axis_offset_um"] == 1.0 and kw["omega_range_deg"] == 360.0
    r = w.result
    assert r.geometry.axis_offset == 1.0 and r.data.n_bins == 120 and r.parameters["detection_threshold"] == 0.1
    assert r.geometry.profile.blur_fwhm == 0.5 and "box_gaussian" in w.profile_names
    w.omega_list = [1.5 + 3.0 * k for k in range(40)]
    w.wait()
    assert w.result.data.n_bins == 40 and w.error == ""
    w.axis_offset_um = 100  # clamped with a notice
    assert w.axis_offset_um == 20.0 and "axis_offset_um" in w.notice
    w.close()
