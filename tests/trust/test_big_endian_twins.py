"""Issue 13 item 2: every big-endian twin pydicom ships renders and loads like its original.

pydicom (and pydicom-data) ship Explicit VR Big Endian copies of their files, named ``*_expb*``
(and ``*_bigendian``, ``*_big_endian``). The sweep finds every such twin whose original is
installed and compares, frame by frame: the stored samples, the pixel transform, what
``render_frame`` draws (``render``, the thumbnails) and what the one display pipeline gives the
2D view with and without a window; stacks with geometry also go through the indexer and
``load_volume`` (the ``volume`` verb, MPR). The class behind the report was the palette: 16-bit
Palette Color LUT Data (PS3.3 C.7.6.3.1.6) is OW, so it follows the transfer syntax's byte
order (PS3.5 7.3), which pydicom's ``apply_color_lut`` ignored.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from viewer.dicom.io.indexer import index_paths
from viewer.dicom.pixels import display
from viewer.dicom.pixels.reading import read_frame
from viewer.dicom.pixels.volume import load_volume

TWIN_MARKS = ("_expb", "_bigendian", "_big_endian")


def _test_file_folders() -> list[Path]:
    folders = [Path(pydicom.__file__).parent / "data" / "test_files"]
    store = get_testdata_file("OBXXXX1A.dcm", download=False)  # pydicom-data's folder
    if store:
        folders.append(Path(store).parent)
    return folders


def _twins() -> list[tuple[str, Path, Path]]:
    files: dict[str, Path] = {}
    for folder in _test_file_folders():
        for path in sorted(folder.rglob("*.dcm")):
            files.setdefault(path.name, path)
    pairs = []
    for name, path in sorted(files.items()):
        for mark in TWIN_MARKS:
            if mark in name and name.replace(mark, "") in files:
                pairs.append((name, files[name.replace(mark, "")], path))
    return pairs


TWINS = _twins()


def test_the_sweep_finds_the_twins_of_the_report() -> None:
    names = {name for name, _, _ in TWINS}
    assert {"OBXXXX1A_expb.dcm", "SC_rgb_expb.dcm", "MR_small_bigendian.dcm"} <= names
    assert len(TWINS) >= 14


def _frames(path: Path) -> int:
    header = pydicom.dcmread(path, stop_before_pixels=True)
    return int(header.get("NumberOfFrames") or 1)


@pytest.mark.parametrize(("name", "original", "twin"), TWINS, ids=[t[0] for t in TWINS])
def test_a_twin_renders_like_its_original(name: str, original: Path, twin: Path) -> None:
    assert pydicom.dcmread(twin, stop_before_pixels=True).file_meta.TransferSyntaxUID == (
        pydicom.uid.ExplicitVRBigEndian
    )
    frames = _frames(original)
    assert _frames(twin) == frames
    for k in range(frames):
        a, b = read_frame(original, k), read_frame(twin, k)
        assert a.stored.dtype == b.stored.dtype and np.array_equal(a.stored, b.stored), k
        same_syntax = dataclasses.replace(b.transform, transfer_syntax=a.transform.transfer_syntax)
        assert a.transform == same_syntax, f"{name} frame {k}"
        for window in (None, (40.0, 400.0)):
            shown_a, shown_b = display.to_display(a, window), display.to_display(b, window)
            assert np.array_equal(shown_a, shown_b), f"{name} frame {k} window {window}"
        rendered_a = display.render_frame(str(original), k, None)
        rendered_b = display.render_frame(str(twin), k, None)
        assert np.array_equal(rendered_a, rendered_b), f"{name} frame {k}"


@pytest.mark.parametrize(("name", "original", "twin"), TWINS, ids=[t[0] for t in TWINS])
def test_a_twin_loads_like_its_original(
    name: str, original: Path, twin: Path, tmp_path: Path
) -> None:
    stacks = []
    for label, path in (("original", original), ("twin", twin)):
        folder = tmp_path / label
        folder.mkdir()
        shutil.copy(path, folder / path.name)
        found = index_paths([folder], workers=0).all_stacks()
        assert len(found) == 1, f"{label} {name}"
        stacks.append(found[0])
    a, b = stacks
    assert len(a.sources) == len(b.sources)
    if a.affine() is None:
        assert b.affine() is None
        return
    assert np.allclose(a.affine(), b.affine())
    if read_frame(original).stored.ndim == 3:
        return  # colour is not loaded as a volume
    va, vb = load_volume(a), load_volume(b)
    assert va.voxels.dtype == vb.voxels.dtype and np.array_equal(va.voxels, vb.voxels)
