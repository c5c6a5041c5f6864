"""Frames by URI (issue 12 item 2): FrameRef, readers per scheme, decoding from bytes.

Every image among pydicom's bundled files decodes to the same values (or fails with the same
reason) from its path, from its bytes, from a file-like, from a ``zip:`` member read in place
and from a made-up ``mem:`` scheme registered the way a new source is added (one module,
tests/sources/memory_source.py, plus one registration), in this process and in the decode
pool's worker processes.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pydicom.data import get_testdata_file, get_testdata_files

import viewer.sources
from tests.sources import memory_source
from viewer.dicom.catalog.frame_ref import FrameRef, local_path, scheme_of
from viewer.dicom.catalog.stack import Stack
from viewer.dicom.io import frame_sources, zips
from viewer.dicom.pixels.decode import DecodedFrame, DecodeError
from viewer.dicom.pixels.decode_pool import DecodePool
from viewer.dicom.pixels.reading import read_frame
from viewer.dicom.pixels.volume import load_volume

#: pydicom's bundled files (its own test files, as tests/dicom/test_decode.py walks them).
BUNDLED = sorted(str(path) for path in get_testdata_files() if os.path.isfile(path))


def outcome(source: object, frame: int = 0) -> tuple[str, object]:
    """("ok", (stored, transform)) or ("error", reason) of read_frame."""
    try:
        decoded = read_frame(source, frame)  # type: ignore[arg-type]
    except DecodeError as error:
        return "error", error.reason
    return "ok", decoded


def same(a: tuple[str, object], b: tuple[str, object]) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "error":
        return a[1] == b[1]
    first, second = a[1], b[1]
    assert isinstance(first, DecodedFrame) and isinstance(second, DecodedFrame)
    return (
        first.stored.dtype == second.stored.dtype
        and np.array_equal(first.stored, second.stored)
        and first.transform == second.transform
        and first.decoder == second.decoder
    )


@pytest.fixture
def mem_scheme() -> Iterator[None]:
    """The ``mem:`` scheme registered as viewer.sources registers its own (one line)."""
    saved = dict(viewer.sources.SCHEMES)
    viewer.sources.SCHEMES[memory_source.SCHEME] = memory_source.READER
    viewer.sources.install()
    yield
    viewer.sources.SCHEMES.clear()
    viewer.sources.SCHEMES.update(saved)
    frame_sources.unregister(memory_source.SCHEME)


def test_frame_ref_is_the_pair_it_replaces() -> None:
    ref = FrameRef("/data/ct/IM1", 3)
    uri, frame = ref
    assert (uri, frame) == ("/data/ct/IM1", 3) == ref
    assert hash(ref) == hash(("/data/ct/IM1", 3))
    assert {("/data/ct/IM1", 3): "cached"}[ref] == "cached"
    assert ref.scheme == "file" and ref.local_path == "/data/ct/IM1"


@pytest.mark.parametrize(
    ("uri", "scheme", "path"),
    [
        ("/data/IM1", "file", "/data/IM1"),
        ("relative/IM1", "file", "relative/IM1"),
        ("file:///data/a%20b/IM1", "file", "/data/a b/IM1"),
        ("FILE:///data/IM1", "file", "/data/IM1"),
        ("C:\\data\\IM1", "file", "C:\\data\\IM1"),  # a drive letter is not a scheme
        ("zip:/data/s.zip!/DICOM/IM1", "zip", None),
        ("wadors:https://pacs/dicom-web/studies/1/series/2/instances/3", "wadors", None),
        ("db:1.2.3", "db", None),
    ],
)
def test_schemes(uri: str, scheme: str, path: str | None) -> None:
    assert scheme_of(uri) == scheme
    assert local_path(uri) == path


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: Path(p).name)
def test_bytes_and_file_likes_decode_as_the_path_does(path: str) -> None:
    from_path = outcome(path)
    with open(path, "rb") as handle:
        data = handle.read()
    assert same(outcome(data), from_path)
    assert same(outcome(io.BytesIO(data)), from_path)
    assert same(outcome(memoryview(data)), from_path)


def test_a_frame_other_than_the_first_from_bytes() -> None:
    path = str(get_testdata_file("rtdose.dcm"))
    with open(path, "rb") as handle:
        data = handle.read()
    for frame in (0, 7, 14, 15):
        assert same(outcome(data, frame), outcome(path, frame))
    assert "does not exist" in str(outcome(data, 15)[1])


def member_name(path: str) -> str:
    """Where ``path`` is in the zip (two bundled files share a name)."""
    return f"images/{BUNDLED.index(path):03d}/{Path(path).name}"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A zip of the bundled images (deflated), one of them inside a zip inside the zip."""
    folder = tmp_path_factory.mktemp("zips")
    inner = folder / "inner.zip"
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as nested:
        nested.write(str(get_testdata_file("CT_small.dcm")), "deep/CT_small.dcm")
    outer = folder / "bundled.zip"
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as writer:
        for path in BUNDLED:
            writer.write(path, member_name(path))
        writer.write(inner, "more/inner.zip")
    return outer


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: Path(p).name)
def test_zip_members_decode_in_place(archive: Path, path: str) -> None:
    uri = zips.member_uri(str(archive), member_name(path))
    got = outcome(uri)
    assert same(got, outcome(path))
    if got[0] == "ok":
        assert isinstance(got[1], DecodedFrame) and got[1].path == uri


def test_a_zip_inside_a_zip(archive: Path) -> None:
    uri = zips.member_uri(str(archive), "more/inner.zip", "deep/CT_small.dcm")
    assert same(outcome(uri), outcome(str(get_testdata_file("CT_small.dcm"))))


@pytest.mark.parametrize(
    ("member", "reason"),
    [("images/nothing-here", "has no member images/nothing-here"), ("../etc/passwd", "refused")],
)
def test_bad_zip_members_fail_with_a_reason(archive: Path, member: str, reason: str) -> None:
    with pytest.raises(DecodeError) as caught:
        read_frame(zips.member_uri(str(archive), member))
    assert reason in caught.value.reason


def test_an_unknown_scheme_is_a_decode_error() -> None:
    with pytest.raises(DecodeError) as caught:
        read_frame("nosuch:thing", 0)
    assert caught.value.reason == "no reader for 'nosuch:' sources"
    assert caught.value.path == "nosuch:thing"


def test_a_new_scheme_is_one_module_and_one_registration(mem_scheme: None) -> None:
    assert "mem" in frame_sources.schemes()
    for name in ("CT_small.dcm", "MR_small_jpeg_ls_lossless.dcm", "SC_rgb_rle_2frame.dcm"):
        got = outcome(f"mem:{name}")
        assert got[0] == "ok"
        assert same(got, outcome(str(get_testdata_file(name))))
    with pytest.raises(DecodeError, match="file not found"):
        read_frame("mem:missing.dcm")


def test_worker_processes_read_the_registered_schemes(mem_scheme: None) -> None:
    """The decode pool's workers start with the parent's registrations: a frame of a ``mem:``
    source decodes there as here (and a JPEG 2000 frame, which this process would send to a
    worker anyway)."""
    pool = DecodePool(workers=1)
    try:
        for name in ("CT_small.dcm", "693_J2KI.dcm"):
            here = read_frame(f"mem:{name}")
            there = pool.decode(f"mem:{name}", 0).result(timeout=120)
            assert isinstance(there, DecodedFrame), there
            assert np.array_equal(there.stored, here.stored)
            assert there.path == f"mem:{name}"
    finally:
        pool.shutdown()


def test_a_volume_of_frames_from_a_new_scheme(mem_scheme: None) -> None:
    """A stack whose slices are ``mem:`` frames loads into the same volume as from files."""
    name = "rtdose.dcm"
    path = str(get_testdata_file(name))
    geometry = dict(
        rows=10,
        columns=10,
        spacing=(2.0, 2.0, 5.0),
        origin=(0.0, 0.0, 0.0),
        direction=((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
    )
    from_files = Stack(sources=tuple(FrameRef(path, k) for k in range(15)), **geometry)  # type: ignore[arg-type]
    from_memory = Stack(sources=tuple(FrameRef(f"mem:{name}", k) for k in range(15)), **geometry)  # type: ignore[arg-type]
    expected = load_volume(from_files)
    got = load_volume(from_memory)
    assert np.array_equal(got.voxels, expected.voxels)
    assert got.warnings == expected.warnings
