"""What is drawn over the image: corner text, orientation letters, the mm scale bar and the
live W/L readout, each with a dark halo so it reads on white bone or collimator edges."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QWidget

OVERLAY_FONT = QFont("DejaVu Sans", 10)
TEXT_COLOUR = QColor("#e8e8e8")
LETTER_COLOUR = QColor("#ffd75e")


class OverlayLayer(QWidget):
    """Text and marks drawn over the image: corner text, orientation letters, scale bar and
    the live W/L readout, each with a dark halo so they read on white bone or collimation."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.corners: dict[str, list[str]] = {}
        self.letters: dict[str, str] = {}
        self.readout = ""
        self.show_text = True
        #: Screen pixels per millimetre, or None without a calibrated pixel size.
        self.pixels_per_mm: float | None = None
        self.letter_font = QFont(OVERLAY_FONT)
        self.letter_font.setPointSize(12)
        self.letter_font.setBold(True)

    def paintEvent(self, _event: Any) -> None:
        painter = QPainter(self)
        if self.show_text:
            self._paint_corners(painter)
            self._paint_scale_bar(painter)
        self._paint_letters(painter)
        if self.readout:
            self._paint_readout(painter)
        painter.end()

    def _paint_corners(self, painter: QPainter) -> None:
        painter.setFont(OVERLAY_FONT)
        metrics = QFontMetrics(OVERLAY_FONT)
        line, margin = metrics.height(), 6
        room = max(self.width() // 2 - margin - 10, 20)  # corners never run into each other
        for corner, lines in self.corners.items():
            top = corner[0] == "t"
            for number, line_text in enumerate(lines if top else reversed(lines)):
                text = metrics.elidedText(line_text, Qt.TextElideMode.ElideRight, room)
                width = metrics.horizontalAdvance(text)
                x = margin if corner[1] == "l" else self.width() - margin - width
                y = margin + metrics.ascent() + number * line
                if not top:
                    y = self.height() - margin - metrics.descent() - number * line
                _halo_text(painter, x, y, text, TEXT_COLOUR)

    def _paint_letters(self, painter: QPainter) -> None:
        painter.setFont(self.letter_font)
        metrics = QFontMetrics(self.letter_font)
        margin, width, height = 6, self.width(), self.height()
        for edge, text in self.letters.items():
            if not text:
                continue
            w = metrics.horizontalAdvance(text)
            x, y = {
                "left": (margin, (height + metrics.ascent()) // 2),
                "right": (width - margin - w, (height + metrics.ascent()) // 2),
                "top": ((width - w) // 2, margin + metrics.ascent()),
                "bottom": ((width - w) // 2, height - margin - metrics.descent()),
            }[edge]
            _halo_text(painter, x, y, text, LETTER_COLOUR)

    def _paint_scale_bar(self, painter: QPainter) -> None:
        if not self.pixels_per_mm:
            return
        length_mm = scale_bar_mm(self.pixels_per_mm, self.width() / 4)
        if length_mm is None:
            return
        length = length_mm * self.pixels_per_mm
        x0 = (self.width() - length) / 2
        y = self.height() - 34
        ticks = [x0 + length * i / 2 for i in range(3)]
        for colour, width in ((QColor("black"), 3), (TEXT_COLOUR, 1)):
            painter.setPen(QPen(colour, width))
            painter.drawLine(QPointF(x0, y), QPointF(x0 + length, y))
            for number, x in enumerate(ticks):
                tick = 6 if number != 1 else 4
                painter.drawLine(QPointF(x, y), QPointF(x, y - tick))
        label = f"{length_mm / 10:g} cm" if length_mm >= 10 else f"{length_mm:g} mm"
        painter.setFont(OVERLAY_FONT)
        _halo_text(painter, int(x0 + length + 6), int(y + 4), label, TEXT_COLOUR)

    def _paint_readout(self, painter: QPainter) -> None:
        font = QFont(OVERLAY_FONT)
        font.setPointSize(14)
        font.setBold(True)
        painter.setFont(font)
        metrics = QFontMetrics(font)
        x = (self.width() - metrics.horizontalAdvance(self.readout)) // 2
        _halo_text(painter, x, 34 + metrics.ascent(), self.readout, LETTER_COLOUR)


def _halo_text(painter: QPainter, x: int, y: int, text: str, colour: QColor) -> None:
    """Text with a one-pixel black outline, readable on any grey, baseline at ``y``.

    Each distinct line is rendered once into a cached pixmap: the overlay repaints with every
    image repaint (a W/L drag step), and six text draws per line would cost milliseconds.
    """
    font = painter.font()
    key = (text, font.key(), colour.rgba())
    pixmap = _HALO_CACHE.get(key)
    if pixmap is None:
        pixmap = _render_halo(text, font, colour)
        if len(_HALO_CACHE) > HALO_CACHE_SIZE:
            _HALO_CACHE.clear()
        _HALO_CACHE[key] = pixmap
    painter.drawPixmap(x - 1, y - QFontMetrics(font).ascent() - 1, pixmap)


#: Rendered text lines kept (a few screens' worth).
HALO_CACHE_SIZE = 512
_HALO_CACHE: dict[tuple[str, str, int], QPixmap] = {}


def _render_halo(text: str, font: QFont, colour: QColor) -> QPixmap:
    metrics = QFontMetrics(font)
    pixmap = QPixmap(metrics.horizontalAdvance(text) + 3, metrics.height() + 3)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setFont(font)
    baseline = metrics.ascent() + 1
    painter.setPen(QColor(0, 0, 0))
    for dx, dy in ((-1, 0), (1, 0), (0, -1), (0, 1), (1, 1)):
        painter.drawText(1 + dx, baseline + dy, text)
    painter.setPen(colour)
    painter.drawText(1, baseline, text)
    painter.end()
    return pixmap


def scale_bar_mm(pixels_per_mm: float, max_pixels: float) -> float | None:
    """The longest round length (1, 2, 5 x 10^n mm) that fits in ``max_pixels``."""
    best = None
    for exponent in range(-1, 4):
        for base in (1, 2, 5):
            length = base * 10.0**exponent
            if length * pixels_per_mm <= max_pixels:
                best = length
    return best
