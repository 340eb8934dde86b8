"""``superres-widgets reproduce --quick``: a self-contained, offline report with every figure."""

import re

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
    assert "<th>paper</th><th>ours</th>" in table
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table)
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
