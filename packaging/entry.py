"""The frozen application's entry point: the same ``dicom-viewer`` command, verbs and all."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # worker processes of a frozen app start through here
    from viewer.__main__ import main

    sys.exit(main())
