"""A pydicom decoding plugin: JPEG extended (process 2 and 4, 8- or 12-bit) through GDCM.

pydicom's decoding-plugin protocol: a module with ``is_available(uid)``,
``DECODER_DEPENDENCIES`` and the decode function. pydicom's own gdcm plugin refuses 12-bit
JPEG extended although GDCM decodes it; this plugin is the same call without that refusal
(tried after libjpeg-turbo: see :mod:`viewer.dicom.codecs.policy`).
"""

from __future__ import annotations

from pydicom import uid as dicom_uid
from pydicom.pixels.decoders.base import DecodeRunner

DECODER_DEPENDENCIES = {dicom_uid.JPEGExtended12Bit: ("gdcm>=3.0.10",)}


def is_available(uid: str) -> bool:
    """pydicom plugin protocol: whether :func:`decode_frame` can run."""
    try:
        import gdcm  # noqa: F401
    except ImportError:
        return False
    return uid == dicom_uid.JPEGExtended12Bit


def decode_frame(src: bytes, runner: DecodeRunner) -> bytes:
    """Decode one JPEG extended (process 2 and 4) frame, 8- or 12-bit, with GDCM."""
    import gdcm

    fragment = gdcm.Fragment()
    fragment.SetByteStringValue(src)
    fragments = gdcm.SequenceOfFragments.New()
    fragments.AddFragment(fragment)
    element = gdcm.DataElement(gdcm.Tag(0x7FE0, 0x0010))
    element.SetValue(fragments.__ref__())
    image = gdcm.Image()
    image.SetNumberOfDimensions(2)
    image.SetDimensions((runner.columns, runner.rows, 1))
    image.SetDataElement(element)
    kind = gdcm.PhotometricInterpretation.GetPIType(runner.photometric_interpretation)
    image.SetPhotometricInterpretation(gdcm.PhotometricInterpretation(kind))
    if runner.samples_per_pixel > 1:
        image.SetPlanarConfiguration(runner.planar_configuration)
    syntax = gdcm.TransferSyntax.GetTSType(str.__str__(runner.transfer_syntax))
    image.SetTransferSyntax(gdcm.TransferSyntax(syntax))
    bits = runner.bits_stored
    image.SetPixelFormat(
        gdcm.PixelFormat(
            runner.samples_per_pixel,
            runner.bits_allocated,
            bits,
            bits - 1,
            runner.pixel_representation,
        )
    )
    buffer = image.GetBuffer()
    if buffer is None:
        raise RuntimeError("GDCM could not decode the JPEG extended frame")
    # GDCM hands char* back as str: undo its surrogate escaping to get the bytes.
    return bytes(buffer.encode("utf-8", "surrogateescape"))
