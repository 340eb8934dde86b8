"""The live convergence curve of an iterative restoration (Bokeh, private).

One figure, iteration on x: the relative data residual
``||w (y - Hx)|| / ||w y||`` (left axis, log scale) and the Poisson
discrepancy ``D`` (right axis; the discrepancy principle stops at ``D <= 1``,
drawn as a dashed line), fed record by record from a
:class:`~superres_widgets.xrf.ConvergenceHistory` while the method runs; a
vertical marker and a label show where the stopping rule ended the run.
MSE against the reference, when there is one, goes into the hover tooltip.

The figure's ranges are explicit (``Range1d`` / ``DataRange1d`` with
``start``/``end`` updated as data arrive) so that Bokeh never has to guess
them from empty sources ("could not set initial ranges").
"""

from __future__ import annotations

import math

__all__ = ["ConvergencePlot"]


class ConvergencePlot:
    """Residual and discrepancy against iteration, with the stop marked (see the module docstring)."""

    def __init__(self, width: int = 460, height: int = 230):
        from bokeh.models import ColumnDataSource, HoverTool, Label, LinearAxis, Range1d, Span
        from bokeh.plotting import figure

        self.source = ColumnDataSource(dict(iteration=[], residual=[], discrepancy=[], mse=[]))
        self.x_range = Range1d(0, 10)
        self.y_range = Range1d(0.01, 1.0)
        self.d_range = Range1d(0.5, 2.0)
        f = figure(title="convergence", width=width, height=height, x_range=self.x_range, y_range=self.y_range,
                   y_axis_type="log", x_axis_label="iteration", y_axis_label="relative residual",
                   tools="pan,wheel_zoom,box_zoom,reset,save", toolbar_location="above")
        f.toolbar.autohide = True
        f.extra_y_ranges = {"d": self.d_range}
        f.add_layout(LinearAxis(y_range_name="d", axis_label="discrepancy D"), "right")
        r = f.line("iteration", "residual", source=self.source, line_width=2, color="#1f77b4",
                   legend_label="residual")
        f.scatter("iteration", "discrepancy", source=self.source, y_range_name="d", size=4, color="#ff7f0e",
                  legend_label="discrepancy D")
        f.add_layout(Span(location=1.0, dimension="width", y_range_name="d", line_dash="dashed",
                          line_color="#ff7f0e", line_alpha=0.6))
        self.stop_span = Span(location=None, dimension="height", line_color="#d62728", line_width=2)
        f.add_layout(self.stop_span)
        self.stop_label = Label(x=10, y=10, x_units="screen", y_units="screen", text="", text_font_size="11px",
                                text_color="#d62728", background_fill_color="white", background_fill_alpha=0.7)
        f.add_layout(self.stop_label)
        f.add_tools(HoverTool(renderers=[r], tooltips=[("iteration", "@iteration"), ("residual", "@residual{0.00000}"),
                                                       ("D", "@discrepancy{0.000}"), ("MSE", "@mse{0.000}")],
                              mode="vline"))
        f.legend.location = "top_right"
        f.legend.background_fill_alpha = 0.6
        self.figure = f
        self._max_iter = 10
        self._fresh = False  # True from reset() until the run's first records (or finish())

    def reset(self, num_iter: int | None, title: str) -> None:
        """Start the curve of a new run of ``num_iter`` iterations (None: not iterative).

        The previous run's points stay until the new run's first records
        replace them (:meth:`add`), or until :meth:`finish` for a run that
        records nothing.  Clearing them here sent Bokeh a data patch on every
        slider move, which the page echoes back and the kernel must process
        before it sends anything else: tens of ms before the new run's first
        frame (issue 14).
        """
        self._fresh = True
        self._max_iter = max(int(num_iter or 10), 2)
        self.x_range.start, self.x_range.end = 0, self._max_iter
        self.stop_span.location = None
        self.stop_label.text = ""
        self.figure.title.text = title
        # nothing to draw for a method that does not iterate: hidden, the plot costs the page no layout
        self.figure.visible = num_iter is not None

    def finish(self) -> None:
        """End of a run: if it recorded nothing, its curve is empty (not the previous run's)."""
        if self._fresh and len(self.source.data["iteration"]):
            self.source.data = dict(iteration=[], residual=[], discrepancy=[], mse=[])
        self._fresh = False

    def add(self, records) -> None:
        """Append records (IterationRecord) and fit the ranges to the data."""
        if not records:
            return
        data = dict(iteration=[r.iteration for r in records], residual=[r.residual for r in records],
                    discrepancy=[r.discrepancy for r in records],
                    mse=[math.nan if r.mse is None else r.mse for r in records])
        if self._fresh:  # the run's first records replace the previous run's curve (see reset)
            self.source.data = data
            self._fresh = False
        else:
            self.source.stream(data)
        last = records[-1].iteration  # the axis follows the run (a stopped run is not squeezed into num_iter)
        self.x_range.start, self.x_range.end = 0, min(self._max_iter, max(10, int(1.3 * last) + 1))
        res = [v for v in self.source.data["residual"] if v and v > 0 and math.isfinite(v)]
        if res:
            lo, hi = min(res), max(res)
            self.y_range.start, self.y_range.end = lo / 1.15, hi * 1.15
        disc = [v for v in self.source.data["discrepancy"] if math.isfinite(v)]
        if disc:
            self.d_range.start = min(min(disc), 1.0) * 0.9
            self.d_range.end = max(max(disc), 1.0) * 1.1

    def mark_stop(self, iteration: int | None, reason: str) -> None:
        """Mark the iteration where the stopping rule ended the run (None: it ran to num_iter)."""
        self.stop_span.location = None if iteration is None else float(iteration)
        if iteration is not None:
            self.x_range.end = max(10, int(1.3 * iteration) + 1)
        self.stop_label.text = f"stopped at {iteration}: {reason}" if iteration is not None else reason
