"""Render a delegate's row into a transparent image and find where it painted."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

SPARE = 40
"""Extra transparent pixels below and right of the row, where nothing may be painted."""


def row_option(width: int, height: int, *, focus: bool = False,
               selected: bool = False) -> QStyleOptionViewItem:
    """The option a list view gives its delegate for a row (no widget: the option's width)."""
    option = QStyleOptionViewItem()
    option.rect = QRect(0, 0, width, height)
    option.font = QApplication.font()
    option.palette = QApplication.palette()
    option.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Active
    if focus:
        option.state |= QStyle.StateFlag.State_HasFocus
    if selected:
        option.state |= QStyle.StateFlag.State_Selected
    return option


def render(delegate: QStyledItemDelegate, option: QStyleOptionViewItem,
           index: QModelIndex) -> QImage:
    """``delegate.paint`` of the row into a transparent image ``SPARE`` pixels larger than
    ``option.rect`` in both directions."""
    image = QImage(option.rect.width() + SPARE, option.rect.height() + SPARE,
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    try:
        delegate.paint(painter, option, index)
    finally:
        painter.end()
    return image


def painted_box(image: QImage) -> QRect:
    """The bounding box of every pixel that is not fully transparent (empty: nothing)."""
    data = bytes(image.constBits())
    stride = image.bytesPerLine()
    row_bytes = image.width() * 4
    top = bottom = -1
    left, right = image.width(), -1
    for y in range(image.height()):
        row = data[y * stride: y * stride + row_bytes]
        stripped = row.lstrip(b"\0")
        if not stripped:
            continue
        if top < 0:
            top = y
        bottom = y
        left = min(left, (row_bytes - len(stripped)) // 4)
        right = max(right, (len(row.rstrip(b"\0")) - 1) // 4)
    if top < 0:
        return QRect()
    return QRect(left, top, right - left + 1, bottom - top + 1)


def painted_outside(image: QImage, allowed: list[QRectF]) -> int:
    """How many non-transparent pixels lie outside every rectangle of ``allowed``."""
    data = bytes(image.constBits())
    stride = image.bytesPerLine()
    spans = [r.toAlignedRect() for r in allowed]
    count = 0
    for y in range(image.height()):
        row = data[y * stride: y * stride + image.width() * 4]
        if not row.strip(b"\0"):
            continue
        covered = bytearray(image.width())
        for r in spans:
            if r.top() <= y <= r.bottom():
                first, last = max(0, r.left()), min(image.width() - 1, r.right())
                covered[first: last + 1] = b"\1" * max(0, last - first + 1)
        for x in range(image.width()):
            if not covered[x] and row[x * 4: x * 4 + 4] != b"\0\0\0\0":
                count += 1
    return count
