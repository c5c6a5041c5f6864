"""Fixtures shared by the whole test suite.

The viewer keeps its settings, logs, data (the study database) and cache (the demo study, zips
unpacked while open) in the user's folders (:mod:`viewer.core.user_dirs`, each redirected by an
XDG variable). No test may read or write the real ones, at any fixture scope:

- :func:`pytest_configure` points all four at a temporary folder for the whole session, before
  any fixture exists (session fixtures, and code run at import, see those);
- :func:`user_dirs_per_module` gives each test module fresh ones, set before that module's own
  module-scoped fixtures (a main window shared by its tests reads and writes settings there);
- :func:`user_dirs_in_tmp` gives each test fresh ones.

A test that wants a cache shared across tests (the benchmark's generated data, say) sets
``XDG_CACHE_HOME`` itself, as ``tests/test_bench.py`` does.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from viewer.demo import write_demo_study

#: The XDG variable of each per-user folder (:mod:`viewer.core.user_dirs`) and its sub-folder name.
USER_DIR_VARIABLES = {
    "XDG_CONFIG_HOME": "config",
    "XDG_STATE_HOME": "state",
    "XDG_DATA_HOME": "data",
    "XDG_CACHE_HOME": "cache",
}

_session_dirs: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """Before any fixture or test: the session's user folders, in a temporary folder."""
    session = tempfile.mkdtemp(prefix="dicom-viewer-tests-")
    _session_dirs.append(session)
    for variable, name in USER_DIR_VARIABLES.items():
        os.environ[variable] = os.path.join(session, name)


def pytest_unconfigure(config: pytest.Config) -> None:
    for session in _session_dirs:
        shutil.rmtree(session, ignore_errors=True)


def redirect_user_dirs(patch: pytest.MonkeyPatch, root: Path) -> Path:
    """Point settings, logs and the cache at fresh folders below ``root``; return ``root``."""
    for variable, name in USER_DIR_VARIABLES.items():
        patch.setenv(variable, str(root / name))
    return root


@pytest.fixture(scope="session")
def demo_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built-in demo file-set (:mod:`viewer.demo`), written once per session.

    Returns the folder holding ``DICOMDIR``. Shared by every test: treat it as read-only
    (copy it first if a test needs to change or delete files).
    """
    folder = tmp_path_factory.mktemp("demo") / "study"
    write_demo_study(folder)
    return folder


@pytest.fixture(scope="module", autouse=True)
def user_dirs_per_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Fresh user folders for each test module, in place before its module-scoped fixtures
    (autouse fixtures come first within their scope)."""
    with pytest.MonkeyPatch.context() as patch:
        yield redirect_user_dirs(patch, tmp_path_factory.mktemp("module-user"))


@pytest.fixture(autouse=True)
def user_dirs_in_tmp(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Settings, logs and the cache go to a fresh temporary folder, never the real user's
    (every test)."""
    return redirect_user_dirs(monkeypatch, tmp_path_factory.mktemp("user"))
