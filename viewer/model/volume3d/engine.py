"""The 3D engine: VTK's ray casters drawing a :class:`~viewer.model.volume3d.scene.Scene`.

VTK (BSD-3-Clause) is the optional extra ``.[3d]``; :func:`vtk_problem` says why 3D is
unavailable when it is missing. Nothing here imports Qt: the engine renders into an offscreen
render window (EGL on Linux, which needs no display server; the platform's own window
elsewhere) and hands back RGB pixels, so the same code serves the Qt view, the headless
``screenshot --layout 3d`` and the tests.

Mappers: ``vtkGPUVolumeRayCastMapper`` where a hardware OpenGL exists, else
``vtkFixedPointVolumeRayCastMapper``, VTK's multi-threaded CPU ray caster (on Mesa's llvmpipe
the GPU mapper is slower than it for shaded rendering). The caller picks (the Rendering
setting, see viewer.qt.gpu).

Memory: the voxels are handed to VTK without a copy (``numpy_to_vtk(deep=False)``) in their
stored dtype; the engine keeps a reference so they outlive it. Transfer functions are mapped to
stored values (no float copy of the volume).

MIP and MinIP do not use VTK's ray casters: they are projected on the CPU by shear-warp
(viewer.model.volume3d.projection), which reads each voxel once; VTK then draws only the
orientation cube and the crosshair over that picture. Clipping that is not aligned with the
voxel grid (an oblique stack's clip box or cut planes) falls back to VTK's ray caster.

Level of detail: volumes above :data:`LOD_MIN_VOXELS` get a coarse copy (every second voxel
along each axis, stored dtype, about 1/8 of the memory) with its own VTK mapper. Frames while
the user drags come from it (one ray per 2 x 2 pixels, one coarse voxel a step), and so does
the first frame (:meth:`VolumeEngine.render` with ``preview``), which therefore needs the CPU
mapper's gradient pass over the coarse copy only; the full-resolution volume's gradient pass
runs when the first full-quality frame is asked for. Full quality is one ray per pixel at one
voxel's step on the full-resolution volume.

An engine belongs to the thread that made it (its OpenGL context is current there): make it
and use it on one thread.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from viewer.model.volume3d.projection import Crop, clip_planes, index_crop
from viewer.model.volume3d.scene import (
    LOD_MIN_VOXELS,
    BlendMode,
    Camera,
    Scene,
    TransferFunction,
    placement,
)

log = logging.getLogger(__name__)

#: What to install when VTK is missing (README: Set-up).
INSTALL_HINT = "pip install 'dicom-viewer[3d]'"
#: Interactive (while dragging): one ray per this many pixels along each side...
INTERACTIVE_IMAGE_SAMPLE = 2.0
#: ... and a sample step of this many (smallest) voxel spacings.
INTERACTIVE_SAMPLE_VOXELS = 2.0
#: Full quality: a sample step of this many voxel spacings.
FULL_SAMPLE_VOXELS = 1.0
#: While dragging the coarse copy (scene.LOD_MIN_VOXELS) is sampled at this many of its own
#: voxels a step.
LOD_SAMPLE_VOXELS = 1.0
#: Orientation cube: its viewport is this fraction of the view's smaller side (bottom left).
CUBE_FRACTION = 0.16
#: The crosshair marker's colours, as the MPR views' frames (axial, coronal, sagittal normal).
CROSSHAIR_COLOURS = ((1.0, 0.35, 0.35), (0.35, 0.82, 0.35), (0.94, 0.8, 0.24))
#: A click in 3D (composite) picks the first sample at least this opaque along its ray.
PICK_OPACITY = 0.15


@dataclass(frozen=True, slots=True)
class _Level:
    """One resolution of the volume in VTK: its voxels, image, mapper and prop."""

    voxels: NDArray[Any]
    image: Any
    scalars: Any
    mapper: Any
    volume: Any
    min_spacing: float


@functools.cache
def vtk_problem() -> str | None:
    """None when VTK's volume rendering can be imported, else a one-line reason."""
    try:
        import vtkmodules.vtkRenderingVolume
        import vtkmodules.vtkRenderingVolumeOpenGL2  # noqa: F401
    except ImportError as error:
        return f"3D needs VTK, which is not installed ({INSTALL_HINT}): {error}"
    return None


def vtk_version() -> str:
    from vtkmodules.vtkCommonCore import vtkVersion

    return str(vtkVersion.GetVTKVersion())


def _offscreen_window() -> Any:
    """An offscreen render window that needs no display: EGL on Linux (Mesa's surfaceless or
    a GPU's device platform), the platform's own window elsewhere."""
    import vtkmodules.vtkRenderingOpenGL2 as gl
    from vtkmodules.vtkRenderingCore import vtkRenderWindow

    window: Any
    if sys.platform.startswith("linux") and hasattr(gl, "vtkEGLRenderWindow"):
        window = gl.vtkEGLRenderWindow()
    else:
        window = vtkRenderWindow()
    window.SetOffScreenRendering(1)
    window.SetMultiSamples(0)
    return window


class VolumeEngine:
    """One volume in one offscreen window: set a scene and a camera, then :meth:`render`."""

    def __init__(
        self,
        voxels: NDArray[Any],
        affine: NDArray[np.float64],
        rescale: tuple[float, float] = (1.0, 0.0),
        size: tuple[int, int] = (512, 512),
        gpu: bool = False,
        window: Any = None,
    ) -> None:
        problem = vtk_problem()
        if problem:
            raise RuntimeError(problem)
        if voxels.ndim != 3:
            raise ValueError("a volume is (frames, rows, columns)")
        from vtkmodules.vtkCommonDataModel import vtkPiecewiseFunction
        from vtkmodules.vtkRenderingCore import (
            vtkColorTransferFunction,
            vtkRenderer,
            vtkVolumeProperty,
        )

        self._voxels = np.ascontiguousarray(voxels)  # VTK reads this memory: keep it alive
        self.affine = np.asarray(affine, float)
        self.rescale = rescale
        self.gpu = gpu
        place = placement(self.affine)
        self.spacing = place.spacing
        self._matrix = place.matrix
        self.colour = vtkColorTransferFunction()
        self.opacity = vtkPiecewiseFunction()
        self.property = vtkVolumeProperty()
        self.property.SetColor(self.colour)
        self.property.SetScalarOpacity(self.opacity)
        self.property.SetInterpolationTypeToLinear()
        self._full = self._make_level(self._voxels, place.spacing)
        self._image, self.mapper, self.volume = (
            self._full.image,
            self._full.mapper,
            self._full.volume,
        )
        self._coarse: _Level | None = None
        if self._voxels.size > LOD_MIN_VOXELS and min(self._voxels.shape) >= 4:
            small = np.ascontiguousarray(self._voxels[::2, ::2, ::2])
            self._coarse = self._make_level(small, tuple(2.0 * v for v in place.spacing))
            self._coarse_affine = self.affine.copy()
            self._coarse_affine[:3, :3] *= 2.0
        self.full_ready = False  # the full-resolution mapper has drawn (its gradients exist)
        self.coarse_ready = False  # ... and the coarse copy's
        self.preview = False
        self.cpu_projection = False  # the last frame was a CPU MIP/MinIP
        self.renderer = vtkRenderer()
        self.renderer.SetBackground(0.0, 0.0, 0.0)
        for level in (self._full, self._coarse):
            if level is not None:
                self.renderer.AddVolume(level.volume)
        self.window = window if window is not None else _offscreen_window()
        self.window.AddRenderer(self.renderer)
        self.window.SetSize(*size)
        self._cube = self._make_cube()
        self._crosshair: list[Any] = []
        self.interactive = False
        self.scene: Scene | None = None
        self.camera: Camera | None = None
        self._transfer = TransferFunction(((0.0, (0.0, 0.0, 0.0)),), ((0.0, 0.0),))
        self._crop: Crop | None = None

    # --- set-up --------------------------------------------------------------------------
    def _make_level(self, voxels: NDArray[Any], spacing: Sequence[float]) -> _Level:
        """A VTK image over ``voxels`` (no copy) with its own mapper and volume prop."""
        from vtkmodules.util import numpy_support
        from vtkmodules.vtkCommonDataModel import vtkImageData
        from vtkmodules.vtkCommonMath import vtkMatrix4x4
        from vtkmodules.vtkRenderingCore import vtkVolume
        from vtkmodules.vtkRenderingVolume import (
            vtkFixedPointVolumeRayCastMapper,
            vtkGPUVolumeRayCastMapper,
        )

        frames, rows, columns = voxels.shape
        image = vtkImageData()
        image.SetDimensions(columns, rows, frames)  # x fastest: column, row, frame (C order)
        image.SetSpacing(*spacing)
        image.SetOrigin(0.0, 0.0, 0.0)
        scalars = numpy_support.numpy_to_vtk(voxels.reshape(-1), deep=False)
        image.GetPointData().SetScalars(scalars)
        mapper_class: Any = (
            vtkGPUVolumeRayCastMapper if self.gpu else vtkFixedPointVolumeRayCastMapper
        )
        mapper = mapper_class()
        mapper.SetInputData(image)
        mapper.SetAutoAdjustSampleDistances(0)
        if not self.gpu:
            mapper.SetNumberOfThreads(os.cpu_count() or 1)
        volume = vtkVolume()
        volume.SetMapper(mapper)
        volume.SetProperty(self.property)
        matrix = vtkMatrix4x4()
        for i in range(4):
            for j in range(4):
                matrix.SetElement(i, j, float(self._matrix[i, j]))
        volume.SetUserMatrix(matrix)
        return _Level(voxels, image, scalars, mapper, volume, float(min(spacing)))

    def _make_cube(self) -> Any:
        """The orientation cube: a second renderer in the bottom-left corner whose camera
        turns with the main one; faces named by patient direction (LPS axes)."""
        from vtkmodules.vtkRenderingAnnotation import vtkAnnotatedCubeActor
        from vtkmodules.vtkRenderingCore import vtkRenderer

        cube = vtkAnnotatedCubeActor()
        for face, text in (
            ("XPlus", "L"),
            ("XMinus", "R"),
            ("YPlus", "P"),
            ("YMinus", "A"),
            ("ZPlus", "S"),
            ("ZMinus", "I"),
        ):
            getattr(cube, f"Set{face}FaceText")(text)
        cube.SetFaceTextScale(0.65)
        cube.GetCubeProperty().SetColor(0.25, 0.32, 0.42)
        cube.GetTextEdgesProperty().SetColor(0.8, 0.8, 0.8)
        for face in ("X", "Y", "Z"):
            getattr(cube, f"Get{face}PlusFaceProperty")().SetColor(1.0, 1.0, 1.0)
            getattr(cube, f"Get{face}MinusFaceProperty")().SetColor(1.0, 1.0, 1.0)
        corner = vtkRenderer()
        corner.SetLayer(1)
        corner.InteractiveOff()
        corner.AddViewProp(cube)
        self.window.SetNumberOfLayers(2)
        self.window.AddRenderer(corner)
        self._corner = corner
        self._place_cube()
        return cube

    def _place_cube(self) -> None:
        width, height = self.window.GetSize()
        side = CUBE_FRACTION * min(width, height)
        self._corner.SetViewport(0.0, 0.0, side / max(width, 1), side / max(height, 1))

    def resize(self, size: tuple[int, int]) -> None:
        self.window.SetSize(max(1, size[0]), max(1, size[1]))
        self._place_cube()

    @property
    def size(self) -> tuple[int, int]:
        width, height = self.window.GetSize()
        return (int(width), int(height))

    # --- what is drawn -------------------------------------------------------------------
    def set_scene(self, scene: Scene) -> None:
        """Transfer function, blend mode, shading, clipping and the crosshair marker."""
        self.scene = scene
        slope, intercept = self.rescale
        transfer = scene.transfer().in_stored(slope, intercept)
        self.colour.RemoveAllPoints()
        for value, (red, green, blue) in transfer.colour:
            self.colour.AddRGBPoint(value, red, green, blue)
        self.opacity.RemoveAllPoints()
        for value, alpha in transfer.opacity:
            self.opacity.AddPoint(value, alpha)
        self._transfer = transfer
        mode = scene.blend_mode
        for level in self._levels():
            if mode is BlendMode.MIP:
                level.mapper.SetBlendModeToMaximumIntensity()
            elif mode is BlendMode.MINIP:
                level.mapper.SetBlendModeToMinimumIntensity()
            else:
                level.mapper.SetBlendModeToComposite()
        composite = mode is BlendMode.COMPOSITE
        self._crop = None if composite else index_crop(scene, self.affine, self._voxels.shape)
        shading = scene.preset.shading
        if mode is BlendMode.COMPOSITE and shading.on:
            self.property.ShadeOn()
            self.property.SetAmbient(shading.ambient)
            self.property.SetDiffuse(shading.diffuse)
            self.property.SetSpecular(shading.specular)
            self.property.SetSpecularPower(shading.specular_power)
        else:
            self.property.ShadeOff()
        self._set_clipping(scene)
        self._set_crosshair(scene)

    def _set_clipping(self, scene: Scene) -> None:
        from vtkmodules.vtkCommonDataModel import vtkPlane

        for level in self._levels():
            level.mapper.RemoveAllClippingPlanes()
            for point, direction in clip_planes(scene):
                cut = vtkPlane()  # VTK keeps what the normal points into
                cut.SetOrigin(*point)
                cut.SetNormal(*direction)
                level.mapper.AddClippingPlane(cut)

    def _set_crosshair(self, scene: Scene) -> None:
        from vtkmodules.vtkFiltersSources import vtkLineSource
        from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper

        for actor in self._crosshair:
            self.renderer.RemoveActor(actor)
        self._crosshair = []
        if scene.crosshair is None:
            return
        point = np.asarray(scene.crosshair, float)
        reach = 0.08 * float(np.linalg.norm(np.ptp(self.bounds(), axis=0)))
        for axis, colour in zip(range(3), CROSSHAIR_COLOURS, strict=True):
            step = np.zeros(3)
            step[2 - axis] = reach  # axial marker along z, coronal along y, sagittal along x
            line = vtkLineSource()
            line.SetPoint1(*(point - step))
            line.SetPoint2(*(point + step))
            mapper = vtkPolyDataMapper()
            mapper.SetInputConnection(line.GetOutputPort())
            actor = vtkActor()
            actor.SetMapper(mapper)
            actor.GetProperty().SetColor(*colour)
            actor.GetProperty().SetLineWidth(2.0)
            self.renderer.AddActor(actor)
            self._crosshair.append(actor)

    def bounds(self) -> NDArray[np.float64]:
        """(min xyz, max xyz) of the volume's voxel centres in LPS."""
        from viewer.model.volume3d.scene import patient_bounds

        return patient_bounds(self.affine, self._voxels.shape)

    def set_camera(self, camera: Camera) -> None:
        self.camera = camera
        vtk_camera = self.renderer.GetActiveCamera()
        vtk_camera.ParallelProjectionOn()
        distance = 2.0 * float(np.linalg.norm(np.ptp(self.bounds(), axis=0))) + 100.0
        vtk_camera.SetFocalPoint(*camera.focal)
        vtk_camera.SetPosition(*camera.position(distance))
        vtk_camera.SetViewUp(*camera.up)
        vtk_camera.SetParallelScale(camera.height_mm / 2)
        self.renderer.ResetCameraClippingRange()
        cube_camera = self._corner.GetActiveCamera()
        cube_camera.SetFocalPoint(0.0, 0.0, 0.0)
        cube_camera.SetPosition(*(-5.0 * np.asarray(camera.direction)))
        cube_camera.SetViewUp(*camera.up)
        self._corner.ResetCamera()
        self._corner.ResetCameraClippingRange()

    def set_interactive(self, interactive: bool) -> None:
        """Coarse and fast (dragging) or full quality (at rest)."""
        self.interactive = interactive

    def _levels(self) -> list[_Level]:
        return [level for level in (self._full, self._coarse) if level is not None]

    def _use(self, level: _Level | None, coarse_sampling: bool) -> None:
        """Show ``level`` (None: no volume, a CPU projection) sampled coarsely or fully."""
        for each in self._levels():
            each.volume.SetVisibility(each is level)
        if level is None:
            return
        if level is self._coarse:
            voxels = LOD_SAMPLE_VOXELS
        else:
            voxels = INTERACTIVE_SAMPLE_VOXELS if coarse_sampling else FULL_SAMPLE_VOXELS
        image_sample = INTERACTIVE_IMAGE_SAMPLE if coarse_sampling else 1.0
        mapper = level.mapper
        mapper.SetSampleDistance(voxels * level.min_spacing)
        mapper.SetImageSampleDistance(image_sample)
        if not self.gpu:
            # The CPU mapper's own LOD would coarsen full-quality frames it thinks are slow.
            mapper.SetInteractiveSampleDistance(voxels * level.min_spacing)
            mapper.SetMinimumImageSampleDistance(image_sample)
            mapper.SetMaximumImageSampleDistance(max(image_sample, INTERACTIVE_IMAGE_SAMPLE))

    @property
    def has_preview(self) -> bool:
        """Whether a coarse copy exists (the first frame can come from it)."""
        return self._coarse is not None

    # --- drawing -------------------------------------------------------------------------
    def render(self, preview: bool = False, flat: bool = False) -> NDArray[np.uint8]:
        """Draw and read back: (height, width, 3) RGB, top row first.

        Interactive frames come from the coarse copy (where there is one) at 2 x 2 pixels a
        ray; ``preview`` draws the coarse copy at one ray a pixel (the first frame, before
        the full-resolution volume's gradients exist); else full quality. ``flat`` leaves
        shading out of this frame, so it needs no gradient pass, and casts one ray per 2 x 2
        pixels (the very first frame)."""
        mode = self.scene.blend_mode if self.scene is not None else BlendMode.COMPOSITE
        coarse = self._coarse if (self.interactive or preview) else None
        self.preview = coarse is not None and not self.interactive
        if mode is not BlendMode.COMPOSITE and self._crop is not None:
            return self._render_projection(mode, coarse is not None)
        self.cpu_projection = False
        # The flat first frame is as coarse as a drag's: 2 x 2 pixels a ray.
        self._use(coarse if coarse is not None else self._full, self.interactive or flat)
        shaded = bool(self.property.GetShade())
        if flat and shaded:
            self.property.ShadeOff()
        try:
            pixels = self._draw()
        finally:
            if flat and shaded:
                self.property.ShadeOn()
        if self.scene is not None and (not flat or not shaded):
            # This level's gradients exist now (or the scene needs none).
            if coarse is None:
                self.full_ready = True
            else:
                self.coarse_ready = True
        return pixels

    def _render_projection(self, mode: BlendMode, coarse: bool) -> NDArray[np.uint8]:
        """A CPU MIP/MinIP with VTK's cube and crosshair drawn over it."""
        from viewer.model.volume3d import projection

        assert self.camera is not None and self._crop is not None
        self.cpu_projection = True
        self._use(None, False)
        overlay = self._draw()
        voxels, affine, crop = self._voxels, self.affine, self._crop
        if coarse and self._coarse is not None:
            voxels, affine = self._coarse.voxels, self._coarse_affine
            crop = projection.halved(crop)
        projected = projection.project(
            voxels, affine, self.camera, self.size, mode is BlendMode.MINIP, crop
        )
        pixels = projection.coloured(projected, self._transfer)
        drawn = overlay.any(axis=2)
        pixels[drawn] = overlay[drawn]
        return pixels

    def _draw(self) -> NDArray[np.uint8]:
        from vtkmodules.util import numpy_support
        from vtkmodules.vtkRenderingCore import vtkWindowToImageFilter

        self.window.Render()
        grab = vtkWindowToImageFilter()
        grab.SetInput(self.window)
        grab.SetInputBufferTypeToRGB()
        grab.ReadFrontBufferOff()
        grab.Update()
        output = grab.GetOutput()
        width, height, _ = output.GetDimensions()
        pixels = output.GetPointData().GetScalars()
        array = numpy_support.vtk_to_numpy(pixels).reshape(height, width, 3)
        return np.ascontiguousarray(array[::-1])

    def pick(self, pixel: tuple[float, float]) -> NDArray[np.float64] | None:
        """The LPS point a click at ``pixel`` (x right, y down, in the render size) points
        at: the first sample along the ray whose opacity reaches :data:`PICK_OPACITY`
        (composite), or the ray's brightest (MIP) or darkest (MinIP) voxel; None: the ray
        misses what is shown."""
        from viewer.model.volume3d import projection

        if self.scene is None or self.camera is None:
            return None
        return projection.pick(
            self._voxels,
            self.affine,
            self.camera,
            self.size,
            pixel,
            self.scene.blend_mode,
            self._transfer,
            clip_planes(self.scene),
            PICK_OPACITY,
        )

    @property
    def mapper_name(self) -> str:
        """The ray caster in words, for notices and bench figures."""
        return "VTK GPU ray cast" if self.gpu else "VTK CPU fixed-point ray cast"

    def renderer_name(self) -> str:
        """The OpenGL renderer (GL_RENDERER) the window runs on, e.g. 'llvmpipe'."""
        report = str(self.window.ReportCapabilities())
        for line in report.splitlines():
            if "OpenGL renderer string" in line:
                return line.split(":", 1)[1].strip()
        return "unknown"

    def close(self) -> None:
        """Free the OpenGL resources (on the engine's thread)."""
        self.renderer.RemoveAllViewProps()
        self.window.Finalize()
