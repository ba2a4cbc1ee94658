"""QR codes (segno, pure Python) as Qt images and a widget that paints one.

A QR code needs a quiet zone (a light border of four modules) to be read, and dark modules on
a light background: the widget takes the darker of the palette's text and base colours for the
modules, so it follows light, dark and high-contrast themes and stays readable by phones.
"""

from __future__ import annotations

from typing import Final

import segno
from PySide6.QtCore import QCoreApplication, QEvent, QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

QUIET_ZONE: Final = 4
"""Light modules around the symbol (ISO/IEC 18004 asks for 4)."""
ERROR_LEVEL: Final = "m"
"""Error correction level M: about 15% of the code can be damaged (glare, a finger)."""


def qr_code(data: str | bytes) -> segno.QRCode:
    """The QR code of ``data`` (never a Micro QR: phones do not all read them).

    Raises:
        segno.DataOverflowError: more than a QR code can hold.
    """
    return segno.make(data, micro=False, error=ERROR_LEVEL, boost_error=False)


def qr_image(
    text: str | bytes, scale_px: int, dark: QColor, light: QColor, *, border: int = QUIET_ZONE
) -> QImage:
    """The QR code of ``text`` as an image: ``scale_px`` pixels per module, ``border`` light
    modules of quiet zone on each side (so the image is (modules + 2 * border) * scale_px
    pixels square).

    Raises:
        ValueError: ``scale_px`` is below 1 or ``border`` below 0.
        segno.DataOverflowError: ``text`` is more than a QR code can hold.
    """
    if scale_px < 1 or border < 0:
        raise ValueError("A QR image needs at least one pixel per module and no negative border.")
    matrix = qr_code(text).matrix
    size = len(matrix) + 2 * border
    image = QImage(size, size, QImage.Format.Format_RGB32)
    image.fill(light)
    dark_rgb = dark.rgb()
    for row, modules in enumerate(matrix):
        for column, module in enumerate(modules):
            if module:
                image.setPixel(column + border, row + border, dark_rgb)
    if scale_px == 1:
        return image
    return image.scaled(
        size * scale_px, size * scale_px, Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.FastTransformation,
    )


class QrCodeWidget(QWidget):
    """Paints the QR code of some data, square, centred, with its quiet zone, as large as
    the widget allows in whole pixels per module."""

    def __init__(self, data: str | bytes = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._modules = 0  # symbol width in modules, 0 when there is nothing to show
        self._image: QImage | None = None  # one pixel per module, quiet zone included
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setAccessibleName(QCoreApplication.translate("QrCodeWidget", "QR code"))
        self.set_data(data)

    def set_data(self, data: str | bytes) -> None:
        """Show the QR code of ``data`` (nothing for empty data).

        Raises:
            segno.DataOverflowError: more than a QR code can hold.
        """
        self._data = data
        self._render()
        self.updateGeometry()
        self.update()

    def data(self) -> str | bytes:
        return self._data

    def modules(self) -> int:
        """The symbol's width in modules without the quiet zone (0 when empty)."""
        return self._modules

    def _colours(self) -> tuple[QColor, QColor]:
        text = self.palette().color(QPalette.ColorRole.Text)
        base = self.palette().color(QPalette.ColorRole.Base)
        return (text, base) if text.lightness() <= base.lightness() else (base, text)

    def _render(self) -> None:
        if not self._data:
            self._image, self._modules = None, 0
            return
        dark, light = self._colours()
        self._image = qr_image(self._data, 1, dark, light)
        self._modules = self._image.width() - 2 * QUIET_ZONE

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._render()
            self.update()

    def _module_px(self) -> int:
        # Large enough to scan from a screen: about a quarter of a text line per module.
        return max(2, round(self.fontMetrics().height() / 4))

    def sizeHint(self) -> QSize:
        if self._image is None:
            return QSize(0, 0)
        side = self._image.width() * self._module_px()
        return QSize(side, side)

    def minimumSizeHint(self) -> QSize:
        if self._image is None:
            return QSize(0, 0)
        side = self._image.width() * 2
        return QSize(side, side)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return width

    def symbol_rect(self) -> QRect:
        """Where the code (quiet zone included) is painted, in widget coordinates."""
        if self._image is None:
            return QRect()
        size = self._image.width()
        scale = max(1, min(self.width(), self.height()) // size)
        side = size * scale
        return QRect((self.width() - side) // 2, (self.height() - side) // 2, side, side)

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._image is None:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(self.symbol_rect(), self._image)
        painter.end()
