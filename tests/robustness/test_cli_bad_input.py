"""The headless verbs on bad input: exit 0 or 1, one ``dicom-viewer:`` line per problem.

``inspect``, ``render`` and ``volume`` run in this process through viewer.__main__.main (as the
console command does) on every class of :mod:`tests.robustness.bad_files`, and on a folder that
mixes the demo CT with one of each class: the good series must come out whole.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.robustness import bad_files
from tests.robustness.conftest import BadInputs, mixed_folder, no_hang
from viewer.__main__ import main
from viewer.cli.skipped import SHOWN

CLASSES = list(bad_files.GENERATORS)
PREFIX = "dicom-viewer: "
#: Files per class given to ``render`` (test_decode_bad_files renders every one in-process).
RENDERED_PER_CLASS = 4


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, list[str]]:
    """(exit status, stdout, stderr lines) of ``dicom-viewer argv...``."""
    status = no_hang(main, list(argv))
    out, err = capsys.readouterr()
    lines = err.splitlines()
    for line in lines:
        assert line.startswith(PREFIX), f"not one readable line: {line!r}"
        assert "Traceback" not in line
    return status, out, lines


@pytest.mark.parametrize("name", CLASSES)
def test_inspect_and_volume_exit_cleanly(
    bad_inputs: BadInputs, name: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = str(bad_inputs.folder(name))
    status, out, _ = run(capsys, "inspect", folder, "--json")
    assert status in (0, 1)
    report = json.loads(out)
    assert report["scanned"] >= 1
    assert run(capsys, "inspect", folder)[0] in (0, 1)
    status, _, lines = run(capsys, "volume", folder, str(tmp_path / "out.npz"))
    assert status in (0, 1)
    assert status == 0 or lines  # a failure says why


@pytest.mark.parametrize("name", CLASSES)
def test_render_exits_cleanly(
    bad_inputs: BadInputs, name: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for index, path in enumerate(bad_inputs.paths[name][:RENDERED_PER_CLASS]):
        out = tmp_path / f"{index}.png"
        status, _, lines = run(capsys, "render", str(path), str(out))
        assert status in (0, 1), path
        assert (status == 0) == out.exists(), path
        assert status == 0 or len(lines) == 1, (path, lines)


def test_odd_file_names_keep_the_output_readable(bad_inputs: BadInputs) -> None:
    """Undecodable bytes and newlines in names, in a C locale: no encoding errors."""
    folder = str(bad_inputs.folder("odd_file_names"))
    for extra in ([], ["--json"]):
        done = subprocess.run(
            [sys.executable, "-m", "viewer", "inspect", folder, *extra],
            capture_output=True,
            env={**os.environ, "LC_ALL": "C", "LANG": "C"},
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert b"Traceback" not in done.stderr
    assert len(json.loads(done.stdout)["patients"]) == 1


@pytest.fixture(scope="module")
def mixed(
    bad_inputs: BadInputs, demo_ct_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return mixed_folder(tmp_path_factory.mktemp("cli"), demo_ct_folder, bad_inputs)


def ct_stack(report: dict) -> tuple[int, dict]:
    """(index in inspect's depth-first order, stack) of the demo CT's stack."""
    stacks = [
        (series, stack)
        for patient in report["patients"]
        for study in patient["studies"]
        for series in study["series"]
        for stack in series["stacks"]
    ]
    index = next(i for i, (s, _) in enumerate(stacks) if s["description"].startswith("Thorax"))
    return index, stacks[index][1]


def test_a_mixed_folder_gives_the_good_series_whole(
    mixed: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, out, lines = run(capsys, "inspect", str(mixed), "--json")
    assert status == 0
    report = json.loads(out)
    index, stack = ct_stack(report)
    assert stack["frames"] == 191 and (stack["rows"], stack["columns"]) == (256, 256)
    cut = [s for s in report["skipped"] if "/ct/" in s["path"]]
    assert len(cut) == 1 and cut[0]["reason"].startswith("pixel data truncated")  # item 3
    assert len(report["skipped"]) > 20 and len(lines) == SHOWN + 1  # a few named, then a count
    assert f"skipped {len(report['skipped']) - SHOWN} more" in lines[-1]

    npz = tmp_path / "ct.npz"
    status, _, lines = run(capsys, "volume", str(mixed), str(npz), "--stack", str(index))
    assert status == 0
    with np.load(npz) as saved:
        voxels = saved["voxels"]
    assert voxels.shape == (191, 256, 256)
    assert voxels.reshape(191, -1).any(axis=1).all()  # every slice it holds decoded
