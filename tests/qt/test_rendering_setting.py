"""Rendering: Automatic / OpenGL / Software. The setting persists and falls back; Automatic
draws in software where there is no hardware OpenGL (the offscreen platform: here and in CI)
and says why; OpenGL that cannot start falls back to raster with a notice, never a blank view.

CI has no OpenGL, so the machine's answer is replaced by a detector where a test needs a GPU
(or a context that turns out unusable); the views, settings and window are the real ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtOpenGLWidgets import QOpenGLWidget

from tests.gui_driving import open_and_wait, shown_main_window
from viewer.qt import gpu
from viewer.qt.about import AboutDialog, facts_as_text
from viewer.qt.app import make_application
from viewer.qt.gpu import OpenGLProbe, choose_rendering, current_rendering, probe_opengl
from viewer.qt.image_view import ImageViewport
from viewer.qt.main_window import MainWindow
from viewer.qt.preferences import PreferencesDialog
from viewer.qt.settings import ViewerSettings

NVIDIA = OpenGLProbe(True, "NVIDIA GeForce RTX 3060/PCIe/SSE2")
LLVMPIPE = OpenGLProbe(True, "llvmpipe (LLVM 15.0.6, 256 bits)")
NO_CONTEXT = OpenGLProbe(False, problem="no OpenGL context (driver missing)")


@pytest.fixture(autouse=True)
def keep_the_application_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test leaves the process-wide rendering choice as it found it."""
    monkeypatch.setattr(gpu, "_current", current_rendering())


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    yield from shown_main_window(qtbot)


def offscreen_only() -> None:
    make_application()
    if QGuiApplication.platformName() != "offscreen":
        pytest.skip("checks the offscreen platform (QT_QPA_PLATFORM=offscreen)")


def draws_opengl(viewport: ImageViewport) -> bool:
    return isinstance(viewport.viewport(), QOpenGLWidget)


def shows_an_image(image: QImage) -> bool:
    """More than one grey level in the viewport's middle (a blank view has one)."""
    grey = image.convertToFormat(QImage.Format.Format_Grayscale8)
    width, height = grey.width(), grey.height()
    pixels = np.frombuffer(grey.constBits(), np.uint8).reshape(height, grey.bytesPerLine())
    middle = pixels[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4]
    return int(middle.max()) - int(middle.min()) > 50


# --- the setting --------------------------------------------------------------------------
def test_rendering_persists_and_a_bad_value_reads_as_automatic(tmp_path: Path) -> None:
    make_application()
    path = tmp_path / "settings.ini"
    settings = ViewerSettings(path)
    assert settings.rendering() == "automatic"
    settings.set_rendering("software")
    settings.sync()
    assert ViewerSettings(path).rendering() == "software"
    with pytest.raises(ValueError, match="vulkan"):
        settings.set_rendering("vulkan")

    store = QSettings(str(path), QSettings.Format.IniFormat)
    store.setValue("rendering/mode", "Direct3D 12")  # hand-edited
    store.sync()
    again = ViewerSettings(path)
    assert again.notice is None
    assert again.rendering() == "automatic"


def test_preferences_general_tab_edits_the_rendering(window: MainWindow) -> None:
    dialog = window.window_settings.show_preferences()
    assert isinstance(dialog, PreferencesDialog)
    assert dialog.rendering_box.currentData() == "automatic"
    assert [dialog.rendering_box.itemText(i) for i in range(3)] == [
        "Automatic",
        "OpenGL",
        "Software (raster)",
    ]
    assert dialog.rendering_in_use.text() == f"In use: {current_rendering().text}"
    dialog.rendering_box.setCurrentIndex(dialog.rendering_box.findData("software"))
    dialog.accept()
    assert ViewerSettings(window.window_settings.settings.path).rendering() == "software"


# --- what Automatic picks, and why --------------------------------------------------------
def test_automatic_draws_in_software_on_the_offscreen_platform(window: MainWindow) -> None:
    offscreen_only()
    probe = probe_opengl()  # the real probe: no OpenGL here
    assert not probe.context and "offscreen" in probe.problem
    rendering = current_rendering()
    assert not rendering.opengl and not rendering.notice
    assert (
        rendering.text == "raster (no hardware OpenGL: no OpenGL context on the offscreen platform)"
    )
    assert not any(draws_opengl(viewport) for viewport in window.viewports.viewports)


def test_automatic_wants_a_hardware_renderer() -> None:
    assert choose_rendering("automatic", lambda: NVIDIA).text == (
        "OpenGL (hardware OpenGL: NVIDIA GeForce RTX 3060/PCIe/SSE2)"
    )
    assert choose_rendering("automatic", lambda: LLVMPIPE).text == (
        "raster (no hardware OpenGL: llvmpipe)"
    )
    for software in ("softpipe", "Mesa X11 swrast", "GDI Generic", "Apple Software Renderer"):
        chosen = choose_rendering("automatic", lambda: OpenGLProbe(True, software))  # noqa: B023
        assert not chosen.opengl, software
    assert choose_rendering("opengl", lambda: LLVMPIPE).opengl  # forced: any context will do
    assert not choose_rendering("software", lambda: NVIDIA).opengl


def test_about_says_how_images_are_drawn(qtbot) -> None:  # type: ignore[no-untyped-def]
    make_application()
    gpu.apply_rendering("automatic", lambda: LLVMPIPE)
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.facts is not None, timeout=20_000)
    assert dialog.facts is not None
    assert dict(dialog.facts.versions)["Rendering"] == "raster (no hardware OpenGL: llvmpipe)"
    assert "\nRendering: raster (no hardware OpenGL: llvmpipe)\n" in facts_as_text(dialog.facts)


# --- applying it to the views --------------------------------------------------------------
def test_software_keeps_every_viewport_raster(window: MainWindow) -> None:
    window.window_settings.detect_opengl = lambda: NVIDIA  # even with a GPU
    window.window_settings.settings.set_rendering("software")
    window.viewports.set_layout("2x2")
    assert len(window.viewports.viewports) == 4
    assert not any(draws_opengl(viewport) for viewport in window.viewports.viewports)
    assert current_rendering().text == "raster (chosen in Preferences)"


def test_forced_opengl_without_a_context_falls_back_with_a_notice(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    demo_study: Path,
) -> None:
    window.window_settings.detect_opengl = lambda: NO_CONTEXT
    window.window_settings.settings.set_rendering("opengl")
    assert window.statusBar().currentMessage() == (
        "OpenGL could not be started (no OpenGL context (driver missing)); "
        "images are drawn in software (raster)."
    )
    assert current_rendering().text == "raster (OpenGL failed: no OpenGL context (driver missing))"
    assert not draws_opengl(window.viewport)
    open_and_wait(qtbot, window, [str(demo_study)])
    qtbot.waitUntil(lambda: window.viewport.frame is not None, timeout=20_000)
    assert shows_an_image(window.viewport.render_view())  # drawn, not blank


@pytest.mark.qt_log_ignore(  # what Qt says while the OpenGL viewport tries to paint here
    "QOpenGLWidget is not supported on this platform", "QPainter::"
)
def test_an_opengl_viewport_that_cannot_paint_goes_back_to_raster(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    demo_study: Path,
) -> None:
    """The detector says a context can be made, but the viewport's own OpenGL cannot start
    (as on the offscreen platform): the view returns to raster by itself and says why."""
    offscreen_only()
    open_and_wait(qtbot, window, [str(demo_study)])
    qtbot.waitUntil(lambda: window.viewport.frame is not None, timeout=20_000)
    viewport = window.viewport
    window.window_settings.detect_opengl = lambda: LLVMPIPE
    window.window_settings.settings.set_rendering("opengl")
    assert current_rendering().opengl and draws_opengl(viewport)
    viewport.viewport().update()
    qtbot.waitUntil(lambda: not draws_opengl(viewport), timeout=5_000)
    assert window.statusBar().currentMessage() == (
        "OpenGL could not be started (no OpenGL context on the offscreen platform); "
        "images are drawn in software (raster)."
    )
    assert current_rendering().text.startswith("raster (OpenGL failed:")
    drawing = viewport.viewport()
    assert drawing.testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
    assert drawing.hasMouseTracking()  # the cursor readout still follows the mouse
    children = viewport.children()
    assert children.index(viewport.overlay) > children.index(drawing)  # corner text on top
    assert shows_an_image(viewport.render_view())
    window.viewports.set_layout("2x2")  # viewports made after the failure draw in raster
    assert not any(draws_opengl(view) for view in window.viewports.viewports)
