"""The user's choices for driving an image with the mouse and keys (no Qt).

Preferences stores them (:mod:`viewer.qt.settings`) and every image viewport and the MPR view
applies one :class:`Interaction`: which drag each mouse button does, how fast and in which
direction a window/level drag moves the window (PS3.3 C.11.2.1.2 width/centre), and the window
presets behind keys 3-9 per Modality (0008,0060).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from viewer.model.presets import DEFAULT_PRESETS, Preset, preset_for_key
from viewer.model.tools.pan import NAME as PAN
from viewer.model.tools.scroll import NAME as SCROLL
from viewer.model.tools.window_level import NAME as WINDOW_LEVEL
from viewer.model.tools.zoom import NAME as ZOOM
from viewer.model.window_level import Voi, drag, drag_sensitivity

__all__ = ["PAN", "SCROLL", "WINDOW_LEVEL", "ZOOM", "Interaction", "WindowLevelDrag"]

MOUSE_BUTTONS = ("left", "middle", "right")
DEFAULT_MOUSE_MAPPING: Mapping[str, str] = {"left": WINDOW_LEVEL, "middle": PAN, "right": ZOOM}

#: W/L drag sensitivity: a factor on the viewer's own (range-based) sensitivity.
DEFAULT_WL_SENSITIVITY = 1.0
WL_SENSITIVITY_RANGE = (0.1, 10.0)
#: Zoom drag speed: a factor on 2x per 200 px (viewer.model.tools.zoom).
DEFAULT_ZOOM_SPEED = 1.0
ZOOM_SPEED_RANGE = (0.25, 4.0)


@dataclass(frozen=True)
class WindowLevelDrag:
    """How a window/level drag responds: speed factor and the sign of each axis.

    Default directions (Weasis, 3D Slicer): dragging right widens the window, dragging down
    lowers the level (the image gets brighter).
    """

    sensitivity: float = DEFAULT_WL_SENSITIVITY
    invert_horizontal: bool = False
    invert_vertical: bool = False

    def apply(self, voi: Voi, dx: float, dy: float, value_range: float) -> Voi:
        """``voi`` after a drag of (dx, dy) screen pixels over an image spanning
        ``value_range`` modality units (the speed scales with the range)."""
        speed = drag_sensitivity(value_range) * self.sensitivity
        return drag(voi, dx, dy, speed, self.invert_horizontal, self.invert_vertical)


def _default_presets() -> dict[str, tuple[Preset, ...]]:
    return {modality: tuple(presets) for modality, presets in DEFAULT_PRESETS.items()}


@dataclass(frozen=True)
class Interaction:
    """Mouse mapping (button -> a tool name, one of
    :func:`viewer.model.tools.registry.mouse_tools`), W/L drag, presets per modality, zoom
    drag speed."""

    mouse: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_MOUSE_MAPPING))
    wl_drag: WindowLevelDrag = field(default_factory=WindowLevelDrag)
    presets: Mapping[str, tuple[Preset, ...]] = field(default_factory=_default_presets)
    zoom_speed: float = DEFAULT_ZOOM_SPEED

    def action(self, button: str) -> str:
        """The tool a drag with ``button`` ("left", "middle", "right") uses ("" for none)."""
        return self.mouse.get(button, DEFAULT_MOUSE_MAPPING.get(button, ""))

    def preset(self, modality: str, key: int) -> Preset | None:
        """The user's preset that key ``key`` (3-9) selects for ``modality``, or None."""
        return preset_for_key(modality, key, self.presets)
