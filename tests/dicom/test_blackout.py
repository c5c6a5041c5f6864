"""``--blackout X Y W H``: identifiers burned into pixels (PS3.15 E.1.1, 1.c) set to 0 in
every frame of the DICOM written, and the PNG of the same options previews exactly that."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom import dcmread
from pydicom.uid import ExplicitVRLittleEndian

from viewer import demo
from viewer.__main__ import main
from viewer.dicom.io.indexer import index_paths
from viewer.dicom.pixels.display import render_frame

RECT = ("10", "5", "60", "30")  # x, y, width, height


def _us_stack(folder: Path) -> int:
    return next(
        k for k, s in enumerate(index_paths([folder]).all_stacks()) if s.frames == demo.US_FRAMES
    )


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and p.name != "DICOMDIR"]


@pytest.fixture(scope="module")
def blacked(demo_study: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("blackout") / "us"
    us = str(_us_stack(demo_study))
    code = main(
        ["export", str(demo_study), str(out), "--format", "dicom", "--stack", us,
         "--anonymize", "--blackout", *RECT]
    )  # fmt: skip
    assert code == 0
    return out


def test_every_frame_is_zero_inside_and_unchanged_outside(blacked: Path, demo_study: Path) -> None:
    (written,) = _files(blacked)
    stack = index_paths([demo_study]).all_stacks()[_us_stack(demo_study)]
    original = dcmread(stack.sources[0][0]).pixel_array
    ds = dcmread(written)
    assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    pixels = ds.pixel_array
    assert pixels.shape == original.shape and pixels.shape[0] == demo.US_FRAMES
    x, y, w, h = map(int, RECT)
    assert not pixels[:, y : y + h, x : x + w].any()
    outside = np.ones(pixels.shape[1:3], dtype=bool)
    outside[y : y + h, x : x + w] = False
    assert np.array_equal(pixels[:, outside], original[:, outside])
    assert ds.PatientIdentityRemoved == "YES"


def test_png_previews_what_the_dicom_shows(blacked: Path, demo_study: Path, tmp_path: Path) -> None:
    us = str(_us_stack(demo_study))
    out = tmp_path / "png"
    assert main(["export", str(demo_study), str(out), "--format", "png", "--stack", us,
                 "--blackout", *RECT]) == 0  # fmt: skip
    (folder,) = out.iterdir()
    (written,) = _files(blacked)
    for frame in (0, 17, demo.US_FRAMES - 1):
        preview = np.asarray(Image.open(folder / f"{frame + 1:04d}.png"))
        assert np.array_equal(preview, render_frame(written, frame))


def test_compressed_colour_is_decoded_first(tmp_path: Path) -> None:
    from pydicom.data import get_testdata_file

    path = get_testdata_file("SC_rgb_jpeg_gdcm.dcm")
    assert path is not None
    source = tmp_path / "src"
    source.mkdir()
    shutil.copy(path, source / "sc.dcm")
    out = tmp_path / "out"
    assert main(["export", str(source), str(out), "--format", "dicom", "--blackout", *RECT]) == 0
    (written,) = _files(out)
    ds = dcmread(written)
    assert ds.PhotometricInterpretation == "RGB"
    x, y, w, h = map(int, RECT)
    assert not ds.pixel_array[y : y + h, x : x + w].any()
    if shutil.which("dcmdump"):
        subprocess.run(["dcmdump", "-q", str(written)], check=True, capture_output=True)


def test_bad_rectangles_and_formats_exit_2(demo_study: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "x")
    assert main(["export", str(demo_study), out, "--format", "dicom",
                 "--blackout", "0", "0", "0", "5"]) == 2  # fmt: skip
    assert main(["export", str(demo_study), out, "--format", "nifti", "--blackout", *RECT]) == 2
    assert not (tmp_path / "x").exists()
