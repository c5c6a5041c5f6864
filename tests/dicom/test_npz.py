"""save_npz writes what np.savez writes (the same members, byte for byte), without a copy."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from viewer.dicom.write import npz
from viewer.dicom.write.npz import save_npz

ARRAYS = {
    "int16 volume": np.arange(5 * 7 * 9, dtype=np.int16).reshape(5, 7, 9) - 100,
    "affine": np.eye(4) * 0.5,
    "empty": np.zeros((0, 3), dtype=np.uint16),
    "bool": np.array([True, False, True]),
    "scalar": np.array(3.25),
    "fortran": np.asfortranarray(np.arange(12, dtype=np.int32).reshape(3, 4)),
    "strided": np.arange(40, dtype=np.float32)[::3],
    "big endian": np.arange(6, dtype=">u2"),
    "complex": np.arange(4, dtype=np.complex64),
}


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None  # every CRC is right
        return {info.filename: archive.read(info) for info in archive.infolist()}


@pytest.mark.parametrize("name", list(ARRAYS))
def test_members_equal_np_savez(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(npz, "WRITE_RUN_BYTES", 16)  # several runs even for small arrays
    ours, theirs = io.BytesIO(), io.BytesIO()
    save_npz(ours, values=ARRAYS[name], affine=ARRAYS["affine"])
    np.savez(theirs, values=ARRAYS[name], affine=ARRAYS["affine"])
    assert _members(ours.getvalue()) == _members(theirs.getvalue())
    loaded = np.load(io.BytesIO(ours.getvalue()))
    assert loaded["values"].dtype == ARRAYS[name].dtype
    assert np.array_equal(loaded["values"], ARRAYS[name])


def test_object_arrays_are_refused() -> None:
    with pytest.raises(ValueError, match="object"):
        save_npz(io.BytesIO(), values=np.array([None, 1], dtype=object))
