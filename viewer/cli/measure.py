"""``dicom-viewer measure FILE (--line | --ellipse | --rect | --polygon ...)``: the numbers the
GUI shows for one shape, headless.

Coordinates are pixel columns and rows, 0-based, at pixel centres (the pixel (0, 0) is at
0 0). ``--rect X Y W H`` covers the W x H pixels from pixel (X, Y); ``--ellipse CX CY RX RY``
is centred on (CX, CY) with radii in pixels. A pixel belongs to a region when its centre is
inside (viewer.model.annotations.measure). ``--sr OUT.dcm`` also writes the measurement as a
TID 1500 Comprehensive 3D SR referencing the image (never into the image's folder). No Qt.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from viewer.cli.arguments import zero_based
from viewer.cli.native_stderr import quiet_native_stderr
from viewer.core.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, report
from viewer.dicom import reasons

HELP = "measure a line or a region of one image (statistics in modality units), optionally as SR"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--frame", type=zero_based("frame"), default=0, metavar="N")
    shape = parser.add_mutually_exclusive_group(required=True)
    shape.add_argument("--line", nargs=4, type=float, metavar=("X1", "Y1", "X2", "Y2"))
    shape.add_argument("--ellipse", nargs=4, type=float, metavar=("CX", "CY", "RX", "RY"))
    shape.add_argument("--rect", nargs=4, type=float, metavar=("X", "Y", "W", "H"))
    shape.add_argument("--polygon", nargs="+", type=float, metavar="X1 Y1 X2 Y2")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--sr", metavar="OUT.dcm", help="also write a TID 1500 SR")


def shape_points(args: argparse.Namespace) -> tuple[str, tuple[tuple[float, float], ...]] | str:
    """(kind, image points) from the arguments (pixel centres -> image coordinates, where
    pixel (0, 0) spans [0, 1)), or why they make no shape."""
    half = 0.5
    if args.line is not None:
        x1, y1, x2, y2 = args.line
        return "length", ((x1 + half, y1 + half), (x2 + half, y2 + half))
    if args.ellipse is not None:
        cx, cy, rx, ry = args.ellipse
        if rx <= 0 or ry <= 0:
            return "--ellipse radii must be positive"
        cx, cy = cx + half, cy + half
        return "ellipse", ((cx - rx, cy - ry), (cx + rx, cy + ry))
    if args.rect is not None:
        x, y, w, h = args.rect
        if w <= 0 or h <= 0:
            return "--rect width and height must be positive"
        return "rectangle", ((x, y), (x + w, y + h))
    values = args.polygon
    if len(values) < 6 or len(values) % 2:
        return "--polygon needs at least three X Y pairs"
    return "polygon", tuple(
        (values[i] + half, values[i + 1] + half) for i in range(0, len(values), 2)
    )


def run(args: argparse.Namespace) -> int:
    shape = shape_points(args)
    if isinstance(shape, str):
        report(shape)
        return EXIT_USAGE
    if args.sr is not None and _inside_source_folder(args.sr, args.file):
        report("--sr: not writing into the image's own folder; choose another one")
        return EXIT_USAGE
    try:
        with quiet_native_stderr():
            return _run(args, *shape)
    except Exception as error:  # fault boundary: one line, never a traceback
        report(f"measure failed: {reasons.explain(error)}")
        return EXIT_FAILED


def _inside_source_folder(out: str, source: str) -> bool:
    folder = os.path.dirname(os.path.abspath(source))
    return os.path.dirname(os.path.abspath(out)) == folder


def _run(args: argparse.Namespace, kind: str, points: tuple[tuple[float, float], ...]) -> int:
    from pydicom import dcmread

    from viewer.dicom import decoding_stack
    from viewer.dicom.pixels.reading import read_frame
    from viewer.model.annotations.calibration import read_calibration
    from viewer.model.annotations.measure import measure
    from viewer.model.annotations.shapes import Annotation, ImageRef

    decoding_stack.load()
    try:
        header = dcmread(args.file, stop_before_pixels=True)
    except Exception as error:
        report(f"cannot read {args.file}: {reasons.explain(error)}")
        return EXIT_FAILED
    frames = int(header.get("NumberOfFrames", 1) or 1)
    if args.frame >= frames:
        report(f"--frame {args.frame}: the file has {frames} frame(s), counted from 0")
        return EXIT_USAGE
    frame = read_frame(args.file, args.frame)
    modality = str(header.get("Modality", "") or "")
    image = ImageRef(args.file, args.frame, str(header.get("SOPInstanceUID", "")))
    annotation = Annotation(kind, points, image)
    measured = measure(annotation, read_calibration(header), frame, modality)
    result = measurement_json(measured)
    if args.sr is not None:
        from viewer.model.annotations.dicom_objects import measurement_report

        measurement_report([(annotation, measured)], {args.file: header}, modality).save_as(
            args.sr, enforce_file_format=True
        )
        result["sr"] = os.path.abspath(args.sr)
    if args.json:
        print(json.dumps(result))
    else:
        print("\n".join(measured.lines))
        if args.sr is not None:
            print(f"SR written to {result['sr']}")
    return EXIT_OK


def measurement_json(measured: Any) -> dict[str, Any]:
    """The contract's JSON object for one measurement."""
    unit = measured.scale.unit
    result: dict[str, Any] = {"kind": measured.kind}
    values = measured.values
    if "length" in values:
        result[f"length_{unit}"] = values["length"]
    if "angle" in values:
        result["angle_deg"] = values["angle"]
    if "area" in values:
        result["area_mm2" if unit == "mm" else "area_px2"] = values["area"]
        result[f"perimeter_{unit}"] = values["perimeter"]
    stats = measured.stats
    if stats is not None:
        result.update(
            mean=stats.mean,
            sd=stats.sd,
            min=stats.min,
            max=stats.max,
            median=stats.median,
            pixels=stats.count,
        )
    result["unit"] = measured.value_unit
    result["calibration"] = measured.scale.note or ("Pixel Spacing" if unit == "mm" else "px")
    return result


if __name__ == "__main__":
    sys.exit(EXIT_USAGE)
