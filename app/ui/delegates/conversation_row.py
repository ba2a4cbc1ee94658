"""Rows of the conversation list: name and time, then preview and unread pill.

Like the bubbles, one pure function (:func:`conversation_row_layout`) decides the geometry
and elided texts; ``sizeHint`` and ``paint`` both use it, through a cache keyed by every input
(contact id, width, name, time, preview, unread, bold, warning, font key). The unread count
and bold come from the model's attention roles: the delegate decides nothing about attention.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Final

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionFocusRect,
    QStyleOptionViewItem,
    QWidget,
)

from app.ui.delegates.bubble import available_width, small_font
from app.ui.delegates.layout_cache import LayoutCache
from app.ui.models.roles import ConversationRole

AnyIndex = QModelIndex | QPersistentModelIndex

MIN_WIDTH_EM: Final = 8.0
"""Narrowest width (in line heights) a row is laid out at."""
PILL_CAP: Final = 999
"""Counts above this show as "999+"."""
WARNING_MARK: Final = "⚠"
"""Drawn before the time when a contact's key change awaits the user."""


@dataclass(frozen=True, eq=False)
class ConversationRowLayout:
    """Where everything of one conversation row goes, in row coordinates."""

    size: QSize
    name_rect: QRectF
    name_text: str  # elided to fit
    name_font: QFont  # bold when unread is shown
    time_rect: QRectF
    time_text: str  # with the warning mark when a key change is pending
    preview_rect: QRectF
    preview_text: str  # elided to fit
    preview_font: QFont  # the row font, never bold
    small_font: QFont  # the time
    pill_font: QFont  # the count: small and bold
    pill_rect: QRectF | None  # None when no count is shown
    pill_text: str


def conversation_row_layout(
    name: str, *, time_text: str, preview: str, unread: int, bold: bool, warning: bool,
    width: int, font: QFont,
) -> ConversationRowLayout:
    """The geometry of one conversation row ``width`` pixels wide (pure: no painting).

    Two lines: the name (bold when ``bold``) with the time on the trailing side, then the
    one-line preview with the unread pill (when ``unread`` > 0) on the trailing side. Texts
    that do not fit are elided; the height depends on the font only.
    """
    metrics = QFontMetricsF(font)
    em = metrics.height()
    width = max(int(width), math.ceil(em * MIN_WIDTH_EM))
    pad_x, pad_y, gap = em * 0.6, em * 0.35, em * 0.15
    name_font = QFont(font)
    name_font.setBold(bold)
    name_metrics = QFontMetricsF(name_font)
    little = small_font(font)
    little_metrics = QFontMetricsF(little)
    pill_font = QFont(little)
    pill_font.setBold(True)
    preview_font = QFont(font)
    preview_font.setBold(False)
    inner = width - 2 * pad_x

    shown_time = f"{WARNING_MARK} {time_text}" if warning else time_text
    time_width = min(inner / 2, little_metrics.horizontalAdvance(shown_time) + 1.0)
    first_height = max(name_metrics.height(), little_metrics.height())
    time_rect = QRectF(width - pad_x - time_width, pad_y, time_width, first_height)
    name_width = max(0.0, inner - time_width - (gap * 2 if time_width > 1.0 else 0.0))
    name_rect = QRectF(pad_x, pad_y, name_width, first_height)
    name_text = name_metrics.elidedText(name, Qt.TextElideMode.ElideRight, name_width)

    second_y = pad_y + first_height + gap
    second_height = max(QFontMetricsF(pill_font).height() * 1.1, metrics.height())
    pill_rect: QRectF | None = None
    pill_text = ""
    trailing = 0.0
    if unread > 0:
        pill_text = str(unread) if unread <= PILL_CAP else f"{PILL_CAP}+"
        pill_metrics = QFontMetricsF(pill_font)
        pill_height = pill_metrics.height() * 1.1
        pill_width = max(pill_height, pill_metrics.horizontalAdvance(pill_text) + em * 0.6)
        pill_rect = QRectF(width - pad_x - pill_width,
                           second_y + (second_height - pill_height) / 2, pill_width, pill_height)
        trailing = pill_width + gap * 2
    preview_width = max(0.0, inner - trailing)
    preview_rect = QRectF(pad_x, second_y, preview_width, second_height)
    preview_text = metrics.elidedText(preview, Qt.TextElideMode.ElideRight, preview_width)
    height = math.ceil(second_y + second_height + pad_y)
    return ConversationRowLayout(
        size=QSize(width, height), name_rect=name_rect, name_text=name_text,
        name_font=name_font, time_rect=time_rect, time_text=shown_time,
        preview_rect=preview_rect, preview_text=preview_text, preview_font=preview_font,
        small_font=little, pill_font=pill_font, pill_rect=pill_rect, pill_text=pill_text,
    )


class ConversationRowDelegate(QStyledItemDelegate):
    """Paints :class:`ConversationListModel` rows (see :func:`conversation_row_layout`)."""

    def __init__(self, parent: QWidget | None = None, cache_capacity: int = 512) -> None:
        super().__init__(parent)
        self.cache: LayoutCache[ConversationRowLayout] = LayoutCache(cache_capacity)

    def layout_for(self, index: AnyIndex, width: int, font: QFont) -> ConversationRowLayout:
        name = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        time_text = str(index.data(ConversationRole.TimeRole) or "")
        preview = str(index.data(ConversationRole.LastMessageRole) or "")
        unread = int(index.data(ConversationRole.UnreadRole) or 0)
        bold = bool(index.data(ConversationRole.BoldRole))
        warning = bool(index.data(ConversationRole.KeyChangePendingRole))
        key: Hashable = (index.data(ConversationRole.ContactIdRole), width, name, time_text,
                         preview, unread, bold, warning, font.key())
        return self.cache.get(key, lambda: conversation_row_layout(
            name, time_text=time_text, preview=preview, unread=unread, bold=bold,
            warning=warning, width=width, font=font,
        ))

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        if not index.isValid():
            return super().sizeHint(option, index)
        return QSize(self.layout_for(index, available_width(option), option.font).size)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        if not index.isValid():
            return
        layout = self.layout_for(index, available_width(option), option.font)
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        background = QStyleOptionViewItem(option)
        background.rect = option.rect.adjusted(0, 0, 0, 0)
        background.rect.setHeight(min(option.rect.height(), layout.size.height()))
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, background, painter,
                            widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.translate(QPointF(option.rect.topLeft()))
            paint_row(painter, option.palette, layout, selected=selected)
        finally:
            painter.restore()
        if option.state & QStyle.StateFlag.State_HasFocus:
            focus = QStyleOptionFocusRect()
            if widget is not None:
                focus.initFrom(widget)
            focus.rect = background.rect.adjusted(1, 1, -1, -1)
            focus.state = option.state | QStyle.StateFlag.State_KeyboardFocusChange
            focus.palette = option.palette
            focus.backgroundColor = option.palette.color(
                QPalette.ColorRole.Highlight if selected else QPalette.ColorRole.Base
            )
            style.drawPrimitive(QStyle.PrimitiveElement.PE_FrameFocusRect, focus, painter, widget)


def paint_row(painter: QPainter, palette: QPalette, layout: ConversationRowLayout, *,
              selected: bool = False) -> None:
    """Draw ``layout``'s texts and pill with the palette's colours (painter at the row's
    top left; the background is the style's)."""
    group = palette.currentColorGroup()
    role = QPalette.ColorRole
    ink = palette.color(group, role.HighlightedText if selected else role.Text)
    quiet = palette.color(group, role.HighlightedText if selected else role.PlaceholderText)
    vcenter = Qt.AlignmentFlag.AlignVCenter
    painter.setFont(layout.name_font)
    painter.setPen(ink)
    painter.drawText(layout.name_rect, int(Qt.AlignmentFlag.AlignLeft | vcenter),
                     layout.name_text)
    painter.setFont(layout.small_font)
    painter.setPen(ink if layout.name_font.bold() else quiet)
    painter.drawText(layout.time_rect, int(Qt.AlignmentFlag.AlignRight | vcenter),
                     layout.time_text)
    painter.setFont(layout.preview_font)
    painter.setPen(ink if layout.name_font.bold() else quiet)
    painter.drawText(layout.preview_rect, int(Qt.AlignmentFlag.AlignLeft | vcenter),
                     layout.preview_text)
    if layout.pill_rect is not None:
        fill = palette.color(group, role.HighlightedText if selected else role.Highlight)
        text = palette.color(group, role.Highlight if selected else role.HighlightedText)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        radius = layout.pill_rect.height() / 2
        painter.drawRoundedRect(layout.pill_rect, radius, radius)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(text)
        painter.setFont(layout.pill_font)
        painter.drawText(layout.pill_rect, int(Qt.AlignmentFlag.AlignCenter), layout.pill_text)
