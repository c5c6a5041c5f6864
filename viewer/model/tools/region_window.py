"""Region window: the window spanning the modality values under a dragged rectangle.

The lowest value in the rectangle shows black and the highest white
(:func:`viewer.model.window_level.region_voi`, PS3.3 C.11.2.1.2 as a range).
"""

from __future__ import annotations

import numpy as np

from viewer.model.tools.base import (
    BaseTool,
    Change,
    Changes,
    Pointer,
    SetVoi,
    ShowRegion,
    ToolContext,
)
from viewer.model.tools.registry import ToolSpec
from viewer.model.window_level import region_voi

NAME = "region_window"


class RegionWindowTool(BaseTool):
    def drag(self, pointer: Pointer, context: ToolContext) -> Changes:
        return (ShowRegion(pointer.start_view, pointer.view, True),)

    def release(self, pointer: Pointer, context: ToolContext) -> Changes:
        changes: list[Change] = [ShowRegion(pointer.start_view, pointer.view, False)]
        values = context.region_values(pointer.start_view, pointer.view)
        voi = region_voi(np.asarray(values)) if values is not None else None
        if voi is not None:
            changes.append(SetVoi(voi, "Region window"))
        return changes


SPEC = ToolSpec(NAME, "Window from a region", RegionWindowTool, mouse=False)
