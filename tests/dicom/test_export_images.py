"""``dicom-viewer export --format png|video``: frames as the viewer shows them, cines at their
frame rate, read back by Pillow and PyAV (frame count, rate, size)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests import factories
from viewer import demo
from viewer.__main__ import main
from viewer.dicom.io.indexer import index_paths
from viewer.dicom.pixels.display import render_frame
from viewer.dicom.write.export import ExportCancelled, ExportError
from viewer.dicom.write.images import (
    VIDEO_CODECS,
    FrameLook,
    check_video_file,
    export_png,
    export_video,
    frame_rate,
)


def _stack_number(folder: Path, frames: int) -> int:
    return next(k for k, s in enumerate(index_paths([folder]).all_stacks()) if s.frames == frames)


def export(*arguments: object) -> int:
    return main(["export", *map(str, arguments)])


@pytest.fixture(scope="module")
def demo_pngs(demo_study: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("png") / "png"
    assert export(demo_study, out, "--format", "png", "--series", *_mr_ct_uids(demo_study)) == 0
    return out


def _mr_ct_uids(folder: Path) -> list[str]:
    return [s.uid for s in index_paths([folder]).all_series() if s.info.modality in ("CT", "MR")]


def test_png_frames_are_what_render_writes(demo_pngs: Path, demo_study: Path) -> None:
    ct = index_paths([demo_study]).all_stacks()[_stack_number(demo_study, 192)]
    folder = demo_pngs / "002_Thorax-Abdomen_1_25mm"
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"{k:04d}.png" for k in range(1, 193)]
    for k in (0, 95, 191):  # stack order, the file's own window
        written = np.asarray(Image.open(folder / names[k]))
        assert np.array_equal(written, render_frame(*ct.sources[k]))


def test_png_window_is_applied(demo_study: Path, tmp_path: Path) -> None:
    mr = _stack_number(demo_study, 27)
    out = tmp_path / "png"
    assert export(demo_study, out, "--format", "png", "--stack", mr, "--window", 300, 200) == 0
    (folder,) = out.iterdir()
    stack = index_paths([demo_study]).all_stacks()[mr]
    written = np.asarray(Image.open(folder / "0014.png"))
    assert np.array_equal(written, render_frame(*stack.sources[13], window=(300.0, 200.0)))
    assert written.dtype == np.uint8 and written.ndim == 2


def test_overlays_are_burnt_in(tmp_path: Path) -> None:
    from pydicom.data import get_testdata_file

    path = get_testdata_file("MR-SIEMENS-DICOM-WithOverlays.dcm", download=False)
    if path is None:
        pytest.skip("pydicom-data has no MR-SIEMENS-DICOM-WithOverlays.dcm")
    source = tmp_path / "src"
    source.mkdir()
    (source / "mr.dcm").write_bytes(Path(path).read_bytes())
    assert export(source, tmp_path / "plain", "--format", "png") == 0
    assert export(source, tmp_path / "over", "--format", "png", "--overlays") == 0
    (plain,) = (tmp_path / "plain").rglob("*.png")
    (over,) = (tmp_path / "over").rglob("*.png")
    a, b = np.asarray(Image.open(plain)), np.asarray(Image.open(over))
    changed = a != b
    assert changed.any() and (b[changed] == 255).all()


def test_corner_text_carries_no_patient_data(demo_study: Path, tmp_path: Path) -> None:
    mr = _stack_number(demo_study, 27)
    out = tmp_path / "png"
    assert export(demo_study, out, "--format", "png", "--stack", mr, "--corner-text") == 0
    (folder,) = out.iterdir()
    image = np.asarray(Image.open(folder / "0001.png"))
    stack = index_paths([demo_study]).all_stacks()[mr]
    plain = render_frame(*stack.sources[0])
    differs = np.argwhere(image != plain)
    assert differs.size and differs[:, 0].max() < 40  # only the top-left label changed
    assert differs[:, 1].max() < image.shape[1] // 2 + 60


@pytest.mark.parametrize("suffix", sorted(VIDEO_CODECS))
def test_cine_video_has_every_frame_at_the_cine_rate(
    suffix: str, demo_study: Path, tmp_path: Path
) -> None:
    us = _stack_number(demo_study, demo.US_FRAMES)
    out = tmp_path / f"echo{suffix}"
    assert export(demo_study, out, "--format", "video", "--stack", us, "--corner-text") == 0
    rate = Fraction(1000 / demo.US_FRAME_TIME_MS).limit_denominator(1001)
    if VIDEO_CODECS[suffix] is None:
        with Image.open(out) as image:
            assert image.n_frames == demo.US_FRAMES
            step = 10 if suffix == ".gif" else 0.001  # GIF counts in 10 ms
            assert image.info["duration"] == pytest.approx(demo.US_FRAME_TIME_MS, abs=step)
        return
    av = pytest.importorskip("av")
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == {".mp4": "mpeg4", ".webm": "vp9"}[suffix]
        assert stream.average_rate == rate
        frames = list(container.decode(stream))
    assert len(frames) == demo.US_FRAMES
    assert (frames[0].width, frames[0].height) == (demo.US_COLUMNS, demo.US_ROWS)


def test_video_of_an_odd_sized_grey_stack(tmp_path: Path) -> None:
    av = pytest.importorskip("av")
    factories.write_series(tmp_path / "src", slices=5, rows=17, columns=21)
    out = tmp_path / "slices.mp4"
    assert export(tmp_path / "src", out, "--format", "video", "--fps", 4) == 0
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.average_rate == 4
        frames = list(container.decode(stream))
    assert len(frames) == 5
    assert (frames[0].width, frames[0].height) == (22, 18)  # padded to even for 4:2:0


def test_a_video_refuses_what_it_must_not_do(demo_study: Path, tmp_path: Path) -> None:
    assert export(demo_study, tmp_path / "all.mp4", "--format", "video") == 1  # 4 stacks
    assert export(demo_study, tmp_path / "x.avi", "--format", "video", "--stack", 0) == 1
    assert export(demo_study, demo_study / "in.gif", "--format", "video", "--stack", 0) == 1
    with pytest.raises(SystemExit) as bad_rate:  # argparse's own check
        export(demo_study, tmp_path / "x.gif", "--format", "video", "--fps", 0)
    assert bad_rate.value.code == 2
    assert export(demo_study, tmp_path / "x", "--format", "png", "--fps", 5) == 2
    assert export(demo_study, tmp_path / "x", "--format", "nifti", "--window", 1, 2) == 2
    assert list(tmp_path.iterdir()) == []


def test_without_pyav_mp4_says_why_and_gif_still_works(
    demo_study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "av", None)  # as if not installed
    with pytest.raises(ExportError, match="GPL x264"):
        check_video_file(tmp_path / "a.mp4", [demo_study])
    assert check_video_file(tmp_path / "a.gif", [demo_study]) == (tmp_path / "a.gif").resolve()


def test_frame_rate_comes_from_the_stack_or_is_named(tmp_path: Path) -> None:
    stacks = index_paths([factories.write_series(tmp_path, slices=3).folder]).all_stacks()
    assert frame_rate(stacks[0]) == (10, "no frame rate in the files: 10 frames/s used")
    assert frame_rate(stacks[0], 25.0) == (25, None)


def test_cancel_leaves_nothing(demo_study: Path, tmp_path: Path) -> None:
    stacks = index_paths([demo_study]).all_stacks()
    us = stacks[_stack_number(demo_study, demo.US_FRAMES)]
    seen: list[int] = []
    for call in (
        lambda: export_video(us, tmp_path / "a.gif", [demo_study], FrameLook(),
                             progress=lambda d, t: seen.append(d), cancel=lambda: len(seen) > 2),
        lambda: export_png([("us", us, "")], tmp_path / "png", [demo_study], FrameLook(),
                           progress=lambda d, t: seen.append(d), cancel=lambda: len(seen) > 2),
    ):  # fmt: skip
        seen.clear()
        with pytest.raises(ExportCancelled):
            call()
    assert list(tmp_path.iterdir()) == []
