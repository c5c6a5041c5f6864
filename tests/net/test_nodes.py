"""Nodes: how a NODE argument is read, and nodes.json (issue 16 item 1)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from viewer.net.nodes import (
    LocalAE,
    Node,
    NodeBook,
    NodeError,
    load_nodes,
    resolve_node,
    save_nodes,
)


def test_node_arguments() -> None:
    node = resolve_node("PACS@10.0.0.5:104", NodeBook())
    assert (node.kind, node.aet, node.host, node.port) == ("dimse", "PACS", "10.0.0.5", 104)
    v6 = resolve_node("PACS@[::1]:11112", NodeBook())
    assert (v6.host, v6.port) == ("::1", 11112)
    web = resolve_node("https://pacs.example/dicom-web/", NodeBook())
    assert (web.kind, web.url) == ("dicomweb", "https://pacs.example/dicom-web")
    book = NodeBook([Node(name="Main PACS", aet="MAIN", host="pacs", port=4242)])
    assert resolve_node("main pacs", book).aet == "MAIN"


@pytest.mark.parametrize(
    "text",
    ["nobody", "WAY_TOO_LONG_AE_TITLE@host:104", "PACS@host:0", "PACS@host:70000", "A\\B@h:1"],
)
def test_bad_node_arguments_say_why(text: str) -> None:
    with pytest.raises(NodeError):
        resolve_node(text, NodeBook())


def test_nodes_file_round_trip_is_private(tmp_path: Path) -> None:
    path = tmp_path / "nodes.json"
    book = NodeBook(
        [
            Node(name="dimse", aet="ORTHANC", host="127.0.0.1", port=4242, tls=True),
            Node(name="web", kind="dicomweb", url="https://x/dicom-web", token="secret"),
        ],
        LocalAE(aet="ME", port=11112, listen=True, accept_aets=("CT1",)),
    )
    save_nodes(book, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_nodes(path) == book


def test_a_broken_nodes_file_reads_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "nodes.json"
    path.write_text("{not json")
    assert load_nodes(path) == NodeBook()
    path.write_text(
        '{"nodes": [{"name": "x", "aet": "", "host": ""}, {"name": "ok", '
        '"aet": "A", "host": "h", "port": "104"}], "local": {"port": -1}}'
    )
    book = load_nodes(path)
    assert [node.name for node in book.nodes] == ["ok"]
    assert book.local == LocalAE()
