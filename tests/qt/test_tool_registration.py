"""Adding a tool is one module plus one registration: Preferences offers it, a real drag on a
real viewport runs it, and the viewport applies what it answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPointF, Qt

from tests.gui_driving import drag, focus_viewport, show_modality
from viewer.model.interaction import DEFAULT_MOUSE_MAPPING
from viewer.model.tools import registry
from viewer.model.tools.base import BaseTool, Changes, Pointer, SetVoi, ToolContext
from viewer.model.window_level import Voi
from viewer.qt.main_window import MainWindow
from viewer.qt.preferences import PreferencesDialog

NARROW = Voi.from_center_width(40.0, 20.0)


class NarrowWindowTool(BaseTool):
    """A made-up tool: a drag opens a 20 HU window at 40, once per gesture."""

    def __init__(self) -> None:
        self.pressed = False

    def press(self, pointer: Pointer, context: ToolContext) -> Changes:
        self.pressed = True
        return ()

    def drag(self, pointer: Pointer, context: ToolContext) -> Changes:
        assert self.pressed and pointer.image is not None and pointer.patient is not None
        return (SetVoi(NARROW, "Narrow window"),)


@pytest.fixture
def narrow_tool(window: MainWindow) -> Iterator[None]:
    registry.register(registry.ToolSpec("narrow", "Narrow window", NarrowWindowTool))
    yield
    window.window_settings.settings.set_mouse_mapping(DEFAULT_MOUSE_MAPPING)
    registry.unregister("narrow")


def test_a_registered_tool_drives_the_viewport(window: MainWindow, narrow_tool: None) -> None:
    dialog = PreferencesDialog(window.window_settings.settings, window)
    box = dialog.button_boxes["left"]
    offered = [box.itemData(i) for i in range(box.count())]
    assert "narrow" in offered
    dialog.deleteLater()

    window.window_settings.settings.set_mouse_mapping({"left": "narrow"})
    show_modality(window, "CT")
    focus_viewport(window)
    drag(window.viewport, Qt.MouseButton.LeftButton, QPointF(30, 10))
    assert window.state.voi == NARROW
    assert window.viewport.overlay.readout.startswith("Narrow window: W 20 L 40")
