"""Objects as another system writes them (highdicom directly, not this project's writer), on
real images: presentation states for the tests that apply them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pydicom


def presentation_state(
    source: pydicom.Dataset,
    label: str = "PACS",
    graphics: Sequence[Any] = (),
    texts: Sequence[tuple[str, tuple[float, float]]] = (),
    created: str = "",
    window: tuple[float, float] | None = None,
) -> Any:
    """A GSPS on ``source`` with ``graphics`` (highdicom GraphicObjects) and ``texts`` (text,
    anchor) on one layer, made at ``created`` (HHMMSS on 2026-01-01; default now), with a
    window (centre, width) when given."""
    import highdicom as hd

    layer = hd.pr.GraphicLayer(layer_name="PACS", order=1)
    annotation = hd.pr.GraphicAnnotation(
        referenced_images=[source],
        graphic_layer=layer,
        graphic_objects=list(graphics) or None,
        text_objects=[hd.pr.TextObject(t, "PIXEL", anchor_point=a) for t, a in texts] or None,
    )
    voi = None
    if window is not None:
        centre, width = window
        voi = [hd.pr.SoftcopyVOILUTTransformation(window_center=centre, window_width=width)]
    state = hd.pr.GrayscaleSoftcopyPresentationState(
        referenced_images=[source],
        series_instance_uid=hd.UID(),
        series_number=99,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="PACS",
        manufacturer_model_name="X",
        software_versions="1",
        device_serial_number="1",
        content_label=label,
        graphic_annotations=[annotation],
        graphic_layers=[layer],
        voi_lut_transformations=voi,
    )
    if created:
        state.PresentationCreationDate = "20260101"
        state.PresentationCreationTime = created
    return state
