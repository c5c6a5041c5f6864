"""Issue 13 item 7: a quit signal, or a kill, leaves no process and no shared memory behind.

Each test starts a real ``dicom-viewer`` process in a session of its own (decoding slowed in
the workers by slow_decode_main.py, so the workers are busy when the signal comes), waits
until its decode workers run, sends the signal, and lists what is left in that session (the
fork server, the resource tracker and the workers keep the session's id when they are
re-parented to PID 1) and which of the /dev/shm segments the processes had mapped are still
there.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="lists processes through /proc"
)

DRIVER = Path(__file__).with_name("slow_decode_main.py")
#: How long a process may take to start its workers (a loaded 2-core machine).
START_TIMEOUT_S = 120
#: How long the viewer may take to quit after the signal, and its children after it.
QUIT_TIMEOUT_S = 30
ORPHAN_TIMEOUT_S = 10


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    command: str


def session(sid: int) -> list[Proc]:
    """Every process (not a zombie) whose session id is ``sid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError):
            continue
        if int(fields[3]) == sid and fields[0] not in ("Z", "X"):
            found.append(Proc(int(entry.name), int(fields[1]), command.strip()))
    return sorted(found, key=lambda proc: proc.pid)


def shared_memory(processes: list[Proc]) -> set[str]:
    """The /dev/shm files (segments, named semaphores) ``processes`` have mapped."""
    names = set()
    for proc in processes:
        try:
            maps = Path(f"/proc/{proc.pid}/maps").read_text()
        except OSError:
            continue
        for line in maps.splitlines():
            if "/dev/shm/" in line:
                names.add(line.split("/dev/shm/", 1)[1].split()[0])
    return names


def workers(processes: list[Proc], main: int) -> list[Proc]:
    """Processes forked by the viewer's fork server (its decode and index workers)."""
    servers = {p.pid for p in processes if p.ppid == main and "forkserver" in p.command}
    return [p for p in processes if p.ppid in servers]


def wait_for(condition, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def start(arguments: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as stderr:
        return subprocess.Popen(
            [sys.executable, str(DRIVER), *arguments],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=env,
        )


def signal_and_list(
    process: subprocess.Popen[bytes], number: int, log: Path, group: bool = False
) -> dict:
    """Wait for busy workers, send ``number`` (to the whole process group with ``group``, as
    a closed terminal does); what ran before and what is left after."""
    sid = process.pid
    busy = wait_for(lambda: len(workers(session(sid), sid)) >= 1, START_TIMEOUT_S)
    before = session(sid)
    assert busy, f"no decode worker started:\n{log.read_text()[-2000:]}\n{before}"
    segments = shared_memory(before)
    if group:
        os.killpg(process.pid, number)
    else:
        process.send_signal(number)
    try:
        status = process.wait(QUIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        status = None
    gone = wait_for(lambda: not session(sid), ORPHAN_TIMEOUT_S)
    left = session(sid)
    kept = sorted(name for name in segments if os.path.exists(f"/dev/shm/{name}"))
    for proc in left:  # never leave them to the next test
        with_suppress_kill(proc.pid)
    return {"status": status, "gone": gone, "before": before, "left": left, "kept": kept}


def with_suppress_kill(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def viewer_env(tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("signals-home")
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "QT_QPA_PLATFORM": "offscreen",
    }
    env.pop("DISPLAY", None)
    return env


@pytest.fixture(scope="module")
def demo(viewer_env) -> Path:
    """The demo study, written by the project's own writers."""
    done = subprocess.run(
        [sys.executable, "-c", "from viewer.demo import ensure_demo_study as e; print(e())"],
        env=viewer_env,
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(done.stdout.strip())


@pytest.fixture(scope="module")
def demo_ct(demo) -> Path:
    """The demo's CT series folder (192 slices: the folder with the most files)."""
    return max(
        (folder for folder in demo.rglob("*") if folder.is_dir()),
        key=lambda d: len(list(d.iterdir())),
    )


@pytest.fixture(scope="module")
def compressed_ct(demo_ct, tmp_path_factory) -> Path:
    """The first 60 slices of the demo CT, RLE Lossless: compressed frames are decoded in the
    worker pool (uncompressed volumes are read in-process, with no workers to leave behind)."""
    import pydicom
    from pydicom.uid import RLELossless

    folder = tmp_path_factory.mktemp("rle-ct")
    for source in sorted(demo_ct.iterdir())[:60]:
        dataset = pydicom.dcmread(source)
        dataset.compress(RLELossless)
        dataset.save_as(folder / source.name)
    return folder


def expected_status(number: int) -> int:
    return -number if number == signal.SIGKILL else 128 + number


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP", "SIGINT", "SIGKILL"])
def test_volume_verb_leaves_nothing(name, compressed_ct, viewer_env, tmp_path):
    number = getattr(signal, name)
    log = tmp_path / "stderr.txt"
    process = start(["volume", str(compressed_ct), str(tmp_path / "ct.npz")], viewer_env, log)
    found = signal_and_list(process, number, log)
    assert found["status"] == expected_status(number), log.read_text()[-2000:]
    assert found["gone"], f"left after {name}: {found['left']} (before: {found['before']})"
    assert found["kept"] == [], f"/dev/shm kept after {name}: {found['kept']}"
    assert not (tmp_path / "ct.npz").exists()


@pytest.mark.parametrize(
    "name", ["SIGTERM", pytest.param("SIGHUP", marks=pytest.mark.slow), "SIGKILL"]
)
def test_gui_with_mpr_leaves_nothing(name, compressed_ct, viewer_env, tmp_path):
    number = getattr(signal, name)
    log = tmp_path / "stderr.txt"
    process = start(["gui-mpr", str(compressed_ct)], viewer_env, log)
    found = signal_and_list(process, number, log)
    assert found["status"] == expected_status(number), log.read_text()[-2000:]
    assert found["gone"], f"left after {name}: {found['left']} (before: {found['before']})"
    assert found["kept"] == [], f"/dev/shm kept after {name}: {found['kept']}"
    if number != signal.SIGKILL:
        assert f"{name} received" in log.read_text()


@pytest.mark.parametrize("name", ["SIGHUP", "SIGTERM"])
def test_a_signal_to_the_whole_process_group_is_clean(name, compressed_ct, viewer_env, tmp_path):
    """A hangup reaches every process of the terminal's group: the resource tracker and the
    fork server used to die of it at once (and the tracker's relaunch printed KeyErrors)."""
    number = getattr(signal, name)
    log = tmp_path / "stderr.txt"
    process = start(["volume", str(compressed_ct), str(tmp_path / "ct.npz")], viewer_env, log)
    found = signal_and_list(process, number, log, group=True)
    assert found["status"] == expected_status(number), log.read_text()[-2000:]
    assert found["gone"], f"left after {name}: {found['left']} (before: {found['before']})"
    assert found["kept"] == [], f"/dev/shm kept after {name}: {found['kept']}"
    assert "Traceback" not in log.read_text() and "leak" not in log.read_text()
