"""Bokeh inside ipywidgets layouts (via ``jupyter_bokeh.BokehModel``).

BokehJS must be in the page before a ``BokehModel`` view renders; it is
loaded from Bokeh's INLINE resources (no CDN), once per kernel.
"""

from __future__ import annotations

import threading

_loaded = False

__all__ = ["ensure_bokeh_loaded", "bokeh_widget", "BokehPanel"]


def ensure_bokeh_loaded(force: bool = False) -> None:
    """Load BokehJS into the notebook page from inline resources (once)."""
    global _loaded
    if _loaded and not force:
        return
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to load into
        return
    if get_ipython() is None:
        return
    from bokeh.io import output_notebook
    from bokeh.resources import INLINE

    output_notebook(INLINE, hide_banner=True)
    _loaded = True


def bokeh_widget(layout):
    """Wrap a Bokeh layout (figure, row, column) as an ipywidget."""
    from jupyter_bokeh import BokehModel

    return BokehModel(layout)


class BokehPanel:
    """Mixin: a widget displayed with its Bokeh plots below it, in one ipywidgets layout.

    The subclass builds ``self._plots_layout`` (a Bokeh layout) and calls
    :meth:`_init_bokeh_panel` in ``__init__``; it guards updates of the plots'
    data sources with ``self._plot_lock`` (the widget's state lock). The ``BokehModel`` is made on first
    display: it serializes the plots as they are then, and later changes reach
    its view as events (changes made before a view exists would be lost).
    """

    def _init_bokeh_panel(self) -> None:
        # the widget's state lock (one lock per widget, see _base.py); a plain
        # lock for objects that are not SuperresWidgets
        self._plot_lock = getattr(self, "_state_lock", None) or threading.RLock()
        self._panel = None

    @property
    def panel(self):
        """The widget and its Bokeh plots in one ``ipywidgets.VBox``."""
        import ipywidgets

        with self._plot_lock:
            if self._panel is None:
                self._panel = ipywidgets.VBox([self, bokeh_widget(self._plots_layout)])
        return self._panel

    def _repr_mimebundle_(self, **kwargs):
        ensure_bokeh_loaded()
        return self.panel._repr_mimebundle_(**kwargs)
