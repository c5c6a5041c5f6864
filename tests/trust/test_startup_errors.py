"""Issue 13 item 8: start-up errors are one line naming the fix, with exit 1 or 2.

Run as a user would: the real console entry point in a subprocess, with the environment a
headless machine or a mistyped command gives it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from viewer.__main__ import VERBS
from viewer.core.display import debian_package, display_problem


def run_viewer(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "viewer", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env if env is not None else dict(os.environ),
    )


def headless_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    env.update(extra)
    return env


def typos(word: str) -> list[str]:
    """A dropped letter, two letters swapped, one letter doubled."""
    return sorted(
        {word[1:], word[:-1] + word[-1] * 2, word[0] + word[2] + word[1] + word[3:]} - {word}
    )


@pytest.mark.parametrize("verb", [v for v in VERBS if len(v) > 3])
def test_a_mistyped_verb_is_refused_with_the_closest_verb(verb: str, tmp_path: Path) -> None:
    for typo in typos(verb):
        result = run_viewer(typo, "x", env=headless_env())
        assert result.returncode == 2, (typo, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, lines
        assert f"unknown verb '{typo}'" in lines[0]
        assert f"did you mean '{verb}'" in lines[0]
        assert result.stdout == ""


def test_a_word_like_no_verb_lists_the_verbs() -> None:
    result = run_viewer("qqqqqq", env=headless_env())
    assert result.returncode == 2
    assert "unknown verb 'qqqqqq' (verbs: open, " in result.stderr


def test_an_existing_path_still_opens_the_gui(tmp_path: Path) -> None:
    """``dicom-viewer PATH`` goes to the GUI: without a display that is the display's line."""
    (tmp_path / "inpsect").mkdir()  # a folder named like a typo is a path, not a verb
    for path in (str(tmp_path), str(tmp_path / "inpsect")):
        result = run_viewer(path, env=headless_env())
        assert result.returncode == 1
        assert "no display" in result.stderr
        assert "unknown verb" not in result.stderr


@pytest.mark.parametrize("verb", [(), ("open",), ("screenshot", "out.png")], ids=str)
def test_no_display_is_one_line_naming_the_fix(verb: tuple[str, ...], tmp_path: Path) -> None:
    result = run_viewer(*verb, env=headless_env(HOME=str(tmp_path)))
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "DISPLAY" in lines[0] and "QT_QPA_PLATFORM=offscreen" in lines[0]
    assert not (tmp_path / "out.png").exists()


def test_a_display_qt_cannot_use_is_one_line_not_an_abort(tmp_path: Path) -> None:
    """DISPLAY names no X server (or the xcb plugin lacks a library): Qt's fatal error becomes
    our line and exit 1, never SIGABRT (134) with Qt's paragraphs."""
    env = headless_env(DISPLAY=":59", QT_QPA_PLATFORM="xcb", HOME=str(tmp_path))
    result = run_viewer(str(tmp_path), env=env)
    assert result.returncode == 1, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "QT_QPA_PLATFORM=offscreen" in lines[0]
    assert "apt-get install" in lines[0] or "':59'" in lines[0]


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({}, True),
        ({"DISPLAY": ":0"}, False),
        ({"QT_QPA_PLATFORM": "offscreen"}, False),
        ({"QT_QPA_PLATFORM": "xcb"}, True),
        ({"QT_QPA_PLATFORM": "wayland"}, False),
        ({"WAYLAND_DISPLAY": "wayland-0"}, False),
        ({"QT_QPA_PLATFORM": "minimal;xcb"}, False),
    ],
)
def test_display_problem_reads_the_environment(env: dict[str, str], problem: bool) -> None:
    assert (display_problem(env, "linux") is not None) is problem
    assert display_problem(env, "win32") is None


@pytest.mark.parametrize(
    ("library", "package"),
    [
        ("libxcb-icccm.so.4", "libxcb-icccm4"),
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libxcb-render-util.so.0.0.0", "libxcb-render-util0"),
        ("libEGL.so.1", "libegl1"),
    ],
)
def test_debian_package_names(library: str, package: str) -> None:
    assert debian_package(library) == package
