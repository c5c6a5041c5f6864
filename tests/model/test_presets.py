"""Window presets behind keys 3-9."""

from __future__ import annotations

import pytest

from viewer.model.presets import (
    DEFAULT_PRESETS,
    Preset,
    format_presets,
    parse_presets,
    preset_for_key,
)


def test_ct_keys_3_to_9_as_the_issue_lists_them() -> None:
    windows = [(p.name, p.width, p.level) for p in DEFAULT_PRESETS["CT"]]
    assert windows == [
        ("Brain", 80, 40),
        ("Subdural", 200, 75),
        ("Stroke", 40, 40),
        ("Lung", 1500, -600),
        ("Mediastinum", 350, 40),
        ("Abdomen", 400, 50),
        ("Bone", 2000, 300),
    ]
    lung = preset_for_key("ct", 6)
    assert lung is not None and (lung.voi.width, lung.voi.center) == (1500, -600)


def test_no_preset_outside_the_table() -> None:
    assert preset_for_key("MR", 3) is None
    assert preset_for_key("CT", 2) is None
    assert preset_for_key("CT", 10) is None


def test_text_form_round_trips_and_rejects_junk() -> None:
    text = format_presets(DEFAULT_PRESETS["CT"])
    assert parse_presets(text) == DEFAULT_PRESETS["CT"]
    assert parse_presets("Soft tissue 400/40;") == (Preset("Soft tissue", 400, 40),)
    with pytest.raises(ValueError, match="width/level"):
        parse_presets("Brain 80-40")
    with pytest.raises(ValueError, match="positive width"):
        parse_presets("Brain 0/40")
