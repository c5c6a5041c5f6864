"""The frozen application's entry point: the same ``dicom-viewer`` command, verbs and all."""

import multiprocessing
import os
import sys

if __name__ == "__main__":
    # The spec leaves out numba's TBB and OpenMP layers (the viewer needs none): should
    # anything ask numba for threads, it takes its own workqueue layer instead of failing.
    os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")
    multiprocessing.freeze_support()  # worker processes of a frozen app start through here
    from viewer.__main__ import main

    sys.exit(main())
