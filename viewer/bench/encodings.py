"""The five lossless encodings of the CT series and how each is written.

pydicom 3's encoders write RLE (its default plugin order), JPEG-LS (pyjpegls) and JPEG 2000
(pylibjpeg-openjpeg); pydicom 3.0 has no JPEG Lossless encoder, so GDCM's
ImageChangeTransferSyntax converts the uncompressed file to JPEG Lossless SV1 in place.
"""

from __future__ import annotations

from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)

#: Report name -> transfer syntax, in report order.
ENCODINGS: dict[str, UID] = {
    "uncompressed": ExplicitVRLittleEndian,
    "rle": RLELossless,
    "jpeg_lossless": JPEGLosslessSV1,
    "jpeg_ls": JPEGLSLossless,
    "jpeg2000": JPEG2000Lossless,
}


class EncodingError(Exception):
    """A generated file could not be written in the wanted transfer syntax."""


def write_encoded(ds: Dataset, encoding: str, path: Path) -> None:
    """Write ``ds`` (uncompressed) to ``path`` in ``encoding`` (a key of ENCODINGS)."""
    syntax = ENCODINGS[encoding]
    if syntax == JPEGLosslessSV1:
        ds.save_as(path, enforce_file_format=True)
        _gdcm_convert(path, syntax)
        return
    if syntax != ExplicitVRLittleEndian:
        ds.compress(syntax)
    ds.save_as(path, enforce_file_format=True)


def _gdcm_convert(path: Path, syntax: UID) -> None:
    import gdcm

    reader = gdcm.ImageReader()
    reader.SetFileName(str(path))
    if not reader.Read():
        raise EncodingError(f"GDCM cannot read {path}")
    change = gdcm.ImageChangeTransferSyntax()
    change.SetTransferSyntax(gdcm.TransferSyntax(gdcm.TransferSyntax.GetTSType(str(syntax))))
    change.SetInput(reader.GetImage())
    if not change.Change():
        raise EncodingError(f"GDCM cannot convert {path} to {syntax.name}")
    writer = gdcm.ImageWriter()
    writer.SetFileName(str(path))
    writer.SetFile(reader.GetFile())
    writer.SetImage(change.GetOutput())
    if not writer.Write():
        raise EncodingError(f"GDCM cannot write {path}")
