"""USAF-1951 chart geometry, the resolved-element criterion, and the scan simulator."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from superres_widgets.xrf import (PAPER_DWELL_S, PAPER_RATES_CPS, convolve, gaussian_psf,
                                  lp_per_mm, resolved_element, simulate_scan, usaf1951)


@pytest.fixture(scope="module")
def chart5():
    return usaf1951(5.0)


# ------------------------------------------------------------------- geometry

def test_lp_per_mm_formula():
    """R = 2^(G + (E-1)/6): the paper's numbers."""
    assert lp_per_mm(3, 4) == pytest.approx(11.31, abs=0.01)
    assert lp_per_mm(3, 5) == pytest.approx(12.70, abs=0.01)
    assert lp_per_mm(3, 6) == pytest.approx(14.25, abs=0.01)
    assert lp_per_mm(4, 1) == 16.0
    assert lp_per_mm(6, 6) == pytest.approx(114.0, abs=0.1)
    assert lp_per_mm(0, 1) == 1.0


def test_chart_elements_and_bars(chart5):
    assert len(chart5.elements) == 6 * 6
    assert {(e.group, e.element) for e in chart5.elements} == {
        (g, e) for g in range(2, 8) for e in range(1, 7)}
    for e in chart5.elements:
        w = 1000.0 / (2 * lp_per_mm(e.group, e.element))
        assert e.bar_width_um == pytest.approx(w)
        for s in e.sets:
            assert len(s.bars) == 3
            for v0, v1, u0, u1 in s.bars:
                dims = sorted([v1 - v0, u1 - u0])
                assert dims == pytest.approx([w, 5 * w])  # width w, length 5 w
        h, v = e.horizontal.bars, e.vertical.bars
        assert h[1][0] - h[0][0] == pytest.approx(2 * w)  # horizontal bars stacked along v
        assert v[1][2] - v[0][2] == pytest.approx(2 * w)  # vertical bars side by side along u


def test_chart_features_do_not_overlap(chart5):
    """Every pair of features is separated by at least 2 w of the finer one."""
    boxes = [(e.bar_width_um, s.bbox) for e in chart5.elements for s in e.sets]
    boxes.append((300.0, chart5.square))
    for (wa, a), (wb, b) in itertools.combinations(boxes, 2):
        gap_v = max(b[0] - a[1], a[0] - b[1])
        gap_u = max(b[2] - a[3], a[2] - b[3])
        assert max(gap_v, gap_u) >= 2 * min(wa, wb) - 1e-9


def test_chart_rendering_exact_area():
    """Area coverage: sum(image) * p^2 equals the total chrome area at any pixel size."""
    c5, c1 = usaf1951(5.0), usaf1951(1.0)
    area = (c5.square[1] - c5.square[0]) * (c5.square[3] - c5.square[2])
    area += sum(30 * e.bar_width_um ** 2 for e in c5.elements)  # 6 bars of w x 5w
    assert c5.image.sum() * 25 == pytest.approx(area, rel=1e-9)
    assert c1.image.sum() == pytest.approx(area, rel=1e-9)
    assert c5.image.min() >= 0 and c5.image.max() <= 1
    # 5 um pixel (r, c) covers the 1 um pixels 5r-2 .. 5r+2 (pixel-centre frame)
    blk = np.pad(c1.image, ((2, 3), (2, 3)))[: 5 * c5.image.shape[0], : 5 * c5.image.shape[1]]
    blk = blk.reshape(c5.image.shape[0], 5, c5.image.shape[1], 5).mean(axis=(1, 3))
    np.testing.assert_allclose(blk, c5.image, atol=1e-12)


def test_chart_pixel_frame_convention(chart5):
    """Pixel (r, c) is centred at (v, u) = (r p, c p)."""
    e = chart5.element(2, 1)
    v0, v1, u0, u1 = e.vertical.bars[0]
    r0, r1, c0, c1 = chart5.rect_pixels(e.vertical.bars[0])
    assert (r0, c0) == pytest.approx((v0 / 5, u0 / 5))
    rr = int(math.ceil(r0)) + 2
    cc = int(math.ceil(c0)) + 1
    assert chart5.image[rr, cc] == 1.0  # inside a bar
    assert chart5.image[rr, int(math.floor(c1)) + 2] == 0.0  # in the gap


def test_crop_keeps_geometry(chart5):
    sub = chart5.crop(slice(40, 296), slice(344, 600))
    assert sub.image.shape == (256, 256)
    labels = {(e.group, e.element) for e in sub.elements}
    assert (3, 1) in labels and (2, 1) not in labels
    r_full = resolved_element(chart5.image, chart5, levels=(0, 1), rule="finest")
    r_sub = resolved_element(sub.image, sub, levels=(0, 1), rule="finest")
    full = {t.label: t.modulation_v for t in r_full.table}
    for t in r_sub.table:
        assert t.modulation_v == pytest.approx(full[t.label])


# ----------------------------------------------------------- resolved_element

def test_resolved_element_on_the_chart_is_the_nyquist_limit(chart5):
    """The sharp chart at 5 um: every element with bars >= 1 px is resolved (G6E4)."""
    r = resolved_element(chart5.image, chart5)
    assert (r.group, r.element) == (6, 4)
    assert r.levels == (0.0, 1.0)
    assert 1000 / (2 * r.lp_per_mm) >= 5.0 > 1000 / (2 * lp_per_mm(6, 5))


def test_resolved_element_calibration_noise_free(chart5):
    """Gaussian blur sigma 6.5 px, no noise: G3E4 and the documented modulations."""
    img = convolve(chart5.image, gaussian_psf(6.5))
    r = resolved_element(img, chart5)
    assert r.label == "G3E4"
    table = {t.label: min(t.modulation_h, t.modulation_v) for t in r.table}
    assert table["G3E4"] == pytest.approx(0.064, abs=0.006)
    assert table["G3E5"] == pytest.approx(0.016, abs=0.006)
    # a sharper PSF resolves finer elements, monotonically
    finer = [resolved_element(convolve(chart5.image, gaussian_psf(s)), chart5).lp_per_mm
             for s in (6.5, 4.0, 2.0)]
    assert finer[0] < finer[1] < finer[2]


def test_resolved_element_is_background_independent(chart5):
    img = convolve(chart5.image, gaussian_psf(4.0))
    a = resolved_element(img, chart5)
    b = resolved_element(275 + 154 * img, chart5)
    assert a.label == b.label
    assert b.levels == pytest.approx((275, 429), abs=1e-6)


def test_resolved_element_gain_and_bad_input(chart5):
    img = convolve(chart5.image, gaussian_psf(6.5))
    raw = resolved_element(img, chart5)
    better = resolved_element(convolve(chart5.image, gaussian_psf(4.5)), chart5)
    assert better.gain_over(raw) == pytest.approx(better.lp_per_mm / raw.lp_per_mm - 1)
    with pytest.raises(ValueError, match="image"):
        resolved_element(img[:-1], chart5)
    with pytest.raises(ValueError, match="rule"):
        resolved_element(img, chart5, rule="best")
    with pytest.raises(ValueError, match="levels"):
        resolved_element(img, chart5, levels=(1, 0))
    with pytest.raises(ValueError, match="pixel_size_um"):
        usaf1951(0)
    with pytest.raises(ValueError, match="groups"):
        usaf1951(5.0, groups=[])


# ---------------------------------------------------------------- simulation

def test_simulate_scan_counts_and_metadata():
    fine = usaf1951(2.5, groups=[2, 3])
    scan = simulate_scan(fine.image, 32.5, 5.0, truth_pixel_um=2.5, rng=0)
    chart = usaf1951(5.0, groups=[2, 3])
    assert scan.counts.shape == chart.image.shape  # registered to the 5 um chart
    assert scan.counts.dtype == np.int64
    m = scan.metadata
    assert m["pixel_size_um"] == 5.0 and m["rates_cps"] == PAPER_RATES_CPS
    assert m["dwell_s"] == PAPER_DWELL_S
    bg, sig = 275 * 0.5, 429 * 0.5
    # far glass and the square's interior: the two rates x dwell
    glass = scan.expected[chart.image == 0].min()
    assert glass == pytest.approx(bg, abs=1e-6)
    r0, r1, c0, c1 = (int(round(t)) for t in chart.rect_pixels(chart.square))
    assert scan.expected[r0 + 30:r1 - 30, c0 + 30:c1 - 30] == pytest.approx(sig, abs=1e-6)
    # Poisson: mean and variance of the counts equal the expectation
    cnt = scan.counts[r0 + 30:r1 - 30, c0 + 30:c1 - 30]
    assert cnt.mean() == pytest.approx(sig, rel=0.02)
    assert cnt.var() == pytest.approx(sig, rel=0.2)
    counts, meta = scan  # unpacks as (map, metadata)
    assert meta is m


def test_simulate_scan_is_blur_then_sample():
    """Expected map = (b + (s - b) (h * truth)) tau on every second fine pixel."""
    rng = np.random.default_rng(1)
    truth = (rng.random((120, 100)) > 0.7).astype(float)
    scan = simulate_scan(truth, 10.0, 5.0, (400.0, 100.0), 2.0, truth_pixel_um=2.5, rng=2)
    ref = (100 + 300 * convolve(truth, gaussian_psf(4.0)))[::2, ::2] * 2.0
    np.testing.assert_allclose(scan.expected, ref, rtol=1e-10)


def test_simulate_scan_jitter_and_fly_mode():
    truth = np.zeros((200, 200))
    truth[:, 100:] = 1.0
    base = simulate_scan(truth, 10.0, 5.0, truth_pixel_um=1.0, rng=0)
    jit = simulate_scan(truth, 10.0, 5.0, truth_pixel_um=1.0, jitter_um=3.0, rng=0)
    fly = simulate_scan(truth, 10.0, 5.0, truth_pixel_um=1.0, mode="fly", rng=0)
    assert not np.allclose(base.expected, jit.expected)
    assert np.abs(jit.expected - base.expected).max() < 0.5 * (429 - 275) * 0.5
    # on-the-fly averaging along u widens the edge: smaller slope at the edge
    slope = lambda e: np.max(np.diff(e.expected[20]))  # noqa: E731
    assert slope(fly) < slope(base)
    # same seed, same result
    again = simulate_scan(truth, 10.0, 5.0, truth_pixel_um=1.0, rng=0)
    np.testing.assert_array_equal(again.counts, base.counts)


@pytest.mark.parametrize("kwargs, name", [
    (dict(truth_pixel_um=0.0), "truth_pixel_um"),
    (dict(step_um=1.0), "step_um"),
    (dict(dwell_s=0.0), "dwell_s"),
    (dict(rates_cps=(1.0,)), "rates_cps"),
    (dict(rates_cps=(-1.0, 2.0)), "rates_cps"),
    (dict(jitter_um=-1.0), "jitter_um"),
    (dict(psf_sigma_um=0.0), "psf_sigma_um"),
    (dict(mode="continuous"), "mode"),
    (dict(truth=np.full((50, 50), np.nan)), "truth"),
])
def test_simulate_scan_bad_input(kwargs, name):
    args = dict(truth=np.zeros((50, 50)), psf_sigma_um=5.0, step_um=5.0, truth_pixel_um=2.5)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        simulate_scan(**args)


def test_score_restoration_matches_the_direct_metrics():
    from superres_widgets.xrf import (mse, normalize, resolved_element, score_restoration, simulate_scan,
                                      ssim, usaf1951)

    chart = usaf1951(10.0, groups=(2, 3))
    fine = usaf1951(5.0, groups=(2, 3))
    counts, _ = simulate_scan(fine.image, 25.0, 10.0, truth_pixel_um=5.0, rng=3)
    counts = counts[: chart.image.shape[0], : chart.image.shape[1]]
    score = score_restoration(counts, chart.image, chart=chart, levels=(137.5, 214.5))
    x01 = normalize(counts, 137.5, 214.5)
    assert score.mse == pytest.approx(mse(x01, chart.image))
    assert score.ssim == pytest.approx(ssim(x01, chart.image, data_range=1.0))
    res = resolved_element(counts, chart, levels=(137.5, 214.5))
    expected = None if res.group is None else f"G{res.group}E{res.element}"
    assert score.element == expected
    assert set(score.as_dict()) == {"mse", "ssim", "element", "lp_per_mm", "levels"}
    with pytest.raises(ValueError, match="levels"):
        score_restoration(counts, levels=(1.0, 1.0))
    with pytest.raises(ValueError, match="reference"):
        score_restoration(counts, chart.image[:-1])


def test_chart_levels_warns_when_the_reference_square_is_out_of_view():
    from superres_widgets.xrf import chart_levels, usaf1951

    chart = usaf1951(10.0, groups=(2, 3))
    r0, r1, c0, c1 = chart.rect_pixels(chart.square)
    # keep the rows above the square only: the square is out of view
    crop = chart.crop(slice(0, max(int(r0) - 2, 10)), slice(0, chart.image.shape[1]))
    img = 137.5 + 77.0 * crop.image
    with pytest.warns(UserWarning, match="reference square is not in view"):
        low, high = chart_levels(img, crop)
    assert low == pytest.approx(137.5)
    full_low, full_high = chart_levels(137.5 + 77.0 * chart.image, chart)
    assert full_high == pytest.approx(214.5)
