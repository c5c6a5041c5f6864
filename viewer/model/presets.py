"""Window presets (width/level per modality) behind keys 3-9 (no Qt).

A preset is a window as radiologists quote it, width/level in modality units (HU for CT), which
is Window Width/Center of PS3.3 C.11.2.1.2. The table is plain data so Preferences can edit it;
:func:`parse_presets` and :func:`format_presets` round-trip the text form "name W/L; ...".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from viewer.model.window_level import Voi

#: Keys 3-9 pick presets in this order.
FIRST_PRESET_KEY = 3
LAST_PRESET_KEY = 9


@dataclass(frozen=True, slots=True)
class Preset:
    """A named window, ``width``/``level`` (Window Width/Center, PS3.3 C.11.2.1.2)."""

    name: str
    width: float
    level: float

    @property
    def voi(self) -> Voi:
        return Voi.from_center_width(self.level, self.width)

    def label(self) -> str:
        return f"{self.name} {self.width:g}/{self.level:g}"


#: Defaults per Modality (0008,0060); keys 3, 4, ... pick them in order.
DEFAULT_PRESETS: Mapping[str, tuple[Preset, ...]] = {
    "CT": (
        Preset("Brain", 80, 40),
        Preset("Subdural", 200, 75),
        Preset("Stroke", 40, 40),
        Preset("Lung", 1500, -600),
        Preset("Mediastinum", 350, 40),
        Preset("Abdomen", 400, 50),
        Preset("Bone", 2000, 300),
    ),
}


def preset_for_key(
    modality: str, key: int, table: Mapping[str, Sequence[Preset]] = DEFAULT_PRESETS
) -> Preset | None:
    """The preset that key ``key`` (3-9) selects for ``modality``, or None."""
    presets = table.get(modality.upper(), ())
    position = key - FIRST_PRESET_KEY
    if not FIRST_PRESET_KEY <= key <= LAST_PRESET_KEY or position >= len(presets):
        return None
    return presets[position]


def parse_presets(text: str) -> tuple[Preset, ...]:
    """Presets from "Brain 80/40; Lung 1500/-600"; raises ValueError naming a bad entry."""
    presets = []
    for entry in (part.strip() for part in text.split(";")):
        if not entry:
            continue
        name, _, window = entry.rpartition(" ")
        try:
            width, level = (float(value) for value in window.split("/"))
        except ValueError:
            raise ValueError(f"preset {entry!r} is not 'name width/level'") from None
        if width <= 0 or not name.strip():
            raise ValueError(f"preset {entry!r} needs a name and a positive width")
        presets.append(Preset(name.strip(), width, level))
    return tuple(presets)


def format_presets(presets: Sequence[Preset]) -> str:
    """The text form :func:`parse_presets` reads."""
    return "; ".join(preset.label() for preset in presets)
