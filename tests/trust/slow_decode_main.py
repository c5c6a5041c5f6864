"""``python slow_decode_main.py VERB ARGS...``: the real ``dicom-viewer`` with decoding made
slow (0.2 s a frame, in the workers), so a signal always lands while workers are busy.

``gui-mpr`` as the first argument starts the real GUI instead and opens MPR on the first
volume once indexing has finished (so the decode pool starts). Used by test_quit_signals.
"""

import sys
import time

SECONDS_PER_FRAME = 0.2


def slow_frames() -> None:
    """Worker setup: every frame of a volume fill takes SECONDS_PER_FRAME longer."""
    from viewer.dicom.pixels import decode_pool

    fill = decode_pool.fill_frame

    def slow(*args, **kwargs):
        time.sleep(SECONDS_PER_FRAME)
        return fill(*args, **kwargs)

    decode_pool.fill_frame = slow


def _slow_shared_pool() -> None:
    from viewer.dicom.pixels import decode_pool

    decode_pool._shared = decode_pool.DecodePool(worker_setup=slow_frames)
    decode_pool.atexit.register(decode_pool.shutdown_shared_pool)
    decode_pool._exit_hook_registered = True


def _mpr_once_indexed() -> None:
    import viewer.qt.app as app

    open_in_window = app.open_in_window

    def open_and_mpr(window, paths):
        window.indexing_finished.connect(window.open_mpr_on_first_volume)
        open_in_window(window, paths)

    app.open_in_window = open_and_mpr


if __name__ == "__main__":
    arguments = sys.argv[1:]
    _slow_shared_pool()
    if arguments[:1] == ["gui-mpr"]:
        _mpr_once_indexed()
        arguments = ["open", *arguments[1:]]
    from viewer.__main__ import main

    sys.exit(main(arguments))
