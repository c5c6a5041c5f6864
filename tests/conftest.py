"""Fixtures shared by the whole test suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from viewer.demo import write_demo_study


@pytest.fixture(scope="session")
def demo_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built-in demo file-set (:mod:`viewer.demo`), written once per session.

    Returns the folder holding ``DICOMDIR``. Shared by every test: treat it as read-only
    (copy it first if a test needs to change or delete files).
    """
    folder = tmp_path_factory.mktemp("demo") / "study"
    write_demo_study(folder)
    return folder


@pytest.fixture(autouse=True)
def user_dirs_in_tmp(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Settings and logs go to a fresh temporary folder, never the real user's (every test)."""
    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    return home
