"""The conversation row delegate: name, time, preview and unread pill fit the row."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication

from app.ui.delegates.conversation_row import (
    WARNING_MARK,
    ConversationRowDelegate,
    conversation_row_layout,
)
from app.ui.models.roles import ConversationRole
from tests.app.ui.delegates.painting import painted_box, render, row_option

PREVIEWS = {
    "short": "ok",
    "long": "Can you send me the minutes of Tuesday's meeting before noon tomorrow? " * 3,
    "rtl": "שלום, הטיוטה של התקציב מוכנה לבדיקה",
    "emoji": "🎉🎂🥳 " * 20,
    "none": "",
}


def add_row(model: QStandardItemModel, name: str, preview: str, unread: int,
            *, warning: bool = False) -> QStandardItem:
    item = QStandardItem()
    item.setData(name, Qt.ItemDataRole.DisplayRole)
    item.setData(model.rowCount() + 1, ConversationRole.ContactIdRole)
    item.setData(preview, ConversationRole.LastMessageRole)
    item.setData("14:02" if preview else "", ConversationRole.TimeRole)
    item.setData(unread, ConversationRole.UnreadRole)
    item.setData(unread > 0, ConversationRole.BoldRole)
    item.setData(warning, ConversationRole.KeyChangePendingRole)
    model.appendRow(item)
    return item


@pytest.mark.parametrize("width", [60, 280, 700])
@pytest.mark.parametrize("kind", sorted(PREVIEWS))
@pytest.mark.parametrize("unread", [0, 3, 12345])
def test_what_is_painted_fits_the_size_hint(
    qapp: QApplication, kind: str, width: int, unread: int
) -> None:
    model = QStandardItemModel()
    add_row(model, "Bernadette Quintana-Oyelaran", PREVIEWS[kind], unread, warning=unread == 3)
    index = model.index(0, 0)
    delegate = ConversationRowDelegate()
    hint = delegate.sizeHint(row_option(width, 0), index)
    layout = delegate.layout_for(index, width, QApplication.font())
    assert hint == layout.size
    bounds = QRectF(0, 0, hint.width(), hint.height())
    for rect in (layout.name_rect, layout.time_rect, layout.preview_rect, layout.pill_rect):
        if rect is not None:
            assert bounds.contains(rect)
    for selected in (False, True):
        image = render(delegate, row_option(hint.width(), hint.height(), focus=True,
                                            selected=selected), index)
        box = painted_box(image)
        assert QRect(0, 0, hint.width(), hint.height()).contains(box), (box, hint)
    if layout.pill_rect is not None:  # the pill never covers the preview
        assert layout.preview_rect.right() <= layout.pill_rect.left()


def test_unread_shows_a_pill_and_a_bold_name_only_when_given(qapp: QApplication) -> None:
    font = QApplication.font()
    quiet = conversation_row_layout("Bob", time_text="14:02", preview="hi", unread=0,
                                    bold=False, warning=False, width=300, font=font)
    loud = conversation_row_layout("Bob", time_text="14:02", preview="hi", unread=7,
                                   bold=True, warning=False, width=300, font=font)
    assert quiet.pill_rect is None and not quiet.name_font.bold()
    assert loud.pill_rect is not None and loud.pill_text == "7" and loud.name_font.bold()
    assert not loud.preview_font.bold()
    many = conversation_row_layout("Bob", time_text="14:02", preview="hi", unread=1000,
                                   bold=True, warning=False, width=300, font=font)
    assert many.pill_text == "999+"
    assert many.pill_rect is not None and many.pill_rect.width() > loud.pill_rect.width()


def test_texts_that_do_not_fit_are_elided(qapp: QApplication) -> None:
    font = QApplication.font()
    layout = conversation_row_layout(
        "Bernadette Quintana-Oyelaran", time_text="14:02", preview=PREVIEWS["long"], unread=2,
        bold=True, warning=True, width=200, font=font,
    )
    assert layout.name_text.endswith("…") and layout.preview_text.endswith("…")
    assert QFontMetricsF(layout.name_font).horizontalAdvance(layout.name_text) \
        <= layout.name_rect.width()
    assert layout.time_text == f"{WARNING_MARK} 14:02"
    assert layout.name_rect.right() <= layout.time_rect.left()


def test_the_row_grows_with_the_system_font(qapp: QApplication) -> None:
    small, large = QFont(QApplication.font()), QFont(QApplication.font())
    small.setPointSizeF(9)
    large.setPointSizeF(18)
    heights = [conversation_row_layout("Bob", time_text="14:02", preview="hi", unread=1,
                                       bold=True, warning=False, width=300, font=f)
               .size.height() for f in (small, large)]
    assert heights[1] > heights[0] * 1.6


def test_the_cache_follows_the_data(qapp: QApplication) -> None:
    model = QStandardItemModel()
    item = add_row(model, "Bob", "hello", 0)
    index = model.index(0, 0)
    delegate = ConversationRowDelegate()
    font = QApplication.font()
    before = delegate.layout_for(index, 300, font)
    assert delegate.layout_for(index, 300, font) is before
    item.setData(4, ConversationRole.UnreadRole)
    item.setData(True, ConversationRole.BoldRole)
    after = delegate.layout_for(index, 300, font)
    assert after.pill_text == "4" and after.name_font.bold()
    fresh = conversation_row_layout("Bob", time_text="14:02", preview="hello", unread=4,
                                    bold=True, warning=False, width=300, font=font)
    assert (after.size, after.name_rect, after.pill_rect, after.preview_rect) == \
        (fresh.size, fresh.name_rect, fresh.pill_rect, fresh.preview_rect)
