"""The tool registry: a name (what settings store) -> how to make the tool, and its words.

Adding a tool is one module (its class and its :class:`ToolSpec`) plus one :func:`register`
line in :mod:`viewer.model.tools`. Preferences offers every tool registered with
``mouse=True`` for a mouse button; the help page shows its ``help`` text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from viewer.model.tools.base import Tool


@dataclass(frozen=True)
class ToolSpec:
    """A registered tool: ``name`` (stored in settings), ``label`` (Preferences), ``help``
    (the help page's words for its drag), ``make`` (a fresh tool per gesture), ``mouse``
    (offered for a mouse button in Preferences)."""

    name: str
    label: str
    make: Callable[[], Tool]
    help: str = ""
    mouse: bool = True


_TOOLS: dict[str, ToolSpec] = {}


def register(spec: ToolSpec) -> ToolSpec:
    """Add ``spec`` (a later registration under the same name replaces it)."""
    _TOOLS[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    _TOOLS.pop(name, None)


def tool_spec(name: str) -> ToolSpec | None:
    return _TOOLS.get(name)


def make_tool(name: str) -> Tool | None:
    """A fresh tool ``name`` (None for an unknown name: the gesture does nothing)."""
    spec = _TOOLS.get(name)
    return spec.make() if spec is not None else None


def mouse_tools() -> dict[str, str]:
    """Name -> label of the tools a mouse button may be mapped to, in registration order."""
    return {spec.name: spec.label for spec in _TOOLS.values() if spec.mouse}
