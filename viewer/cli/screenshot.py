"""``dicom-viewer screenshot OUT.png [--layout single|mpr|3d] [--size WxH] [--series UID]
[--stack K] [--frame N] [--view V] [--preset NAME] [--blend MODE] [PATH ...]``.

Without ``--series`` the window shows what it opens on (viewer.model.series_choice); with it,
that series. ``--stack K`` is a stack of the series shown (0-based, as ``inspect`` lists the
series' stacks), ``--frame N`` a frame of that stack (0-based; default the middle one).
"""

from __future__ import annotations

import argparse

from viewer.cli.arguments import zero_based
from viewer.core.display import display_problem
from viewer.core.errors import EXIT_FAILED, EXIT_USAGE, report

HELP = "open PATHs (or the demo) in the real main window, save it as OUT.png and exit"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("output", metavar="OUT.png")
    parser.add_argument("paths", nargs="*", metavar="PATH")
    parser.add_argument("--layout", choices=("single", "mpr", "3d"), default="single")
    parser.add_argument("--size", default="1400x900", help="window size WxH (default 1400x900)")
    parser.add_argument("--series", metavar="UID", help="show this Series Instance UID")
    parser.add_argument(
        "--stack",
        type=zero_based("stack"),
        metavar="K",
        help="stack K of the series shown (0-based, as inspect lists its stacks)",
    )
    parser.add_argument(
        "--frame",
        type=zero_based("frame"),
        metavar="N",
        help="frame N of that stack (0-based; default the middle one)",
    )
    three_d = parser.add_argument_group("3D layout (--layout 3d)")
    three_d.add_argument(
        "--view",
        choices=("A", "P", "L", "R", "S", "I"),
        default="A",
        help="look from anterior, posterior, left, right, superior or inferior (default A)",
    )
    three_d.add_argument(
        "--preset",
        default="",
        help="volume rendering preset, e.g. 'CT Bone' (default: the modality's first)",
    )
    three_d.add_argument(
        "--blend",
        choices=("composite", "mip", "minip"),
        default="",
        help="composite (shaded volume rendering), MIP or MinIP (default: the preset's)",
    )


def parse_size(text: str) -> tuple[int, int] | None:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        return None
    return (width, height) if width > 0 and height > 0 else None


def run(args: argparse.Namespace) -> int:
    size = parse_size(args.size)
    if size is None:
        report(f"--size must look like 1400x900, not {args.size!r}")
        return EXIT_USAGE
    problem = display_problem()
    if problem:
        report(problem)
        return EXIT_FAILED
    from viewer.model.volume3d.scene import PRESETS_BY_NAME

    if args.preset and args.preset not in PRESETS_BY_NAME:
        report(f"--preset must be one of {', '.join(PRESETS_BY_NAME)}, not {args.preset!r}")
        return EXIT_USAGE
    from viewer.qt.app import ThreeDOptions, take_screenshot

    target = (args.series, args.stack, args.frame)
    options = ThreeDOptions(args.view, args.preset, args.blend)
    return take_screenshot(args.output, list(args.paths), args.layout, size, target, options)
