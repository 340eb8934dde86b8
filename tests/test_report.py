"""``superres-widgets reproduce --quick``: a self-contained, offline report with every figure."""

import html
import json
import re
import subprocess

import pytest

from superres_widgets import cli
from superres_widgets.report import FIGURE_IDS

# what each figure must show (section id -> words in its heading)
EXPECTED = {
    "s000-fig2": "Seed 000 Fig. 2", "s000-fig3": "Seed 000 Fig. 3", "s000-fig4": "Seed 000 Fig. 4",
    "s000-fig5": "Seed 000 Fig. 5", "s000-fig6": "Seed 000 Fig. 6", "s001-fig3": "Seed 001 Fig. 3",
    "s001-fig4": "Seed 001 Fig. 4", "s001-fig5": "Seed 001 Fig. 5", "s001-fig7": "Seed 001 Fig. 7",
    "s001-fig8": "Seed 001 Fig. 8", "s001-fig9": "Seed 001 Fig. 9",
}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    code = cli.main(["reproduce", "--quick", "--out", str(out)])
    assert code == 0
    index = out / "index.html"
    assert index.is_file()
    return index.read_text(encoding="utf-8")


def test_every_figure_is_in_the_report(report):
    assert set(FIGURE_IDS) == set(EXPECTED)
    for fid, heading in EXPECTED.items():
        m = re.search(rf'<section id="{fid}" class="figure">\s*<h2>([^<]*)</h2>\s*(.*?)</section>',
                      report, re.S)
        assert m, fid
        assert m.group(1).startswith(heading), (fid, m.group(1))
        # a Bokeh root is embedded in the section
        assert "data-root-id" in m.group(2), fid
    # one embedded Bokeh document holding every root
    assert report.count("data-root-id") >= len(FIGURE_IDS)
    assert "Bokeh.embed.embed_items" in report


def test_the_numbers_table(report):
    m = re.search(r'<table id="numbers-table">(.*?)</table>', report, re.S)
    assert m
    table = m.group(1)
    assert "<th>paper</th><th>ours</th><th>why ours differs / how it was run</th>" in table
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td[^>]*>(.*?)</td></tr>", table)
    assert len(rows) >= 15
    for paper in ("316 px", "3 px", "0.136", "≈ 0.7", "G3E4, 11.3 lp/mm", "G3E6, 14.3 lp/mm",
                  "G4E1, 16 lp/mm", "37.5 / 88.3"):
        assert any(paper in r[2] for r in rows), paper
    by_q = {r[1]: r[3] for r in rows}
    # computed live: the rasterised superposed regions of Fig. 2 are the paper's
    assert by_q["superposed region at (0, 0), px at 20 px/beam"].startswith("316 px")
    assert by_q["superposed region at (3, 2), px at 20 px/beam"].startswith("3 px")
    assert re.match(r"G\dE\d, \d+\.\d lp/mm", by_q["resolution of the raw map"])
    assert all(r[3].strip() for r in rows)


def test_report_is_offline_and_says_how_it_was_made(report):
    from superres_widgets import __version__

    assert "cdn.bokeh.org" not in report
    assert not re.search(r"<script[^>]+src=", report), "scripts must be inline"
    assert not re.search(r"<link[^>]+href=[\"']https?:", report)
    # BokehJS itself is inlined (megabytes of script), not fetched
    assert len(report) > 1_000_000 and "Bokeh.embed" in report
    assert f"superres_widgets {__version__}" in report
    assert "generated 20" in report  # the date
    assert 'id="parameters"' in report and "smap_subdivision" in report
    assert "quick run" in report


def test_reproduce_refuses_a_file_as_output(tmp_path, capsys):
    f = tmp_path / "file.txt"
    f.write_text("x")
    assert cli.main(["reproduce", "--quick", "--out", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "file.txt" in err and err.startswith("superres-widgets: error:")


def _rows(report):
    table = re.search(r'<table id="numbers-table">(.*?)</table>', report, re.S).group(1)
    return [tuple(html.unescape(c) for c in r) for r in
            re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td[^>]*>(.*?)</td></tr>", table)]


def test_paper_rule_and_our_extension_are_separate_rows(report):
    rows = _rows(report)
    fig6 = [r for r in rows if r[0] == "s000 Fig. 6"]
    paper_rule = [r for r in fig6 if "paper's rule" in r[1]]
    extension = [r for r in fig6 if "tie-break" in r[1]]
    assert paper_rule and extension
    # the paper's 0.7 um stands beside OUR figure for the PAPER's rule ...
    (sub_paper,) = [r for r in paper_rule if "sub-pixel" in r[1] and "(µm)" in r[1]]
    assert sub_paper[2] == "≈ 0.7" and re.fullmatch(r"\d+\.\d\d", sub_paper[3])
    # ... and the tie-break is its own row, marked as not in the paper
    for r in extension:
        assert r[2] == "— (extension)" and "not in the paper" in r[4], r
    (sub_ext,) = [r for r in extension if "sub-pixel" in r[1]]
    # the extension is a different number (the quick run: 0.38 vs 0.80)
    assert float(sub_ext[3].split()[0]) < float(sub_paper[3])


def test_a_row_that_differs_says_why(report):
    rows = _rows(report)
    # no degenerate ranges like "σ 27.5–27.5 µm"
    assert not any(re.search(r"(\d+(?:\.\d+)?)–\1 µm", r[3]) for r in rows), rows
    for _, q, paper, ours, note in rows:
        element = re.match(r"(G\dE\d)", paper)
        if element and not ours.startswith(element.group(1)):
            assert note, (q, paper, ours)        # e.g. RL G3E4 (+0 %) in the quick run: fewer iterations
        if "(+0.0 %)" in ours:
            assert "iterations" in note or "wider" in note, (q, ours, note)
    # the quick run names its reduced settings where they matter
    assert sum("quick run:" in r[4] for r in rows) >= 8


def _font():
    try:
        path = subprocess.run(["fc-match", "-f", "%{file}", "helvetica:bold"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        from PIL import ImageFont

        return ImageFont.truetype(path, 11)
    except Exception:
        return None


def test_no_plot_title_is_wider_than_its_plot(report):
    """Bokeh clips a title at its frame: every title line must fit (measured in the browser's font)."""
    font = _font()
    figures = list(re.finditer(r'"name":"Figure","id":"(p\d+)","attributes":\{"width":(\d+)', report))
    assert len(figures) >= 30
    checked = 0
    for i, m in enumerate(figures):
        end = figures[i + 1].start() if i + 1 < len(figures) else len(report)
        chunk = report[m.start():end]
        t = re.search(r'"name":"Title","id":"p\d+","attributes":\{"text":"((?:[^"\\]|\\.)*)"', chunk)
        if not t or not t.group(1):
            continue
        text = json.loads('"' + t.group(1).replace("\\\\", "\\") + '"')
        width = int(m.group(2))
        axes = re.findall(r'"name":"LinearAxis","id":"p\d+","attributes":\{("visible":false)?', chunk)
        frame = width - (10 if axes and all(axes) else 65)  # a visible y axis takes ~60 px of the width
        for line in text.split("\n"):
            px = font.getlength(line) if font else 6.0 * len(line)
            assert px <= frame, (line, px, width)
        checked += 1
    assert checked >= 30


def test_titles_wrap_between_words_and_keep_brackets_whole():
    from superres_widgets._report_html import wrap_line

    line = "target (0, 0): region 316 px at 20 px/beam (exact 315.0 px), 18 strips"
    assert wrap_line(line, 50) == ["target (0, 0): region 316 px at 20 px/beam", "(exact 315.0 px), 18 strips"]
    assert wrap_line(line, 200) == [line]
    for n in (16, 25, 40):
        lines = wrap_line(line, n)
        assert all(len(x) <= n for x in lines) and " ".join(lines).split() == line.split(), (n, lines)
