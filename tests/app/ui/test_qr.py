"""QR codes: the image holds segno's matrix exactly, with its quiet zone, at the given scale.

No QR decoder is installed, so the check is the other way round: every module segno computed
is painted where it belongs (dark where the matrix is dark, light elsewhere and in the quiet
zone), and the symbol version fits the data.
"""

from __future__ import annotations

import pytest
import segno
from PySide6.QtGui import QColor, QImage, QPalette
from pytestqt.qtbot import QtBot

from app.ui.qr import QUIET_ZONE, QrCodeWidget, qr_code, qr_image

DARK = QColor(10, 20, 30)
LIGHT = QColor(250, 240, 230)
LINK = "sourdine+ws://127.0.0.1:8765/" + "A" * 42 + "Q?name=Marie%20Dupont"


def _assert_image_is_matrix(image: QImage, matrix: tuple[bytearray, ...], scale: int,
                            dark: QColor, light: QColor, border: int = QUIET_ZONE) -> None:
    size = len(matrix) + 2 * border
    assert (image.width(), image.height()) == (size * scale, size * scale)
    for y in range(size):
        for x in range(size):
            inside = border <= x < size - border and border <= y < size - border
            expected = dark if inside and matrix[y - border][x - border] else light
            for px, py in ((x * scale, y * scale), (x * scale + scale - 1, y * scale + scale - 1)):
                assert image.pixelColor(px, py) == expected, (x, y)


def test_the_image_paints_every_module_of_the_matrix_with_a_quiet_zone() -> None:
    code = segno.make(LINK, micro=False, error="m", boost_error=False)
    image = qr_image(LINK, 3, DARK, LIGHT)
    _assert_image_is_matrix(image, code.matrix, 3, DARK, LIGHT)
    assert code.designator == qr_code(LINK).designator
    assert qr_code(LINK).error == "M" and not qr_code(LINK).is_micro


def test_one_pixel_per_module_and_a_custom_border() -> None:
    code = qr_code("hello")
    assert code.version == 1 and len(code.matrix) == 21  # 21 modules for version 1
    image = qr_image("hello", 1, DARK, LIGHT, border=0)
    _assert_image_is_matrix(image, code.matrix, 1, DARK, LIGHT, border=0)


def test_the_version_grows_with_the_data_and_binary_payloads_work() -> None:
    small, large = qr_code("x"), qr_code("x" * 300)
    assert small.version < large.version
    assert len(large.matrix) == 17 + 4 * large.version
    payload = bytes(range(65))  # a safety-number payload is 65 raw bytes
    code = qr_code(payload)
    _assert_image_is_matrix(qr_image(payload, 2, DARK, LIGHT), code.matrix, 2, DARK, LIGHT)


def test_bad_scale_or_border_is_refused() -> None:
    with pytest.raises(ValueError):
        qr_image("x", 0, DARK, LIGHT)
    with pytest.raises(ValueError):
        qr_image("x", 1, DARK, LIGHT, border=-1)


def test_too_much_data_raises_segnos_error() -> None:
    with pytest.raises(segno.DataOverflowError):
        qr_image("x" * 8000, 1, DARK, LIGHT)


@pytest.mark.parametrize("dark_theme", [False, True])
def test_the_widget_paints_dark_modules_on_light_whatever_the_theme(
    qtbot: QtBot, dark_theme: bool
) -> None:
    widget = QrCodeWidget(LINK)
    qtbot.addWidget(widget)
    palette = widget.palette()
    text, base = (QColor("white"), QColor("black")) if dark_theme else (
        QColor("black"), QColor("white"))
    palette.setColor(QPalette.ColorRole.Text, text)
    palette.setColor(QPalette.ColorRole.Base, base)
    widget.setPalette(palette)
    widget.resize(400, 300)
    assert widget.accessibleName()
    rect = widget.symbol_rect()
    assert rect.width() == rect.height() and rect.height() <= 300
    size = widget.modules() + 2 * QUIET_ZONE
    assert rect.width() % size == 0  # whole pixels per module
    painted = widget.grab().toImage().copy(rect)
    scale = rect.width() // size
    _assert_image_is_matrix(painted, qr_code(LINK).matrix, scale, QColor("black"),
                            QColor("white"))


def test_an_empty_widget_paints_nothing_and_asks_no_space(qtbot: QtBot) -> None:
    widget = QrCodeWidget()
    qtbot.addWidget(widget)
    assert widget.modules() == 0 and widget.sizeHint().isEmpty()
    widget.set_data("hello")
    assert widget.modules() == 21 and widget.sizeHint().width() >= 29 * 2
