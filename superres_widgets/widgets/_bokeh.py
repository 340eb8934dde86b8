"""Bokeh inside ipywidgets layouts (via ``jupyter_bokeh.BokehModel``).

BokehJS must be in the page before a ``BokehModel`` view renders; it is
loaded from Bokeh's INLINE resources (no CDN), once per kernel.
"""

from __future__ import annotations

_loaded = False

__all__ = ["ensure_bokeh_loaded", "bokeh_widget"]


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
