"""Message bubbles for the transcript: one pure layout function, one delegate.

:func:`bubble_layout` computes everything about a row's geometry (date separator, bubble,
wrapped text, time/state line, retry line, total size) from plain values and a font.
:class:`BubbleDelegate` calls it from both ``sizeHint`` and ``paint``, so the height the view
reserves is exactly the height that is painted, and caches it (see :data:`BubbleDelegate`'s
cache key below) so scrolling does not lay text out again.

Colours come from the palette only (light, dark and high contrast for free); fonts from
``option.font`` (it scales with the system font).
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Final

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPalette,
    QPen,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionFocusRect,
    QStyleOptionViewItem,
    QWidget,
)

from app.ui.delegates.layout_cache import LayoutCache
from app.ui.models.formatting import is_right_to_left, retry_text, state_symbol
from app.ui.models.roles import TranscriptRole

AnyIndex = QModelIndex | QPersistentModelIndex

MIN_WIDTH_EM: Final = 8.0
"""Narrowest width (in line heights) a row is laid out at; narrower views scroll."""
BUBBLE_SHARE: Final = 0.8
"""Share of the row width a bubble may take (the rest shows who wrote it: left or right)."""
FOCUS_GAP: Final = 2.0
"""Pixels between a bubble and its focus frame (the frame stays inside the row)."""


def small_font(font: QFont) -> QFont:
    """``font`` at 85 % of its size: the time/state line and date separators."""
    smaller = QFont(font)
    if font.pointSizeF() > 0:
        smaller.setPointSizeF(font.pointSizeF() * 0.85)
    elif font.pixelSize() > 0:
        smaller.setPixelSize(max(1, round(font.pixelSize() * 0.85)))
    return smaller


@dataclass(frozen=True, eq=False)
class BubbleLayout:
    """Where everything of one transcript row goes, in row coordinates (0, 0 = top left).

    ``text`` and ``retry`` are laid-out ``QTextLayout`` objects: paint draws them at
    ``text_origin`` / ``retry_origin``, exactly as they were measured.
    """

    size: QSize  # what sizeHint returns: the full row width and the height of everything
    date_rect: QRectF | None  # the date separator's text, None when the row has none
    date_text: str | None
    bubble_rect: QRectF  # the rounded rectangle
    focus_rect: QRectF  # where the focus frame is drawn (around the bubble, inside the row)
    text_rect: QRectF  # the union of the text lines as laid out
    text: QTextLayout
    text_origin: QPointF
    meta_rect: QRectF  # the time and state symbol line
    meta_text: str
    retry_rect: QRectF | None  # the "Not sent — ..." line of a failed message
    retry: QTextLayout | None
    retry_origin: QPointF | None
    font: QFont
    meta_font: QFont
    failed: bool
    outgoing: bool


def _text_option(text: str) -> QTextOption:
    """Wrapping at words (anywhere in a word longer than a line), and the paragraph's own
    direction: right-to-left text starts at the right edge (QTextLayout does not flip
    ``AlignLeft`` by itself)."""
    rtl = is_right_to_left(text)
    option = QTextOption(Qt.AlignmentFlag.AlignRight if rtl else Qt.AlignmentFlag.AlignLeft)
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    option.setTextDirection(
        Qt.LayoutDirection.RightToLeft if rtl else Qt.LayoutDirection.LeftToRight
    )
    return option


def _wrap(text: str, font: QFont, line_width: float) -> tuple[QTextLayout, float, float, int]:
    """``text`` laid out in lines of ``line_width``: (layout, natural width, height, lines)."""
    layout = QTextLayout(text.replace("\r\n", "\n").replace("\n", "\u2028"), font)
    layout.setTextOption(_text_option(text))
    layout.setCacheEnabled(True)
    layout.beginLayout()
    y, natural, count = 0.0, 0.0, 0
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(line_width)
        line.setPosition(QPointF(0.0, y))
        y += line.height()
        natural = max(natural, line.naturalTextWidth())
        count += 1
    layout.endLayout()
    return layout, natural, y, count


def _fitted(text: str, font: QFont, max_width: float) -> tuple[QTextLayout, QRectF]:
    """``text`` wrapped at ``max_width``, then laid out again at its own natural width so that
    right-to-left lines align to the bubble's right edge; returns it with its line union."""
    layout, natural, _, count = _wrap(text, font, max_width)
    width = min(max_width, math.ceil(natural))
    if width < max_width:
        narrow, _, _, narrow_count = _wrap(text, font, width)
        if narrow_count == count:
            layout = narrow
    rect = QRectF()
    for n in range(layout.lineCount()):
        line = layout.lineAt(n)
        line_rect = line.naturalTextRect()
        if line_rect.width() <= 0:  # an empty line still takes its height
            line_rect = QRectF(line_rect.x(), line_rect.y(), 0.0, line.height())
        rect = line_rect if n == 0 else rect.united(line_rect)
    return layout, QRectF(rect.x(), rect.y(), max(rect.width(), 1.0), max(rect.height(), 1.0))


def bubble_layout(
    text: str,
    *,
    outgoing: bool,
    state: str,
    time_text: str,
    date_text: str | None,
    width: int,
    font: QFont,
    mirrored: bool = False,
) -> BubbleLayout:
    """The geometry of one transcript row ``width`` pixels wide (pure: no painting).

    Our messages sit on the right (left when ``mirrored``, for right-to-left interfaces),
    theirs on the left; a bubble takes at most :data:`BUBBLE_SHARE` of the width and wraps its
    text at word boundaries (anywhere inside a word too long for a line). Under the text: the
    time and, for ours, the state symbol; under that, for a failed message of ours, the retry
    line. A date separator, when ``date_text`` is given, comes first.
    """
    metrics = QFontMetricsF(font)
    em = metrics.height()
    width = max(int(width), math.ceil(em * MIN_WIDTH_EM))
    margin_x, margin_y = em * 0.6, max(FOCUS_GAP + 1.0, em * 0.25)
    pad_x, pad_y, gap = em * 0.5, em * 0.3, em * 0.15
    max_content = max(em * 2.0, (width - 2 * margin_x) * BUBBLE_SHARE - 2 * pad_x)
    failed = outgoing and state == "failed"

    y = margin_y
    date_rect: QRectF | None = None
    meta_font = small_font(font)
    if date_text is not None:
        date_font = QFont(meta_font)
        date_font.setBold(True)
        date_metrics = QFontMetricsF(date_font)
        date_width = min(date_metrics.horizontalAdvance(date_text) + 2.0, width - 2 * margin_x)
        date_rect = QRectF((width - date_width) / 2, y + em * 0.2, date_width,
                           date_metrics.height())
        y = date_rect.bottom() + em * 0.4

    text_layout, text_box = _fitted(text, font, max_content)
    meta_text = time_text + (" " + state_symbol(state) if outgoing and state_symbol(state) else "")
    meta_metrics = QFontMetricsF(meta_font)
    meta_width = meta_metrics.horizontalAdvance(meta_text) + 1.0
    retry_layout: QTextLayout | None = None
    retry_box = QRectF()
    if failed:
        retry_layout, retry_box = _fitted(retry_text(), font, max_content)

    content_width = min(max_content, max(text_box.right(), meta_width, retry_box.right()))
    content_height = text_box.bottom() + gap + meta_metrics.height()
    if retry_layout is not None:
        content_height += gap + retry_box.bottom()
    bubble_width = math.ceil(content_width + 2 * pad_x)
    bubble_height = math.ceil(content_height + 2 * pad_y)
    on_right = outgoing != mirrored
    bubble_x = width - margin_x - bubble_width if on_right else margin_x
    bubble = QRectF(round(bubble_x), round(y), bubble_width, bubble_height)

    inner_x, inner_y = bubble.x() + pad_x, bubble.y() + pad_y
    text_origin = QPointF(inner_x, inner_y)
    text_rect = text_box.translated(text_origin)
    meta_y = inner_y + text_box.bottom() + gap
    meta_rect = QRectF(inner_x, meta_y, content_width, meta_metrics.height())
    retry_origin: QPointF | None = None
    retry_rect: QRectF | None = None
    if retry_layout is not None:
        retry_origin = QPointF(inner_x, meta_rect.bottom() + gap)
        retry_rect = retry_box.translated(retry_origin)

    focus = bubble.adjusted(-FOCUS_GAP, -FOCUS_GAP, FOCUS_GAP, FOCUS_GAP)
    height = math.ceil(bubble.bottom() + margin_y)
    return BubbleLayout(
        size=QSize(width, height), date_rect=date_rect, date_text=date_text,
        bubble_rect=bubble, focus_rect=focus, text_rect=text_rect, text=text_layout,
        text_origin=text_origin, meta_rect=meta_rect,
        meta_text=meta_text, retry_rect=retry_rect, retry=retry_layout,
        retry_origin=retry_origin, font=QFont(font), meta_font=meta_font, failed=failed,
        outgoing=outgoing,
    )


def available_width(option: QStyleOptionViewItem) -> int:
    """The width rows are laid out at: the view's viewport when there is one (the same in
    ``sizeHint`` and ``paint``), else the option's rectangle."""
    widget = option.widget
    if isinstance(widget, QAbstractScrollArea):
        return widget.viewport().width()
    return option.rect.width()


class BubbleDelegate(QStyledItemDelegate):
    """Paints :class:`TranscriptModel` rows as chat bubbles (see :func:`bubble_layout`).

    Cache key: ``(message id, width, display text, outgoing, state, time text, date text or
    None, font key, mirrored)`` - every input of :func:`bubble_layout`. A state change, a new
    date separator after older messages were paged in, a resize or a new system font each
    make a new key, so a cached layout is always the one a fresh call would compute.

    The view sets ``setResizeMode(QListView.ResizeMode.Adjust)`` so that a new width asks for
    new size hints, and handles retry itself: :meth:`retry_hit` tells it whether a click
    landed on a failed message's bubble.
    """

    def __init__(self, parent: QWidget | None = None, cache_capacity: int = 1024) -> None:
        super().__init__(parent)
        self.cache: LayoutCache[BubbleLayout] = LayoutCache(cache_capacity)

    def layout_for(self, index: AnyIndex, width: int, font: QFont,
                   mirrored: bool = False) -> BubbleLayout:
        """The (cached) layout of the row at ``index`` for ``width`` and ``font``."""
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        outgoing = bool(index.data(TranscriptRole.OutgoingRole))
        state = str(index.data(TranscriptRole.StateRole) or "")
        time_text = str(index.data(TranscriptRole.TimeRole) or "")
        date_text = (str(index.data(TranscriptRole.DateRole) or "")
                     if index.data(TranscriptRole.DateSeparatorRole) else None)
        identity = index.data(TranscriptRole.MessageIdRole)
        key: Hashable = (identity, width, text, outgoing, state, time_text, date_text,
                         font.key(), mirrored)
        return self.cache.get(key, lambda: bubble_layout(
            text, outgoing=outgoing, state=state, time_text=time_text, date_text=date_text,
            width=width, font=font, mirrored=mirrored,
        ))

    def _layout(self, option: QStyleOptionViewItem, index: AnyIndex) -> BubbleLayout:
        mirrored = option.direction == Qt.LayoutDirection.RightToLeft
        return self.layout_for(index, available_width(option), option.font,
                               mirrored)

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        if not index.isValid():
            return super().sizeHint(option, index)
        return QSize(self._layout(option, index).size)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        if not index.isValid():
            return
        layout = self._layout(option, index)
        palette: QPalette = option.palette
        state = option.state
        painter.save()
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.translate(QPointF(option.rect.topLeft()))
            paint_bubble(painter, palette, layout,
                         selected=bool(state & QStyle.StateFlag.State_Selected))
            if state & QStyle.StateFlag.State_HasFocus:
                self._paint_focus(painter, option, layout)
        finally:
            painter.restore()

    def _paint_focus(self, painter: QPainter, option: QStyleOptionViewItem,
                     layout: BubbleLayout) -> None:
        focus = QStyleOptionFocusRect()
        if option.widget is not None:
            focus.initFrom(option.widget)
        focus.rect = layout.focus_rect.toAlignedRect()
        focus.state = option.state | QStyle.StateFlag.State_KeyboardFocusChange
        focus.backgroundColor = option.palette.color(QPalette.ColorRole.Base)
        focus.palette = option.palette
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_FrameFocusRect, focus, painter, widget)

    def retry_hit(self, index: AnyIndex, option_rect: QRect, pos: QPoint,
                  widget: QWidget | None = None) -> bool:
        """Whether ``pos`` (view coordinates) is on the bubble of a failed message of ours
        at ``index`` drawn in ``option_rect`` (the view's ``visualRect(index)``)."""
        if not index.isValid() or not index.data(TranscriptRole.FailedRole):
            return False
        width = (widget.viewport().width() if isinstance(widget, QAbstractScrollArea)
                 else option_rect.width())
        font = widget.font() if widget is not None else QApplication.font()
        mirrored = widget is not None and widget.layoutDirection() == Qt.LayoutDirection.RightToLeft
        layout = self.layout_for(index, width, font, mirrored)
        return layout.bubble_rect.contains(QPointF(pos - option_rect.topLeft()))


def paint_bubble(painter: QPainter, palette: QPalette, layout: BubbleLayout, *,
                 selected: bool = False) -> None:
    """Draw ``layout`` with the palette's colours (painter at the row's top left)."""
    group = palette.currentColorGroup()
    role = QPalette.ColorRole
    own = layout.outgoing and not layout.failed
    fill = palette.color(group, role.Highlight if own else role.AlternateBase)
    ink = palette.color(group, role.HighlightedText if own else role.Text)
    quiet = palette.color(group, role.HighlightedText if own else role.PlaceholderText)
    if layout.date_rect is not None and layout.date_text is not None:
        date_font = QFont(layout.meta_font)
        date_font.setBold(True)
        painter.setFont(date_font)
        painter.setPen(palette.color(group, role.PlaceholderText))
        painter.drawText(layout.date_rect, int(Qt.AlignmentFlag.AlignCenter), layout.date_text)
    border = QColor(palette.color(group, role.Text if own else role.PlaceholderText))
    pen = QPen(palette.color(group, role.Highlight) if selected and not own else border)
    pen.setWidthF(2.0 if selected else 1.0)
    if layout.failed:
        pen.setStyle(Qt.PenStyle.DashLine)
    if not selected and own:
        pen = QPen(Qt.PenStyle.NoPen)
    painter.setPen(pen)
    painter.setBrush(fill)
    radius = QFontMetricsF(layout.font).height() * 0.5
    inset = pen.widthF() / 2 if pen.style() != Qt.PenStyle.NoPen else 0.0
    painter.drawRoundedRect(layout.bubble_rect.adjusted(inset, inset, -inset, -inset),
                            radius, radius)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(ink)
    painter.setFont(layout.font)
    layout.text.draw(painter, layout.text_origin)
    painter.setPen(quiet)
    painter.setFont(layout.meta_font)
    trailing = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    painter.drawText(layout.meta_rect, int(trailing), layout.meta_text)
    if layout.retry is not None and layout.retry_origin is not None:
        painter.setPen(ink)
        painter.setFont(layout.font)
        layout.retry.draw(painter, layout.retry_origin)
