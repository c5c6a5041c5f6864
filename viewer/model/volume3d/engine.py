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

Level of detail: :meth:`VolumeEngine.set_interactive` casts one ray per 2 x 2 pixels with a
sample step of two voxels while the user drags; full quality is one ray per pixel at half a
voxel's step.

An engine belongs to the thread that made it (its OpenGL context is current there): make it
and use it on one thread.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from typing import Any

import numpy as np
from numpy.typing import NDArray

from viewer.model.volume3d.scene import (
    BlendMode,
    Camera,
    Scene,
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
#: Orientation cube: its viewport is this fraction of the view's smaller side (bottom left).
CUBE_FRACTION = 0.16
#: The crosshair marker's colours, as the MPR views' frames (axial, coronal, sagittal normal).
CROSSHAIR_COLOURS = ((1.0, 0.35, 0.35), (0.35, 0.82, 0.35), (0.94, 0.8, 0.24))


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
        from vtkmodules.util import numpy_support
        from vtkmodules.vtkCommonDataModel import vtkImageData, vtkPiecewiseFunction
        from vtkmodules.vtkCommonMath import vtkMatrix4x4
        from vtkmodules.vtkRenderingCore import (
            vtkColorTransferFunction,
            vtkRenderer,
            vtkVolume,
            vtkVolumeProperty,
        )
        from vtkmodules.vtkRenderingVolume import (
            vtkFixedPointVolumeRayCastMapper,
            vtkGPUVolumeRayCastMapper,
        )

        self._voxels = np.ascontiguousarray(voxels)  # VTK reads this memory: keep it alive
        self.affine = np.asarray(affine, float)
        self.rescale = rescale
        self.gpu = gpu
        place = placement(self.affine)
        self.spacing = place.spacing
        frames, rows, columns = self._voxels.shape
        image = vtkImageData()
        image.SetDimensions(columns, rows, frames)  # x fastest: column, row, frame (C order)
        image.SetSpacing(*place.spacing)
        image.SetOrigin(0.0, 0.0, 0.0)
        scalars = numpy_support.numpy_to_vtk(self._voxels.reshape(-1), deep=False)
        image.GetPointData().SetScalars(scalars)
        self._image, self._scalars = image, scalars
        mapper_class: Any = vtkGPUVolumeRayCastMapper if gpu else vtkFixedPointVolumeRayCastMapper
        self.mapper: Any = mapper_class()
        self.mapper.SetInputData(image)
        self.mapper.SetAutoAdjustSampleDistances(0)
        if not gpu:
            self.mapper.SetNumberOfThreads(os.cpu_count() or 1)
        self.colour = vtkColorTransferFunction()
        self.opacity = vtkPiecewiseFunction()
        self.property = vtkVolumeProperty()
        self.property.SetColor(self.colour)
        self.property.SetScalarOpacity(self.opacity)
        self.property.SetInterpolationTypeToLinear()
        self.volume = vtkVolume()
        self.volume.SetMapper(self.mapper)
        self.volume.SetProperty(self.property)
        matrix = vtkMatrix4x4()
        for i in range(4):
            for j in range(4):
                matrix.SetElement(i, j, float(place.matrix[i, j]))
        self.volume.SetUserMatrix(matrix)
        self.renderer = vtkRenderer()
        self.renderer.SetBackground(0.0, 0.0, 0.0)
        self.renderer.AddVolume(self.volume)
        self.window = window if window is not None else _offscreen_window()
        self.window.AddRenderer(self.renderer)
        self.window.SetSize(*size)
        self._cube = self._make_cube()
        self._crosshair: list[Any] = []
        self.interactive = False
        self.scene: Scene | None = None
        self.camera: Camera | None = None
        self._min_spacing = float(min(place.spacing))
        self.set_interactive(False)

    # --- set-up --------------------------------------------------------------------------
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
        mode = scene.blend_mode
        if mode is BlendMode.MIP:
            self.mapper.SetBlendModeToMaximumIntensity()
        elif mode is BlendMode.MINIP:
            self.mapper.SetBlendModeToMinimumIntensity()
        else:
            self.mapper.SetBlendModeToComposite()
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

        self.mapper.RemoveAllClippingPlanes()
        for point, direction in scene.clip_planes:
            cut = vtkPlane()
            cut.SetOrigin(*point)
            cut.SetNormal(*direction)
            self.mapper.AddClippingPlane(cut)
        if scene.clip_box is None:
            return
        low, high = scene.clip_box
        for axis in range(3):
            for bound, sign in ((low, 1.0), (high, -1.0)):
                plane = vtkPlane()
                origin = [0.0, 0.0, 0.0]
                origin[axis] = float(bound[axis])
                normal = [0.0, 0.0, 0.0]
                normal[axis] = sign  # VTK keeps what the normal points into
                plane.SetOrigin(*origin)
                plane.SetNormal(*normal)
                self.mapper.AddClippingPlane(plane)

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
        voxels = INTERACTIVE_SAMPLE_VOXELS if interactive else FULL_SAMPLE_VOXELS
        self.mapper.SetSampleDistance(voxels * self._min_spacing)
        self.mapper.SetImageSampleDistance(INTERACTIVE_IMAGE_SAMPLE if interactive else 1.0)
        if not self.gpu:
            # The CPU mapper's own LOD would coarsen full-quality frames it thinks are slow.
            self.mapper.SetInteractiveSampleDistance(voxels * self._min_spacing)
            self.mapper.SetMinimumImageSampleDistance(1.0)
            self.mapper.SetMaximumImageSampleDistance(INTERACTIVE_IMAGE_SAMPLE)

    # --- drawing -------------------------------------------------------------------------
    def render(self) -> NDArray[np.uint8]:
        """Draw and read back: (height, width, 3) RGB, top row first."""
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
