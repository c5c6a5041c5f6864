"""Remote nodes (PACS, DICOMweb services) and the viewer's own Application Entity.

A node is DIMSE (AE title, host, port: PS3.8 9.3.2 A-ASSOCIATE) or DICOMweb (a base URL,
optionally a bearer token or basic auth: PS3.18 6.1). Nodes live in ``nodes.json`` beside
``settings.ini`` (:func:`viewer.core.user_dirs.config_dir`), so the headless verbs read them
without Qt and Preferences > Network edits the same file; it may hold credentials, so it is
written readable by its owner only.

On the command line a NODE is a configured name, ``AET@host:port`` or an http(s) base URL
(:func:`resolve_node`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from viewer.core.user_dirs import config_dir

NODES_FILE_NAME = "nodes.json"
#: The viewer's AE title and C-STORE port when none is configured.
DEFAULT_LOCAL_AET = "DICOMVIEWER"
DEFAULT_LOCAL_PORT = 11113
KINDS = ("dimse", "dicomweb")
#: Retrieve methods: C-GET, C-MOVE, WADO-RS.
METHODS = ("get", "move", "wado")

# PS3.5 6.2: an AE title is 1-16 characters of the default repertoire, no backslash or
# control characters; leading/trailing spaces are not significant.
_AET = re.compile(r"^[\x20-\x5b\x5d-\x7e]{1,16}$")
_DIMSE_ADDRESS = re.compile(r"^(?P<aet>[^@]{1,16})@(?P<host>\[[^\]]+\]|[^:@]+):(?P<port>\d{1,5})$")


@dataclass
class SendResult:
    """One file sent: its path, SOP Instance UID, and "" on success or why it failed."""

    path: str
    sop_instance_uid: str = ""
    problem: str = ""


class NodeError(ValueError):
    """A node that cannot be used as given (one readable line)."""


@dataclass(frozen=True)
class Node:
    """One remote node. ``kind`` says which fields matter."""

    name: str
    kind: str = "dimse"  # dimse | dicomweb
    aet: str = ""
    host: str = ""
    port: int = 104
    url: str = ""
    token: str = ""  # DICOMweb bearer token
    username: str = ""  # DICOMweb basic auth
    password: str = ""
    tls: bool = False  # DIMSE over TLS (PS3.15 B.1); DICOMweb TLS is the https:// URL
    ca_file: str = ""  # a CA bundle to verify the server with ("": the system's)
    #: Retrieve method the GUI offers first for this node: get | move | wado.
    method: str = ""

    def describe(self) -> str:
        """``NAME (AET@host:port)`` or ``NAME (URL)``, for messages (no credentials)."""
        where = self.url if self.kind == "dicomweb" else f"{self.aet}@{self.host}:{self.port}"
        return where if self.name == where else f"{self.name} ({where})"

    def default_method(self) -> str:
        if self.method in ("get", "move", "wado"):
            return self.method
        return "wado" if self.kind == "dicomweb" else "get"

    def problems(self) -> list[str]:
        """Why this node cannot be used (empty: it can)."""
        found = []
        if not self.name.strip():
            found.append("a node needs a name")
        if self.kind not in KINDS:
            found.append(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        elif self.kind == "dimse":
            if not _AET.match(self.aet.strip() or "\\"):
                found.append(f"AE title {self.aet!r} is not 1-16 characters without backslash")
            if not self.host.strip():
                found.append("a DIMSE node needs a host")
            if not 0 < int(self.port) < 65536:
                found.append(f"port {self.port} is not 1-65535")
        elif not re.match(r"^https?://[^/\s]+", self.url):
            found.append(f"DICOMweb base URL {self.url!r} does not start with http:// or https://")
        return found

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(data: dict[str, Any]) -> Node:
        known = {name for name in Node.__dataclass_fields__}
        values = {key: value for key, value in data.items() if key in known}
        if "port" in values:
            values["port"] = int(values["port"])
        if "tls" in values:
            values["tls"] = bool(values["tls"])
        return Node(**{key: value for key, value in values.items()})


@dataclass(frozen=True)
class LocalAE:
    """The viewer's own Application Entity: its AE title, and the port of its C-STORE SCP
    (the C-MOVE destination and the optional listener)."""

    aet: str = DEFAULT_LOCAL_AET
    port: int = DEFAULT_LOCAL_PORT
    #: The optional storage SCP (issue 16 item 5): listen while the GUI runs.
    listen: bool = False
    #: Calling AE titles the listener accepts (empty: any).
    accept_aets: tuple[str, ...] = ()

    def problems(self) -> list[str]:
        found = []
        if not _AET.match(self.aet.strip() or "\\"):
            found.append(f"our AE title {self.aet!r} is not 1-16 characters without backslash")
        if not 0 < int(self.port) < 65536:
            found.append(f"our port {self.port} is not 1-65535")
        return found


@dataclass
class NodeBook:
    """The configured nodes and the local AE, as ``nodes.json`` holds them."""

    nodes: list[Node] = field(default_factory=list)
    local: LocalAE = field(default_factory=LocalAE)

    def find(self, name: str) -> Node | None:
        for node in self.nodes:
            if node.name == name:
                return node
        folded = name.casefold()
        for node in self.nodes:
            if node.name.casefold() == folded:
                return node
        return None


def nodes_path() -> Path:
    return config_dir() / NODES_FILE_NAME


def load_nodes(path: str | os.PathLike[str] | None = None) -> NodeBook:
    """The node book (empty when the file is missing; a malformed entry is dropped, a
    malformed file reads as empty: a hand edit cannot stop the viewer)."""
    target = Path(path) if path is not None else nodes_path()
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return NodeBook()
    if not isinstance(data, dict):
        return NodeBook()
    nodes = []
    for entry in data.get("nodes", []):
        with contextlib.suppress(TypeError, ValueError):
            node = Node.from_json(entry)
            if not node.problems():
                nodes.append(node)
    local = LocalAE()
    entry = data.get("local")
    if isinstance(entry, dict):
        with contextlib.suppress(TypeError, ValueError):
            candidate = LocalAE(
                aet=str(entry.get("aet", DEFAULT_LOCAL_AET)),
                port=int(entry.get("port", DEFAULT_LOCAL_PORT)),
                listen=bool(entry.get("listen", False)),
                accept_aets=tuple(str(aet) for aet in entry.get("accept_aets", ())),
            )
            if not candidate.problems():
                local = candidate
    return NodeBook(nodes, local)


def save_nodes(book: NodeBook, path: str | os.PathLike[str] | None = None) -> Path:
    """Write the node book atomically, readable by its owner only (it may hold tokens)."""
    target = Path(path) if path is not None else nodes_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "nodes": [node.as_json() for node in book.nodes],
        "local": {
            "aet": book.local.aet,
            "port": book.local.port,
            "listen": book.local.listen,
            "accept_aets": list(book.local.accept_aets),
        },
    }
    partial = target.with_name(target.name + f".{os.getpid()}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        json.dump(data, stream, indent=1)
    os.replace(partial, target)
    return target


def resolve_node(text: str, book: NodeBook | None = None) -> Node:
    """A NODE argument as a node: a configured name, ``AET@host:port`` or an http(s) URL.

    Raises :class:`NodeError` saying what was expected."""
    text = text.strip()
    if re.match(r"^https?://", text, re.IGNORECASE):
        node = Node(name=text, kind="dicomweb", url=text.rstrip("/"))
    else:
        match = _DIMSE_ADDRESS.match(text)
        if match:
            host = match["host"].strip("[]")
            node = Node(name=text, aet=match["aet"], host=host, port=int(match["port"]))
        else:
            found = (book if book is not None else load_nodes()).find(text)
            if found is None:
                raise NodeError(
                    f"no node named {text!r}: give a configured name, AET@host:port "
                    "or an http(s):// DICOMweb base URL"
                )
            return found
    problems = node.problems()
    if problems:
        raise NodeError(f"{text}: {problems[0]}")
    return node


def with_local(local: LocalAE, aet: str | None, port: int | None) -> LocalAE:
    """``local`` with the command line's ``--aet``/``--port`` applied (checked)."""
    changed = replace(local, aet=aet if aet is not None else local.aet, port=port or local.port)
    problems = changed.problems()
    if problems:
        raise NodeError(problems[0])
    return changed
