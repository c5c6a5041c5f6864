"""No test touches the real user's settings, logs or cache (issue 7: the viewer's own files go
to the user folders only, so tests must send those elsewhere), at any fixture scope.

A module-scoped fixture is set up before any test's own fixtures: it must already see
temporary folders (tests/conftest.py), or a main window shared by a module would read and
write the real ``~/.config/dicom-viewer/settings.ini`` and unpack zips into the real cache.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from viewer.core import user_dirs

#: Where the viewer's folders are for this user when nothing redirects them.
REAL = [
    user_dirs._config_base(sys.platform, {}, Path.home()),
    user_dirs._log_base(sys.platform, {}, Path.home()),
    user_dirs._cache_base(sys.platform, {}, Path.home()),
    user_dirs._DATA.resolve(sys.platform, {}, Path.home()),
]


def current_dirs() -> list[Path]:
    return [
        user_dirs.config_dir(),
        user_dirs.log_dir(),
        user_dirs.cache_dir(),
        user_dirs.data_dir(),
    ]


@pytest.fixture(scope="module")
def seen_by_a_module_fixture() -> list[Path]:
    return current_dirs()


def test_a_module_fixture_sees_temporary_user_dirs(seen_by_a_module_fixture: list[Path]) -> None:
    for seen in seen_by_a_module_fixture:
        assert not any(seen.is_relative_to(real) for real in REAL), seen


def test_each_test_gets_its_own_user_dirs(
    seen_by_a_module_fixture: list[Path], user_dirs_in_tmp: Path
) -> None:
    assert [folder.parent.parent for folder in current_dirs()] == [user_dirs_in_tmp] * 4
    assert set(current_dirs()).isdisjoint(seen_by_a_module_fixture)
