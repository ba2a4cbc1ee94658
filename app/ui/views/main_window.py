"""The main window: conversations and search on the left, the open conversation on the right.

Left: the search field (its results replace the list while it holds text), the conversation
list and its "New conversation" button. Right: the header (name, verified or not, Safety
number, the key-change banner, "typing…"), the transcript and the composer. The status bar
says calmly whether the relay is reachable.

Everything that touches the core goes through the bridge and is awaited in tasks, so the
window never blocks. The window tells the bridge which conversation is in front
(``setFocus``) and marks it read while the window is active (``markRead``); drafts are kept
per conversation (saved when switching conversations and on close).

Keyboard: Ctrl+F search, Ctrl+L (or Ctrl+K) the conversation list, Escape back to the
composer, Alt+Up/Alt+Down previous/next conversation, F6 (Shift+F6) next (previous) pane,
Ctrl+N add a contact, Ctrl+, settings, Ctrl+Q quit.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine
from typing import Any, Final

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.adapters.store import ContactRecord, MessageRecord
from app.core.attention import AttentionState
from app.core.errors import ClientError
from app.ui.bridge import Bridge
from app.ui.models.tasks import ModelTasks
from app.ui.models.transcript import TranscriptModel
from app.ui.views.composer import Composer
from app.ui.views.contacts import AddContactDialog, MyAddressDialog
from app.ui.views.conversation_list import ConversationList
from app.ui.views.errors import show_error
from app.ui.views.key_change import KeyChangeDialog
from app.ui.views.safety import SafetyNumberDialog
from app.ui.views.search import SearchPanel
from app.ui.views.settings import SettingsDialog
from app.ui.views.status import ConnectionStatus
from app.ui.views.transcript import TranscriptView

TYPING_SHOWN_MS: Final = 5000
"""How long "typing…" stays after the contact's last typing notice."""
NO_CONVERSATION: Final = -1
TYPING_TELL_INTERVAL: Final = 1.0
"""Seconds between two typing notes to the bridge while the user types."""
MARK_READ_DELAY_MS: Final = 250
"""Messages arriving in the open conversation are marked read at most this often."""


class ConversationHeader(QWidget):
    """The open conversation's contact: name, verification, safety number, key change."""

    safetyNumberRequested = Signal()
    reviewRequested = Signal()  # review the pending key change

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name_label = QLabel(self)
        font = self.name_label.font()
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.name_label.setFont(font)
        self.name_label.setTextFormat(Qt.TextFormat.PlainText)
        self.verified_label = QLabel(self)
        self.typing_label = QLabel(self)
        self.typing_label.hide()
        self.safety_button = QPushButton(self.tr("Safety &number"), self)
        self.safety_button.setAccessibleName(self.tr("Safety number"))
        self.safety_button.setAccessibleDescription(self.tr(
            "Compare your safety number with this contact to make sure nobody listens in."
        ))
        self.banner = QFrame(self)
        self.banner.setFrameShape(QFrame.Shape.StyledPanel)
        self.banner.setAutoFillBackground(True)
        self.banner.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.banner_label = QLabel(self.banner)
        self.banner_label.setWordWrap(True)
        self.review_button = QPushButton(self.tr("&Review"), self.banner)
        self.review_button.setAccessibleName(self.tr("Review the new security key"))
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.addWidget(self.banner_label, 1)
        banner_layout.addWidget(self.review_button)
        self.banner.hide()
        self._typing_timer = QTimer(self)
        self._typing_timer.setSingleShot(True)
        self._typing_timer.setInterval(TYPING_SHOWN_MS)
        self._typing_timer.timeout.connect(self.typing_label.hide)

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        names = QVBoxLayout()
        names.addWidget(self.name_label)
        status = QHBoxLayout()
        status.addWidget(self.verified_label)
        status.addWidget(self.typing_label)
        status.addStretch(1)
        names.addLayout(status)
        row.addLayout(names, 1)
        row.addWidget(self.safety_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.banner)
        self.safety_button.clicked.connect(self.safetyNumberRequested)
        self.review_button.clicked.connect(self.reviewRequested)

    def show_contact(self, contact: ContactRecord | None) -> None:
        self.stop_typing()
        self.setVisible(contact is not None)
        if contact is None:
            return
        name = contact.display_name
        self.name_label.setText(name)
        self.name_label.setAccessibleName(self.tr("Conversation with %1").replace("%1", name))
        verified = (self.tr("Verified") if contact.verified
                    else self.tr("Not verified"))
        self.verified_label.setText(verified)
        self.verified_label.setAccessibleName(verified)
        pending = contact.pending_identity_key is not None
        self.banner.setVisible(pending)
        if pending:
            text = self.tr(
                "The security key of %1 changed. Sending is paused until you review it."
            ).replace("%1", name)
            self.banner_label.setText(text)
            self.banner_label.setAccessibleName(text)

    def show_typing(self) -> None:
        self.typing_label.setText(self.tr("typing…"))
        self.typing_label.setAccessibleName(self.tr("typing…"))
        self.typing_label.show()
        self._typing_timer.start()

    def stop_typing(self) -> None:
        self._typing_timer.stop()
        self.typing_label.hide()


class MainWindow(QMainWindow):
    """The window of one open profile (see the module docstring)."""

    conversationShown = Signal(int)  # the conversation now on the right (-1: none)

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.current: int | None = None  # the conversation shown on the right
        self.transcript: TranscriptModel | None = None  # its messages
        self.dialog: QDialog | None = None  # the dialog opened last (tests follow it)
        self._drafts: dict[int, str] = {}  # conversation -> draft text as last loaded/saved
        self._saving: set[asyncio.Task[None]] = set()  # draft saves not finished yet
        self._opening: asyncio.Task[None] | None = None  # loads the shown conversation
        self._typing_told = -TYPING_TELL_INTERVAL  # monotonic time userTyping was last called
        self._read_timer = QTimer(self)  # gathers "mark read" triggers (a burst: one write)
        self._read_timer.setSingleShot(True)
        self._read_timer.setInterval(MARK_READ_DELAY_MS)
        self._read_timer.timeout.connect(self._mark_read_now)
        self._tasks = ModelTasks(bridge.errorOccurred.emit, "MainWindow")
        self.setWindowTitle("Sourdine")
        self.setAccessibleName(self.tr("Sourdine"))

        # Left: search and conversations.
        self.search = SearchPanel(bridge, self)
        self.conversations = ConversationList(bridge, self)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.search)
        left_layout.addWidget(self.conversations, 1)

        # Right: header, transcript, composer; or a hint when nothing is open.
        self.header = ConversationHeader(self)
        self.transcript_view = TranscriptView(self)
        self.composer = Composer(self)
        self.empty_hint = QLabel(self.tr(
            "Choose a conversation on the left, or add a contact with \"New conversation\"."
        ), self)
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        conversation = QWidget(self)
        conversation_layout = QVBoxLayout(conversation)
        conversation_layout.addWidget(self.header)
        conversation_layout.addWidget(self.transcript_view, 1)
        conversation_layout.addWidget(self.composer)
        self.right = QStackedWidget(self)
        self.right.addWidget(self.empty_hint)
        self.right.addWidget(conversation)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(self.right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)
        em = self.fontMetrics().height()
        splitter.setSizes([18 * em, 42 * em])
        self.resize(62 * em, 40 * em)

        self.connection = ConnectionStatus(bridge.connection_state, self)
        self.statusBar().addWidget(self.connection, 1)
        self.off_duty_label = QLabel(self.tr("Off duty"), self)
        self.off_duty_label.setAccessibleName(self.tr("Off duty: no notifications"))
        self.statusBar().addPermanentWidget(self.off_duty_label)

        self._build_actions()
        self._connect(bridge)
        self._show_attention(bridge.attention_state)
        self._show_nothing()
        QWidget.setTabOrder(self.search.field, self.search.results)
        QWidget.setTabOrder(self.search.results, self.conversations.view)
        QWidget.setTabOrder(self.conversations.view, self.conversations.add_button)
        QWidget.setTabOrder(self.conversations.add_button, self.header.safety_button)
        QWidget.setTabOrder(self.header.safety_button, self.header.review_button)
        QWidget.setTabOrder(self.header.review_button, self.transcript_view)
        QWidget.setTabOrder(self.transcript_view, self.composer.editor)
        QWidget.setTabOrder(self.composer.editor, self.composer.send_button)
        self.loading = self._start(self._load(), self.tr("Conversations not loaded"))

    # --- set-up -----------------------------------------------------------------------------

    def _action(self, text: str, shortcut: QKeySequence | str | None, slot: Any) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.add_contact_action = self._action(self.tr("&Add contact…"), "Ctrl+N",
                                               self.add_contact)
        self.my_address_action = self._action(self.tr("My &address…"), None,
                                              self.show_my_address)
        self.settings_action = self._action(self.tr("&Settings…"), "Ctrl+,",
                                            self.show_settings)
        self.off_duty_action = self._action(self.tr("&Off duty"), None, self._off_duty_toggled)
        self.off_duty_action.setCheckable(True)
        self.off_duty_action.setToolTip(self.tr(
            "Off duty: no notifications, counters or badges until you switch it off."
        ))
        self.quit_action = self._action(self.tr("&Quit"), "Ctrl+Q", QApplication.quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.search_action = self._action(self.tr("&Search messages"), "Ctrl+F",
                                          self.search.focus_field)
        self.list_action = self._action(self.tr("&Conversation list"), "Ctrl+L",
                                        self.conversations.keyboard_focus)
        self.list_action.setShortcuts([QKeySequence("Ctrl+L"), QKeySequence("Ctrl+K")])
        self.next_action = self._action(self.tr("&Next conversation"), "Alt+Down",
                                        lambda: self.conversations.step(1))
        self.previous_action = self._action(self.tr("&Previous conversation"), "Alt+Up",
                                            lambda: self.conversations.step(-1))
        self.next_pane_action = self._action(self.tr("Next &pane"), "F6",
                                             lambda: self.cycle_panes(1))
        self.previous_pane_action = self._action(self.tr("Previous pa&ne"), "Shift+F6",
                                                 lambda: self.cycle_panes(-1))
        menus = self.menuBar()
        menu = menus.addMenu(self.tr("&Sourdine"))
        for action in (self.add_contact_action, self.my_address_action, self.settings_action,
                       self.off_duty_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.quit_action)
        view = menus.addMenu(self.tr("&View"))
        for action in (self.search_action, self.list_action, self.next_action,
                       self.previous_action, self.next_pane_action, self.previous_pane_action):
            view.addAction(action)
        self.escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        self.escape.setContext(Qt.ShortcutContext.WindowShortcut)
        self.escape.activated.connect(self._escape)

    def _connect(self, bridge: Bridge) -> None:
        bridge.connectionChanged.connect(self.connection.set_state)
        bridge.errorOccurred.connect(self._show_error)
        bridge.clientFailed.connect(self._client_failed)
        bridge.attentionChanged.connect(self._show_attention)
        bridge.messageAdded.connect(self._message_added)
        bridge.contactUpdated.connect(self._contact_changed)
        bridge.contactKeyChanged.connect(self._contact_changed)
        bridge.contactTyping.connect(self._contact_typing)
        self.conversations.conversationOpened.connect(self.open_conversation)
        self.conversations.conversationActivated.connect(self._conversation_activated)
        self.conversations.addContactRequested.connect(self.add_contact)
        self.search.activeChanged.connect(lambda active: self.conversations.setVisible(not active))
        self.search.resultActivated.connect(self._result_activated)
        self.search.escapePressed.connect(self._escape)
        self.header.safetyNumberRequested.connect(self.show_safety_number)
        self.header.reviewRequested.connect(self.review_key_change)
        self.composer.sendRequested.connect(self._send)
        self.composer.typed.connect(self._typed)
        self.transcript_view.retryRequested.connect(self._retry)

    def _start(self, coroutine: Coroutine[Any, Any, None], title: str) -> asyncio.Task[None]:
        return self._tasks.start(coroutine, title)

    async def settle(self) -> None:
        """Wait until the work started so far (loads, drafts, searches) is done (tests)."""
        for _ in range(3):  # work may start more work (a load opens a conversation)
            await self._tasks.settle()
            await self.conversations.model.settle()
            if self.transcript is not None:
                await self.transcript.settle()
            await self.search.settle()
            if self._saving:
                await asyncio.wait(set(self._saving))

    async def _load(self) -> None:
        await self.conversations.load()
        if self.current is None and self.conversations.model.rowCount():
            self.conversations.select(self.conversations.model.contact_id_at(0))

    # --- conversations ----------------------------------------------------------------------

    def open_conversation(self, conversation_id: int) -> None:
        """Show a conversation on the right (its draft in the composer) and mark it read."""
        if conversation_id == self.current:
            return
        try:
            contact = self.bridge.contact(conversation_id)
        except ClientError:  # not (or no longer) a contact: nothing to show
            return
        self._save_draft()
        if self.conversations.current() != conversation_id:
            self.conversations.select(conversation_id)  # comes back here with current set
            if self.current == conversation_id:
                return
        self.current = conversation_id
        old, self.transcript = self.transcript, TranscriptModel(self.bridge, conversation_id,
                                                                parent=self)
        self.transcript_view.set_transcript(self.transcript)
        if old is not None:
            self._start(self._retire(old, self._opening), self.tr("Conversation not closed"))
        self.header.show_contact(contact)
        self._show_blocked(contact)
        self.composer.set_text("")
        self.right.setCurrentIndex(1)
        self._opening = self._start(self._open(conversation_id, self.transcript),
                                    self.tr("Conversation not opened"))
        self._tell_focus()
        self.conversationShown.emit(conversation_id)

    async def _open(self, conversation_id: int, transcript: TranscriptModel) -> None:
        await transcript.load()
        if transcript is not self.transcript:
            return  # the user moved on meanwhile
        self._mark_read()
        draft = await self.bridge.draft(conversation_id)
        self._drafts[conversation_id] = draft
        if self.current == conversation_id and not self.composer.text():
            self.composer.set_text(draft)

    def show_conversation(self, conversation_id: int) -> None:
        """Open a conversation asked for from outside the window (a clicked notification),
        ready to answer."""
        self.search.clear()
        self.open_conversation(conversation_id)
        if self.current == conversation_id and self.composer.isEnabled():
            self.composer.setFocus(Qt.FocusReason.OtherFocusReason)

    @staticmethod
    async def _retire(transcript: TranscriptModel, opening: asyncio.Task[None] | None) -> None:
        """Delete a transcript no longer shown, once its loading is over (switching fast
        through conversations never deletes a model a query is about to fill)."""
        if opening is not None:
            await asyncio.wait({opening})
        await transcript.settle()
        transcript.deleteLater()

    def _show_nothing(self) -> None:
        self.header.show_contact(None)
        self.right.setCurrentIndex(0)

    def _conversation_activated(self, conversation_id: int) -> None:
        self.open_conversation(conversation_id)
        self.composer.setFocus(Qt.FocusReason.OtherFocusReason)

    def _result_activated(self, conversation_id: int, seq: int) -> None:
        self.open_conversation(conversation_id)
        self._start(self._reveal(conversation_id, seq), self.tr("Message not shown"))

    async def _reveal(self, conversation_id: int, seq: int) -> None:
        if self._opening is not None:
            await asyncio.wait({self._opening})
        if self.current == conversation_id and await self.transcript_view.show_message(seq):
            self.transcript_view.setFocus(Qt.FocusReason.OtherFocusReason)

    def _mark_read(self) -> None:
        """Mark the shown conversation read soon, if the window is active (the user sees it);
        triggers arriving meanwhile are gathered into one write."""
        if self.current is not None and self.isActiveWindow() and not self._read_timer.isActive():
            self._read_timer.start()

    def _mark_read_now(self) -> None:
        if self.current is not None and self.isActiveWindow():
            self.bridge.markRead(self.current)

    def _tell_focus(self) -> None:
        current = NO_CONVERSATION if self.current is None else self.current
        self.bridge.setFocus(current, self.isActiveWindow())

    # --- drafts and sending -----------------------------------------------------------------

    def _save_draft(self) -> asyncio.Task[None] | None:
        """Save the composer's text as the current conversation's draft, if it changed."""
        if self.current is None:
            return None
        text = self.composer.text()
        if text == self._drafts.get(self.current, ""):
            return None
        self._drafts[self.current] = text
        task: asyncio.Task[None] | None = self.bridge.saveDraft(self.current, text)
        if task is not None:
            self._saving.add(task)
            task.add_done_callback(self._saving.discard)
        return task

    async def save_state(self) -> None:
        """Save the draft now and wait for every save (the application calls this before
        it closes the profile)."""
        self._save_draft()
        if self._saving:
            await asyncio.wait(set(self._saving))
        await self._tasks.settle()

    def _send(self, text: str) -> None:
        if self.current is None:
            return
        conversation_id = self.current
        self.composer.set_text("")
        self._start(self._sent(conversation_id, text), self.tr("Message not sent"))

    async def _sent(self, conversation_id: int, text: str) -> None:
        record = await self.bridge.sendText(conversation_id, text)
        if record is None:  # not sent (the bridge said why): give the text back
            if self.current == conversation_id and not self.composer.text():
                self.composer.set_text(text)
            return
        if self._drafts.get(conversation_id):
            self._drafts[conversation_id] = ""
            await self.bridge.saveDraft(conversation_id, "")

    def _typed(self) -> None:
        # The core sends at most one indicator every few seconds; asking it once a second
        # keeps key presses from queueing a task each.
        now = time.monotonic()
        if self.current is not None and now - self._typing_told >= TYPING_TELL_INTERVAL:
            self._typing_told = now
            self.bridge.userTyping(self.current)

    def _retry(self, message_id: bytes) -> None:
        if self.current is not None:
            self.bridge.retryMessage(self.current, message_id)

    # --- bridge signals ---------------------------------------------------------------------

    def _message_added(self, message: MessageRecord) -> None:
        if message.conversation_id != self.current or message.outgoing:
            return
        self.header.stop_typing()
        self._mark_read()

    def _contact_changed(self, contact: ContactRecord) -> None:
        if contact.contact_id != self.current:
            return
        self.header.show_contact(contact)
        self._show_blocked(contact)

    def _show_blocked(self, contact: ContactRecord) -> None:
        if contact.pending_identity_key is not None:
            self.composer.set_blocked(self.tr(
                "You cannot write to %1 until you review their new security key (above)."
            ).replace("%1", contact.display_name))
        elif contact.relay_url is None:
            self.composer.set_blocked(self.tr(
                "You cannot answer %1 yet: add their address first."
            ).replace("%1", contact.display_name))
        else:
            self.composer.set_blocked(None)

    def _contact_typing(self, conversation_id: int) -> None:
        if conversation_id == self.current:
            self.header.show_typing()

    def _show_attention(self, state: AttentionState) -> None:
        if self.current is not None and state.unread.get(self.current):
            self._mark_read()  # it is on screen: read, if the window is active
        self.off_duty_action.setChecked(state.off_duty)
        self.off_duty_label.setVisible(state.off_duty)

    def _off_duty_toggled(self, checked: bool) -> None:
        self.bridge.setOffDuty(checked)

    def _show_error(self, title: str, message: str) -> None:
        show_error(self, title, message)

    def _client_failed(self, reason: str) -> None:
        show_error(self, self.tr("Sourdine stopped"), self.tr(
            "Sourdine cannot save messages any more, so it stopped sending and receiving. "
            "Restart Sourdine. (%1)"
        ).replace("%1", reason))

    # --- dialogs ----------------------------------------------------------------------------

    def _open_dialog(self, dialog: QDialog) -> QDialog:
        """Open ``dialog`` (window-modal, never blocking the loop) with the keyboard in it;
        when it closes, the keyboard comes back to the window."""
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.finished.connect(lambda _result: self.activateWindow())
        dialog.open()
        dialog.activateWindow()
        return dialog

    def add_contact(self) -> None:
        dialog = AddContactDialog(self, own_address=self.bridge.address)
        dialog.accepted.connect(lambda: self._start(
            self._add_contact(dialog.link(), dialog.name()), self.tr("Contact not added")))
        self._open_dialog(dialog)

    async def _add_contact(self, link: str, name: str) -> None:
        contact = await self.bridge.addContact(link, name)
        if contact is None:
            return
        await self.conversations.model.settle()
        if self.conversations.model.row_of(contact.contact_id) is None:
            await self.conversations.load()
        self.open_conversation(contact.contact_id)
        self.composer.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_my_address(self) -> None:
        self._open_dialog(MyAddressDialog(self.bridge, self))

    def show_settings(self) -> None:
        self._open_dialog(SettingsDialog(self.bridge, self))

    def show_safety_number(self) -> None:
        if self.current is not None:
            self._open_dialog(SafetyNumberDialog(self.bridge, self.current, parent=self))

    def review_key_change(self) -> None:
        if self.current is not None:
            self._open_dialog(KeyChangeDialog(self.bridge, self.current, self))

    # --- keyboard ---------------------------------------------------------------------------

    def _escape(self) -> None:
        if self.search.active:
            self.search.clear()
        if self.current is not None and self.composer.isEnabled():
            self.composer.setFocus(Qt.FocusReason.ShortcutFocusReason)
        else:
            self.conversations.keyboard_focus()

    def _panes(self) -> list[QWidget]:
        left: QWidget = self.search.results if self.search.active else self.conversations.view
        panes = [self.search.field, left]
        if self.current is not None:
            panes += [self.transcript_view, self.composer.editor]
        return [p for p in panes if p.isVisible() and p.isEnabled()]

    def cycle_panes(self, step: int) -> None:
        """Move the focus to the next (+1) or previous (-1) pane (F6 / Shift+F6)."""
        panes = self._panes()
        if not panes:
            return
        focused = QApplication.focusWidget()
        where = next((n for n, p in enumerate(panes)
                      if focused is not None and (p is focused or p.isAncestorOf(focused))),
                     -1 if step > 0 else 0)
        panes[(where + step) % len(panes)].setFocus(Qt.FocusReason.ShortcutFocusReason)

    # --- window state -----------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange:
            self._tell_focus()
            self._mark_read()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_draft()
        super().closeEvent(event)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        with contextlib.suppress(RuntimeError):
            self._tell_focus()
