"""What a viewport shows for a slice that could not be decoded: never the previous slice.

The image becomes a uniform dark frame of the stack's matrix size (so orientation letters,
the scale bar and the slice's position still describe what is on screen), and a notice in
the middle says which image failed and why. Kept apart from :mod:`viewer.qt.overlay` (the
corner text layer): one plain label over the viewport, shown only while the failed slice is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QWidget

#: The placeholder's grey (0..255): darker than any window shows tissue, lighter than the
#: black around the image, so the frame's extent stays visible.
PLACEHOLDER_GREY = 28
#: The notice's widest line (px) and its distance from the viewport's edges.
NOTICE_MAX_WIDTH = 560
NOTICE_MARGIN = 16
#: Longer reasons are cut (the Problems dock and the log keep them whole).
REASON_MAX_CHARS = 240


def placeholder_pixels() -> np.ndarray:
    """One dark pixel, stretched over the frame's rectangle when drawn (uint8, levels 0-255)."""
    return np.full((1, 1), PLACEHOLDER_GREY, dtype=np.uint8)


def failed_frame_message(image_number: int, path: str, reason: str) -> str:
    """ "Image 37 could not be decoded: <reason>" (1-based, as the corner text counts)."""
    reason = " ".join(reason.removeprefix(f"{path}: ").split()) or "unknown error"
    if len(reason) > REASON_MAX_CHARS:
        reason = reason[: REASON_MAX_CHARS - 1] + "…"
    return f"Image {image_number} could not be decoded: {reason}"


class FailedFrameNotice(QLabel):
    """A centred message over a viewport; mouse and wheel go through to the image."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("failedFrameNotice")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        font = QFont(self.font())
        font.setPointSize(max(font.pointSize(), 11))
        font.setBold(True)
        self.setFont(font)
        self.setStyleSheet(
            "QLabel#failedFrameNotice { color: #ffb4a8; background: rgba(0, 0, 0, 190);"
            " border: 1px solid #a0463c; border-radius: 6px; padding: 10px 14px; }"
        )
        self.hide()
        parent.installEventFilter(self)

    def show_message(self, text: str) -> None:
        self.setText(text)
        self._place()
        self.show()
        self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False

    def _place(self) -> None:
        parent: Any = self.parentWidget()
        width = max(80, min(NOTICE_MAX_WIDTH, parent.width() - 2 * NOTICE_MARGIN))
        height = min(self.heightForWidth(width), max(40, parent.height() - 2 * NOTICE_MARGIN))
        self.setGeometry(
            (parent.width() - width) // 2, (parent.height() - height) // 2, width, height
        )
