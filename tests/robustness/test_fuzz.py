"""A seeded fuzz test: mutated real files through index, decode and render.

Seeds are real files of each kind the viewer reads (native explicit/implicit/big endian, RLE,
JPEG 2000, JPEG, deflated, multi-frame, enhanced multi-frame with functional groups).
Mutants flip bits, cut the file, and change length fields, VRs and tags at element
boundaries found by walking the header (:mod:`tests.robustness.element_walk`). Each mutant
goes through the header readers (as the indexer reads it), the catalog and its stacks,
read_frame/render_frame and the volume fill. Allowed: a record or a Skipped reason, a frame
or a DecodeError. Anything else is a crash; a call that does not return is a hang; a peak
allocation past PEAK_BYTES is bloat.

Quick by default (QUICK_ITERATIONS mutants); ``FUZZ_ITERATIONS=5000`` runs longer,
``FUZZ_SEED`` changes the seed. A failure names the mutant (seed file, index, mutation) so
it can be replayed with :func:`mutant`.
"""

from __future__ import annotations

import os
import random
import resource
import struct
import traceback
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests import factories
from tests.robustness import bad_files
from tests.robustness import element_walk as ew
from tests.robustness.conftest import HANG_S
from viewer.dicom import limits
from viewer.dicom.catalog.catalog import Catalog
from viewer.dicom.catalog.records import ScannedFile, Skipped
from viewer.dicom.io.scan import read_instance, read_instance_pydicom
from viewer.dicom.pixels.decode import DecodeError
from viewer.dicom.pixels.decode_pool import fill_frame
from viewer.dicom.pixels.display import render_frame

QUICK_ITERATIONS = 200
ITERATIONS = int(os.environ.get("FUZZ_ITERATIONS", QUICK_ITERATIONS))
SEED = int(os.environ.get("FUZZ_SEED", "20240607"))
#: One mutant may make the viewer allocate at most this much (seeds are under 300 KB).
PEAK_BYTES = 96 * 1024**2
#: Every this many mutants, allocations are traced (tracemalloc is slow).
TRACE_EVERY = 4
#: Failures listed in the message at most.
SHOWN = 12

SEED_FILES = [
    bad_files.CT,
    bad_files.MR_IMPLICIT,
    "MR_small_bigendian.dcm",
    bad_files.RLE,
    bad_files.J2K,
    bad_files.JPEG_BASELINE,
    bad_files.DEFLATED,
    "rtdose.dcm",  # native multi-frame
]
#: Values a mutated length field takes (besides ones relative to the old length).
LENGTHS = [0, 1, 2, 3, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFF0, 0xFFFFFFFE, ew.UNDEFINED]
VRS = [b"SQ", b"UN", b"OB", b"OW", b"UT", b"US", b"DS", b"IS", b"ZZ", b"\x00\x00", b"sq"]
TAGS = [0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD, 0x7FE00010, 0x00280010, 0x00000000, 0xFFFFFFFF]


@dataclass(frozen=True)
class Seed:
    name: str
    data: bytes
    elements: list[ew.Element]
    shape: tuple[int, int]


def _seed(name: str, data: bytes) -> Seed:
    explicit = name != bad_files.MR_IMPLICIT
    rows = columns = 16
    elements = ew.walk(data, explicit)
    for element in elements:
        if element.tag in (bad_files.ROWS, bad_files.COLUMNS) and element.length == 2:
            value = struct.unpack_from("<H", data, element.value_offset)[0]
            rows, columns = (value, columns) if element.tag == bad_files.ROWS else (rows, value)
    return Seed(name, data, elements, (rows, columns))


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> list[Seed]:
    found = [_seed(name, bad_files.source_bytes(name)) for name in SEED_FILES]
    folder = tmp_path_factory.mktemp("enhanced")
    truth = factories.write_enhanced(
        folder / "enhanced.dcm", factories.enhanced_frames(slices=3, phases=2)
    )
    found.append(_seed("enhanced.dcm", Path(truth.path).read_bytes()))
    return found


# --- mutations -------------------------------------------------------------------------------
Mutation = Callable[[random.Random, Seed], tuple[bytes, str]]


def flip_bits(rng: random.Random, seed: Seed) -> tuple[bytes, str]:
    data = bytearray(seed.data)
    header_end = min(len(data), 2048)
    flips = [
        rng.randrange(header_end) if rng.random() < 0.7 else rng.randrange(len(data))
        for _ in range(rng.randint(1, 16))
    ]
    for offset in flips:
        data[offset] ^= 1 << rng.randrange(8)
    return bytes(data), f"bits flipped at {sorted(flips)}"


def truncate(rng: random.Random, seed: Seed) -> tuple[bytes, str]:
    if rng.random() < 0.6:
        element = rng.choice(seed.elements)
        cut = max(0, element.offset + rng.randint(-2, 14))
    else:
        cut = rng.randrange(len(seed.data))
    return seed.data[:cut], f"cut at {cut}"


def change_length(rng: random.Random, seed: Seed) -> tuple[bytes, str]:
    element = rng.choice(seed.elements)
    old = element.length
    length = rng.choice(
        [*LENGTHS, old + 1, old - 1, old * 2, old + rng.randint(1, 5000), len(seed.data)]
    )
    return ew.with_length(seed.data, element, max(0, length)), (
        f"length of ({element.tag >> 16:04X},{element.tag & 0xFFFF:04X}) {old} -> {length}"
    )


def change_vr(rng: random.Random, seed: Seed) -> tuple[bytes, str]:
    explicit = [e for e in seed.elements if e.vr_offset is not None]
    if not explicit:
        return change_length(rng, seed)
    element = rng.choice(explicit)
    vr = rng.choice([*VRS, rng.randbytes(2)])
    at = element.offset + 4
    return seed.data[:at] + vr + seed.data[at + 2 :], (
        f"VR of ({element.tag >> 16:04X},{element.tag & 0xFFFF:04X}) -> {vr!r}"
    )


def change_tag(rng: random.Random, seed: Seed) -> tuple[bytes, str]:
    element = rng.choice(seed.elements)
    tag = rng.choice([*TAGS, rng.getrandbits(32)])
    packed = struct.pack("<HH", tag >> 16, tag & 0xFFFF)
    at = element.offset
    return seed.data[:at] + packed + seed.data[at + 4 :], (
        f"tag ({element.tag >> 16:04X},{element.tag & 0xFFFF:04X}) -> {tag:08X}"
    )


def splice(rng: random.Random, seed: Seed) -> tuple[bytes, str]:
    """Delete an element, or repeat one (tags out of order, twice the same tag)."""
    element = rng.choice(seed.elements)
    end = min(len(seed.data), element.value_offset + element.length)
    if rng.random() < 0.5:
        return seed.data[: element.offset] + seed.data[end:], f"deleted element at {element.offset}"
    copy = seed.data[element.offset : end]
    return seed.data[:end] + copy + seed.data[end:], f"repeated element at {element.offset}"


MUTATIONS: list[Mutation] = [flip_bits, truncate, change_length, change_vr, change_tag, splice]
WEIGHTS = [3, 2, 4, 2, 1, 1]


def mutant(seeds: list[Seed], index: int, base: int = SEED) -> tuple[bytes, str]:
    """Mutant ``index``: the same bytes for the same (base, index), on any machine."""
    rng = random.Random(f"{base}-{index}")
    seed = seeds[index % len(seeds)]
    data, description = seed.data, ""
    for _ in range(1 if rng.random() < 0.8 else 2):  # sometimes two mutations at once
        mutate = rng.choices(MUTATIONS, WEIGHTS)[0]
        data, step = mutate(rng, Seed(seed.name, data, seed.elements, seed.shape))
        description += f"{mutate.__name__}: {step}; "
    return data, f"#{index} of {seed.name}: {description.rstrip('; ')}"


# --- what a mutant goes through -----------------------------------------------------------------
def exercise(path: Path, shape: tuple[int, int]) -> None:
    """Index, catalog, decode, render and volume-fill one file; raise on anything not allowed."""
    for reader in (read_instance, read_instance_pydicom):
        item = reader(str(path))
        assert isinstance(item, ScannedFile | Skipped), item
        if isinstance(item, Skipped):
            assert item.reason.strip() and "\n" not in item.reason, item.reason
        else:
            catalog = Catalog()
            catalog.add(item)
            for stack in catalog.all_stacks():
                stack.affine()
    for frame in (0, 1):
        try:
            image = render_frame(path, frame)
        except DecodeError as error:
            assert error.reason.strip() and "\n" not in error.reason, error.reason
        else:
            assert image.dtype == np.uint8
    outcome = fill_frame(np.zeros(shape, dtype=np.int16), 0, str(path), 0)
    assert outcome.error == "" or "\n" not in outcome.error


def run_one(path: Path, shape: tuple[int, int], traced: bool) -> str | None:
    """None when the mutant was handled; else what went wrong (crash, hang or bloat).

    ``traced``: measure the peak allocation (tracemalloc makes pydicom ~7x slower, so only
    some mutants are traced); every mutant is checked for growth of the resident high-water
    mark.
    """
    before = _max_rss()
    if traced:
        tracemalloc.start()
    try:
        limits.time_boxed(exercise, HANG_S, path, shape)
    except limits.TimedOut:
        pytest.fail(f"hang: {path.name} took over {HANG_S:g} s (the rest would block)")
    except BaseException as error:  # a crash: what the fuzz test is for
        if isinstance(error, KeyboardInterrupt):
            raise
        lines = traceback.format_exception(error)
        return f"{type(error).__name__}: {error} at {lines[-2].strip() if len(lines) > 1 else ''}"
    finally:
        peak = tracemalloc.get_traced_memory()[1] if traced else 0
        tracemalloc.stop()
    grown = _max_rss() - before
    if max(peak, grown) > PEAK_BYTES:
        return f"allocated {max(peak, grown) / 1e6:.0f} MB"
    return None


def _max_rss() -> int:
    """This process's resident high-water mark in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def test_fuzzed_files_never_crash_hang_or_bloat(seeds: list[Seed], tmp_path: Path) -> None:
    failures: list[str] = []
    for index in range(ITERATIONS):
        data, description = mutant(seeds, index)
        path = tmp_path / f"mutant{index % 2}.dcm"
        path.write_bytes(data)
        problem = run_one(path, seeds[index % len(seeds)].shape, index % TRACE_EVERY == 0)
        if problem is not None:
            failures.append(f"{description}: {problem}")
            (tmp_path / f"failed{index}.dcm").write_bytes(data)
    shown = "\n".join(failures[:SHOWN])
    assert not failures, f"{len(failures)} of {ITERATIONS} mutants failed (seed {SEED}):\n{shown}"
