"""What a 3D view shows, independent of the engine that draws it (no Qt, no VTK).

Geometry. The volume is the MPR's :class:`~viewer.model.mpr.MprVolume` (one copy, stored
values, C order (frames, rows, columns)). Its affine maps (column, row, frame) indices to LPS mm
(PS3.3 C.7.6.2.1.1; +x patient Left, +y Posterior, +z Head), a sheared grid for a gantry tilt
included. An engine places the voxels as a grid of ``spacing`` mm steps along index axes
(anisotropic spacing is kept, so gradients and shading are in mm) and then moves that grid into
patient space by :attr:`Placement.matrix`: the affine with the spacing divided out of its
columns (a rotation for an orthogonal stack, a rotation plus a shear for a tilted one).

Values. Transfer functions are written over modality values (HU for CT, PS3.3 C.11.1.1.2);
the engine samples stored values, so :meth:`TransferFunction.in_stored` maps the points through
the inverse rescale instead of converting the volume to floats.

Camera. A :class:`Camera` is a parallel projection (a size in mm is a size on the screen, so
extents can be measured) described by where it looks (``focal``), the direction of projection
and the view-up, all in LPS. Standard views (:class:`StandardView`) look at the patient from
anterior, posterior, left, right, superior and inferior, with the head up (S and I: anterior
up), like 3D Slicer's and Horos' buttons: in the A view the patient's left is on the screen's
right, as when facing someone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from viewer.model.window_level import Voi

Vec3 = tuple[float, float, float]
Rgb = tuple[float, float, float]


class BlendMode(Enum):
    """How samples along a ray combine."""

    COMPOSITE = "Composite"  # front-to-back alpha compositing (volume rendering), shaded
    MIP = "MIP"  # maximum intensity projection
    MINIP = "MinIP"  # minimum intensity projection


# --- transfer functions ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TransferFunction:
    """Colour and opacity as piecewise-linear functions of a value.

    ``colour`` points are (value, (r, g, b)) with components 0-1; ``opacity`` points are
    (value, alpha 0-1) per unit of sample distance, as VTK's scalar opacity. Both ascending.
    """

    colour: tuple[tuple[float, Rgb], ...]
    opacity: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        for points in (self.colour, self.opacity):
            values = [point[0] for point in points]
            if not values or values != sorted(values):
                raise ValueError("transfer function points must be ascending and not empty")

    def mapped(self, scale: float, offset: float) -> TransferFunction:
        """Every point's value v moved to v * scale + offset (reordered if scale < 0)."""
        colour = [(v * scale + offset, rgb) for v, rgb in self.colour]
        opacity = [(v * scale + offset, a) for v, a in self.opacity]
        return TransferFunction(tuple(sorted(colour)), tuple(sorted(opacity)))

    def in_stored(self, slope: float, intercept: float) -> TransferFunction:
        """The same function over stored values s, with modality = s * slope + intercept."""
        if slope == 0:
            raise ValueError("rescale slope 0 cannot be inverted")
        return self.mapped(1.0 / slope, -intercept / slope)

    def opacity_at(self, value: float) -> float:
        values, alphas = zip(*self.opacity, strict=True)
        return float(np.interp(value, values, alphas))

    def colour_at(self, value: float) -> Rgb:
        values = [v for v, _ in self.colour]
        return (
            float(np.interp(value, values, [c[0] for _, c in self.colour])),
            float(np.interp(value, values, [c[1] for _, c in self.colour])),
            float(np.interp(value, values, [c[2] for _, c in self.colour])),
        )

    def visible_range(self) -> tuple[float, float] | None:
        """The values where opacity is above zero (None: fully transparent)."""
        shown = [v for v, a in self.opacity if a > 0]
        return (min(shown), max(shown)) if shown else None


def ramp(voi: Voi, top_opacity: float = 1.0) -> TransferFunction:
    """Grey from black at ``voi.lower`` to white at ``voi.upper``, opacity ramping with it."""
    low, high = voi.lower, max(voi.upper, voi.lower + 1e-3)
    return TransferFunction(
        ((low, (0.0, 0.0, 0.0)), (high, (1.0, 1.0, 1.0))),
        ((low, 0.0), (high, top_opacity)),
    )


@dataclass(frozen=True, slots=True)
class Shading:
    """Phong lighting of the gradient (composite only): VTK's vtkVolumeProperty terms."""

    on: bool = True
    ambient: float = 0.2
    diffuse: float = 0.9
    specular: float = 0.3
    specular_power: float = 15.0


@dataclass(frozen=True, slots=True)
class VrPreset:
    """A named look: blend mode, transfer function and shading.

    ``relative``: the points are in window units (0 = the window's lower end, 1 = its upper),
    for modalities without calibrated values (MR); :meth:`transfer_for` places them on the
    current window. Otherwise they are modality values (HU).
    """

    name: str
    modality: str  # "CT", "MR" or "" (any)
    blend: BlendMode
    transfer: TransferFunction
    shading: Shading = field(default_factory=Shading)
    relative: bool = False

    def transfer_for(self, voi: Voi | None) -> TransferFunction:
        """The transfer function in modality values (relative presets placed on ``voi``)."""
        if self.relative:
            if voi is None:
                raise ValueError(f"preset {self.name!r} needs a window")
            return self.transfer.mapped(max(voi.upper - voi.lower, 1e-3), voi.lower)
        return self.transfer


def _points(*pairs: tuple[float, float]) -> tuple[tuple[float, float], ...]:
    return tuple(pairs)


_BLACK: Rgb = (0.0, 0.0, 0.0)
_BONE: Rgb = (0.91, 0.82, 0.55)
_WHITE: Rgb = (1.0, 1.0, 1.0)
_FLESH: Rgb = (0.93, 0.68, 0.55)
_RED: Rgb = (0.8, 0.1, 0.08)

#: The built-in presets (after 3D Slicer's CT-Bone, CT-Soft-Tissue, CT-Lung, CT-AAA, CT-Skin,
#: MR-Default and MR-Angio, simplified to a few points), in menu order.
PRESETS: tuple[VrPreset, ...] = (
    VrPreset(
        "CT Bone",
        "CT",
        BlendMode.COMPOSITE,
        TransferFunction(
            ((-1000, _BLACK), (150, (0.73, 0.25, 0.30)), (400, _BONE), (3071, _WHITE)),
            _points((-1000, 0.0), (150, 0.0), (400, 0.7), (3071, 0.8)),
        ),
    ),
    VrPreset(
        "CT Soft tissue",
        "CT",
        BlendMode.COMPOSITE,
        TransferFunction(
            (
                (-1000, _BLACK),
                (-100, (0.75, 0.45, 0.35)),
                (80, (0.85, 0.35, 0.3)),
                (400, _BONE),
                (3071, _WHITE),
            ),
            _points((-1000, 0.0), (-200, 0.0), (-60, 0.08), (80, 0.25), (400, 0.6), (3071, 0.7)),
        ),
        Shading(specular=0.1),
    ),
    VrPreset(
        "CT Lung",
        "CT",
        BlendMode.COMPOSITE,
        TransferFunction(
            ((-1000, _BLACK), (-900, (0.6, 0.7, 0.85)), (-500, (0.85, 0.8, 0.75)), (3071, _WHITE)),
            _points(
                (-1000, 0.0), (-930, 0.0), (-850, 0.15), (-550, 0.15), (-450, 0.0), (3071, 0.0)
            ),
        ),
    ),
    VrPreset(
        "CT Angio",
        "CT",
        BlendMode.COMPOSITE,
        TransferFunction(
            ((-1000, _BLACK), (130, (0.55, 0.05, 0.05)), (300, _RED), (600, _BONE), (3071, _WHITE)),
            _points((-1000, 0.0), (130, 0.0), (220, 0.5), (600, 0.8), (3071, 0.85)),
        ),
    ),
    VrPreset(
        "CT Skin",
        "CT",
        BlendMode.COMPOSITE,
        TransferFunction(
            ((-1000, _BLACK), (-500, _FLESH), (3071, _FLESH)),
            _points((-1000, 0.0), (-600, 0.0), (-400, 0.9), (3071, 0.9)),
        ),
        Shading(specular=0.15),
    ),
    VrPreset(
        "MR Default",
        "MR",
        BlendMode.COMPOSITE,
        TransferFunction(
            ((0.0, _BLACK), (0.4, (0.75, 0.55, 0.45)), (1.0, _WHITE)),
            _points((0.0, 0.0), (0.25, 0.0), (0.6, 0.35), (1.0, 0.8)),
        ),
        relative=True,
    ),
    VrPreset(
        "MR Angio",
        "MR",
        BlendMode.COMPOSITE,
        TransferFunction(
            ((0.0, _BLACK), (0.6, (0.6, 0.1, 0.05)), (1.0, (1.0, 0.8, 0.7))),
            _points((0.0, 0.0), (0.55, 0.0), (0.8, 0.5), (1.0, 0.9)),
        ),
        relative=True,
    ),
)
PRESETS_BY_NAME = {preset.name: preset for preset in PRESETS}


def presets_for(modality: str) -> tuple[VrPreset, ...]:
    """The presets that suit ``modality`` (CT: the HU ones; anything else: the relative ones)."""
    wanted = "CT" if modality.upper() == "CT" else "MR"
    return tuple(p for p in PRESETS if p.modality in (wanted, ""))


def default_preset(modality: str) -> VrPreset:
    return presets_for(modality)[0]


def edited(transfer: TransferFunction, shift: float, scale: float) -> TransferFunction:
    """The preset editor's drag: every point moved away from the middle of the visible range
    by ``scale`` (a wider or narrower ramp), then along by ``shift`` (modality units)."""
    shown = transfer.visible_range()
    centre = (shown[0] + shown[1]) / 2 if shown else 0.0
    return transfer.mapped(max(scale, 1e-3), centre * (1 - max(scale, 1e-3)) + shift)


def preset_to_json(preset: VrPreset) -> dict[str, Any]:
    """A preset as plain JSON data (how the settings keep the user's presets)."""
    return {
        "name": preset.name,
        "modality": preset.modality,
        "blend": preset.blend.value,
        "relative": preset.relative,
        "colour": [[v, *rgb] for v, rgb in preset.transfer.colour],
        "opacity": [[v, a] for v, a in preset.transfer.opacity],
        "shading": [preset.shading.on, preset.shading.ambient, preset.shading.diffuse,
                    preset.shading.specular, preset.shading.specular_power],
    }  # fmt: skip


def preset_from_json(data: Any) -> VrPreset:
    """The preset :func:`preset_to_json` wrote; ValueError naming what is wrong."""
    try:
        colour = tuple(
            (float(v), (_unit_interval(r), _unit_interval(g), _unit_interval(b)))
            for v, r, g, b in data["colour"]
        )
        opacity = tuple((float(v), _unit_interval(a)) for v, a in data["opacity"])
        on, ambient, diffuse, specular, power = data["shading"]
        return VrPreset(
            str(data["name"]),
            str(data.get("modality", "")),
            BlendMode(data["blend"]),
            TransferFunction(colour, opacity),
            Shading(bool(on), float(ambient), float(diffuse), float(specular), float(power)),
            bool(data.get("relative", False)),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"not a 3D preset: {error}") from None


def _unit_interval(value: Any) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0 or math.isnan(number):
        raise ValueError(f"{number} is outside 0..1")
    return number


def preset_from_voi(voi: Voi, name: str = "From window") -> VrPreset:
    """A composite preset starting from the current W/L: transparent below the window, opaque
    and white at its top (the preset editor's starting point)."""
    return VrPreset(name, "", BlendMode.COMPOSITE, ramp(voi, 0.8))


# --- geometry --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Placement:
    """How an engine places the voxel grid: ``spacing`` mm along (column, row, frame) from
    index 0, then ``matrix`` (4x4) into LPS, so that LPS = matrix @ (index * spacing, 1)."""

    spacing: Vec3
    matrix: NDArray[np.float64]


def placement(affine: NDArray[np.float64]) -> Placement:
    """The placement reproducing ``affine`` (index -> LPS) with the spacing kept apart."""
    affine = np.asarray(affine, float)
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    matrix = affine.copy()
    matrix[:3, :3] = affine[:3, :3] / spacing
    return Placement((float(spacing[0]), float(spacing[1]), float(spacing[2])), matrix)


def patient_bounds(affine: NDArray[np.float64], shape: Sequence[int]) -> NDArray[np.float64]:
    """(min xyz, max xyz) in LPS of the voxel-centre box of a (frames, rows, columns) grid."""
    frames, rows, columns = shape
    corners = np.array(
        [[i, j, k, 1.0] for i in (0, columns - 1) for j in (0, rows - 1) for k in (0, frames - 1)]
    )
    points = (np.asarray(affine, float) @ corners.T).T[:, :3]
    return np.array([points.min(axis=0), points.max(axis=0)])


# --- memory ----------------------------------------------------------------------------------
#: Bytes per voxel an engine adds for shading (VTK's CPU ray caster: 2 bytes of encoded normal
#: and 1 byte of gradient magnitude per voxel).
SHADING_BYTES_PER_VOXEL = 3
#: Volumes with more voxels than this get a coarse copy (every second voxel, stored dtype, with
#: its own shading data) for the 3D view's first and interactive frames.
LOD_MIN_VOXELS = 8_000_000


def coarse_copy_bytes(count: int, itemsize: int) -> int:
    """What the level-of-detail copy of a ``count``-voxel grid costs (0: none is made)."""
    if count <= LOD_MIN_VOXELS:
        return 0
    return math.ceil(count / 8) * (itemsize + SHADING_BYTES_PER_VOXEL)


@dataclass(frozen=True, slots=True)
class Decimation:
    """The grid the 3D view renders: every ``step``-th voxel along each axis."""

    step: tuple[int, int, int]  # (frames, rows, columns)
    notice: str = ""

    @property
    def identity(self) -> bool:
        return self.step == (1, 1, 1)


def decimation(shape: Sequence[int], itemsize: int, budget_bytes: int) -> Decimation:
    """The coarsest-needed grid so that a downsampled copy plus shading data fit the budget.

    The full-resolution volume is the MPR's and is rendered as is when its shading data
    (:data:`SHADING_BYTES_PER_VOXEL` a voxel) and its level-of-detail copy
    (:func:`coarse_copy_bytes`) fit ``budget_bytes``; otherwise the longest
    axes are halved (a strided copy in the stored dtype) until copy + shading data fit.
    """
    frames, rows, columns = (int(v) for v in shape)
    step = [1, 1, 1]

    def need() -> int:
        count = math.prod(
            math.ceil(n / s) for n, s in zip((frames, rows, columns), step, strict=True)
        )
        copy = 0 if step == [1, 1, 1] else count * itemsize
        return copy + count * SHADING_BYTES_PER_VOXEL + coarse_copy_bytes(count, itemsize)

    while need() > budget_bytes and max(frames // step[0], rows // step[1], columns // step[2]) > 1:
        sizes = [n / s for n, s in zip((frames, rows, columns), step, strict=True)]
        step[sizes.index(max(sizes))] *= 2
    if step == [1, 1, 1]:
        return Decimation((1, 1, 1))
    shown = [math.ceil(n / s) for n, s in zip((frames, rows, columns), step, strict=True)]
    return Decimation(
        (step[0], step[1], step[2]),
        f"3D: the volume is shown downsampled to {shown[2]} × {shown[1]} × {shown[0]} voxels "
        "to stay within the memory budget (the MPR keeps full resolution)",
    )


def decimated(
    voxels: NDArray[Any], affine: NDArray[np.float64], plan: Decimation
) -> tuple[NDArray[Any], NDArray[np.float64]]:
    """The voxels and affine of ``plan``'s grid: the same array (no copy) when it is the
    identity, else a contiguous strided copy in the stored dtype."""
    if plan.identity:
        return voxels, np.asarray(affine, float)
    fs, rs, cs = plan.step
    small = np.ascontiguousarray(voxels[::fs, ::rs, ::cs])
    scaled = np.asarray(affine, float).copy()
    scaled[:3, 0] *= cs
    scaled[:3, 1] *= rs
    scaled[:3, 2] *= fs
    return small, scaled


# --- camera ----------------------------------------------------------------------------------
class StandardView(Enum):
    """Where the camera looks at the patient from."""

    ANTERIOR = "A"
    POSTERIOR = "P"
    LEFT = "L"
    RIGHT = "R"
    SUPERIOR = "S"
    INFERIOR = "I"


#: (direction of projection, view-up), LPS. The camera sits opposite the projection direction.
STANDARD_DIRECTIONS: dict[StandardView, tuple[Vec3, Vec3]] = {
    StandardView.ANTERIOR: ((0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
    StandardView.POSTERIOR: ((0.0, -1.0, 0.0), (0.0, 0.0, 1.0)),
    StandardView.LEFT: ((-1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
    StandardView.RIGHT: ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
    StandardView.SUPERIOR: ((0.0, 0.0, -1.0), (0.0, -1.0, 0.0)),
    StandardView.INFERIOR: ((0.0, 0.0, 1.0), (0.0, -1.0, 0.0)),
}


def _unit(vector: Sequence[float] | NDArray[np.float64]) -> NDArray[np.float64]:
    array = np.asarray(vector, float)
    return array / float(np.linalg.norm(array))


def _vec3(values: Sequence[float] | NDArray[np.float64]) -> Vec3:
    return (float(values[0]), float(values[1]), float(values[2]))


@dataclass(frozen=True, slots=True)
class Camera:
    """A parallel-projection camera in LPS: ``height_mm`` of patient space fill the view's
    height; ``direction`` is the direction of projection and ``up`` the view-up (unit,
    perpendicular)."""

    focal: Vec3
    direction: Vec3
    up: Vec3
    height_mm: float

    @property
    def right(self) -> NDArray[np.float64]:
        """The patient direction that points to the screen's right."""
        return np.cross(self.direction, self.up)

    def position(self, distance: float) -> NDArray[np.float64]:
        return np.asarray(self.focal) - distance * np.asarray(self.direction)

    def to_screen(self, point: Sequence[float], size: tuple[int, int]) -> tuple[float, float]:
        """Pixel (x right, y down) of LPS ``point`` in a ``size`` (width, height) image."""
        width, height = size
        offset = np.asarray(point, float) - np.asarray(self.focal)
        per_mm = height / self.height_mm
        return (
            width / 2 + float(offset @ self.right) * per_mm - 0.5,
            height / 2 - float(offset @ np.asarray(self.up)) * per_mm - 0.5,
        )

    def rotated(self, horizontal_deg: float, vertical_deg: float) -> Camera:
        """The camera orbited about its focal point: ``horizontal_deg`` about the view-up
        (dragging right turns the patient's front to the right), then ``vertical_deg`` about
        the screen's right axis (dragging up tilts the top away)."""
        direction, up = np.asarray(self.direction), np.asarray(self.up)
        turn = _rotation(up, math.radians(-horizontal_deg))
        direction = turn @ direction
        right = np.cross(direction, up)
        tilt = _rotation(right, math.radians(vertical_deg))
        direction, up = tilt @ direction, tilt @ up
        return replace(self, direction=_vec3(_unit(direction)), up=_vec3(_unit(up)))

    def rolled(self, degrees: float) -> Camera:
        """Turned about the direction of projection (clockwise on screen for positive)."""
        turn = _rotation(self.direction, math.radians(degrees))
        return replace(self, up=_vec3(_unit(turn @ np.asarray(self.up))))

    def zoomed(self, factor: float) -> Camera:
        """``factor`` > 1 magnifies."""
        return replace(self, height_mm=self.height_mm / max(factor, 1e-6))

    def panned(self, right_mm: float, up_mm: float) -> Camera:
        """The picture moved by (right, up) mm on the screen (the focal point moves back)."""
        focal = np.asarray(self.focal) - right_mm * self.right - up_mm * np.asarray(self.up)
        return replace(self, focal=_vec3(focal))


def _rotation(axis: Sequence[float] | NDArray[np.float64], radians: float) -> NDArray[np.float64]:
    x, y, z = _unit(axis)
    cross = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    return np.eye(3) + math.sin(radians) * cross + (1 - math.cos(radians)) * (cross @ cross)


#: The standard views frame the volume's bounding sphere with this much margin.
FRAME_MARGIN = 1.05


def standard_camera(view: StandardView, bounds: NDArray[np.float64], aspect: float = 1.0) -> Camera:
    """The camera of ``view`` framing the whole LPS box ``bounds`` (min, max) in a view of
    ``aspect`` = width / height."""
    direction, up = STANDARD_DIRECTIONS[view]
    low, high = np.asarray(bounds[0], float), np.asarray(bounds[1], float)
    centre = (low + high) / 2
    right = np.cross(direction, up)
    extent = np.abs(high - low)
    across = float(np.abs(right) @ extent)
    tall = float(np.abs(np.asarray(up)) @ extent)
    height = max(tall, across / max(aspect, 1e-6)) * FRAME_MARGIN
    return Camera(_vec3(centre), direction, up, max(height, 1.0))


def nearest_standard_view(camera: Camera) -> StandardView:
    """The standard view whose direction of projection is closest to the camera's."""
    return max(
        STANDARD_DIRECTIONS,
        key=lambda v: float(np.dot(STANDARD_DIRECTIONS[v][0], camera.direction)),
    )


# --- the scene -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Scene:
    """Everything but the voxels: what the 3D view draws and how.

    ``clip_box`` is an LPS (min, max) box outside which nothing is drawn (None: the whole
    volume); ``clip_planes`` are (point, normal) pairs, each keeping the half space its normal
    points into (an MPR plane cutting the volume); ``crosshair`` the MPR's point, drawn as a
    marker (None: none).
    """

    preset: VrPreset
    voi: Voi | None = None
    blend: BlendMode | None = None  # None: the preset's
    clip_box: tuple[Vec3, Vec3] | None = None
    clip_planes: tuple[tuple[Vec3, Vec3], ...] = ()
    crosshair: Vec3 | None = None

    @property
    def blend_mode(self) -> BlendMode:
        return self.blend if self.blend is not None else self.preset.blend

    def transfer(self) -> TransferFunction:
        """The transfer function in modality values: the preset's for composite rendering,
        a grey ramp over the window for MIP/MinIP (the MPR's slab look)."""
        if self.blend_mode is BlendMode.COMPOSITE:
            return self.preset.transfer_for(self.voi)
        if self.voi is None:
            raise ValueError("MIP and MinIP need a window")
        return ramp(self.voi)
