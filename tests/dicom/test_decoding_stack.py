"""pydicom and the decoders load once, whichever threads ask at the same time (issue 8: they
load after the first paint, in workers)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import sys, threading
    assert "pydicom" not in sys.modules
    from viewer.dicom import decoding_stack
    errors = []
    start = threading.Barrier(8)

    def ask():
        start.wait()
        try:
            decoding_stack.load()
            from viewer.dicom.pixels.decode_pool import decode_frame  # noqa: F401
            from pydicom.datadict import keyword_for_tag
            assert keyword_for_tag(0x00100010) == "PatientName"
        except BaseException as error:  # noqa: BLE001
            errors.append(repr(error))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("errors:", errors)
    sys.exit(1 if errors else 0)
    """
)


def test_eight_threads_asking_at_once_all_get_a_whole_pydicom():
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "errors: []" in done.stdout
