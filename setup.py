"""Package discovery for setuptools (everything else is in pyproject.toml).

The icons live at the repository root in ``resources/``; this maps that folder into the wheel
as ``viewer/_resources`` (and, for editable installs, onto the source folder), where
:mod:`viewer.core.resources` finds them with importlib.resources. pyproject.toml's
``[tool.setuptools.package-data]`` says which files go along.
"""

from setuptools import find_namespace_packages, find_packages, setup

RESOURCE_PACKAGE = "viewer._resources"
resource_packages = [
    RESOURCE_PACKAGE,
    *(f"{RESOURCE_PACKAGE}.{name}" for name in find_namespace_packages(where="resources")),
]

setup(
    packages=[*find_packages(include=["viewer", "viewer.*"]), *resource_packages],
    package_dir={RESOURCE_PACKAGE: "resources"},
)
