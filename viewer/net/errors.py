"""Network failures as one readable line (no patient data, no traceback)."""

from __future__ import annotations

import errno
import socket


class NetError(Exception):
    """A network operation that failed; ``str()`` is one line saying what and why."""


class Cancelled(NetError):
    """The user cancelled; what arrived before is kept."""

    def __init__(self, message: str = "cancelled") -> None:
        super().__init__(message)


def connect_problem(host: str, port: int, timeout: float) -> str:
    """Why a TCP connection to ``host:port`` fails, by trying one (only asked after an
    association or request already failed, to tell refused from timed out from unknown)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return "the connection opened but the peer closed it"
    except socket.gaierror:
        return f"unknown host {host!r}"
    except ConnectionRefusedError:
        return "connection refused (nothing listens on that port)"
    except TimeoutError:
        return f"timed out after {timeout:g} s"
    except OSError as error:
        if error.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "network unreachable"
        return error.strerror or str(error)
