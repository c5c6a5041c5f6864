"""Loading a CT series into a volume, series discovery included, against SimpleITK.

Ours: index the folder (viewer.dicom.io.indexer), take its stack,
viewer.dicom.pixels.volume.load_volume.
SimpleITK: ImageSeriesReader.GetGDCMSeriesFileNames on the folder, then Execute. The two run
alternately on the same files, so a noisy machine slows both alike.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

from viewer.bench.sizes import BenchSizes
from viewer.bench.stats import Figure, interleaved_runs, rate

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
    loaders: list[Callable[[Path], int]] = [load_with_viewer]
    if has_simpleitk():
        loaders.append(load_with_simpleitk)
    counts: dict[int, int] = {}

    def runner(index: int) -> Callable[[], None]:
        def run() -> None:
            counts[index] = loaders[index](folder)

        return run

    samples = interleaved_runs([runner(i) for i in range(len(loaders))], sizes.runs, sizes.warmups)
    if any(count != slices for count in counts.values()):
        raise RuntimeError(f"slices loaded {sorted(counts.values())}, expected {slices}")
    names = ("load_slices_per_s", "load_simpleitk_slices_per_s")
    return {
        f"{name}.{encoding}": rate(slices, durations, "slices/s")
        for name, durations in zip(names, samples, strict=False)
    }
