"""Jupyter server extension: kernel websockets without Nagle's algorithm (no 40 ms stalls in widget round trips).

jupyter_server (2.x) leaves Nagle's algorithm on for the browser's kernel
websocket.  A widget update reaches the page as several small websocket frames
in a row (the comm message between the kernel's busy/idle status messages); with
Nagle on, a frame written while the previous one is unacknowledged waits for the
browser's *delayed ACK*, about 40 ms on Linux.  ``benchmarks/bench_widgets_browser.py``
times a minimal anywidget's slider -> Python -> text round trip in JupyterLab
with headless Chromium (``tests/ui/test_round_trip_ui.py``), with and without
this extension: 75th percentile 52 ms without, 18 ms with it (2 cores).  Every
slider of this package pays that round trip.

The extension sets ``TCP_NODELAY`` on each kernel websocket when it opens and
changes nothing else.  It is enabled by the configuration file installed with
the package (``etc/jupyter/jupyter_server_config.d/superres_widgets.json``);
``jupyter server extension disable superres_widgets.server_extension`` turns it
off.  With a jupyter_server whose kernel websocket handler is not where this
module looks, it logs a warning and does nothing.
"""

from __future__ import annotations

import functools
import inspect

__all__ = ["patch_kernel_websocket"]

_FLAG = "_superres_widgets_nodelay"


def _jupyter_server_extension_points():
    return [{"module": "superres_widgets.server_extension"}]


def patch_kernel_websocket(handler_cls) -> bool:
    """Make ``handler_cls.open`` set ``TCP_NODELAY`` first; returns False if it was already patched.

    Examples
    --------
    >>> class Handler:
    ...     nodelay = None
    ...     def set_nodelay(self, value):
    ...         self.nodelay = value
    ...     async def open(self, kernel_id):
    ...         return kernel_id
    >>> patch_kernel_websocket(Handler), patch_kernel_websocket(Handler)
    (True, False)
    >>> import asyncio
    >>> h = Handler(); asyncio.run(h.open("k1")), h.nodelay
    ('k1', True)
    """
    if getattr(handler_cls, _FLAG, False):
        return False
    original = handler_cls.open

    @functools.wraps(original)
    async def open(self, *args, **kwargs):  # noqa: A001 - tornado's name
        try:
            self.set_nodelay(True)
        except Exception:  # noqa: BLE001 - a socket option: never break the connection for it
            pass
        result = original(self, *args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    handler_cls.open = open
    setattr(handler_cls, _FLAG, True)
    return True


def _load_jupyter_server_extension(serverapp) -> None:
    try:
        from jupyter_server.services.kernels.websocket import KernelWebsocketHandler
    except ImportError as exc:  # pragma: no cover - another jupyter_server layout
        serverapp.log.warning(f"superres_widgets: kernel websockets left as they are ({exc})")
        return
    patch_kernel_websocket(KernelWebsocketHandler)
    serverapp.log.info("superres_widgets: TCP_NODELAY on kernel websockets (no delayed-ACK stalls in widget updates)")
