"""Child process of the memory measurement: load the CT series and report memory (JSON).

Run as ``python -m viewer.bench.memory_probe FOLDER``. Prints one JSON object: peak RSS of this
process while it holds the volume, the RSS before loading (the baseline: imports, the index
and one decoded frame, so the decoder libraries are loaded), the voxel bytes, and the peak
RSS of any worker processes, all in MiB.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from pathlib import Path

MIB = 1024 * 1024


def current_rss_mib() -> float:
    """Resident set size now (Linux /proc; elsewhere the peak so far)."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / MIB
    except (OSError, ValueError, IndexError):
        return peak_rss_mib(resource.RUSAGE_SELF)


def peak_rss_mib(who: int) -> float:
    """ru_maxrss in MiB (kilobytes on Linux, bytes on macOS).

    For this process prefer :func:`own_peak_rss_mib`: Linux carries ru_maxrss across exec, so
    a child started from a big parent reports at least the parent's size.
    """
    peak = resource.getrusage(who).ru_maxrss
    return peak / MIB if sys.platform == "darwin" else peak / 1024


def own_peak_rss_mib() -> float:
    """Peak RSS of this process image: VmHWM (reset by exec) where /proc has it."""
    peak = _vm_hwm_mib("self")
    return peak if peak > 0 else peak_rss_mib(resource.RUSAGE_SELF)


def live_children_peak_mib() -> float:
    """Largest VmHWM of this process's live children (worker pools), Linux only."""
    peaks = [0.0]
    for task in Path("/proc/self/task").glob("*/children"):
        try:
            pids = task.read_text().split()
        except OSError:
            continue
        for pid in pids:
            peaks.append(_vm_hwm_mib(pid))
    return max(peaks)


def _vm_hwm_mib(pid: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def main(folder: str) -> dict[str, float]:
    from viewer.dicom.io.indexer import index_paths
    from viewer.dicom.pixels.reading import read_frame
    from viewer.dicom.pixels.volume import load_volume

    stack = index_paths([folder]).all_stacks()[0]
    read_frame(*stack.sources[0])  # the decoders are part of the application's baseline
    baseline = current_rss_mib()
    volume = load_volume(stack)
    volume.voxels.max()  # touch every page: workers may have filled shared memory unseen
    children = live_children_peak_mib() or peak_rss_mib(resource.RUSAGE_CHILDREN)
    return {
        "peak_rss_mb": own_peak_rss_mib(),
        "baseline_rss_mb": baseline,
        "voxel_mb": volume.voxels.nbytes / MIB,
        "children_peak_rss_mb": children,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
