"""What objects are called in the tree (viewer.dicom.catalog.sop_kinds), from SOP Class UIDs."""

from __future__ import annotations

import pytest

from viewer.dicom.catalog.sop_kinds import object_kind


@pytest.mark.parametrize(
    ("uid", "kind"),
    [
        ("1.2.840.10008.5.1.4.1.1.88.22", "Structured report"),  # Enhanced SR
        ("1.2.840.10008.5.1.4.1.1.88.59", "Key object selection"),
        ("1.2.840.10008.5.1.4.1.1.88.67", "Dose report"),  # X-Ray Radiation Dose SR
        ("1.2.840.10008.5.1.4.1.1.11.1", "Presentation state"),
        ("1.2.840.10008.5.1.4.1.1.481.3", "RT structure set"),
        ("1.2.840.10008.5.1.4.1.1.481.5", "RT plan"),
        ("1.2.840.10008.5.1.4.1.1.104.1", "Encapsulated PDF"),
        ("1.2.840.10008.5.1.4.1.1.9.1.1", "Waveform"),  # 12-lead ECG
        ("1.2.840.10008.5.1.4.1.1.66.4", "Segmentation"),
        ("1.2.840.10008.5.1.4.1.1.2", "CT Image"),
        ("1.2.840.10008.5.1.4.1.1.1.1", "Digital X-Ray Image"),
        ("1.2.3.4", "DICOM object"),
        ("", "DICOM object"),
    ],
)
def test_object_kinds(uid: str, kind: str) -> None:
    assert object_kind(uid) == kind
