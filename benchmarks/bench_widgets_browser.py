"""Widget speed as a person sees it, measured in a real JupyterLab + headless Chromium.

Runs the instrumented browser tests (they time, in the page, from the input
event to the new pixels on screen) and prints what they recorded in
``test-artifacts/latency_*.json``:

* BeamTrajectoryExplorer: slider -> Python -> readout updated (goal: well under 200 ms)
* DeconvolutionExplorer, 512 x 512 map: Wiener slider -> new frame (goal: median <= 150 ms),
  Richardson-Lucy first intermediate frame (goal: <= 300 ms), process memory over
  100 rapid slider moves (goal: no growth).

Usage: ``python benchmarks/bench_widgets_browser.py`` (needs the ``test`` extra and
/usr/bin/chromium, as ``make test`` installs).
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ART = ROOT / "test-artifacts"

TESTS = [
    "tests/ui/test_s3dxrd_widgets_ui.py::test_beam_trajectory_explorer_in_browser",
    "tests/ui/test_deconvolution_ui.py",
]


def main() -> int:
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", *TESTS], cwd=ROOT)
    if proc.returncode:
        return proc.returncode
    beam = json.loads((ART / "latency_beam_trajectory.json").read_text())
    dec = json.loads((ART / "latency_deconvolution.json").read_text())
    print()
    print("widget round trips in the browser (ms; input event -> pixels/readout on screen)")
    print(f"  BeamTrajectoryExplorer slider -> readout   median {beam['median_ms']:7.0f}   "
          f"max {max(beam['slider_to_redraw_ms']):7.0f}   goal < 200   ratio to goal {beam['median_ms'] / 200:.2f}")
    w = dec["wiener_median_ms"]
    print(f"  Wiener 512x512 slider -> frame            median {w:7.0f}   "
          f"max {max(dec['wiener_slider_to_frame_ms']):7.0f}   goal <= 150  ratio to goal {w / 150:.2f}")
    r = dec["rl_first_frame_median_ms"]
    print(f"  Richardson-Lucy first intermediate frame  median {r:7.0f}   "
          f"max {max(dec['rl_first_frame_ms']):7.0f}   goal <= 300  ratio to goal {r / 300:.2f}")
    a, b = dec["rapid_moves_rss_mb"]
    print(f"  kernel RSS before/after 100 rapid moves   {a:.0f} MB -> {b:.0f} MB (growth {b - a:+.0f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
