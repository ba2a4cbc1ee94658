"""The bubble delegate: what it paints fits the size it asked for, for every kind of text.

Rows are rendered into transparent images: every painted pixel must lie inside the size hint
(nothing spills into the next row), the bubble must reach the bottom of that size (no gap the
hint invented), and the text must stay inside its bubble.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication

from app.ui.delegates.bubble import FOCUS_GAP, BubbleDelegate, BubbleLayout, bubble_layout
from app.ui.models.roles import TranscriptRole
from tests.app.ui.delegates.painting import SPARE, painted_box, painted_outside, render, row_option

TEXTS = {
    "short": "Hi",
    "long": "The quarterly budget draft is ready for review; please send comments "
            "before Thursday so that we can fold them into the version for the board. " * 3,
    "multi-line": "First line\nSecond line\n\nFourth line after an empty one",
    "rtl": "שלום, הטיוטה של התקציב מוכנה לבדיקה. נא לשלוח הערות עד יום חמישי בבקשה.",
    "arabic": "مرحبا، مسودة الميزانية جاهزة للمراجعة. يرجى إرسال التعليقات قبل يوم الخميس.",
    "emoji": "Congratulations 🎉🎂🥳 on the launch! 👍🏽👍🏿 " * 4,
    "unbroken": "https://example.org/" + "x" * 300,
    "empty": "",
}
WIDTHS = [90, 320, 900]


def add_row(model: QStandardItemModel, text: str, *, outgoing: bool, state: str,
            date: str | None = "Today", message_id: bytes | None = None) -> QStandardItem:
    item = QStandardItem()
    item.setData(text, Qt.ItemDataRole.DisplayRole)
    item.setData(outgoing, TranscriptRole.OutgoingRole)
    item.setData(state, TranscriptRole.StateRole)
    item.setData("14:02", TranscriptRole.TimeRole)
    item.setData(date or "", TranscriptRole.DateRole)
    item.setData(date is not None, TranscriptRole.DateSeparatorRole)
    item.setData(outgoing and state == "failed", TranscriptRole.FailedRole)
    item.setData(message_id or bytes([model.rowCount()]) * 16, TranscriptRole.MessageIdRole)
    model.appendRow(item)
    return item


def rects_of(layout: BubbleLayout) -> list[QRectF | None]:
    return [layout.date_rect, layout.bubble_rect, layout.focus_rect, layout.text_rect,
            layout.meta_rect, layout.retry_rect]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("kind", sorted(TEXTS))
@pytest.mark.parametrize(("outgoing", "state"), [
    (True, "delivered"), (False, "received"), (True, "failed"),
])
def test_what_is_painted_fits_the_size_hint(
    qapp: QApplication, kind: str, width: int, outgoing: bool, state: str
) -> None:
    model = QStandardItemModel()
    add_row(model, TEXTS[kind], outgoing=outgoing, state=state,
            date="Monday 3 March 2025" if width > 100 else "Today")
    index = model.index(0, 0)
    delegate = BubbleDelegate()
    hint = delegate.sizeHint(row_option(width, 0), index)
    layout = delegate.layout_for(index, width, QApplication.font())
    assert hint == layout.size
    assert hint.width() >= width

    bounds = QRectF(0, 0, hint.width(), hint.height())
    for rect in rects_of(layout):
        if rect is not None:
            assert bounds.contains(rect), (kind, rect, bounds)

    image = render(delegate, row_option(hint.width(), hint.height(), focus=True,
                                        selected=True), index)
    box = painted_box(image)
    assert not box.isEmpty()
    assert QRect(0, 0, hint.width(), hint.height()).contains(box), (box, hint)
    # The size is not larger than what is drawn: below the focus frame there is only the
    # margin between rows, less than half a line.
    line = QFontMetricsF(QApplication.font()).height()
    assert hint.height() - (box.bottom() + 1) < line / 2

    plain = render(delegate, row_option(hint.width(), hint.height()), index)
    allowed = [layout.bubble_rect.adjusted(-1, -1, 1, 1)]
    if layout.date_rect is not None:
        allowed.append(layout.date_rect.adjusted(-2, -2, 2, 2))
    assert painted_outside(plain, allowed) == 0


@pytest.mark.parametrize("kind", sorted(TEXTS))
def test_text_lines_stay_inside_their_bubble(qapp: QApplication, kind: str) -> None:
    for width in WIDTHS:
        layout = bubble_layout(TEXTS[kind], outgoing=False, state="received", time_text="9:41",
                               date_text=None, width=width, font=QApplication.font())
        inner = layout.bubble_rect.adjusted(1, 1, -1, -1)
        assert inner.contains(layout.text_rect), (kind, width)
        assert inner.contains(layout.meta_rect), (kind, width)
        assert layout.bubble_rect.width() <= layout.size.width() * 0.8 + 1


def test_own_messages_sit_on_the_right_and_theirs_on_the_left(qapp: QApplication) -> None:
    font = QApplication.font()
    ours = bubble_layout("Hi", outgoing=True, state="sent", time_text="9:41", date_text=None,
                         width=600, font=font)
    theirs = bubble_layout("Hi", outgoing=False, state="received", time_text="9:41",
                           date_text=None, width=600, font=font)
    assert ours.bubble_rect.center().x() > 300 > theirs.bubble_rect.center().x()
    assert 600 - ours.bubble_rect.right() == pytest.approx(theirs.bubble_rect.left(), abs=1)
    mirrored = bubble_layout("Hi", outgoing=True, state="sent", time_text="9:41",
                             date_text=None, width=600, font=font, mirrored=True)
    assert mirrored.bubble_rect.left() == theirs.bubble_rect.left()


def test_long_text_wraps_into_more_lines_when_narrower(qapp: QApplication) -> None:
    font = QApplication.font()
    wide = bubble_layout(TEXTS["long"], outgoing=False, state="received", time_text="9:41",
                         date_text=None, width=900, font=font)
    narrow = bubble_layout(TEXTS["long"], outgoing=False, state="received", time_text="9:41",
                           date_text=None, width=320, font=font)
    assert narrow.text.lineCount() > wide.text.lineCount() > 1
    assert narrow.size.height() > wide.size.height()
    lines = bubble_layout(TEXTS["multi-line"], outgoing=False, state="received",
                          time_text="9:41", date_text=None, width=900, font=font)
    assert lines.text.lineCount() == 4  # explicit line breaks are kept, empty line included


def test_right_to_left_lines_align_to_the_bubble_right_edge(qapp: QApplication) -> None:
    layout = bubble_layout(TEXTS["rtl"] + " " + TEXTS["rtl"], outgoing=False,
                           state="received", time_text="9:41", date_text=None, width=320,
                           font=QApplication.font())
    assert layout.text.lineCount() >= 2
    last = layout.text.lineAt(layout.text.lineCount() - 1).naturalTextRect()
    first = layout.text.lineAt(0).naturalTextRect()
    assert last.width() < first.width()
    assert last.right() == pytest.approx(first.right(), abs=1.5)  # ragged on the left


def test_the_layout_grows_with_the_system_font(qapp: QApplication) -> None:
    small, large = QFont(QApplication.font()), QFont(QApplication.font())
    small.setPointSizeF(9)
    large.setPointSizeF(18)
    sizes = [bubble_layout(TEXTS["long"], outgoing=True, state="sent", time_text="9:41",
                           date_text="Today", width=500, font=f).size for f in (small, large)]
    assert sizes[1].height() > sizes[0].height() * 1.6


def test_a_failed_message_says_how_to_retry_and_a_click_on_it_is_a_retry(
    qapp: QApplication
) -> None:
    model = QStandardItemModel()
    add_row(model, "Budget draft", outgoing=True, state="failed", date=None)
    add_row(model, "Budget draft", outgoing=True, state="delivered", date=None)
    delegate = BubbleDelegate()
    failed, fine = model.index(0, 0), model.index(1, 0)
    font = QApplication.font()
    failed_layout = delegate.layout_for(failed, 500, font)
    fine_layout = delegate.layout_for(fine, 500, font)
    assert failed_layout.retry_rect is not None and fine_layout.retry_rect is None
    assert failed_layout.size.height() > fine_layout.size.height()

    row_rect = QRect(0, 200, 500, failed_layout.size.height())  # the row as the view places it
    on_bubble = failed_layout.bubble_rect.center().toPoint() + row_rect.topLeft()
    assert delegate.retry_hit(failed, row_rect, on_bubble)
    assert not delegate.retry_hit(failed, row_rect, QPoint(2, 202))  # the empty left side
    assert not delegate.retry_hit(fine, row_rect, on_bubble)


def test_the_cache_answers_like_a_fresh_layout_and_follows_data_and_width(
    qapp: QApplication
) -> None:
    model = QStandardItemModel()
    item = add_row(model, TEXTS["long"], outgoing=True, state="queued")
    index = model.index(0, 0)
    delegate = BubbleDelegate()
    font = QApplication.font()

    first = delegate.sizeHint(row_option(400, 0), index)
    again = delegate.sizeHint(row_option(400, 0), index)
    assert first == again and delegate.cache.hits >= 1
    fresh = bubble_layout(TEXTS["long"], outgoing=True, state="queued", time_text="14:02",
                          date_text="Today", width=400, font=font)
    cached = delegate.layout_for(index, 400, font)
    assert cached.size == fresh.size
    for mine, theirs in zip(rects_of(cached), rects_of(fresh), strict=True):
        assert mine == theirs

    item.setData("failed", TranscriptRole.StateRole)  # the state changed: a taller row
    item.setData(True, TranscriptRole.FailedRole)
    failed = delegate.sizeHint(row_option(400, 0), index)
    assert failed.height() > first.height()
    assert failed == bubble_layout(TEXTS["long"], outgoing=True, state="failed",
                                   time_text="14:02", date_text="Today", width=400,
                                   font=font).size

    item.setData(False, TranscriptRole.DateSeparatorRole)  # an older page took the separator
    assert delegate.sizeHint(row_option(400, 0), index).height() < failed.height()

    wider = delegate.sizeHint(row_option(800, 0), index)
    assert wider.width() == 800 and wider.height() < failed.height()


def test_the_cache_is_bounded(qapp: QApplication) -> None:
    model = QStandardItemModel()
    for n in range(30):
        add_row(model, f"message {n}", outgoing=bool(n % 2), state="sent")
    delegate = BubbleDelegate(cache_capacity=10)
    for n in range(30):
        delegate.sizeHint(row_option(300, 0), model.index(n, 0))
    assert len(delegate.cache) == 10


def test_the_state_is_drawn_as_a_symbol_after_the_time(qapp: QApplication) -> None:
    font = QApplication.font()
    texts = {state: bubble_layout("Hi", outgoing=True, state=state, time_text="9:41",
                                  date_text=None, width=400, font=font).meta_text
             for state in ("queued", "sent", "delivered", "read")}
    assert texts == {"queued": "9:41 …", "sent": "9:41 ✓", "delivered": "9:41 ✓✓",
                     "read": "9:41 ✓✓"}
    theirs = bubble_layout("Hi", outgoing=False, state="received", time_text="9:41",
                           date_text=None, width=400, font=font)
    assert theirs.meta_text == "9:41"


def test_the_focus_frame_stays_inside_the_row(qapp: QApplication) -> None:
    layout = bubble_layout("Hi", outgoing=True, state="sent", time_text="9:41",
                           date_text=None, width=400, font=QApplication.font())
    assert QRectF(0, 0, layout.size.width(), layout.size.height()).contains(layout.focus_rect)
    assert layout.focus_rect == layout.bubble_rect.adjusted(-FOCUS_GAP, -FOCUS_GAP,
                                                            FOCUS_GAP, FOCUS_GAP)
    assert layout.size == QSize(400, layout.size.height())
    assert SPARE > 0
