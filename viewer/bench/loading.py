"""Loading a CT series into a volume, series discovery included, against SimpleITK.

Ours: index the folder (viewer.dicom.io.indexer), take its stack,
viewer.dicom.pixels.volume.load_volume.
SimpleITK: ImageSeriesReader.GetGDCMSeriesFileNames on the folder, then Execute. The two run
alternately on the same files, so a noisy machine slows both alike.

Whole process (``load_whole_process_s``, issue 13 item 10): interpreter start to .npz written,
``python -m viewer volume FOLDER OUT.npz`` against the same work as a SimpleITK script
(:mod:`viewer.bench.sitk_volume`, run as a file). Both run with bytecode written to a private
cache (as after ``pip install``, whatever PYTHONDONTWRITEBYTECODE says), after a warm-up.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from viewer.bench.sizes import BenchSizes
from viewer.bench.stats import Figure, interleaved_rates, interleaved_runs

#: The SimpleITK script of the whole-process comparison.
SITK_VOLUME_SCRIPT = Path(__file__).with_name("sitk_volume.py")
#: Seconds one whole-process run may take before the bench gives up on it.
WHOLE_PROCESS_TIMEOUT_S = 600

Log = Callable[[str], None]


def has_simpleitk() -> bool:
    return importlib.util.find_spec("SimpleITK") is not None


def load_with_viewer(folder: Path) -> int:
    """Slices in the volume loaded from the one stack found in ``folder``."""
    from viewer.dicom.io.indexer import index_paths
    from viewer.dicom.pixels.volume import load_volume

    stacks = index_paths([str(folder)]).all_stacks()
    if len(stacks) != 1:
        raise RuntimeError(f"expected one stack in {folder}, found {len(stacks)}")
    return int(load_volume(stacks[0]).voxels.shape[0])


def load_with_simpleitk(folder: Path) -> int:
    """Slices in SimpleITK's image of the series it discovers in ``folder``."""
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    return int(reader.Execute().GetSize()[2])


def measure_loading(
    folders: dict[str, Path], slices: int, sizes: BenchSizes, log: Log
) -> dict[str, Figure]:
    """load_slices_per_s.<encoding> and load_simpleitk_slices_per_s.<encoding>."""
    figures: dict[str, Figure] = {}
    for encoding, folder in folders.items():
        log(f"loading {encoding}")
        try:
            figures.update(_measure_one(encoding, folder, slices, sizes))
        except Exception as error:  # one codec failing must not hide the others
            log(f"loading {encoding} failed: {type(error).__name__}: {error}")
    return figures


def _measure_one(encoding: str, folder: Path, slices: int, sizes: BenchSizes) -> dict[str, Figure]:
    counters = {f"load_slices_per_s.{encoding}": lambda: load_with_viewer(folder)}
    if has_simpleitk():
        counters[f"load_simpleitk_slices_per_s.{encoding}"] = lambda: load_with_simpleitk(folder)
    return interleaved_rates(counters, slices, "slices/s", sizes.runs, sizes.warmups)


def measure_whole_process(
    folders: dict[str, Path], sizes: BenchSizes, log: Log
) -> dict[str, Figure]:
    """load_whole_process_s.<encoding> (ours) and load_whole_process_simpleitk_s.<encoding>."""
    figures: dict[str, Figure] = {}
    with tempfile.TemporaryDirectory(prefix="dicom-viewer-bench-") as scratch:
        env = {**os.environ, "PYTHONPYCACHEPREFIX": os.path.join(scratch, "pycache")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        out = os.path.join(scratch, "out.npz")
        for encoding, folder in folders.items():
            log(f"whole-process volume {encoding}")
            commands = [[sys.executable, "-m", "viewer", "volume", str(folder), out]]
            if has_simpleitk():
                commands.append([sys.executable, str(SITK_VOLUME_SCRIPT), str(folder), out])
            try:
                samples = interleaved_runs(
                    [_process(command, env) for command in commands],
                    sizes.runs,
                    max(1, sizes.warmups),
                )
            except (OSError, subprocess.SubprocessError) as error:
                log(f"whole-process volume {encoding} failed: {error}")
                continue
            names = ("load_whole_process_s", "load_whole_process_simpleitk_s")
            for name, durations in zip(names, samples, strict=False):
                figures[f"{name}.{encoding}"] = Figure.of(durations, "s")
    return figures


def _process(command: Sequence[str], env: dict[str, str]) -> Callable[[], None]:
    def run() -> None:
        subprocess.run(
            command,
            env=env,
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=WHOLE_PROCESS_TIMEOUT_S,
        )

    return run
