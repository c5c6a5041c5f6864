"""3D timings (issue 19) on the first 300 slices of the 512x512 bench volume, rendered at
512x512 offscreen (absent without the [3d] extra).

The volume is already in memory (as when the MPR has loaded it). ``vr_first_frame_ms`` is the
time from making the engine (VTK images, mappers, offscreen EGL window, the level-of-detail
copy) to the first frame (CT Bone), which the 3D view draws from the coarse copy (every second
voxel) without shading, so that no gradient pass comes before it; ``vr_refined_ms`` is the
time from the same start to the first full-resolution shaded frame, after the coarse copy's
shaded frame (the gradient passes of both). ``vr_interactive_ms`` are the frames while rotating (the
coarse copy, 2 x 2 pixels a ray), ``vr_full_ms`` full-quality shaded frames and ``vr_mip_ms``
full-quality MIPs (CPU shear-warp projection, viewer.model.volume3d.projection), each at a new
camera angle; ``vr_mip_interactive_ms`` MIPs while rotating (the coarse copy). VTK's CPU
fixed-point ray caster draws the shaded keys; where the OpenGL renderer is a hardware GPU the
GPU ray caster gives ``vr_gpu_*`` beside them. The renderers are named in the log.
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
    voxels = np.ascontiguousarray(np.load(volume_path, mmap_mode=None)[:VR_SLICES])
    from viewer.model import mpr

    mpr.warm_up(voxels.dtype)  # the MIP's kernels, as the 3D view warms them while it starts
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
        engine.render(preview=True, flat=True)  # as the 3D view: coarse, unshaded...
        first = [time.perf_counter() - started]
        engine.render(preview=True)  # ... coarse, shaded...
        engine.render()  # ... then the full volume
        refined = [time.perf_counter() - started]
        renderer = engine.renderer_name()
        log(
            f"3D: {engine.mapper_name} on {renderer} (MIP: CPU shear-warp projection), "
            f"{voxels.shape[::-1]} voxels at {size}, first frame from "
            f"{'the coarse copy' if engine.has_preview else 'the full volume'}"
        )
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
            "vr_refined_ms": milliseconds(refined),
            "vr_interactive_ms": milliseconds(frames(bone, True)),
            "vr_full_ms": milliseconds(frames(bone, False)),
            "vr_mip_ms": milliseconds(frames(mip, False)),
            "vr_mip_interactive_ms": milliseconds(frames(mip, True)),
        }
        if not gpu and not is_software_renderer(renderer):
            figures["_hardware"] = Figure.of([1.0], "")
        return figures
    finally:
        engine.close()
