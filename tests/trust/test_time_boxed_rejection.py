"""Issue 13 item 11: zero-filled files are refused after a bounded read, whatever their size.

Each shape is a sparse 2 GiB file (``truncate``: no disk used): only zeros; a zero preamble and
``DICM`` then zeros; a File Meta Information then zeros; a whole CT header then zeros where
Pixel Data should start. pydicom parses zero bytes as endless empty (0000,0000) elements, so
before this change each was read to its end (0.5 to 0.9 s per MiB). Now: the header readers,
the decoder and the indexer read a few KiB of each (counted with /proc/self/io, not timed),
and every verb refuses each file with one line (run as real processes; the subprocess
timeout only guards against a hang).
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from viewer.dicom.catalog.records import Skipped
from viewer.dicom.io.indexer import index_paths
from viewer.dicom.io.scan import read_instance, read_instance_pydicom
from viewer.dicom.pixels.decode import DecodeError
from viewer.dicom.pixels.reading import read_frame

SIZE = 2 * 1024**3
#: What reading one such file may cost; the files are 2 GiB.
MOST_BYTES_READ = 4 * 1024**2

CT = Path(str(get_testdata_file("CT_small.dcm", download=False))).read_bytes()
META_END = 144 + struct.unpack_from("<L", CT, 140)[0]
PIXEL_START = CT.rindex(b"\xe0\x7f\x10\x00OW")

SHAPES: dict[str, bytes] = {
    "zeros": b"",
    "dicm_then_zeros": bytes(128) + b"DICM",
    "meta_then_zeros": CT[:META_END],
    "header_then_zeros": CT[:PIXEL_START],
}


def _sparse(folder: Path, name: str) -> Path:
    path = folder / f"{name}.dcm"
    with open(path, "wb") as handle:
        handle.write(SHAPES[name])
        handle.truncate(SIZE)
    return path


@pytest.fixture(scope="module")
def sparse_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sparse")
    return {name: _sparse(folder, name) for name in SHAPES}


def _bytes_read() -> int:
    with open("/proc/self/io") as io:
        fields = dict(line.split(": ") for line in io.read().splitlines())
    return int(fields["rchar"])


def _cost(function: Callable[[], object]) -> tuple[object, int]:
    before = _bytes_read()
    try:
        result: object = function()
    except DecodeError as error:
        result = error
    return result, _bytes_read() - before


pytestmark = pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs /proc/self/io")


@pytest.mark.parametrize("name", list(SHAPES))
def test_each_reader_refuses_after_a_bounded_read(name: str, sparse_files: dict[str, Path]) -> None:
    path = str(sparse_files[name])
    for label, read in (
        ("lean and pydicom", lambda: read_instance(path)),
        ("pydicom", lambda: read_instance_pydicom(path)),
        ("decoder", lambda: read_frame(path)),
    ):
        result, cost = _cost(read)
        assert isinstance(result, Skipped | DecodeError), (label, result)
        reason = result.reason if isinstance(result, Skipped) else str(result)
        assert "\n" not in reason and ("zero" in reason or "not a DICOM" in reason), reason
        assert cost < MOST_BYTES_READ, f"{label} read {cost} bytes of {name}"


def test_the_indexer_skips_them_all_after_a_bounded_read(sparse_files: dict[str, Path]) -> None:
    folder = next(iter(sparse_files.values())).parent
    catalog, cost = _cost(lambda: index_paths([folder], workers=0))
    assert catalog.instance_count == 0  # type: ignore[attr-defined]
    assert len(catalog.skipped) == len(SHAPES)  # type: ignore[attr-defined]
    assert cost < len(SHAPES) * MOST_BYTES_READ


def _run(args: list[str], tmp_path: Path) -> list[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, "-m", "viewer", *args],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        check=False,
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr, (args, done.stderr)
    return [line for line in done.stderr.splitlines() if line.strip()]


def test_every_verb_refuses_them_each_in_one_line(
    sparse_files: dict[str, Path], tmp_path: Path
) -> None:
    folder = next(iter(sparse_files.values())).parent
    for verb in (
        ["inspect", str(folder)],
        ["inspect", str(folder), "--json"],
        ["volume", str(folder), str(tmp_path / "x.npz")],
        ["export", str(folder), str(tmp_path / "export"), "--format", "dicom"],
        ["db", "import", str(folder), "--db", str(tmp_path / "studies.sqlite")],
    ):
        lines = _run(verb, tmp_path)
        for path in sparse_files.values():  # one line names each file, with the reason
            said = [line for line in lines if f"/{path.name}:" in line]
            assert len(said) == 1, (verb, lines)
            assert "zero" in said[0] or "not a DICOM" in said[0], (verb, said)
    for path in sparse_files.values():
        lines = _run(["render", str(path), str(tmp_path / "x.png")], tmp_path)
        assert len(lines) == 1 and ("zero" in lines[0] or "not a DICOM" in lines[0]), lines
