"""The decoded-frame cache (issue 15 item 4) on real compressed series: a reload copies the
frames back instead of decoding them, gives exactly the same voxels, never answers a changed
file from an old entry, stays within its size bound (least recently used out) and shrugs off
a damaged entry."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import JPEG2000Lossless, JPEGLSLossless, RLELossless

from tests.factories import write_series
from viewer.dicom.io.indexer import index_paths
from viewer.dicom.pixels import decode_pool, frame_store, volume
from viewer.dicom.pixels.frame_store import FrameStore
from viewer.dicom.pixels.volume import load_volume

SYNTAXES = {"rle": RLELossless, "jpeg_ls": JPEGLSLossless, "jpeg2000": JPEG2000Lossless}


@pytest.fixture(autouse=True)
def cache_on() -> Iterator[None]:
    frame_store.set_max_bytes(64 * 2**20)
    yield
    frame_store.set_max_bytes(0)


def compressed_series(tmp_path: Path, syntax: str, slices: int, seed: int = 3) -> Path:
    native = tmp_path / f"native-{syntax}-{slices}"
    write_series(native, slices=slices, rows=64, columns=48, seed=seed)
    target = tmp_path / f"{syntax}-{slices}"
    target.mkdir()
    for path in sorted(native.iterdir()):
        ds = pydicom.dcmread(path)
        ds.compress(SYNTAXES[syntax])
        ds.save_as(target / path.name, enforce_file_format=True)
    return target


def loaded(folder: Path) -> np.ndarray:
    stacks = index_paths([str(folder)]).all_stacks()
    assert len(stacks) == 1
    return np.asarray(load_volume(stacks[0]).voxels).copy()


def native_voxels(tmp_path: Path, syntax: str, slices: int) -> np.ndarray:
    frame_store.set_max_bytes(0)
    try:
        return loaded(tmp_path / f"native-{syntax}-{slices}")
    finally:
        frame_store.set_max_bytes(64 * 2**20)


def store() -> FrameStore:
    found = frame_store.default_store()
    assert found is not None
    return found


@pytest.mark.parametrize("syntax", sorted(SYNTAXES))
def test_a_reload_copies_instead_of_decoding(
    tmp_path: Path, syntax: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = compressed_series(tmp_path, syntax, slices=8)  # decoded in this process
    first = loaded(folder)
    assert np.array_equal(first, native_voxels(tmp_path, syntax, 8))
    assert len(store().entries()) == 7  # every frame but the first (decoded for its header)
    # volume reaches fill_frame through lazy.load (pydicom only when a frame needs decoding)
    monkeypatch.setattr(decode_pool, "fill_frame", lambda *args: pytest.fail("decoded again"))
    assert np.array_equal(loaded(folder), first)


def test_a_reload_in_worker_processes_gives_the_same_voxels(tmp_path: Path) -> None:
    slices = volume.SEQUENTIAL_MAX_FRAMES + 8
    folder = compressed_series(tmp_path, "jpeg_ls", slices=slices)
    first = loaded(folder)
    entries = store().entries()
    assert len(entries) == volume.SEQUENTIAL_MAX_FRAMES + 7
    assert np.array_equal(loaded(folder), first)
    assert np.array_equal(
        first, native_voxels(tmp_path, "jpeg_ls", volume.SEQUENTIAL_MAX_FRAMES + 8)
    )
    assert sorted(p for *_, p in store().entries()) == sorted(p for *_, p in entries)


def test_native_frames_are_never_cached(tmp_path: Path) -> None:
    folder = tmp_path / "native"
    write_series(folder, slices=5)
    loaded(folder)
    assert store().entries() == []


def test_a_changed_file_is_decoded_again(tmp_path: Path) -> None:
    folder = compressed_series(tmp_path, "rle", slices=6)
    loaded(folder)
    victim = sorted(folder.iterdir())[3]
    info = victim.stat()
    os.utime(victim, ns=(info.st_atime_ns, info.st_mtime_ns + 3_000_000_000))
    assert np.array_equal(loaded(folder), native_voxels(tmp_path, "rle", 6))
    assert len(store().entries()) == 5 + 1  # one new entry for the touched file


def test_a_damaged_entry_is_removed_and_the_frame_decoded(tmp_path: Path) -> None:
    folder = compressed_series(tmp_path, "rle", slices=6)
    loaded(folder)
    for _, _, entry in store().entries():
        entry.write_bytes(entry.read_bytes()[:40])  # truncated
    assert np.array_equal(loaded(folder), native_voxels(tmp_path, "rle", 6))
    assert all(size > 40 for _, size, _ in store().entries())


@pytest.mark.parametrize("seed", range(5))
def test_the_bound_holds_and_the_least_recently_used_go_first(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    frame = np.zeros((32, 32), dtype=np.int16)
    limit = int(rng.integers(3, 12)) * (frame.nbytes + 32)
    cache = FrameStore(tmp_path / "frames", limit)
    keys = [f"{n:040x}" for n in range(int(rng.integers(12, 30)))]
    for n, key in enumerate(keys):
        assert cache.put(key, frame + n, 1.0, float(-n))
        os.utime(cache._path(key), (n, n))
    recent = keys[int(rng.integers(0, len(keys)))]
    target = np.empty_like(frame)
    hit = cache.read_into(recent, target)  # used now: the newest
    assert hit is not None and hit.rescale_intercept == -keys.index(recent)
    assert np.array_equal(target, frame + keys.index(recent))
    cache.trim()
    assert cache.total_bytes() <= limit
    kept = {path.stem for *_, path in cache.entries()}
    assert recent in kept
    survivors = sorted(kept - {recent})
    assert survivors == sorted(k for k in keys if k in kept and k != recent)
    oldest_kept = min(keys.index(k) for k in survivors) if survivors else len(keys)
    assert all(keys.index(k) >= oldest_kept for k in survivors)
    assert all(k in kept for k in keys[oldest_kept:] if k != recent)


def test_a_full_or_read_only_cache_only_means_decoding(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    cache = FrameStore(blocker / "frames", 2**20)
    assert not cache.put("ab" * 20, np.zeros((4, 4), np.uint8), 1.0, 0.0)
    assert cache.read_into("ab" * 20, np.zeros((4, 4), np.uint8)) is None
    assert cache.trim() == 0


def _counting_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every frame the viewport's path decodes (read_frame_cached's read_frame calls; a
    JPEG 2000 frame may be decoded by a child process from there)."""
    from viewer.dicom.pixels import decode

    calls: list[str] = []
    real = decode.read_frame

    def counted(source: str, frame: int = 0, **kwargs: object) -> object:
        calls.append(source)
        return real(source, frame, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(decode, "read_frame", counted)
    return calls


@pytest.mark.parametrize("syntax", sorted(SYNTAXES))
def test_a_2d_frame_comes_from_the_cache_with_its_transform(
    tmp_path: Path, syntax: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The viewport's decode (read_frame_cached): decoded once and written, then the cached
    values and the very PixelTransform a decode gives, without decoding."""
    from viewer.dicom.pixels.decode import read_frame, read_frame_cached

    folder = compressed_series(tmp_path, syntax, slices=3)  # read_frame: the real one
    calls = _counting_decodes(monkeypatch)
    paths = [str(p) for p in sorted(folder.iterdir())]
    first = [read_frame_cached(path, 0, store()) for path in paths]
    assert len(calls) == 3 and len(store().entries()) == 3
    again = [read_frame_cached(path, 0, store()) for path in paths]
    assert len(calls) == 3  # no decode
    assert {frame.decoder for frame in again} == {"frame cache"}
    for decoded, cached, path in zip(first, again, paths, strict=True):
        assert np.array_equal(cached.stored, decoded.stored)
        assert cached.stored.dtype == decoded.stored.dtype
        assert cached.transform == decoded.transform == read_frame(path).transform


def test_the_2d_path_and_the_volume_share_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A volume load's entries answer the viewport, and the viewport's the next load."""
    from viewer.dicom.pixels.decode import read_frame_cached

    folder = compressed_series(tmp_path, "jpeg2000", slices=6)
    voxels = loaded(folder)  # writes frames 1..5 (the first is decoded for its header)
    calls = _counting_decodes(monkeypatch)
    paths = [str(p) for p in sorted(folder.iterdir())]
    frames = [read_frame_cached(path, 0, store()) for path in paths]
    assert len(calls) == 1  # only the first slice, which the volume did not write
    stacks = index_paths([str(folder)]).all_stacks()
    order = [source[0] for source in stacks[0].sources]
    for k, path in enumerate(order):
        assert np.array_equal(frames[paths.index(path)].stored, voxels[k])


def test_native_2d_frames_are_read_not_cached(tmp_path: Path) -> None:
    from viewer.dicom.pixels.decode import read_frame_cached

    write_series(tmp_path / "native", slices=2)
    for path in sorted((tmp_path / "native").iterdir()):
        assert read_frame_cached(str(path), 0, store()).decoder == "numpy"
    assert store().entries() == []
