"""PNG per frame and video (or animated GIF/APNG) of a stack, as the viewer shows it.

Every frame goes through the one display pipeline, :func:`viewer.dicom.pixels.display.render_frame`
(Modality LUT, VOI: the window asked for or the file's, MONOCHROME1; PS3.3 C.11), at 1:1.
``overlays`` burns the frame's overlay planes (PS3.3 C.9.2) in white; ``corner_text`` writes
a small label (series, frame number and time; never a patient attribute) in the top-left
corner.

Video containers and codecs (chosen by OUT's suffix), all LGPL/BSD (see the README, Export):

* ``.mp4``: FFmpeg's own MPEG-4 Part 2 encoder (``mpeg4``, LGPL, part of libavcodec);
* ``.webm``: VP9 through libvpx (``libvpx-vp9``, BSD);
* ``.gif`` and ``.apng``: Pillow (no FFmpeg at all), the dependency-free fallback.

MP4 and WebM need PyAV (``pip install 'dicom-viewer[video]'``), which is optional: its PyPI
wheels link libavcodec against libx264 and libx265 (GPL-2.0+), so it is kept out of the
packaged app; this module never selects those encoders. The frame rate is the stack's (Frame
Time, Cine Rate or Recommended Display Frame Rate, PS3.3 C.7.6.5), else ``fps``.
No Qt.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from viewer.dicom.catalog.stack import Stack
from viewer.dicom.io.scan import Cancel, never_cancelled
from viewer.dicom.write.export import (
    ExportCancelled,
    ExportError,
    ExportResult,
    Progress,
    check_destination,
    staged_output,
)

#: OUT suffix -> (encoder, PyAV container format); None: written by Pillow.
VIDEO_CODECS: dict[str, tuple[str, str] | None] = {
    ".mp4": ("mpeg4", "mp4"),
    ".webm": ("libvpx-vp9", "webm"),
    ".gif": None,
    ".apng": None,
}
#: Frames per second of a stack that names no rate (slices, not a cine), unless ``fps`` is given.
DEFAULT_FPS = 10.0
#: MPEG-4 Part 2 bit rate per pixel per frame: visually lossless for 8-bit medical images.
BITS_PER_PIXEL = 1.5
NO_PYAV = (
    "MP4/WebM video needs PyAV (pip install 'dicom-viewer[video]'; left out of the packaged "
    "app because its wheels bundle GPL x264/x265): write OUT.gif or OUT.apng instead"
)


@dataclass(frozen=True, slots=True)
class FrameLook:
    """How frames are drawn: ``window`` (center, width) in modality values or the file's;
    ``overlays`` burnt in; ``corner_text``: the stack's label, frame number and time."""

    window: tuple[float, float] | None = None
    overlays: bool = False
    corner_text: bool = False
    #: (x, y, width, height) pixel rectangles drawn black, as ``--blackout`` writes them.
    blackout: tuple[tuple[int, int, int, int], ...] = ()


def frame_images(
    stack: Stack,
    look: FrameLook,
    label: str = "",
    cancel: Cancel = never_cancelled,
    start: int = 0,
) -> Iterator[NDArray[np.uint8]]:
    """Frames ``start``... of ``stack`` in stack order, as uint8 (rows, columns) or (rows,
    columns, 3); ``label`` (series, never a patient attribute) begins the corner text."""
    from viewer.dicom.pixels.display import render_frame

    for index, (path, frame) in enumerate(stack.sources[start:], start=start):
        if cancel():
            raise ExportCancelled("export cancelled")
        image = render_frame(path, frame, look.window)
        if look.overlays:
            image = burn_overlays(image, path, frame)
        if look.blackout:
            image = blacked_out(image, look.blackout)
        if look.corner_text:
            time = ""
            if stack.frame_time_ms:
                time = f"  {index * stack.frame_time_ms / 1000:.2f} s"
            image = corner_label(image, f"{label}  {index + 1}/{stack.frames}{time}".strip())
        yield image


def blacked_out(
    image: NDArray[np.uint8], rectangles: Sequence[tuple[int, int, int, int]]
) -> NDArray[np.uint8]:
    """``image`` with each (x, y, width, height) rectangle black (clipped to the image)."""
    out = np.array(image, copy=True)
    rows, columns = out.shape[:2]
    for x, y, width, height in rectangles:
        out[max(0, y) : min(rows, y + height), max(0, x) : min(columns, x + width)] = 0
    return out


def burn_overlays(image: NDArray[np.uint8], path: str, frame: int) -> NDArray[np.uint8]:
    """``image`` with the frame's overlay planes drawn in white (as the viewer shows them)."""
    from viewer.dicom.pixels.overlays import overlay_masks, place_on_image

    masks = overlay_masks(path, frame)
    if not masks:
        return image
    out = np.array(image, copy=True)
    rows, columns = out.shape[:2]
    for overlay in masks:
        out[place_on_image(overlay.mask, overlay.origin, rows, columns)] = 255
    return out


def corner_label(image: NDArray[np.uint8], text: str) -> NDArray[np.uint8]:
    """``text`` in white on a dark box in the top-left corner (Pillow's built-in font)."""
    from PIL import Image, ImageDraw

    picture = Image.fromarray(np.ascontiguousarray(image))
    draw = ImageDraw.Draw(picture)
    size = max(10, min(picture.width, picture.height) // 24)
    font: Any
    try:
        from PIL import ImageFont

        font = ImageFont.load_default(size=size)
    except (OSError, TypeError):
        font = None
    left, top, right, bottom = draw.textbbox((4, 4), text, font=font)
    dark = 0 if picture.mode == "L" else (0, 0, 0)
    light = 255 if picture.mode == "L" else (255, 255, 255)
    draw.rectangle((left - 2, top - 2, right + 2, bottom + 2), fill=dark)
    draw.text((4, 4), text, fill=light, font=font)
    return np.asarray(picture)


# ============================================================================================
# PNG
# ============================================================================================
def export_png(
    parts: Sequence[tuple[str, Stack, str]],
    out: str | Path,
    sources: Sequence[str | Path],
    look: FrameLook,
    progress: Progress | None = None,
    cancel: Cancel = never_cancelled,
) -> ExportResult:
    """Each (stem, stack, label) as ``OUT/STEM/0001.png`` ... (8-bit grey or RGB, 1:1, in
    stack order); a frame that cannot be decoded is a failure, the others are written."""
    from PIL import Image

    from viewer.dicom.pixels.decode import DecodeError

    target = check_destination(out, sources)
    result = ExportResult(target)
    total = sum(stack.frames for _, stack, _ in parts)
    done = 0
    with staged_output(target) as stage:
        for stem, stack, label in parts:
            folder = stage / stem
            folder.mkdir()
            digits = max(4, len(str(stack.frames)))
            frames = frame_images(stack, look, label, cancel)
            for index in range(stack.frames):
                try:
                    image = next(frames)
                except DecodeError as error:
                    result.failures.append((f"{stem} frame {index}", error.reason))
                    frames = frame_images(stack, look, label, cancel, index + 1)
                else:
                    name = folder / f"{index + 1:0{digits}d}.png"
                    Image.fromarray(np.ascontiguousarray(image)).save(name, format="PNG")
                    result.written += 1
                done += 1
                if progress is not None:
                    progress(done, total)
        if not result.written:
            raise ExportError("no frame could be written as PNG")
    return result


# ============================================================================================
# Video
# ============================================================================================
def frame_rate(stack: Stack, fps: float | None = None) -> tuple[Fraction, str | None]:
    """Frames per second (exact fraction) and a note when it is not the stack's own."""
    if fps is not None:
        return Fraction(fps).limit_denominator(1001), None
    if stack.frame_time_ms and stack.frame_time_ms > 0:
        return Fraction(1000.0 / stack.frame_time_ms).limit_denominator(1001), None
    return Fraction(DEFAULT_FPS), f"no frame rate in the files: {DEFAULT_FPS:g} frames/s used"


def video_suffix(out: str | Path) -> str:
    """OUT's suffix, or :class:`ExportError` naming the ones that are written."""
    suffix = Path(out).suffix.lower()
    if suffix not in VIDEO_CODECS:
        known = ", ".join(VIDEO_CODECS)
        raise ExportError(f"a video is written as {known}: {Path(out).name} has none of these")
    return suffix


def check_video_file(out: str | Path, sources: Sequence[str | Path]) -> Path:
    """``out`` resolved: a new file, not inside (or being) a folder the export reads."""
    target = Path(out).resolve()
    suffix = video_suffix(target)
    if target.exists():
        raise ExportError(f"{out} exists")
    if not target.parent.is_dir():
        raise ExportError(f"no such folder: {target.parent}")
    from viewer.dicom.write.export import source_folders

    for folder in source_folders(sources):
        if folder == target.parent or folder in target.parents:
            raise ExportError(f"will not write into a folder it reads: {out} is inside {folder}")
    if VIDEO_CODECS[suffix] is not None and not pyav_available():
        raise ExportError(NO_PYAV)
    return target


def pyav_available() -> bool:
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def export_video(
    stack: Stack,
    out: str | Path,
    sources: Sequence[str | Path],
    look: FrameLook,
    label: str = "",
    fps: float | None = None,
    progress: Progress | None = None,
    cancel: Cancel = never_cancelled,
) -> ExportResult:
    """``stack`` as one video file ``out`` (codec by suffix, :data:`VIDEO_CODECS`), written
    to a temporary sibling and renamed at the end (nothing is left on failure or cancel)."""
    target = check_video_file(out, sources)
    rate, note = frame_rate(stack, fps)
    result = ExportResult(target)
    if note:
        result.warnings.append(note)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}{target.suffix}")
    frames = frame_images(stack, look, label, cancel)

    def counted() -> Iterator[NDArray[np.uint8]]:
        for done, image in enumerate(frames, start=1):
            yield image
            if progress is not None:
                progress(done, stack.frames)

    try:
        codec = VIDEO_CODECS[target.suffix.lower()]
        if codec is None:
            result.written = _write_animation(counted(), partial, rate)
        else:
            result.written = _write_pyav(counted(), partial, rate, *codec)
        os.replace(partial, target)
    except ExportError:
        raise
    except Exception as error:
        from viewer.dicom.pixels.decode import DecodeError

        if isinstance(error, DecodeError):
            raise ExportError(f"cannot decode a frame: {error.reason}") from None
        raise ExportError(f"cannot write {target.name}: {error}") from None
    finally:
        partial.unlink(missing_ok=True)
    how = "Pillow" if codec is None else f"{codec[0]} in {codec[1].upper()}"
    result.summary = (
        f"{result.written} frame(s) at {float(rate):.4g} frames/s ({how}) written to {target}"
    )
    return result


def _even(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Pad to even rows and columns (4:2:0 chroma needs them) by repeating the last ones."""
    rows, columns = image.shape[:2]
    pad = ((0, rows % 2), (0, columns % 2)) + (((0, 0),) if image.ndim == 3 else ())
    return np.pad(image, pad, mode="edge") if rows % 2 or columns % 2 else image


def _write_pyav(
    frames: Iterator[NDArray[np.uint8]], path: Path, rate: Fraction, codec: str, container: str
) -> int:
    import av

    written = 0
    with av.open(os.fspath(path), mode="w", format=container) as output:
        stream: Any = None
        for image in frames:
            image = _even(image)
            if stream is None:
                stream = output.add_stream(codec, rate=rate)
                stream.height, stream.width = image.shape[:2]
                stream.pix_fmt = "yuv420p"
                if codec == "mpeg4":
                    stream.bit_rate = int(BITS_PER_PIXEL * image.shape[0] * image.shape[1] * rate)
                else:  # VP9: constant quality
                    stream.options = {"crf": "20", "b": "0", "row-mt": "1"}
            layout = "gray" if image.ndim == 2 else "rgb24"
            picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format=layout)
            for packet in stream.encode(picture):
                output.mux(packet)
            written += 1
        if stream is None:
            raise ExportError("the stack has no frames")
        for packet in stream.encode():
            output.mux(packet)
    return written


def _write_animation(frames: Iterator[NDArray[np.uint8]], path: Path, rate: Fraction) -> int:
    """Animated GIF or APNG through Pillow; each frame shown 1/rate s (GIF: 10 ms steps)."""
    from PIL import Image

    pictures = [Image.fromarray(np.ascontiguousarray(image)) for image in frames]
    if not pictures:
        raise ExportError("the stack has no frames")
    duration = float(1000 / rate)
    first, rest = pictures[0], pictures[1:]
    if path.suffix.lower() == ".gif":
        first.save(path, format="GIF", save_all=True, append_images=rest,
                   duration=round(duration / 10) * 10, loop=0)  # fmt: skip
    else:
        first.save(path, format="PNG", save_all=True, append_images=rest,
                   duration=duration, loop=0, default_image=False)  # fmt: skip
    return len(pictures)
