"""How the image views draw: through an OpenGL viewport where a hardware GPU is present, else in
software (Qt's raster engine).

Either way a pyqtgraph view draws the same ready 8-bit (or RGB) picture with QPainter: into a
plain widget (raster: the CPU paints) or into a ``QOpenGLWidget`` viewport (Qt's OpenGL paint
engine: the picture goes to the GPU as a texture and is scaled there). Items are drawn with
the same transform and nearest-neighbour sampling, so the image looks the same.

The user's setting (Preferences > General > Rendering) is one of :data:`RENDERING_MODES`:

- Automatic: OpenGL only if an OpenGL context can be made and its renderer (``GL_RENDERER``)
  is hardware. Mesa's llvmpipe/softpipe/swrast, Apple's and other "Software" renderers and
  Windows' "GDI Generic" run on the CPU, where Qt's raster engine is at least as fast, so they
  count as no GPU. The offscreen platform (CI, the bench) has no OpenGL at all: raster.
- OpenGL: any working context (a software one too, e.g. to compare); if none can be made, or
  a view's OpenGL viewport fails to start, that view falls back to raster and a one-line
  notice says so, so a view is never left blank.
- Software (raster): never OpenGL.

The probe (an offscreen surface and a context made current on the GUI thread) runs once per
process (:func:`probe_opengl` is cached). :func:`apply_rendering` keeps the application's
choice (:func:`current_rendering`), which new views follow and Help > About shows.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

import pyqtgraph as pg
from pyqtgraph.Qt.OpenGLHelpers import GraphicsViewGLWidget
from PySide6.QtCore import QEvent, QObject, QRectF, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QOffscreenSurface, QOpenGLContext, QPainter
from PySide6.QtOpenGLWidgets import QOpenGLWidget
from PySide6.QtWidgets import QGraphicsView, QWidget

log = logging.getLogger(__name__)

AUTOMATIC = "automatic"
OPENGL = "opengl"
SOFTWARE = "software"
#: Stored value -> what Preferences shows.
RENDERING_MODES = {AUTOMATIC: "Automatic", OPENGL: "OpenGL", SOFTWARE: "Software (raster)"}
DEFAULT_RENDERING = AUTOMATIC

GL_VENDOR = 0x1F00
GL_RENDERER = 0x1F01
#: Lower-case parts of GL_RENDERER naming a renderer that runs on the CPU.
SOFTWARE_RENDERERS = (
    "llvmpipe",
    "softpipe",
    "swrast",
    "software",  # "Software Rasterizer", "Apple Software Renderer"
    "gdi generic",  # Windows' own OpenGL 1.1 (vendor Microsoft Corporation)
    "basic render driver",  # Microsoft's WARP through Mesa's d3d12 driver
)


@dataclass(frozen=True)
class OpenGLProbe:
    """What an attempt to make an OpenGL context found."""

    context: bool  # a context was made and made current
    renderer: str = ""  # GL_RENDERER, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"
    problem: str = ""  # why no context could be made

    @property
    def hardware(self) -> bool:
        return self.context and not is_software_renderer(self.renderer)

    @property
    def renderer_name(self) -> str:
        """The renderer without its details: "llvmpipe (LLVM 15, 256 bits)" -> "llvmpipe"."""
        return self.renderer.split(" (", 1)[0].strip() or "unknown renderer"


@dataclass(frozen=True)
class Rendering:
    """How the views draw, and why."""

    opengl: bool
    reason: str
    #: Set when the user's choice (OpenGL) could not be honoured: one line for the status bar.
    notice: str = ""

    @property
    def text(self) -> str:
        """One line, e.g. "raster (no hardware OpenGL: llvmpipe)" (Help > About)."""
        return f"{'OpenGL' if self.opengl else 'raster'} ({self.reason})"


Detector = Callable[[], OpenGLProbe]

#: Until the window applies the user's setting, views draw in software.
_current = Rendering(False, "not chosen yet")


def is_software_renderer(renderer: str) -> bool:
    name = renderer.lower()
    return not name or any(part in name for part in SOFTWARE_RENDERERS)


@functools.cache
def probe_opengl() -> OpenGLProbe:
    """Try to make an OpenGL context (GUI thread, once per process); never raises."""
    app = QGuiApplication.instance()
    if not isinstance(app, QGuiApplication):
        return OpenGLProbe(False, problem="no Qt GUI application")
    try:
        return _probe(app.platformName())
    except Exception as error:  # a broken driver must not stop the viewer
        log.warning("the OpenGL probe failed", exc_info=True)
        return OpenGLProbe(False, problem=f"{type(error).__name__}: {error}")


def _probe(platform: str) -> OpenGLProbe:
    surface = QOffscreenSurface()
    surface.create()
    context = QOpenGLContext()
    try:
        if not surface.isValid():
            return OpenGLProbe(False, problem=f"no OpenGL surface on the {platform} platform")
        if not context.create() or not context.isValid():
            return OpenGLProbe(False, problem=f"no OpenGL context on the {platform} platform")
        if not context.makeCurrent(surface):
            return OpenGLProbe(False, problem="the OpenGL context cannot be made current")
        functions = context.functions()
        renderer = str(functions.glGetString(GL_RENDERER) or "")
        vendor = str(functions.glGetString(GL_VENDOR) or "")
        context.doneCurrent()
        log.info("OpenGL renderer %r (vendor %r)", renderer, vendor)
        return OpenGLProbe(True, renderer=renderer)
    finally:
        surface.destroy()


def choose_rendering(mode: str, detect: Detector = probe_opengl) -> Rendering:
    """What ``mode`` (one of :data:`RENDERING_MODES`) means on this machine."""
    if mode == SOFTWARE:
        return Rendering(False, "chosen in Preferences")
    probe = detect()
    if mode == OPENGL:
        if probe.context:
            return Rendering(True, f"chosen in Preferences: {probe.renderer_name}")
        return _failed(probe.problem)
    if probe.hardware:
        return Rendering(True, f"hardware OpenGL: {probe.renderer_name}")
    why = probe.renderer_name if probe.context else probe.problem
    return Rendering(False, f"no hardware OpenGL: {why}")


def _failed(problem: str) -> Rendering:
    return Rendering(
        False,
        f"OpenGL failed: {problem}",
        f"OpenGL could not be started ({problem}); images are drawn in software (raster).",
    )


def apply_rendering(mode: str, detect: Detector = probe_opengl) -> Rendering:
    """Choose how views draw for ``mode``, log it, and make it the application's choice."""
    global _current
    _current = choose_rendering(mode, detect)
    log.info("rendering (%s): %s", mode, _current.text)
    if _current.notice:
        log.warning("%s", _current.notice)
    return _current


def current_rendering() -> Rendering:
    """The application's choice: what new views use and Help > About shows."""
    return _current


def opengl_failed(problem: str) -> str:
    """A view's OpenGL viewport could not start: from now on views draw in software.
    Returns the notice to show."""
    global _current
    if _current.opengl:
        _current = _failed(problem)
        log.warning("%s", _current.notice)
    return _current.notice or _failed(problem).notice


def set_view_rendering(view: pg.GraphicsView, opengl: bool, notify: Callable[[str], None]) -> None:
    """Draw ``view`` through an OpenGL viewport or a plain (raster) one, keeping the
    viewport's opaque-paint attribute and mouse tracking, and the widgets drawn over it
    (corner text, notices) on top. An OpenGL viewport that turns out unable to paint goes
    back to raster and ``notify`` gets the notice."""
    viewport = view.viewport()
    if opengl == _is_opengl(viewport):
        return
    opaque = viewport.testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
    tracking = viewport.hasMouseTracking()  # hover readouts; Qt sets it only for hover items
    view.setViewport(OpenGLViewport() if opengl else QWidget())  # Qt deletes the old one
    viewport = view.viewport()
    viewport.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, opaque)
    viewport.setMouseTracking(tracking)
    viewport.lower()  # below the overlays, as the first viewport was
    if opengl:
        _OpenGLStartWatch(view, notify)


class OpenGLViewport(GraphicsViewGLWidget):
    """pyqtgraph's OpenGL viewport, which can also be grabbed (copy, save, screenshots).

    On screen the view paints into the widget's framebuffer from its own paint event, so
    :meth:`paintGL` is not called; ``QWidget.grab`` and :meth:`grabFramebuffer` call it on a
    framebuffer Qt has cleared, which would leave the image out. Here it draws the view again.
    """

    def paintGL(self) -> None:
        view = self.parentWidget()
        if isinstance(view, QGraphicsView):
            painter = QPainter(self)
            try:
                view.render(painter, QRectF(self.rect()), self.rect())
            finally:
                painter.end()


def _is_opengl(widget: QWidget) -> bool:
    return isinstance(widget, QOpenGLWidget)


class _OpenGLStartWatch(QObject):
    """Checks, once the OpenGL viewport has had its first paint, that it has a context; if
    not (QOpenGLWidget then paints nothing) the view goes back to raster."""

    def __init__(self, view: pg.GraphicsView, notify: Callable[[str], None]) -> None:
        self.viewport = view.viewport()
        super().__init__(self.viewport)  # dies with the viewport (and so does its timer)
        self.view = view
        self.notify = notify
        self.viewport.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self, self._check)  # after Qt has tried to start OpenGL
        return False

    def _check(self) -> None:
        if not isinstance(self.viewport, QOpenGLWidget) or self.viewport.isValid():
            return
        view, notify = self.view, self.notify
        problem = f"no OpenGL context on the {QGuiApplication.platformName()} platform"
        # not from here: swapping the viewport deletes it, and this watch with it
        QTimer.singleShot(0, view, lambda: _fall_back(view, notify, problem))


def _fall_back(view: pg.GraphicsView, notify: Callable[[str], None], problem: str) -> None:
    set_view_rendering(view, False, notify)
    notify(opengl_failed(problem))
