"""3D timings (issue 19): VTK's ray casters on the first 300 slices of the 512x512 bench volume,
rendered at 512x512 offscreen (absent without the [3d] extra).

The volume is already in memory (as when the MPR has loaded it): ``vr_first_frame_ms`` is the
time from making the engine (VTK image, mapper, offscreen EGL window) to the first full-quality
shaded frame, which includes the CPU mapper's gradient pass. ``vr_interactive_ms`` are the
frames while rotating (2 x 2 pixels a ray, two-voxel steps), ``vr_full_ms`` full-quality shaded
frames (CT Bone) and ``vr_mip_ms`` full-quality MIPs, each at a new camera angle. The CPU
fixed-point ray caster gives the ``vr_*`` keys; where the OpenGL renderer is a hardware GPU the
GPU ray caster gives ``vr_gpu_*`` beside them. The renderer is named in the log.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from viewer.bench.mpr import _affine
from viewer.bench.sizes import BenchSizes
from viewer.bench.stats import Figure, milliseconds

Log = Callable[[str], None]
VR_SLICES = 300
VR_SIZE = (512, 512)
#: The quick (CI) suite renders smaller.
QUICK_SIZE = (128, 128)
#: Degrees between successive camera angles.
STEP_DEG = 7.0


def measure_vr(volume_path: Path, sizes: BenchSizes, log: Log) -> dict[str, Figure]:
    from viewer.model.volume3d.engine import vtk_problem

    problem = vtk_problem()
    if problem:
        log(problem)
        return {}
    voxels = np.load(volume_path, mmap_mode=None)[:VR_SLICES]
    affine = _affine(voxels.shape)
    figures = _measure(voxels, affine, False, sizes, log)
    if figures.pop("_hardware", None) is not None:
        gpu = _measure(voxels, affine, True, sizes, log)
        gpu.pop("_hardware", None)
        figures.update({key.replace("vr_", "vr_gpu_", 1): value for key, value in gpu.items()})
    return figures


def _measure(
    voxels: np.ndarray, affine: np.ndarray, gpu: bool, sizes: BenchSizes, log: Log
) -> dict[str, Figure]:
    from viewer.model.volume3d.engine import VolumeEngine
    from viewer.model.volume3d.scene import (
        PRESETS_BY_NAME,
        BlendMode,
        Scene,
        StandardView,
        standard_camera,
    )
    from viewer.model.window_level import Voi
    from viewer.qt.gpu import is_software_renderer

    bone = Scene(PRESETS_BY_NAME["CT Bone"], Voi(-200, 1200))
    mip = Scene(PRESETS_BY_NAME["CT Bone"], Voi(-200, 1200), BlendMode.MIP)
    started = time.perf_counter()
    size = VR_SIZE if sizes.name == "bench" else QUICK_SIZE
    engine = VolumeEngine(voxels, affine, size=size, gpu=gpu)
    try:
        start = standard_camera(StandardView.ANTERIOR, engine.bounds())
        engine.set_scene(bone)
        engine.set_camera(start)
        engine.render()
        first = [time.perf_counter() - started]
        renderer = engine.renderer_name()
        log(f"3D: {engine.mapper_name} on {renderer}, {voxels.shape[::-1]} voxels at {size}")
        steps = max(3, sizes.gui_steps // 4)
        angle = [0.0]

        def frames(scene: Scene, interactive: bool) -> list[float]:
            engine.set_scene(scene)
            engine.set_interactive(interactive)
            samples = []
            for _ in range(steps + 1):
                angle[0] += STEP_DEG
                engine.set_camera(start.rotated(angle[0], 0.3 * angle[0]))
                began = time.perf_counter()
                engine.render()
                samples.append(time.perf_counter() - began)
            return samples[1:]  # the first after a scene change builds its tables

        figures = {
            "vr_first_frame_ms": milliseconds(first),
            "vr_interactive_ms": milliseconds(frames(bone, True)),
            "vr_full_ms": milliseconds(frames(bone, False)),
            "vr_mip_ms": milliseconds(frames(mip, False)),
        }
        if not gpu and not is_software_renderer(renderer):
            figures["_hardware"] = Figure.of([1.0], "")
        return figures
    finally:
        engine.close()
