"""Importing this module gets a process ready to draw the tour's figures (gallery.get_ready, in English).

The drawing processes' fork server imports it once as it starts (gallery.drawing_processes), so every
worker forked from the server begins with matplotlib imported and its fonts loaded: the getting ready
(about as much as drawing two figures) is paid once per tour, not once per worker. A Chinese tour's
workers still find the CJK font themselves (get_ready, as they start).
"""

from .gallery import get_ready

try:
    get_ready("en")
except Exception:  # noqa: BLE001 - the server must start anyway; a worker then gets ready itself
    from . import gallery

    gallery._ready.discard("en")
