"""Tools in the model: mouse gestures -> state changes, the same for every view (no Qt).

:mod:`.base` says what a tool is, :mod:`.registry` how one is found by name. Adding a tool is
one module beside these and one ``register`` line below (tests/model/test_tools.py shows it).
"""

from viewer.model.tools import (
    crosshair,
    draw,
    edit,
    pan,
    region_window,
    rotate_plane,
    scroll,
    window_level,
    zoom,
)
from viewer.model.tools.registry import register

# The order is Preferences' order.
register(window_level.SPEC)
register(pan.SPEC)
register(zoom.SPEC)
register(scroll.SPEC)
register(region_window.SPEC)
register(crosshair.SPEC)
register(rotate_plane.SPEC)
register(edit.SPEC)
for _spec in draw.SPECS:
    register(_spec)
