"""HTML of ``superres-widgets reproduce`` (:mod:`superres_widgets.report`): page, table, titles.

Private helper of :mod:`superres_widgets.report`; imports Bokeh and nothing of the package
but its version.
"""

from __future__ import annotations

import datetime as _dt
import html
import platform

import numpy as np

#: Width of one character of an 11 px bold title (Liberation Sans / Helvetica bold average: ~5.3 px),
#: with a margin: a title longer than its plot's frame is cut by the browser, so it is wrapped instead.
_TITLE_CHAR_PX = 6.0


def _title_chars(plot) -> int:
    """How many title characters fit over ``plot``'s frame (its width less the y axis)."""
    axis = 60 if any(a.visible for a in plot.left) else 10
    return max(16, int((plot.width - axis) / _TITLE_CHAR_PX))


def wrap_line(line: str, n: int) -> list[str]:
    """Split ``line`` into lines of at most ``n`` characters at spaces, keeping ``(...)`` groups whole.

    >>> wrap_line("target (0, 0): region 316 px at 20 px/beam (exact 315.0 px), 18 strips", 50)
    ['target (0, 0): region 316 px at 20 px/beam', '(exact 315.0 px), 18 strips']
    """
    import textwrap

    if len(line) <= n:
        return [line]
    import re

    line = re.sub(r"(?<=\d) (?=µm|px|lp/mm|%)", "\u00a0", line)  # a number stays with its unit
    depth, chars = 0, []
    for ch in line:  # spaces inside brackets become no-break spaces (textwrap breaks only at ASCII ones)
        depth += (ch in "([") - (ch in ")]")
        chars.append("\u00a0" if ch == " " and depth > 0 else ch)
    lines = [w.replace("\u00a0", " ") for w in
             textwrap.wrap("".join(chars), n, break_on_hyphens=False, break_long_words=False)]
    if max(map(len, lines)) <= n:
        return lines
    return [w.replace("\u00a0", " ") for w in textwrap.wrap(line, n, break_on_hyphens=False)]  # a long group


def wrap_titles(model) -> None:
    """Wrap every figure title in ``model`` onto as many lines as its frame needs."""
    from bokeh.models import Plot

    for plot in model.select({"type": Plot}):
        if plot.title is None or not plot.title.text:
            continue
        n = _title_chars(plot)
        plot.title.text = "\n".join(w for line in plot.title.text.split("\n") for w in wrap_line(line, n))


_CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, Roboto, sans-serif; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } p.caption { color: #444; max-width: 60em; } .meta { color: #666; }
nav a { margin-right: 1em; } td.note { color: #555; font-size: 0.95em; max-width: 28em; }
"""


def render_html(rep, params: dict, quick: bool, total_s: float) -> str:
    from bokeh.embed import components
    from bokeh.resources import INLINE

    from . import __version__

    for s in rep.sections:
        wrap_titles(s.model)
    models = {s.id: s.model for s in rep.sections}
    script, divs = components(models)
    esc = html.escape
    now = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             "<title>superres_widgets — the papers' figures, rebuilt</title>",
             f"<style>{_CSS}</style>", INLINE.render(), script, "</head>", "<body>",
             "<h1>superres_widgets — the papers' figures, rebuilt</h1>",
             f'<p class="meta">superres_widgets {esc(__version__)} · generated {esc(now)} · '
             f"{'quick run (reduced sizes)' if quick else 'full run'} · {total_s:.1f} s · Python "
             f"{esc(platform.python_version())} · numpy {esc(np.__version__)}</p>",
             "<p>Seed 000: Kim, Hayashi &amp; Yabashi (2023), scanning 3DXRD sub-pixel "
             "super-resolution. Seed 001: Yang, Zhang &amp; Cheng, <i>Resolution enhancement in "
             "micro-XRF using image restoration techniques</i>, J. Anal. At. Spectrom. 37, 750 "
             "(2022). All data here are simulated; the numbers in the “ours” column are computed "
             "by this run.</p>",
             "<nav>" + "".join(f'<a href="#{s.id}">{esc(s.id)}</a>' for s in rep.sections) + "</nav>",
             '<h2 id="numbers">The paper\'s numbers beside ours</h2>',
             '<table id="numbers-table"><tr><th>figure</th><th>quantity</th><th>paper</th>'
             "<th>ours</th><th>why ours differs / how it was run</th></tr>"]
    for fig, q, paper, ours, note in rep.table:
        parts.append(f"<tr><td>{esc(fig)}</td><td>{esc(q)}</td><td>{esc(paper)}</td>"
                     f"<td>{esc(ours)}</td><td class=\"note\">{esc(note)}</td></tr>")
    parts.append("</table>")
    for s in rep.sections:
        parts += [f'<section id="{s.id}" class="figure">', f"<h2>{esc(s.title)}</h2>",
                  divs[s.id], f'<p class="caption">{esc(s.caption)} '
                  f"<span class=\"meta\">({s.seconds:.1f} s)</span></p>", "</section>"]
    parts += ['<h2 id="parameters">Run parameters</h2>', "<table>"]
    for k, v in params.items():
        parts.append(f"<tr><td>{esc(str(k))}</td><td>{esc(str(v))}</td></tr>")
    parts += ["</table>", "</body>", "</html>"]
    return "\n".join(parts)
