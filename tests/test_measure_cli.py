"""The headless measure and report verbs on real files: the numbers against numpy and known
geometry, the SR they write read back by ``report``."""

from __future__ import annotations

import contextlib
import io
import json
import math
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from viewer.__main__ import main

CT_SMALL = str(get_testdata_file("CT_small.dcm"))
CT_MM = 0.661468


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def measured(*args: str) -> dict:  # type: ignore[type-arg]
    code, out, err = run("measure", CT_SMALL, *args, "--json")
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def hu() -> np.ndarray:
    ds = pydicom.dcmread(CT_SMALL)
    return ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)


def test_line_between_pixel_centres() -> None:
    result = measured("--line", "10", "20", "40", "60")
    assert result["kind"] == "length"
    assert result["length_mm"] == pytest.approx(50 * CT_MM)
    assert result["calibration"] == "Pixel Spacing"


def test_rect_covers_w_by_h_pixels() -> None:
    result = measured("--rect", "10", "20", "30", "15")
    values = hu()[20:35, 10:40]
    assert result["pixels"] == 30 * 15
    assert result["mean"] == pytest.approx(values.mean())
    assert result["sd"] == pytest.approx(values.std())
    assert (result["min"], result["max"]) == (values.min(), values.max())
    assert result["median"] == pytest.approx(np.median(values))
    assert result["area_mm2"] == pytest.approx(30 * 15 * CT_MM**2)
    assert result["unit"] == "HU"


@pytest.mark.parametrize(
    ("cx", "cy", "rx", "ry"), [(64, 64, 30, 20), (10, 100, 25, 40), (0, 0, 5, 5)]
)
def test_ellipse_statistics_match_numpy(cx: float, cy: float, rx: float, ry: float) -> None:
    result = measured("--ellipse", str(cx), str(cy), str(rx), str(ry))
    rows, columns = np.indices((128, 128))
    inside = ((columns - cx) / rx) ** 2 + ((rows - cy) / ry) ** 2 <= 1  # centres at whole numbers
    values = hu()[inside]
    assert result["pixels"] == inside.sum()
    assert result["mean"] == pytest.approx(values.mean())
    assert result["median"] == pytest.approx(np.median(values))
    assert result["area_mm2"] == pytest.approx(math.pi * rx * ry * CT_MM**2)


def test_polygon_and_bad_arguments() -> None:
    result = measured("--polygon", "0", "0", "40", "0", "0", "30")
    assert result["area_mm2"] == pytest.approx(600 * CT_MM**2)
    code, _, err = run("measure", CT_SMALL, "--polygon", "1", "2", "3")
    assert code == 2 and "three" in err
    code, _, err = run("measure", CT_SMALL, "--frame", "3", "--line", "0", "0", "1", "1")
    assert code == 2 and "1 frame" in err
    code, _, err = run("measure", "/nonexistent.dcm", "--line", "0", "0", "1", "1")
    assert code == 1 and err.count("\n") == 1


def test_sr_written_then_reported(tmp_path: Path) -> None:
    out = tmp_path / "sr.dcm"
    code, text, err = run(
        "measure", CT_SMALL, "--ellipse", "64", "64", "30", "20", "--sr", str(out)
    )
    assert code == 0, err
    assert text.splitlines()[0].startswith("Mean")
    code, text, err = run("report", str(out), "--json")
    assert code == 0, err
    report = json.loads(text)
    assert report["kind"] == "SR" and report["title"] == "Imaging Measurement Report"
    means = [m for m in report["measurements"] if m["derivation"] == "Mean"]
    assert means[0]["unit"] == "[hnsf'U]" and means[0]["graphic_type"] == "ELLIPSE"
    assert means[0]["value"] == pytest.approx(measured("--ellipse", "64", "64", "30", "20")["mean"])
    code, text, _ = run("report", str(out))
    assert code == 0 and "Attenuation Coefficient (Mean)" in text


def test_sr_is_not_written_into_the_source_folder(tmp_path: Path) -> None:
    source = tmp_path / "ct.dcm"
    source.write_bytes(Path(CT_SMALL).read_bytes())
    code, _, err = run(
        "measure", str(source), "--line", "0", "0", "5", "5", "--sr", str(tmp_path / "sr.dcm")
    )
    assert code == 2 and "own folder" in err
    assert not (tmp_path / "sr.dcm").exists()


def test_report_refuses_an_image() -> None:
    code, _, err = run("report", CT_SMALL)
    assert code == 1 and "not a structured report" in err
