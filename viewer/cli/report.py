"""``dicom-viewer report FILE [--json]``: what a structured report (TID 1500 or any other SR),
a presentation state or a key object selection says, headless: an SR's measurements (with
the image and graphic each references) and texts, a presentation state's graphics, texts and
window, a KO's image references (viewer.model.annotations.dicom_objects.read_report). No Qt.
"""

from __future__ import annotations

import argparse
import json

from viewer.cli.native_stderr import quiet_native_stderr
from viewer.core.errors import EXIT_FAILED, EXIT_OK, report
from viewer.dicom import reasons

HELP = "show the measurements and text of an SR, the graphics of a GSPS, the images of a KO"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")


def run(args: argparse.Namespace) -> int:
    try:
        with quiet_native_stderr():
            return _run(args)
    except Exception as error:  # fault boundary: one line, never a traceback
        report(f"report failed: {reasons.explain(error)}")
        return EXIT_FAILED


def _run(args: argparse.Namespace) -> int:
    from pydicom import dcmread

    from viewer.model.annotations.dicom_objects import read_report

    try:
        ds = dcmread(args.file)
    except Exception as error:
        report(f"cannot read {args.file}: {reasons.explain(error)}")
        return EXIT_FAILED
    try:
        found = read_report(ds)
    except ValueError as error:
        report(f"{args.file}: {error}")
        return EXIT_FAILED
    if args.json:
        print(json.dumps(found.as_json()))
        return EXIT_OK
    print(f"{found.kind}: {found.title or found.label}".rstrip(": "))
    for value in found.values:
        what = f"{value.name} ({value.derivation})" if value.derivation else value.name
        what = f"{value.group}: {what}" if value.group else what  # its measurement group
        where = (
            f" on {value.sop_instance_uid} frame {value.frame + 1}"
            if value.sop_instance_uid
            else ""
        )
        print(f"  {what}: {value.value:.6g} {value.unit}{where}")
    for name, text in found.texts:
        print(f"  {name}: {text}")
    for graphic in found.graphics:
        text = f" {graphic.text!r}" if graphic.text else ""
        print(
            f"  {graphic.graphic_type}{text} {len(graphic.points)} point(s) on "
            f"{graphic.sop_instance_uid}"
        )
    if found.window is not None:
        print(f"  window: centre {found.window[0]:g} width {found.window[1]:g}")
    if found.kind == "KO":
        for uid, frame in found.references:
            print(f"  key image {uid} frame {frame + 1}")
    return EXIT_OK
