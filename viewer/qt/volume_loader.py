"""Loading a stack as the volume MPR and 3D share (viewer.model.mpr.MprVolume), in a worker
thread: decoded once by viewer.dicom.pixels.volume.load_volume (slices in worker processes),
with progress and cancel; the MPR's kernels compile meanwhile when asked.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal

from viewer.dicom import decoding_stack
from viewer.dicom.catalog.stack import Stack
from viewer.dicom.limits import OverBudget
from viewer.dicom.pixels.frames import DecodedFrame
from viewer.model import mpr
from viewer.model.mpr import MprVolume
from viewer.model.presentation import default_voi
from viewer.model.window_level import Voi

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LoadedVolume:
    volume: MprVolume
    default_voi: Voi | None
    value_range: float


class VolumeBridge(QObject):
    loaded = Signal(object)  # LoadedVolume
    failed = Signal(str)
    progress = Signal(int, int)


class VolumeLoader:
    """Loads a stack as an MprVolume in a worker thread (cancellable)."""

    #: Appended to a refusal for the memory budget: where the user can raise it.
    BUDGET_HINT = " (Settings > Preferences > Memory)"

    def __init__(self, stack: Stack, warm_kernels: bool = True) -> None:
        self.bridge = VolumeBridge()
        self._stack = stack
        self._warm_kernels = warm_kernels  # the 3D view alone needs no MPR kernels
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mpr-load", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            loaded = self._load()
        except Exception as error:  # a readable reason, never a dead worker
            if not self._cancel.is_set():
                log.exception("loading the MPR volume failed")
                hint = self.BUDGET_HINT if isinstance(error.__cause__, OverBudget) else ""
                self.bridge.failed.emit(f"Cannot build MPR: {error}{hint}")
            return
        if not self._cancel.is_set():
            self.bridge.loaded.emit(loaded)

    def _load(self) -> LoadedVolume:
        decoding_stack.load()
        from viewer.dicom.pixels.volume import load_volume  # pydicom and the decoders: on first use

        # Start numba (import, runtime, cached kernels) while the slices decode in processes.
        warm = threading.Thread(target=mpr.warm_up, args=(np.int16,), name="mpr-warm", daemon=True)
        if self._warm_kernels:
            warm.start()
        try:
            frame = self._middle_frame()
            grey = frame if frame is not None and not frame.is_color else None
            volume = mpr.mpr_volume(
                load_volume(self._stack, self.bridge.progress.emit, self._cancel.is_set),
                shows_inverted=grey is not None and grey.transform.shows_inverted,  # MONOCHROME1
            )
        finally:
            if self._warm_kernels:
                warm.join()  # never leave a compile running behind a failed or cancelled load
        if self._warm_kernels:
            mpr.warm_up(volume.voxels.dtype)  # compile the kernels here, not on the first drag
        low, high = volume.stored_range
        spread = (high - low) * abs(volume.rescale_slope)
        return LoadedVolume(volume, default_voi(grey) if grey is not None else None, spread)

    def _middle_frame(self) -> DecodedFrame | None:
        """The middle slice (its window and photometric interpretation apply to the volume)."""
        decoding_stack.load()
        from viewer.dicom.pixels.reading import read_frame

        try:
            return read_frame(*self._stack.sources[self._stack.frames // 2])
        except Exception:  # the window is a nicety; the volume itself may still load
            return None

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)
