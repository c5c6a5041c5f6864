"""The display transforms of DICOM PS3.3 as small, pure numpy functions (no Qt, no Dataset).

Grayscale pipeline (PS3.3 C.11, Figure C.11-1): stored values -> Modality LUT (C.11.1) ->
VOI LUT (C.11.2) -> Presentation LUT (C.11.6) -> 8-bit display values. Colour images are
brought to 8-bit RGB (C.7.6.3.1.2 photometric interpretations, C.7.6.3.1.5/.6 and C.7.9
palettes).

Conventions:

* A VOI is kept as a range ``(lower, upper)`` in modality values: ``lower`` displays black and
  ``upper`` white. Centre/width is only a conversion (:func:`window_to_range`).
* 8-bit outputs truncate towards zero after clipping, as DCMTK's dcmimgle does; the PS3.3
  formulas give a real number and leave the integer mapping to the implementation.
* Modality values are exact: integer work stays in the smallest exact integer type, float
  results are float32 where that holds every value exactly, else float64 (see
  :func:`apply_rescale`). VOI work is float32. Look-up tables (a few thousand entries) may use
  anything.

The style follows pydicom's ``pixels/processing.py`` and Cornerstone3D's ``windowLevel.ts``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from viewer.dicom import decoding_stack

#: VOI LUT Function (0028,1056) values, PS3.3 C.11.2.1.3.
VOI_FUNCTIONS = ("LINEAR", "LINEAR_EXACT", "SIGMOID")

#: The integer types apply_rescale may answer with, smallest first.
_INT_TYPES: tuple[type[np.integer], ...] = (
    np.uint8,
    np.int8,
    np.uint16,
    np.int16,
    np.uint32,
    np.int32,
    np.int64,
)

U8 = NDArray[np.uint8]

#: The narrowest LINEAR_EXACT or SIGMOID width (PS3.3 C.11.2.1.3 requires width > 0).
_MIN_EXACT_WIDTH = 1e-6


# --- VOI as a range ---------------------------------------------------------------------------
def window_to_range(center: float, width: float, function: str = "LINEAR") -> tuple[float, float]:
    """The modality values (lower, upper) that a window maps to black and white.

    PS3.3 C.11.2.1.2.1 (LINEAR): ``x <= c - 0.5 - (w - 1) / 2`` is black and
    ``x > c - 0.5 + (w - 1) / 2`` is white, so ``lower = c - 0.5 - (w - 1) / 2`` and
    ``upper = c - 0.5 + (w - 1) / 2``. Width must be >= 1: smaller widths are clamped to 1 (a
    threshold at ``c - 0.5``). C.11.2.1.3.2 (LINEAR_EXACT): ``c -/+ w / 2``, width > 0
    (clamped to 1e-6). SIGMOID (C.11.2.1.3.1) has no hard range; its
    LINEAR_EXACT range is returned as the nominal one.
    """
    center = float(center)
    if function.upper() == "LINEAR":
        half = (max(float(width), 1.0) - 1.0) / 2.0
        return center - 0.5 - half, center - 0.5 + half
    half = max(float(width), _MIN_EXACT_WIDTH) / 2.0
    return center - half, center + half


def range_to_window(lower: float, upper: float, function: str = "LINEAR") -> tuple[float, float]:
    """The (center, width) whose :func:`window_to_range` is (lower, upper), PS3.3 C.11.2.1.2.

    LINEAR: ``width = upper - lower + 1`` and ``center = (lower + upper) / 2 + 0.5``;
    LINEAR_EXACT and SIGMOID: ``width = upper - lower`` and ``center = (lower + upper) / 2``.
    An inverted range (upper < lower) is clamped to the narrowest window at ``lower``.
    """
    upper = max(upper, lower)
    if function.upper() == "LINEAR":
        return (lower + upper) / 2.0 + 0.5, upper - lower + 1.0
    return (lower + upper) / 2.0, upper - lower


# --- Modality LUT ----------------------------------------------------------------------------
def is_integral_rescale(dtype: np.dtype[Any], slope: float, intercept: float) -> bool:
    """True when ``stored * slope + intercept`` maps integers to integers (PS3.3 C.11.1.1.2)."""
    return dtype.kind in "iub" and float(slope).is_integer() and float(intercept).is_integer()


def rescaled_integer_type(low: int, high: int, slope: float, intercept: float) -> np.dtype[Any]:
    """The narrowest integer type holding ``v * slope + intercept`` for every v in [low, high].

    Raises ValueError when even int64 cannot hold them.
    """
    m, b = int(slope), int(intercept)
    ends = sorted((low * m + b, high * m + b))
    for candidate in _INT_TYPES:
        info = np.iinfo(candidate)
        if info.min <= ends[0] and ends[1] <= info.max:
            return np.dtype(candidate)
    raise ValueError(f"modality values from {ends[0]} to {ends[1]} do not fit a 64-bit integer")


def rescale_into(out: NDArray[Any], stored: NDArray[Any], slope: float, intercept: float) -> bool:
    """Write ``stored * slope + intercept`` (PS3.3 C.11.1.1.2) into ``out``, of ``stored``'s shape.

    Integer ``out`` (an integral rescale, ``out`` wide enough: :func:`rescaled_integer_type`):
    computed in int64, so no intermediate wraps whatever the stored and result types. Float
    ``out``: computed in float64; answers False when float32 ``out`` could not hold every value
    exactly (NaN stays NaN). ``out`` may be ``stored`` itself viewed as another type of the
    same item size (each value is read before its place is written).
    """
    if out.dtype.kind in "iu":
        m, b = np.int64(int(slope)), np.int64(int(intercept))
        if m == 1 and out.dtype == stored.dtype and _holds(out.dtype, int(b)):
            # One add in the shared dtype: every result fits ``out`` (the caller's promise),
            # so the sum is exact whatever it wraps through (arithmetic modulo 2**bits).
            np.add(stored, out.dtype.type(int(b)), out=out)
            return True
        if m == 1:
            np.add(stored, b, out=out, dtype=np.int64, casting="unsafe")
            return True
        wide = np.multiply(stored, m, dtype=np.int64)
        wide += b
        out[...] = wide
        return True
    exact = stored.astype(np.float64)
    exact *= slope
    exact += intercept
    out[...] = exact
    if out.dtype == np.float64:
        return True
    same = out == exact
    return bool(same.all()) or bool((same | np.isnan(exact)).all())


def apply_rescale(stored: NDArray[Any], slope: float, intercept: float) -> NDArray[Any]:
    """Modality values ``stored * slope + intercept`` (PS3.3 C.11.1.1.2, Modality LUT by Rescale).

    Exact, in the smallest type that holds them: when the rescale maps integers to integers,
    the narrowest integer type holding the frame's values (``stored`` itself for slope 1 and
    intercept 0); otherwise float32 when every value is exact in it, else float64.
    """
    if is_integral_rescale(stored.dtype, slope, intercept):
        if slope == 1 and intercept == 0:
            return stored
        low, high = (int(stored.min()), int(stored.max())) if stored.size else (0, 0)
        result = np.empty(stored.shape, rescaled_integer_type(low, high, slope, intercept))
        rescale_into(result, stored, slope, intercept)
        return result
    as_float32 = np.empty(stored.shape, np.float32)
    if rescale_into(as_float32, stored, slope, intercept):
        return as_float32
    del as_float32
    as_float64 = np.empty(stored.shape, np.float64)
    rescale_into(as_float64, stored, slope, intercept)
    return as_float64


def _table_indices(values: NDArray[Any], first_mapped: int, entries: int) -> NDArray[np.intp]:
    """Indices into an ``entries``-long LUT: below ``first_mapped`` -> 0, beyond -> last.

    Shared rule of PS3.3 C.11.1.1.1 (Modality LUT), C.11.2.1.1 (VOI LUT) and C.7.6.3.1.5
    (Palette Color LUT). Non-integer inputs take the nearest entry.
    """
    last = max(entries - 1, 0)
    if values.dtype.kind == "f":
        shifted = np.rint(values) - np.float32(first_mapped)
        np.clip(shifted, 0, last, out=shifted)
        return shifted.astype(np.intp)
    index = np.subtract(values, np.int64(first_mapped), dtype=np.int64)
    np.clip(index, 0, last, out=index)
    return index.astype(np.intp, copy=False)


def _lut_type(bits: int) -> type[np.unsignedinteger]:
    return np.uint8 if bits <= 8 else np.uint16


def apply_modality_lut_table(
    stored: NDArray[Any], first_mapped: int, lut: ArrayLike, bits: int
) -> NDArray[np.unsignedinteger]:
    """Modality values from a Modality LUT Sequence table (PS3.3 C.11.1.1.1).

    ``first_mapped`` and ``bits`` are the 2nd and 3rd values of the LUT Descriptor (0028,3002).
    Stored values below ``first_mapped`` take the first entry, those past the end the last.
    Output: uint8 for tables of <= 8 bits, else uint16.
    """
    table = np.asarray(lut).astype(_lut_type(bits), copy=False)
    return np.take(table, _table_indices(stored, first_mapped, len(table)))


# --- VOI LUT ---------------------------------------------------------------------------------
def voi_linear(values: NDArray[Any], lower: float, upper: float) -> U8:
    """8-bit display values, ``lower`` -> 0 and ``upper`` -> 255, linear between, clipped.

    This is PS3.3 C.11.2.1.2.1 (LINEAR, output range 0..255) once the window is a range
    (:func:`window_to_range`): ``y = (x - lower) / (upper - lower) * 255``. It is also
    LINEAR_EXACT (C.11.2.1.3.2) for that function's range. A collapsed range is a threshold:
    ``x <= lower`` -> 0, else 255 (width 1 in C.11.2.1.2.1).
    """
    if upper <= lower:
        return np.where(values > lower, np.uint8(255), np.uint8(0)).astype(np.uint8)
    scaled = np.subtract(values, np.float32(lower), dtype=np.float32)
    # Multiply before dividing: integer inputs that land exactly on a level stay exact.
    scaled *= np.float32(255.0)
    scaled /= np.float32(upper - lower)
    return _clip_to_uint8(scaled)


def _clip_to_uint8(scaled: NDArray[np.float32]) -> U8:
    """Clip to 0..255 and truncate; NaN (float pixel data) shows black."""
    if np.isnan(scaled).any():
        np.nan_to_num(scaled, copy=False, nan=0.0)
    np.clip(scaled, 0.0, 255.0, out=scaled)
    return scaled.astype(np.uint8)


def voi_sigmoid(values: NDArray[Any], center: float, width: float) -> U8:
    """8-bit display values by the SIGMOID VOI LUT Function (PS3.3 C.11.2.1.3.1).

    ``y = 255 / (1 + exp(-4 * (x - c) / w))``; width must be > 0 (clamped).
    """
    width = max(float(width), _MIN_EXACT_WIDTH)
    exponent = np.subtract(values, np.float32(center), dtype=np.float32)
    exponent *= np.float32(-4.0 / width)
    np.clip(exponent, -80.0, 80.0, out=exponent)  # exp() stays finite in float32
    np.exp(exponent, out=exponent)
    exponent += np.float32(1.0)
    return _clip_to_uint8(np.divide(np.float32(255.0), exponent, dtype=np.float32))


def voi_lut_table(values: NDArray[Any], first_mapped: int, lut: ArrayLike, bits: int) -> U8:
    """8-bit display values from a VOI LUT Sequence table (PS3.3 C.11.2.1.1).

    ``first_mapped`` and ``bits`` come from the LUT Descriptor (0028,3002). Inputs below the
    first mapped value take the first entry, past the end the last; entries of ``bits`` bits
    (0 .. 2**bits - 1) are scaled to 0..255.
    """
    table = np.asarray(lut)
    table8 = scale_to_8bit(table, bits)
    return np.take(table8, _table_indices(values, first_mapped, len(table8)))


# --- Presentation LUT ------------------------------------------------------------------------
def invert_for_monochrome1(image: U8) -> U8:
    """``255 - image``: MONOCHROME1 shows the minimum value white (PS3.3 C.7.6.3.1.2).

    Also the INVERSE Presentation LUT Shape (C.11.6.1.2) on 8-bit display values.
    """
    return np.subtract(np.uint8(255), image, dtype=np.uint8)


def shows_inverted(photometric: str, presentation_lut_shape: str = "") -> bool:
    """Whether VOI output must be inverted for display (PS3.3 C.11.6.1.2, C.7.6.3.1.2).

    A Presentation LUT Shape (2050,0020) in the image already accounts for the photometric
    interpretation (e.g. C.8.11.1.1.1: INVERSE "shall be used" with MONOCHROME1), so when
    present it decides: INVERSE inverts, IDENTITY does not. Without one, MONOCHROME1 inverts.
    """
    shape = presentation_lut_shape.strip().upper()
    if shape in ("INVERSE", "IDENTITY"):
        return shape == "INVERSE"
    return photometric.strip().upper() == "MONOCHROME1"


def apply_presentation_lut_shape(image: U8, shape: str) -> U8:
    """Presentation LUT Shape (2050,0020) on 8-bit values: INVERSE inverts, IDENTITY does not
    (PS3.3 C.11.6.1.2). Unknown shapes (e.g. LIN OD, for print) are left as IDENTITY.
    """
    return invert_for_monochrome1(image) if shape.strip().upper() == "INVERSE" else image


# --- Pixel padding ---------------------------------------------------------------------------
def apply_pixel_padding(
    stored: NDArray[Any], padding_value: int | None, range_limit: int | None = None
) -> NDArray[np.bool_] | None:
    """Mask of padding pixels (PS3.3 C.7.5.1.1.2 Pixel Padding Value / Range Limit), or None.

    Padding is compared with *stored* values (before the Modality LUT). With a Pixel Padding
    Range Limit (0028,0121) every value between it and the Pixel Padding Value (0028,0120),
    inclusive and in either order, is padding. The viewer ignores padding in automatic VOI
    ranges (:func:`auto_range`) and shows it black (:func:`black_out`).
    """
    if padding_value is None:
        return None
    if range_limit is None:
        return np.asarray(stored == padding_value)
    low, high = sorted((padding_value, range_limit))
    return np.asarray((stored >= low) & (stored <= high))


def black_out(image: NDArray[np.uint8], mask: NDArray[np.bool_] | None) -> NDArray[np.uint8]:
    """``image`` with the masked pixels set to 0 (black), e.g. pixel padding."""
    if mask is None or not mask.any():
        return image
    image = image.copy()
    image[mask] = 0
    return image


def auto_range(values: NDArray[Any], mask: NDArray[np.bool_] | None = None) -> tuple[float, float]:
    """(min, max) of the frame, ignoring pixels where ``mask`` is True (e.g. padding).

    If every pixel is masked, the whole frame counts; NaN and infinities (float pixel data)
    are ignored; a frame with no usable value answers (0.0, 0.0).
    """
    if mask is not None:
        kept = values[~mask]
        if kept.size:
            values = kept
    if values.dtype.kind == "f":
        values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0, 0.0
    return float(values.min()), float(values.max())


# --- Colour ----------------------------------------------------------------------------------
def scale_to_8bit(values: NDArray[Any], bits: int) -> U8:
    """Unsigned ``bits``-bit samples as 0..255.

    Deeper than 8 bits: the 8 most significant bits (``v >> (bits - 8)``), as DCMTK does for
    colour samples and palette entries; 16-bit palettes usually hold 8-bit values times 256,
    which this maps back exactly. Shallower: stretched, ``v * 255 // (2**bits - 1)``. Used for
    RGB with Bits Stored > 8 (PS3.3 C.7.6.3.1.2), palette entries (C.7.6.3.1.5) and VOI LUT
    entries (C.11.2.1.1).
    """
    bits = int(min(max(bits, 1), 32))
    if bits == 8 and values.dtype == np.uint8:
        return values
    maximum = (1 << bits) - 1
    if bits > 8 and values.dtype.kind == "u":  # the common case, without a wide copy
        top = values >> (bits - 8)
        return np.minimum(top, 255).astype(np.uint8)
    wide = values.astype(np.int64)
    np.clip(wide, 0, maximum, out=wide)
    if bits > 8:
        wide >>= bits - 8
    else:
        wide *= 255
        wide //= maximum
    return wide.astype(np.uint8)


def ybr_full_to_rgb(ybr: U8) -> U8:
    """YBR_FULL (and YBR_FULL_422 once upsampled) to RGB, PS3.3 C.7.6.3.1.2.

    Wraps pydicom's ``convert_color_space`` (ITU T.871 equations, float32, rounded), imported
    here so that the GUI can draw its window before pydicom and its decoders are loaded.
    """
    decoding_stack.load()
    from pydicom.pixels import convert_color_space

    return np.asarray(convert_color_space(ybr, "YBR_FULL", "RGB"), dtype=np.uint8)


def to_rgb(samples: NDArray[Any], photometric: str, bits_stored: int = 8) -> U8:
    """Three-sample pixels (rows, cols, 3) as 8-bit RGB, per PS3.3 C.7.6.3.1.2.

    * RGB: as is; deeper than 8 bits is scaled (:func:`scale_to_8bit`).
    * YBR_FULL, YBR_FULL_422: converted (pydicom's decoders already upsample 4:2:2 chroma and
      usually convert to RGB themselves; only raw data reaches this branch).
    * YBR_ICT, YBR_RCT: the JPEG 2000 decoders (GDCM, OpenJPEG, Pillow) undo the component
      transform themselves and hand back RGB, so these are treated as RGB.

    Planar configuration (0028,0006) is already undone by pydicom (samples last).
    """
    name = photometric.strip().upper()
    if name in ("YBR_FULL", "YBR_FULL_422"):
        return ybr_full_to_rgb(scale_to_8bit(samples, bits_stored))
    if name in ("RGB", "YBR_ICT", "YBR_RCT"):
        return scale_to_8bit(samples, bits_stored)
    raise ValueError(f"photometric interpretation {photometric!r} is not supported for colour")


def apply_palette(indices: NDArray[Any], first_mapped: int, rgb_table: ArrayLike, bits: int) -> U8:
    """PALETTE COLOR indices to 8-bit RGB (rows, cols, 3), PS3.3 C.7.6.3.1.5 / C.7.9.

    ``rgb_table`` is (entries, 3): the red, green and blue Palette Color LUT Data, already
    expanded if segmented (C.7.9.2). ``first_mapped`` and ``bits`` are the 2nd and 3rd values
    of the Palette Color LUT Descriptor; indices below the first mapped value take the first
    entry, past the end the last.
    """
    table = np.asarray(rgb_table)
    table8 = scale_to_8bit(table, bits)
    return np.take(table8, _table_indices(indices, first_mapped, len(table8)), axis=0)


def _holds(dtype: np.dtype[Any], value: int) -> bool:
    info = np.iinfo(dtype)
    return info.min <= value <= info.max
