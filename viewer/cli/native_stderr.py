"""Keep C decoders' messages off a headless verb's stderr, where only its own lines belong.

GDCM, OpenJPEG and libjpeg print straight to file descriptor 2 ("Expected a SOC marker",
"Unsupported JPEG data precision 12" while GDCM retries 12-bit...): noise beside the one
readable line per problem a verb prints (see :mod:`viewer.core.errors`). No Qt.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Send file descriptor 2 to the null device for the block; Python's ``sys.stderr`` keeps
    writing where stderr went before, so the verb's own lines (and Python warnings) still show.

    Worker processes started inside the block (the decode and index pools' server) inherit
    the null device, so their decoders stay quiet too.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    python_stderr = sys.stderr
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        with _python_stderr_on(saved, python_stderr):
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def _python_stderr_on(fd: int, stream: Any) -> Iterator[None]:
    """Point ``sys.stderr`` at ``fd`` when it wrote to descriptor 2 (not when a test or an
    embedding program has replaced it with a stream of its own)."""
    try:
        writes_to_fd_2 = stream.fileno() == 2
    except (AttributeError, OSError, ValueError):
        writes_to_fd_2 = False
    if not writes_to_fd_2:
        yield
        return
    replacement = open(  # noqa: SIM115  (closed below; the descriptor stays open)
        fd,
        "w",
        buffering=1,
        encoding=getattr(stream, "encoding", None),
        errors=getattr(stream, "errors", None),
        closefd=False,
    )
    sys.stderr = replacement
    try:
        yield
    finally:
        sys.stderr = stream
        replacement.close()
