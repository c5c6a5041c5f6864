"""``dicom-viewer render FILE OUT.png [--frame N] [--window CENTER WIDTH]``.

Writes one frame as an 8-bit PNG at 1:1, exactly as the viewer shows it without overlays
(viewer.dicom.pixels.display: Modality LUT, VOI, MONOCHROME1): grayscale PNG for monochrome, RGB for
colour and palette colour. No Qt.
"""

from __future__ import annotations

import argparse

from viewer.cli.arguments import zero_based
from viewer.cli.native_stderr import quiet_native_stderr
from viewer.core.errors import EXIT_FAILED, EXIT_OK, report
from viewer.dicom import reasons

HELP = "write one frame as an 8-bit PNG at 1:1, as the viewer shows it (no overlays)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="a DICOM file with pixel data")
    parser.add_argument("out", metavar="OUT.png", help="the PNG to write")
    parser.add_argument(
        "--frame",
        type=zero_based("frame"),
        default=0,
        metavar="N",
        help="0-based frame of a multi-frame image (default 0)",
    )
    parser.add_argument(
        "--window",
        nargs=2,
        type=float,
        metavar=("CENTER", "WIDTH"),
        help="VOI window in modality values, e.g. 40 400 (default: the file's first window,"
        " else its VOI LUT, else the frame's min-max)",
    )


def run(args: argparse.Namespace) -> int:
    # Imported here so that building the CLI parser stays cheap.
    import numpy as np
    from PIL import Image

    from viewer.dicom.pixels.decode import DecodeError
    from viewer.dicom.pixels.display import render_frame

    window = (args.window[0], args.window[1]) if args.window else None
    try:
        with quiet_native_stderr():
            image = render_frame(args.file, args.frame, window)
    except DecodeError as error:
        report(f"cannot render {error.path}: {error.reason}")
        return EXIT_FAILED
    except Exception as error:  # fault boundary: a bug must not print a traceback either
        report(f"cannot render {args.file}: {reasons.explain(error)}")
        return EXIT_FAILED
    try:
        # uint8 (rows, cols) -> mode L, uint8 (rows, cols, 3) -> mode RGB.
        Image.fromarray(np.ascontiguousarray(image)).save(args.out, format="PNG")
    except (OSError, ValueError) as error:
        report(f"cannot write {args.out}: {error}")
        return EXIT_FAILED
    return EXIT_OK
