"""A real Orthanc (with its DICOMweb plugin) on free loopback ports: the peer of the network
tests (tests/net) and of the retrieve benchmark (:mod:`viewer.bench.retrieve_probe`).

Orthanc 1.10 has no bind-address option and listens on every interface, so its users run,
client and server together, inside a private network namespace (:func:`enter_private_network`,
the ``unshare -n`` of util-linux; needs root, as CI runs): no traffic can leave 127.0.0.1.
Each server gets its own configuration, storage folder and log.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLONE_NEWNET = 0x40000000
SERVER_AET = "ORTHANC"
#: The AE title our client uses; Orthanc knows it (DicomModalities) with our C-STORE port.
VIEWER_AET = "VIEWERTEST"

_namespace: list[str] = []  # "" once entered, else why not


def orthanc_binary() -> str | None:
    return shutil.which("Orthanc") or next(
        (p for p in ("/usr/sbin/Orthanc", "/usr/bin/Orthanc") if os.path.exists(p)), None
    )


def dicomweb_plugin() -> str | None:
    for folder in ("/usr/share/orthanc/plugins", "/usr/lib/orthanc", "/usr/local/share/orthanc"):
        base = Path(folder)
        if base.is_dir():
            for candidate in sorted(base.glob("libOrthancDicomWeb.so*")):
                return str(candidate)
    return None


def enter_private_network() -> str:
    """Move this process (its main thread, and every thread and child started from now on)
    into a new network namespace with only a loopback interface; "" on success, else why
    not. Done once, before any thread that talks to Orthanc starts (tests/net/conftest.py
    does it at collection, the bench probe first thing)."""
    if _namespace:
        return _namespace[0]
    why = ""
    if os.geteuid() != 0:
        why = "needs root for a private network namespace (unshare -n)"
    else:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNET) != 0:
            why = f"unshare(CLONE_NEWNET) failed: {os.strerror(ctypes.get_errno())}"
        else:
            ip = shutil.which("ip") or "/usr/sbin/ip"
            done = subprocess.run([ip, "link", "set", "lo", "up"], capture_output=True)
            if done.returncode != 0:
                why = f"ip link set lo up failed: {done.stderr.decode(errors='replace').strip()}"
    _namespace.append(why)
    return why


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Orthanc:
    """One Orthanc process and its configuration."""

    folder: Path
    dicom_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    viewer_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    #: More configuration (e.g. DicomTlsEnabled, SslEnabled), over the defaults.
    extra: dict[str, Any] = field(default_factory=dict)
    #: The CA that signed the server's HTTPS certificate (REST calls check it).
    ca_file: str = ""

    @property
    def dimse(self) -> str:
        return f"{SERVER_AET}@127.0.0.1:{self.dicom_port}"

    @property
    def dicomweb(self) -> str:
        return f"{self.url}/dicom-web"

    @property
    def url(self) -> str:
        scheme = "https" if self.extra.get("SslEnabled") else "http"
        return f"{scheme}://127.0.0.1:{self.http_port}"

    def config(self) -> dict[str, Any]:
        storage = self.folder / "storage"
        return {
            "Name": "viewer-tests",
            "StorageDirectory": str(storage),
            "IndexDirectory": str(storage),
            "DicomAet": SERVER_AET,
            "DicomPort": self.dicom_port,
            "HttpPort": self.http_port,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "DicomCheckCalledAet": True,
            "DicomAlwaysAllowEcho": True,
            "DicomAlwaysAllowStore": True,
            "DicomModalities": {
                "viewer": {"AET": VIEWER_AET, "Host": "127.0.0.1", "Port": self.viewer_port}
            },
            "Plugins": [dicomweb_plugin()],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
            "StorageCompression": False,
            "ConcurrentJobs": 2,
            "SaveJobs": False,
            "HttpTimeout": 30,
            **self.extra,
        }

    def start(self) -> Orthanc:
        binary = orthanc_binary()
        if not binary:
            raise RuntimeError("Orthanc not installed")
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "orthanc.json"
        config.write_text(json.dumps(self.config(), indent=1))
        log = open(self.folder / "orthanc.log", "ab")  # noqa: SIM115 (kept with the process)
        # DCMTK, Orthanc's DICOM stack, leaves Nagle's algorithm on unless TCP_NODELAY=1:
        # each instance it sends then waits ~40 ms for the peer's delayed ACK (a 30-image
        # C-GET took 1.9 s instead of 0.4 s). A PACS tuned for speed runs with it set.
        self.process = subprocess.Popen(
            [binary, str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.folder,
            env={**os.environ, "TCP_NODELAY": "1"},
        )
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Orthanc exited: {self.log_tail()}")
            try:
                self.rest("GET", "/system")
                return self
            except (OSError, urllib.error.URLError):
                time.sleep(0.05)
        raise RuntimeError(f"Orthanc did not answer in 30 s: {self.log_tail()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def log_tail(self) -> str:
        try:
            return (self.folder / "orthanc.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def rest(self, method: str, path: str, body: bytes | None = None) -> Any:
        request = urllib.request.Request(self.url + path, data=body, method=method)
        if body is not None:
            request.add_header("Content-Type", "application/dicom")
        with urllib.request.urlopen(request, timeout=30, context=self._tls()) as answer:
            data = answer.read()
        return json.loads(data) if data else None

    def _tls(self) -> ssl.SSLContext | None:
        return ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None

    def upload(self, paths: list[Path]) -> list[str]:
        """POST each file to /instances; Orthanc's instance ids."""
        ids = []
        for path in paths:
            answer = self.rest("POST", "/instances", path.read_bytes())
            ids.append(answer["ID"])
        return ids

    def instance_file(self, sop_instance_uid: str) -> bytes:
        """The file Orthanc stores for an instance (by its SOP Instance UID)."""
        found = self.rest(
            "POST",
            "/tools/find",
            json.dumps(
                {"Level": "Instance", "Query": {"SOPInstanceUID": sop_instance_uid}}
            ).encode(),
        )
        if not found:
            raise LookupError(f"no instance {sop_instance_uid} on the server")
        request = urllib.request.Request(f"{self.url}/instances/{found[0]}/file")
        with urllib.request.urlopen(request, timeout=30, context=self._tls()) as answer:
            return bytes(answer.read())

    def count_instances(self) -> int:
        return int(self.rest("GET", "/statistics")["CountInstances"])
