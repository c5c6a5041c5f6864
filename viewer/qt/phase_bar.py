"""The phase (time point, echo, b-value) slider at the bottom of a viewport.

Shown while the series in view has several phases of the stack shown (``ViewState.phase_count``
> 1: a 4D acquisition, a multi-echo or diffusion series). Dragging it or the keys
(previous/next phase, Ctrl+Up/Down by default) move between phases at the same slice position
(:meth:`viewer.model.display.ViewState.set_phase`). It never takes the keyboard focus, so keys
keep going to the image.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

from viewer.model.display import ViewState

#: The bar's share of the viewport's width, its narrowest, its height, and how far its top
#: is from the viewport's bottom (px: above the bottom orientation letter and the scale bar).
WIDTH_SHARE, MIN_WIDTH, HEIGHT, BOTTOM = 0.5, 220, 28, 84
#: Room kept free for the bottom corners' text on each side (px); where that leaves the bar
#: too little, it sits above the corner text instead (ABOVE_TEXT from the bottom).
CORNER_ROOM, ABOVE_TEXT = 140, 150


class PhaseBar(QWidget):
    """ "Phase", a slider over the phases, and what the phase is ("phase 2 of 4, 12.5 s")."""

    def __init__(self, state: ViewState, parent: QWidget) -> None:
        super().__init__(parent)
        self.state = state
        self.setObjectName("phase-bar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(
            "#phase-bar { background: rgba(20, 22, 26, 170); border-radius: 4px; }"
            "QLabel { color: #e8e8e8; }"
        )
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.setPageStep(1)
        self.slider.setToolTip("Phase (time point): Ctrl+Up / Ctrl+Down; Shift+C plays them")
        self.slider.valueChanged.connect(self._on_slider)
        self.name = QLabel("Phase", self)
        self.text = QLabel("", self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 8, 2)
        layout.addWidget(self.name)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.text)
        self.hide()

    def refresh(self) -> None:
        """Follow the state: shown with several phases, at the phase shown."""
        count = self.state.phase_count
        if count < 2:
            self.hide()
            return
        self.slider.blockSignals(True)
        self.slider.setRange(0, count - 1)
        self.slider.setValue(self.state.phase)
        self.slider.blockSignals(False)
        stack = self.state.stack
        detail = stack.phase_text if stack is not None else ""
        self.text.setText(detail or f"{self.state.phase + 1}/{count}")
        if not self.isVisible():
            self.place()
            self.show()

    def place(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        room = parent.width() - 2 * CORNER_ROOM
        if room >= MIN_WIDTH:
            width = min(max(MIN_WIDTH, int(parent.width() * WIDTH_SHARE)), room)
            top = parent.height() - BOTTOM
        else:  # a narrow viewport: above the corner text, as wide as it allows
            width = max(min(parent.width() - 16, 2 * MIN_WIDTH), 0)
            top = parent.height() - ABOVE_TEXT
        self.setGeometry((parent.width() - width) // 2, top, width, HEIGHT)

    def _on_slider(self, value: int) -> None:
        self.state.set_phase(value)
