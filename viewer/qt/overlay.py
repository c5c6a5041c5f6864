"""What is drawn over the image: corner text, orientation letters, the mm scale bar and the
live W/L readout, each with a dark halo so it reads on white bone or collimator edges.

The overlay repaints with every image repaint (each window/level drag step), so its drawing
is laid out once and kept: each part (a corner, the letters, the scale bar, the readout) is a
list of ready pixmaps and lines, laid out again only when its text or the widget's size
changes. Each line of text is measured and rendered (halo included) once. A W/L step thus
lays out only the corner holding the W/L line and the readout, and a repaint is a handful of
``drawPixmap`` calls.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QLineF, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QWidget

OVERLAY_FONT = QFont("DejaVu Sans", 10)
TEXT_COLOUR = QColor("#e8e8e8")
LETTER_COLOUR = QColor("#ffd75e")
#: Distance of text from the widget's edges (px).
MARGIN = 6
#: The W/L readout's top, below the widget's top edge (px).
READOUT_TOP = 34
#: Height of the scale bar above the widget's bottom edge (px).
SCALE_BAR_BOTTOM = 34
#: Rendered or measured text lines kept per cache (a few screens' worth).
HALO_CACHE_SIZE = 512


class TextStyle:
    """A font and colour of haloed text, with its metrics and the lines it measured."""

    def __init__(self, font: QFont, colour: QColor) -> None:
        self.font = QFont(font)
        self.colour = QColor(colour)
        self.metrics = QFontMetrics(self.font)
        #: Identifies the style in the rendered-line cache.
        self.key = (self.font.key(), self.colour.rgba())
        self._fitted: dict[tuple[str, int], tuple[str, int]] = {}

    def fit(self, text: str, room: int = 0) -> tuple[str, int]:
        """``text`` elided to ``room`` pixels (0: whole) and its width; each measured once."""
        fitted = self._fitted.get((text, room))
        if fitted is None:
            shown = (
                self.metrics.elidedText(text, Qt.TextElideMode.ElideRight, room) if room else text
            )
            fitted = (shown, self.metrics.horizontalAdvance(shown))
            if len(self._fitted) > HALO_CACHE_SIZE:
                self._fitted.clear()
            self._fitted[(text, room)] = fitted
        return fitted


@dataclass
class Drawing:
    """One laid-out part of the overlay: lines, then pixmaps at their top-left corners."""

    pixmaps: list[tuple[QPoint, QPixmap]] = field(default_factory=list)
    lines: list[tuple[QPen, list[QLineF]]] = field(default_factory=list)

    def paint(self, painter: QPainter) -> None:
        for pen, lines in self.lines:
            painter.setPen(pen)
            painter.drawLines(lines)
        for corner, pixmap in self.pixmaps:
            painter.drawPixmap(corner, pixmap)

    def add_text(self, x: int, y: int, text: str, style: TextStyle) -> None:
        """Haloed ``text`` with its baseline starting at (x, y)."""
        corner = QPoint(x - 1, y - style.metrics.ascent() - 1)
        self.pixmaps.append((corner, _halo_pixmap(text, style)))


class OverlayLayer(QWidget):
    """Text and marks drawn over the image: corner text, orientation letters, scale bar and
    the live W/L readout, each with a dark halo so they read on white bone or collimation.

    Set :attr:`corners`, :attr:`letters`, :attr:`readout`, :attr:`show_text` and
    :attr:`pixels_per_mm`, then call ``update()``; what changed is laid out at the next paint.
    """

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.corners: dict[str, list[str]] = {}
        self.letters: dict[str, str] = {}
        self.readout = ""
        self.show_text = True
        #: Screen pixels per millimetre, or None without a calibrated pixel size.
        self.pixels_per_mm: float | None = None
        self.text_style = TextStyle(OVERLAY_FONT, TEXT_COLOUR)
        self.letter_style = TextStyle(_bold(OVERLAY_FONT, 12), LETTER_COLOUR)
        self.readout_style = TextStyle(_bold(OVERLAY_FONT, 14), LETTER_COLOUR)
        #: Part name -> (what it was laid out from, its drawing).
        self._laid_out: dict[str, tuple[Hashable, Drawing]] = {}
        #: How many parts were laid out afresh so far (tests watch the cache with it).
        self.layouts = 0

    def paintEvent(self, _event: Any) -> None:
        painter = QPainter(self)
        for drawing in self.drawings():
            drawing.paint(painter)
        painter.end()

    def drawings(self) -> list[Drawing]:
        """Every part to paint now, laid out afresh where its content or the size changed."""
        size = (self.width(), self.height())
        parts: list[Drawing] = []
        if self.show_text:
            for corner, lines in self.corners.items():
                lay_out = functools.partial(self._corner, corner, lines)
                parts.append(self._part(f"corner {corner}", (tuple(lines), size), lay_out))
            parts.append(self._part("scale bar", (self.pixels_per_mm, size), self._scale_bar))
        letters = tuple(self.letters.items())
        parts.append(self._part("letters", (letters, size), self._letters))
        if self.readout:
            parts.append(self._part("readout", (self.readout, size), self._readout))
        return parts

    def _part(self, name: str, key: Hashable, lay_out: Callable[[], Drawing]) -> Drawing:
        held = self._laid_out.get(name)
        if held is not None and held[0] == key:
            return held[1]
        drawing = lay_out()
        self._laid_out[name] = (key, drawing)
        self.layouts += 1
        return drawing

    def _corner(self, corner: str, lines: list[str]) -> Drawing:
        drawing, style = Drawing(), self.text_style
        metrics = style.metrics
        room = max(self.width() // 2 - MARGIN - 10, 20)  # corners never run into each other
        top = corner[0] == "t"
        for number, line_text in enumerate(lines if top else reversed(lines)):
            text, width = style.fit(line_text, room)
            x = MARGIN if corner[1] == "l" else self.width() - MARGIN - width
            y = MARGIN + metrics.ascent() + number * metrics.height()
            if not top:
                y = self.height() - MARGIN - metrics.descent() - number * metrics.height()
            drawing.add_text(x, y, text, style)
        return drawing

    def _letters(self) -> Drawing:
        drawing, style = Drawing(), self.letter_style
        ascent, descent = style.metrics.ascent(), style.metrics.descent()
        width, height = self.width(), self.height()
        for edge, text in self.letters.items():
            if not text:
                continue
            w = style.fit(text)[1]
            x, y = {
                "left": (MARGIN, (height + ascent) // 2),
                "right": (width - MARGIN - w, (height + ascent) // 2),
                "top": ((width - w) // 2, MARGIN + ascent),
                "bottom": ((width - w) // 2, height - MARGIN - descent),
            }[edge]
            drawing.add_text(x, y, text, style)
        return drawing

    def _scale_bar(self) -> Drawing:
        drawing = Drawing()
        if not self.pixels_per_mm:
            return drawing
        length_mm = scale_bar_mm(self.pixels_per_mm, self.width() / 4)
        if length_mm is None:
            return drawing
        length = length_mm * self.pixels_per_mm
        x0 = (self.width() - length) / 2
        y = self.height() - SCALE_BAR_BOTTOM
        lines = [QLineF(QPointF(x0, y), QPointF(x0 + length, y))]
        for number in range(3):
            x = x0 + length * number / 2
            lines.append(QLineF(QPointF(x, y), QPointF(x, y - (6 if number != 1 else 4))))
        for colour, pen_width in ((QColor("black"), 3), (TEXT_COLOUR, 1)):
            drawing.lines.append((QPen(colour, pen_width), lines))
        label = f"{length_mm / 10:g} cm" if length_mm >= 10 else f"{length_mm:g} mm"
        drawing.add_text(int(x0 + length + 6), int(y + 4), label, self.text_style)
        return drawing

    def _readout(self) -> Drawing:
        drawing, style = Drawing(), self.readout_style
        x = (self.width() - style.fit(self.readout)[1]) // 2
        drawing.add_text(x, READOUT_TOP + style.metrics.ascent(), self.readout, style)
        return drawing


def _bold(font: QFont, points: int) -> QFont:
    bold = QFont(font)
    bold.setPointSize(points)
    bold.setBold(True)
    return bold


def _halo_pixmap(text: str, style: TextStyle) -> QPixmap:
    """``text`` with a one-pixel black outline, readable on any grey; rendered once."""
    key = (text, style.key)
    pixmap = _HALO_CACHE.get(key)
    if pixmap is None:
        pixmap = _render_halo(text, style.font, style.colour)
        if len(_HALO_CACHE) > HALO_CACHE_SIZE:
            _HALO_CACHE.clear()
        _HALO_CACHE[key] = pixmap
    return pixmap


_HALO_CACHE: dict[tuple[str, tuple[str, int]], QPixmap] = {}


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
