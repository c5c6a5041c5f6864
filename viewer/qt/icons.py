"""QIcons from :mod:`viewer.core.resources`: the application icon and theme-coloured toolbar icons.

Toolbar SVGs are drawn in ``currentColor``; :func:`toolbar_icon` paints them in the applied
theme's icon colour (and a dimmer one for the disabled state). After a theme change, ask again
(the cache is per theme).
"""

from __future__ import annotations

import functools

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from viewer.core.resources import APP_ICON_SIZES, app_icon_png, toolbar_icon_svg
from viewer.qt.theme import current_theme, theme_colors

#: Pixel sizes rendered for each toolbar icon (16-32 logical, 48-64 for high-DPI screens).
TOOLBAR_PIXMAP_SIZES = (16, 20, 24, 32, 48, 64)


def app_icon() -> QIcon:
    """The application icon at every shipped size."""
    icon = QIcon()
    for size in APP_ICON_SIZES:
        pixmap = QPixmap()
        pixmap.loadFromData(app_icon_png(size), "PNG")
        icon.addPixmap(pixmap)
    return icon


def toolbar_icon(name: str, theme: str | None = None) -> QIcon:
    """Toolbar icon ``name`` (see :data:`viewer.core.resources.TOOLBAR_ICONS`) for ``theme``.

    ``theme`` defaults to the one applied to the running application.
    """
    if theme is None:
        app = QApplication.instance()
        theme = current_theme(app) if isinstance(app, QApplication) else None
    return _toolbar_icon(name, theme or "")


@functools.cache
def _toolbar_icon(name: str, theme: str) -> QIcon:
    colors = theme_colors(theme)
    svg = toolbar_icon_svg(name)
    icon = QIcon()
    for mode, color in (
        (QIcon.Mode.Normal, colors.icon),
        (QIcon.Mode.Disabled, colors.icon_disabled),
    ):
        renderer = QSvgRenderer(QByteArray(svg.replace(b"currentColor", color.encode())))
        for size in TOOLBAR_PIXMAP_SIZES:
            icon.addPixmap(_render(renderer, size), mode)
    return icon


def _render(renderer: QSvgRenderer, size: int) -> QPixmap:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return QPixmap.fromImage(image)
