"""Child process of the GUI measurements: drives the real MainWindow offscreen (JSON out).

Run as ``python -m viewer.bench.gui_probe CONFIG_JSON``; prints one JSON object mapping each
measurement to its list of samples (milliseconds, or frames per second for ``scroll_fps``),
plus ``errors`` for measurements that could not run. An optional ``"only"`` list in the config
names the measurements to run (e.g. ``["wl_frame_ms.512"]``, to profile one); the suite never
sets it. The parent (:mod:`viewer.bench.gui`) turns samples into figures. Every wait is an
event loop with a deadline, never a busy loop.
Paints are observed with an event filter on the viewport's drawing widget, so "painted" means
Qt delivered and handled the Paint event (the offscreen platform paints into a raster image).
"""

from __future__ import annotations

import functools
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication

from viewer.qt.app import make_application
from viewer.qt.main_window import MainWindow

WINDOW_SIZE = (1400, 900)
#: Deadlines: opening (indexing included) and anything that decodes a frame or two.
OPEN_WAIT_S = 300.0
FRAME_WAIT_S = 10.0
CACHED_FRAME_WAIT_S = 2.0
HEARTBEAT_MS = 5
WL_WARMUP_STEPS = 5
CINE_WARMUP_S = 1.0
#: Time for background prefetches to settle before a cold-cache measurement.
SETTLE_S = 0.3
#: Time for a new window's first paint and layout before a stall measurement starts.
WINDOW_SETTLE_S = 1.0


def _run_loop(loop: QEventLoop, timeout_s: float) -> None:
    """``loop.exec()`` with a deadline (its own timer, stopped afterwards)."""
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    deadline.start(int(timeout_s * 1000))
    loop.exec()
    deadline.stop()


def wait_until(predicate: Callable[[], bool], timeout_s: float) -> bool:
    """Run the event loop until ``predicate()`` holds (checked every 2 ms) or time runs out."""
    if predicate():
        return True
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(2)
    poll.timeout.connect(lambda: loop.quit() if predicate() else None)
    poll.start()
    _run_loop(loop, timeout_s)
    poll.stop()
    return predicate()


def pause(seconds: float) -> None:
    _run_loop(QEventLoop(), seconds)


class Heartbeat:
    """A 5 ms timer; the longest gap between its ticks is the longest event-loop stall."""

    def __init__(self) -> None:
        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(HEARTBEAT_MS)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        self.ticks.append(time.perf_counter())

    def start(self) -> None:
        self.ticks = [time.perf_counter()]
        self.timer.start()

    def stop(self) -> float:
        """Stop; the longest gap between ticks in ms."""
        self._tick()
        self.timer.stop()
        return max(b - a for a, b in zip(self.ticks, self.ticks[1:], strict=False)) * 1000.0


class ViewWatch(QObject):
    """Counts the active viewport's frames shown and the paints of its drawing widget.

    A paint is counted when its Paint event arrives; :meth:`wait_paint` returns once the event
    loop has handled it, so a time taken after it includes the painting.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.frames = 0
        self.paints = 0
        self.paints_at_frame = 0
        self._loop: QEventLoop | None = None
        window.viewport.frame_shown.connect(self._on_shown)
        window.viewport.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False

    def _on_shown(self) -> None:
        self.frames += 1
        self.paints_at_frame = self.paints
        if self._loop is not None:
            self._loop.quit()

    def wait_frame(self, before: int, timeout_s: float) -> None:
        """Until more than ``before`` frames were shown (woken by the signal itself)."""
        if self.frames <= before:
            self._loop = QEventLoop()
            _run_loop(self._loop, timeout_s)
            self._loop = None
        if self.frames <= before:
            raise RuntimeError(f"no frame was shown within {timeout_s:g} s")

    def wait_paint(self, before: int, timeout_s: float = FRAME_WAIT_S) -> None:
        """Until a paint after the first ``before`` ones has been handled."""
        deadline = time.perf_counter() + timeout_s
        wake = QTimer()
        wake.start(50)
        while self.paints <= before and time.perf_counter() < deadline:
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
        wake.stop()
        if self.paints <= before:
            raise RuntimeError(f"the view was not repainted within {timeout_s:g} s")


def new_window(database: str | None = None) -> MainWindow:
    window = MainWindow(database=database)
    window.resize(*WINDOW_SIZE)
    window.show()
    return window


def close_window(window: MainWindow) -> None:
    window.shutdown()
    window.close()
    window.deleteLater()
    QApplication.processEvents()


def open_and_wait(window: MainWindow, paths: list[str]) -> None:
    """Open ``paths`` as a user does and wait for indexing and the first frame shown."""
    finished = {"done": False}
    window.indexing_finished.connect(lambda: finished.update(done=True))
    window.open_paths(paths)
    if not wait_until(lambda: finished["done"] and window.viewport.frame is not None, OPEN_WAIT_S):
        raise RuntimeError("the first frame was not shown in time")


def series_uid(window: MainWindow, modality: str) -> str:
    return next(s.uid for s in window.catalog.all_series() if s.info.modality == modality)


def show_series(window: MainWindow, watch: ViewWatch, uid: str) -> None:
    """Select ``uid`` (unless shown) and wait for its first frame, decoded afresh."""
    current = window.current_series
    if current is not None and current.uid == uid and window.viewport.frame is not None:
        return
    window.loader.cache.clear()
    before = watch.frames
    window.select_series(uid)
    watch.wait_frame(before, FRAME_WAIT_S)


def cache_all(window: MainWindow) -> None:
    """Decode every frame of the stack shown into the loader's cache, in the background."""
    stack = window.state.stack
    assert stack is not None
    window.loader.prefetch(list(stack.sources))
    cache = window.loader.cache
    if not wait_until(
        lambda: all(cache.get(key) is not None for key in stack.sources), OPEN_WAIT_S
    ):
        raise RuntimeError("the stack was not cached in time")


# --- measurements ---------------------------------------------------------------------------
def max_stall_ms(ct: str) -> float:
    """Longest stall while a fresh window indexes the CT, shows it and caches every frame.

    The window is shown and settled (first paint done) before the heartbeat starts, so only
    the loading counts, not building the window.
    """
    window = new_window()
    heartbeat = Heartbeat()
    try:
        pause(WINDOW_SETTLE_S)
        heartbeat.start()
        open_and_wait(window, [ct])
        cache_all(window)
        return heartbeat.stop()
    finally:
        close_window(window)


def first_image_ms(window: MainWindow, watch: ViewWatch, ct: str, other: str) -> float:
    """Series selected in the tree -> its first frame painted, with a cold frame cache."""
    show_series(window, watch, other)
    pause(SETTLE_S)
    window.loader.cache.clear()
    before = watch.frames
    started = time.perf_counter()
    window.select_series(ct)
    watch.wait_frame(before, FRAME_WAIT_S)
    watch.wait_paint(watch.paints_at_frame)
    return (time.perf_counter() - started) * 1000.0


def wl_step_ms(window: MainWindow, watch: ViewWatch, step: int) -> float:
    """One window/level drag step (the viewport's tool adapter) until the view is repainted."""
    dx, dy = (6.0, 4.0) if step % 2 else (-6.0, -4.0)
    before = watch.paints
    started = time.perf_counter()
    tools = getattr(getattr(window.viewport, "view_box", None), "tools", None)
    if tools is not None:
        tools.drag_step("window_level", (dx, dy))
    else:
        _set_voi_directly(window, dx, dy)
    watch.wait_paint(before)
    return (time.perf_counter() - started) * 1000.0


def _set_voi_directly(window: MainWindow, dx: float, dy: float) -> None:
    from viewer.model.window_level import drag, drag_sensitivity

    voi = window.state.voi
    assert voi is not None
    window.state.set_voi(drag(voi, dx, dy, drag_sensitivity(voi.width * 4)))


def scroll_fps(window: MainWindow, watch: ViewWatch) -> float:
    """Frames per second stepping through a cached stack, each frame shown and painted."""
    frames = window.state.frame_count
    started = time.perf_counter()
    for step in range(frames):
        before = watch.frames
        window.state.set_index(step if window.state.index != step else (step + 1) % frames)
        watch.wait_frame(before, CACHED_FRAME_WAIT_S)
        watch.wait_paint(watch.paints_at_frame)
    return frames / (time.perf_counter() - started)


class FeatureMissing(Exception):
    """What a measurement needs is not built yet (its keys stay absent)."""


def cine_run(window: MainWindow, watch: ViewWatch, seconds: float) -> tuple[float, float]:
    """Play the clip shown for ``seconds`` after a warm-up (up to 1 s): (fps, dropped %).

    Frames shown are counted from the viewport's frame_shown signal; frames due are the
    elapsed time times the player's rate.
    """
    player = getattr(window.viewport, "cine", None)
    if player is None or not hasattr(player, "play") or not hasattr(player, "rate_fps"):
        raise FeatureMissing("the viewport has no cine player")
    player.play()
    try:
        pause(min(CINE_WARMUP_S, seconds))
        before, started = watch.frames, time.perf_counter()
        pause(seconds)
        elapsed, shown = time.perf_counter() - started, watch.frames - before
    finally:
        player.stop()
    due = elapsed * float(player.rate_fps)
    return shown / elapsed, max(0.0, 1.0 - shown / due) * 100.0


def record_study(ct: str) -> str:
    """Open ``ct`` once so the window records it in the (probe's private) study database; its
    Study Instance UID."""
    window = new_window()
    try:
        open_and_wait(window, [ct])
        if not window.library.flush(OPEN_WAIT_S):
            raise RuntimeError("the study was not recorded in time")
        series = window.catalog.all_series()
        return series[0].instances[0].study_uid
    finally:
        close_window(window)


def first_image_in_new_window(start: Callable[[MainWindow], None], database: str | None) -> float:
    """A fresh window, shown and settled; then ``start(window)`` -> the first frame painted."""
    window = new_window(database)
    try:
        watch = ViewWatch(window)
        pause(WINDOW_SETTLE_S)
        started = time.perf_counter()
        start(window)
        watch.wait_frame(0, OPEN_WAIT_S)
        watch.wait_paint(watch.paints_at_frame)
        return (time.perf_counter() - started) * 1000.0
    finally:
        close_window(window)


def open_first_image_ms(ct: str, empty_database: str) -> float:
    """A first open of the CT folder (a database that does not know it): indexing included."""
    Path(empty_database).unlink(missing_ok=True)
    return first_image_in_new_window(lambda window: window.open_paths([ct]), empty_database)


def db_reopen_first_image_ms(study_uid: str) -> float:
    """The CT reopened from the database (the browser's double-click): its rows, no header
    read (checked: a header read fails the measurement)."""
    from viewer.dicom.io import indexer

    reads: list[object] = []
    real = indexer.read_instance, indexer.read_chunk

    def read_instance(path: str) -> Any:
        reads.append(path)
        return real[0](path)

    def read_chunk(*args: Any, **kwargs: Any) -> Any:
        reads.append(args)
        return real[1](*args, **kwargs)

    indexer.read_instance, indexer.read_chunk = read_instance, read_chunk
    try:
        elapsed = first_image_in_new_window(lambda window: window.open_study(study_uid), None)
    finally:
        indexer.read_instance, indexer.read_chunk = real
    if reads:
        raise RuntimeError(f"reopening from the database read {len(reads)} header(s)")
    return elapsed


# --- driver ---------------------------------------------------------------------------------
Samples = dict[str, list[float]]


class Probe:
    """Runs every GUI measurement; one failing leaves the others (and says why)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.runs, self.warmups = int(config["runs"]), int(config["warmups"])
        #: Measurement names to run; empty: all of them.
        self.only: set[str] = set(config.get("only") or ())
        self.samples: Samples = {}
        self.errors: dict[str, str] = {}
        self.missing: dict[str, str] = {}

    def attempt(self, name: str, action: Callable[[], Samples]) -> None:
        if self.only and name not in self.only:
            return
        try:
            self.samples.update(action())
        except FeatureMissing as missing:
            self.missing[name] = str(missing)
        except Exception as error:  # report and go on with the other measurements
            self.errors[name] = f"{type(error).__name__}: {error}"

    def repeat(self, action: Callable[[], float]) -> list[float]:
        values = [action() for _ in range(self.warmups + self.runs)]
        return values[self.warmups :]

    def run(self) -> dict[str, Any]:
        ct = self.config["ct"]
        self.attempt(
            "gui_max_stall_ms", lambda: {"gui_max_stall_ms": self.repeat(lambda: max_stall_ms(ct))}
        )
        self.attempt("db_reopen_first_image_ms", lambda: self._reopen(ct))
        window = new_window()
        try:
            watch = ViewWatch(window)
            open_and_wait(window, [ct, self.config["radiograph"], self.config["cine"]])
            self._in_window(window, watch)
        finally:
            close_window(window)
        return {"samples": self.samples, "errors": self.errors, "missing": self.missing}

    def _in_window(self, window: MainWindow, watch: ViewWatch) -> None:
        ct, rx = series_uid(window, "CT"), series_uid(window, "DX")
        self.attempt(
            "first_image_ms",
            lambda: {"first_image_ms": self.repeat(lambda: first_image_ms(window, watch, ct, rx))},
        )
        for key, uid in (("wl_frame_ms.3000", rx), ("wl_frame_ms.512", ct)):
            self.attempt(key, functools.partial(self._wl_samples, key, window, watch, uid))
        self.attempt("scroll_fps", lambda: {"scroll_fps": self._scroll(window, watch, ct)})
        self.attempt("cine", lambda: self._cine(window, watch, series_uid(window, "US")))

    def _reopen(self, ct: str) -> Samples:
        """open_first_image_ms (a first open) and db_reopen_first_image_ms, alternating."""
        uid = record_study(ct)
        samples: Samples = {"open_first_image_ms": [], "db_reopen_first_image_ms": []}
        with tempfile.TemporaryDirectory(prefix="dicom-viewer-probe-") as scratch:
            empty = str(Path(scratch) / "empty.sqlite")
            for run in range(self.warmups + self.runs):
                first = open_first_image_ms(ct, empty)
                again = db_reopen_first_image_ms(uid)
                if run >= self.warmups:
                    samples["open_first_image_ms"].append(first)
                    samples["db_reopen_first_image_ms"].append(again)
        return samples

    def _wl_samples(self, key: str, window: MainWindow, watch: ViewWatch, uid: str) -> Samples:
        return {key: self._wl_steps(window, watch, uid)}

    def _wl_steps(self, window: MainWindow, watch: ViewWatch, uid: str) -> list[float]:
        show_series(window, watch, uid)
        steps = WL_WARMUP_STEPS + int(self.config["steps"])
        return [wl_step_ms(window, watch, step) for step in range(steps)][WL_WARMUP_STEPS:]

    def _scroll(self, window: MainWindow, watch: ViewWatch, uid: str) -> list[float]:
        show_series(window, watch, uid)
        cache_all(window)
        return self.repeat(lambda: scroll_fps(window, watch))

    def _cine(self, window: MainWindow, watch: ViewWatch, uid: str) -> Samples:
        show_series(window, watch, uid)
        seconds = float(self.config["cine_seconds"])
        results = [cine_run(window, watch, seconds) for _ in range(self.runs)]
        return {
            "cine_fps": [fps for fps, _ in results],
            "cine_dropped_pct": [dropped for _, dropped in results],
        }


def main(config_json: str) -> int:
    app = make_application()
    result = Probe(json.loads(config_json)).run()
    print(json.dumps(result), flush=True)
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
