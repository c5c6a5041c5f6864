"""render_frame against DCMTK (dcmj2pnm) references, and the ``render`` verb.

The references in tests/data/dcmtk were made by tests/data/dcmtk/regenerate.sh; DCMTK is not
needed to run these tests. DCMTK 3.6.7 decodes neither JPEG 2000 nor segmented palettes: those
references were rendered by DCMTK from a transcoding by an independent decoder (see the
script). HTJ2K has no case: DCMTK cannot decode it and no HTJ2K test file is bundled.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom.data import get_testdata_file

from viewer.cli import render
from viewer.dicom.pixels.decode import DecodeError
from viewer.dicom.pixels.display import render_frame

REFERENCES = Path(__file__).resolve().parent.parent / "data" / "dcmtk"

#: Where we differ from DCMTK by one level, and why. Everything else must match exactly.
#: * MONOCHROME1: DCMTK inverts before truncating to an integer, we truncate the VOI output
#:   and then invert it (as the viewer does), so non-integer levels land one apart.
#: * Native YBR_FULL_422: pydicom's float YCbCr->RGB conversion rounds, DCMTK's integer one
#:   truncates. (JPEG YBR is converted identically, by libjpeg-compatible arithmetic.)
ONE_LEVEL = {"cr_monochrome1.png", "ybr_full_422_native.png"}

# (reference, bundled file, frame, window) -- the same VOI as regenerate.sh asks of DCMTK.
CASES = [
    ("ct_small_w40_400.png", "CT_small.dcm", 0, (40.0, 400.0)),
    ("ct_small_minmax.png", "CT_small.dcm", 0, None),
    ("mr_small.png", "MR_small.dcm", 0, None),
    ("cr_monochrome1.png", "dicomdirtests/77654033/CR1/6154", 0, None),
    ("mr_12bit_overlay_off.png", "examples_overlay.dcm", 0, None),
    ("rtdose_frame7.png", "rtdose.dcm", 7, None),
    ("deflated_8bit.png", "image_dfl.dcm", 0, None),
    ("rtdose_rle_frame7.png", "rtdose_rle.dcm", 7, None),
    ("jpeg_extended_12bit.png", "JPGExtended.dcm", 0, None),
    ("jpegls_mr.png", "MR_small_jpeg_ls_lossless.dcm", 0, None),
    ("j2k_lossy_ct.png", "693_J2KI.dcm", 0, None),
    ("j2k_lossless_mr.png", "MR_small_jp2klossless.dcm", 0, None),
    ("rgb_planar_big_endian.png", "ExplVR_BigEnd.dcm", 0, None),
    ("rgb_16bit_rle.png", "SC_rgb_rle_16bit.dcm", 0, None),
    ("rgb_rle_frame1.png", "SC_rgb_rle_2frame.dcm", 1, None),
    ("ybr_full_422_native.png", "SC_ybr_full_422_uncompressed.dcm", 0, None),
    ("ybr_full_jpeg.png", "SC_rgb_jpeg_dcmtk.dcm", 0, None),
    ("ybr_422_jpeg_frame10.png", "examples_ybr_color.dcm", 10, None),
    ("palette.png", "examples_palette.dcm", 0, None),
    ("jpeg_lossless_16bit_signed.png", "JPEG-LL.dcm", 0, None),
    ("rgb_jpeg_lossless.png", "SC_rgb_jpeg_gdcm.dcm", 0, None),
    ("j2k_ybr_rct.png", "GDCMJ2K_TextGBR.dcm", 0, None),
    ("j2k_ybr_ict.png", "US1_J2KI.dcm", 0, None),
    ("palette_segmented.png", "gdcm-US-ALOKA-16.dcm", 0, None),
    # The window is the Frame VOI LUT in the Shared Functional Groups (DCMTK was told it).
    ("enhanced_ct_frame1.png", "eCT_Supplemental.dcm", 1, None),
    ("enhanced_mr_frame3.png", "emri_small.dcm", 3, None),
]

#: References of a region of a large frame: (left, top, width, height), dcmj2pnm's +C.
CLIPS = {
    "jpeg_lossless_16bit_signed.png": (0, 128, 256, 256),
    "j2k_ybr_ict.png": (120, 150, 192, 128),
    "palette_segmented.png": (0, 0, 192, 160),
    "enhanced_ct_frame1.png": (128, 128, 256, 256),
}

#: pydicom-data's files (the test extra installs it); their cases skip without it.
PYDICOM_DATA = {
    "JPEG-LL.dcm",
    "US1_J2KI.dcm",
    "gdcm-US-ALOKA-16.dcm",
    "eCT_Supplemental.dcm",
    "emri_small.dcm",
}


def bundled(name: str) -> str:
    path = get_testdata_file(name, download=False)
    if path is None and name in PYDICOM_DATA:
        pytest.skip(f"{name} comes with pydicom-data")
    assert path is not None, name
    return str(path)


def clipped(image: np.ndarray, png: str) -> np.ndarray:
    if png not in CLIPS:
        return image
    left, top, width, height = CLIPS[png]
    return image[top : top + height, left : left + width]


def test_every_reference_has_a_case() -> None:
    assert sorted(path.name for path in REFERENCES.glob("*.png")) == sorted(c[0] for c in CASES)


@pytest.mark.parametrize(("png", "source", "frame", "window"), CASES, ids=[c[0] for c in CASES])
def test_render_matches_dcmtk(
    png: str, source: str, frame: int, window: tuple[float, float] | None
) -> None:
    expected = np.asarray(Image.open(REFERENCES / png))
    image = clipped(render_frame(bundled(source), frame, window), png)
    assert image.dtype == np.uint8
    assert image.shape == expected.shape
    difference = np.abs(image.astype(np.int16) - expected.astype(np.int16))
    assert int(difference.max()) <= (1 if png in ONE_LEVEL else 0)


def test_render_window_overrides_the_file_window() -> None:
    narrow = render_frame(bundled("MR_small.dcm"), window=(600, 2))
    # Width 2 maps 599 and below to black, 600 and above to white: integers are thresholded.
    assert set(np.unique(narrow).tolist()) == {0, 255}
    with_file_window = np.asarray(Image.open(REFERENCES / "mr_small.png"))
    assert len(np.unique(with_file_window)) > 2


def test_render_frame_is_also_in_decode() -> None:
    from viewer.dicom.pixels import decode

    np.testing.assert_array_equal(
        decode.render_frame(bundled("CT_small.dcm"), 0, (40, 400)),
        render_frame(bundled("CT_small.dcm"), 0, (40, 400)),
    )


# --- the render verb ------------------------------------------------------------------------
def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="dicom-viewer render")
    render.configure(parser)
    return parser.parse_args(argv)


def test_help_is_one_line() -> None:
    assert render.HELP and "\n" not in render.HELP


def test_render_verb_writes_grayscale_png(tmp_path: Path) -> None:
    out = tmp_path / "ct.png"
    assert render.run(parse([bundled("CT_small.dcm"), str(out), "--window", "40", "400"])) == 0
    with Image.open(out) as written:
        assert written.mode == "L"
        assert written.size == (128, 128)
        reference = np.asarray(Image.open(REFERENCES / "ct_small_w40_400.png"))
        np.testing.assert_array_equal(np.asarray(written), reference)


def test_render_verb_writes_rgb_png_for_colour_and_palette(tmp_path: Path) -> None:
    for name, frame in (("examples_ybr_color.dcm", "10"), ("examples_palette.dcm", "0")):
        out = tmp_path / f"{name}.png"
        assert render.run(parse([bundled(name), str(out), "--frame", frame])) == 0
        with Image.open(out) as written:
            assert written.mode == "RGB"


def test_render_verb_is_quiet_on_success(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    # GDCM's libjpeg prints to file descriptor 2 while it retries 12-bit JPEG.
    assert render.run(parse([bundled("JPGExtended.dcm"), str(tmp_path / "out.png")])) == 0
    captured = capfd.readouterr()
    assert captured.err == ""
    assert captured.out == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["MR_truncated.dcm"], "truncated"),
        (["rtplan.dcm"], "no pixel data"),
        (["CT_small.dcm", "--frame", "3"], "does not exist"),
    ],
)
def test_render_verb_failure_is_one_line_and_exit_1(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    out = tmp_path / "out.png"
    args = parse([bundled(argv[0]), str(out), *argv[1:]])
    assert render.run(args) == 1
    err = capfd.readouterr().err
    assert err.count("\n") == 1
    assert message in err
    assert "Traceback" not in err
    assert not out.exists()


def test_render_verb_unwritable_output(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "missing-folder" / "out.png"
    assert render.run(parse([bundled("CT_small.dcm"), str(out)])) == 1
    assert "cannot write" in capfd.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["only-one.dcm"],
        ["a.dcm", "b.png", "--frame", "-1"],
        ["a.dcm", "b.png", "--frame", "two"],
        ["a.dcm", "b.png", "--window", "40"],
        ["a.dcm", "b.png", "--window", "c", "w"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse(argv)
    assert exit_info.value.code == 2
    capsys.readouterr()


def test_decode_error_surfaces_from_render_frame() -> None:
    with pytest.raises(DecodeError):
        render_frame(bundled("rtplan.dcm"))
