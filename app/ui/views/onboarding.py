"""First run: the user's name, which relay to use, then their new address.

The wizard creates nothing itself. When the user presses "Create my account" on the relay
page, it emits :attr:`OnboardingWizard.accountRequested` with an :class:`OnboardingChoice`
and waits (busy, buttons disabled); the application creates the account and answers with
:meth:`OnboardingWizard.show_address` (go to the last page) or
:meth:`OnboardingWizard.show_failure` (stay, say why, let the user try again).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Final, Literal

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QFormLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QRadioButton,
    QStyle,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from app.core.account import MAX_DISPLAY_NAME, clean_display_name
from app.core.address import normalize_relay_url
from app.core.errors import AccountError, AddressError
from app.ui.views.contacts import AddressPanel
from app.ui.views.errors import inline_error_label, show_inline_error

RelayMode = Literal["local", "remote"]
MAX_INVITATION: Final = 64
_INVITATION_CHARS: Final = frozenset(string.ascii_letters + string.digits + "- ")


@dataclass(frozen=True, slots=True)
class OnboardingChoice:
    """What the user chose: their display name (cleaned) and their relay.

    ``relay_url`` is the canonical ws/wss URL for ``"remote"`` and None for ``"local"`` (a
    relay the application starts on this computer); ``invitation`` is the company's
    invitation code, when one was typed.
    """

    display_name: str
    relay_mode: RelayMode
    relay_url: str | None
    invitation: str | None


class _WelcomePage(QWizardPage):
    """Page 1: what Sourdine is, and the name others will see."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Welcome to Sourdine"))
        self.setSubTitle(self.tr(
            "Sourdine lets you write to your colleagues privately. Only you and the people "
            "you write to can read your messages."
        ))
        self.name_edit = QLineEdit(self)
        self.name_edit.setMaxLength(MAX_DISPLAY_NAME * 2)  # spaces are squeezed on validation
        self.name_edit.setAccessibleName(self.tr("Your name"))
        self.name_edit.setAccessibleDescription(self.tr(
            "The name your contacts see, for example Marie Dupont."
        ))
        self.name_edit.setPlaceholderText(self.tr("For example: Marie Dupont"))
        label = QLabel(self.tr("&Your name:"), self)
        label.setBuddy(self.name_edit)
        hint = QLabel(self.tr("Your contacts will see this name. You can use your first name."),
                      self)
        hint.setWordWrap(True)
        self.error = inline_error_label(self)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.name_edit)
        layout.addWidget(hint)
        layout.addWidget(self.error)
        layout.addStretch(1)
        self.name_edit.textEdited.connect(lambda _t: show_inline_error(self.error, None, ""))

    def initializePage(self) -> None:
        self.name_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def display_name(self) -> str | None:
        """The cleaned name, or None (and an inline error) when it cannot be used."""
        raw = self.name_edit.text()
        try:
            return clean_display_name(raw)
        except AccountError:
            pass
        squeezed = " ".join(raw.split())
        if not squeezed:
            message = self.tr("Please type your name.")
        elif len(squeezed) > MAX_DISPLAY_NAME:
            message = self.tr("Your name is too long: use at most %1 characters.").replace(
                "%1", str(MAX_DISPLAY_NAME))
        else:
            message = self.tr("Your name has characters that cannot be shown. Please retype it.")
        show_inline_error(self.error, self.name_edit, message)
        return None

    def validatePage(self) -> bool:
        return self.display_name() is not None


class _RelayPage(QWizardPage):
    """Page 2: a relay on this computer (default) or the company's relay."""

    def __init__(self, wizard: OnboardingWizard) -> None:
        super().__init__(wizard)
        self._wizard = wizard
        self.busy = False  # the account is being created: nothing can be changed
        self.setTitle(self.tr("Where your messages go"))
        self.setSubTitle(self.tr(
            "Messages travel through a relay. The relay only passes on locked messages: it "
            "cannot read them."
        ))
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, self.tr("&Create my account"))

        self.local_radio = QRadioButton(self.tr("A relay on &this computer"), self)
        self.local_radio.setAccessibleName(self.tr("A relay on this computer"))
        self.local_radio.setAccessibleDescription(self.tr(
            "Recommended to try Sourdine. Sourdine starts the relay itself."
        ))
        self.remote_radio = QRadioButton(self.tr("My compan&y's relay"), self)
        self.remote_radio.setAccessibleName(self.tr("My company's relay"))
        self.remote_radio.setAccessibleDescription(self.tr(
            "Choose this if your company gave you a relay address."
        ))
        self.modes = QButtonGroup(self)
        self.modes.addButton(self.local_radio)
        self.modes.addButton(self.remote_radio)
        self.local_radio.setChecked(True)
        local_hint = QLabel(self.tr(
            "Good to try Sourdine with someone on this computer. Sourdine starts it for you."
        ), self)
        local_hint.setWordWrap(True)
        # Hints and fields line up with the radio buttons' text, whatever the style and font.
        indent = self.style().pixelMetric(QStyle.PixelMetric.PM_ExclusiveIndicatorWidth) + \
            self.style().pixelMetric(QStyle.PixelMetric.PM_RadioButtonLabelSpacing)
        local_hint.setIndent(indent)

        self.url_edit = QLineEdit(self)
        self.url_edit.setPlaceholderText("wss://chat.example.com")
        self.url_edit.setAccessibleName(self.tr("Relay address"))
        self.url_edit.setAccessibleDescription(self.tr(
            "The address your company gave you. It starts with wss:// or ws://."
        ))
        self.invitation_edit = QLineEdit(self)
        self.invitation_edit.setMaxLength(MAX_INVITATION)
        self.invitation_edit.setAccessibleName(self.tr("Invitation code (optional)"))
        self.invitation_edit.setAccessibleDescription(self.tr(
            "Only if your company gave you one, for example ABCD-EFGH-..."
        ))
        form = QFormLayout()
        url_label = QLabel(self.tr("Relay &address:"), self)
        url_label.setBuddy(self.url_edit)
        code_label = QLabel(self.tr("&Invitation code (optional):"), self)
        code_label.setBuddy(self.invitation_edit)
        form.addRow(url_label, self.url_edit)
        form.addRow(code_label, self.invitation_edit)
        form.setContentsMargins(indent, 0, 0, 0)

        self.error = inline_error_label(self)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)  # busy: no known end
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName(self.tr("Creating your account"))
        self.progress.hide()
        self.progress_label = QLabel(self.tr("Creating your account, please wait..."), self)
        self.progress_label.hide()

        layout = QVBoxLayout(self)
        layout.addWidget(self.local_radio)
        layout.addWidget(local_hint)
        layout.addWidget(self.remote_radio)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addStretch(1)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.progress)
        QWidget.setTabOrder(self.local_radio, self.remote_radio)
        QWidget.setTabOrder(self.remote_radio, self.url_edit)
        QWidget.setTabOrder(self.url_edit, self.invitation_edit)

        self.remote_radio.toggled.connect(self._mode_changed)
        self.url_edit.textEdited.connect(lambda _t: show_inline_error(self.error, None, ""))
        self.invitation_edit.textEdited.connect(lambda _t: show_inline_error(self.error, None, ""))
        self._mode_changed(False)

    def _mode_changed(self, remote: bool) -> None:
        self.url_edit.setEnabled(remote and not self.busy)
        self.invitation_edit.setEnabled(remote and not self.busy)
        show_inline_error(self.error, None, "")

    def focus_mode(self) -> None:
        """Give the focus to the chosen relay mode (where a keyboard user starts)."""
        chosen = self.remote_radio if self.remote_radio.isChecked() else self.local_radio
        chosen.setFocus(Qt.FocusReason.OtherFocusReason)

    def initializePage(self) -> None:
        self.focus_mode()

    def relay(self) -> tuple[RelayMode, str | None, str | None] | None:
        """(mode, canonical URL, invitation code), or None with an inline error."""
        if self.local_radio.isChecked():
            return "local", None, None
        raw = self.url_edit.text().strip()
        if not raw:
            show_inline_error(self.error, self.url_edit, self.tr(
                "Type the relay address your company gave you, for example "
                "wss://chat.example.com."))
            return None
        try:
            url = normalize_relay_url(raw)
        except AddressError:
            show_inline_error(self.error, self.url_edit, self.tr(
                "This is not a relay address. It starts with wss:// (or ws://) followed by a "
                "computer name, for example wss://chat.example.com."))
            return None
        code = " ".join(self.invitation_edit.text().split())
        if code and not set(code) <= _INVITATION_CHARS:
            show_inline_error(self.error, self.invitation_edit, self.tr(
                "An invitation code has only letters, digits and dashes. Please check it."))
            return None
        return "remote", url, code or None

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        for control in (self.local_radio, self.remote_radio):
            control.setEnabled(not busy)
        self._mode_changed(self.remote_radio.isChecked())
        self.progress.setVisible(busy)
        self.progress_label.setVisible(busy)
        self.completeChanged.emit()  # the wizard re-reads isComplete for its buttons

    def isComplete(self) -> bool:
        return not self.busy

    def validatePage(self) -> bool:
        return self._wizard._relay_page_done()


class _AddressPage(QWizardPage):
    """Page 3: the new address, to share with contacts."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Your address"))
        self.setSubTitle(self.tr(
            "Your account is ready. Give this address to the people you want to talk to."
        ))
        self.panel = AddressPanel(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.panel)
        self.setFinalPage(True)

    def initializePage(self) -> None:
        self.panel.address_edit.setFocus(Qt.FocusReason.OtherFocusReason)


class OnboardingWizard(QWizard):
    """The first-run wizard (see the module docstring for how it talks to its caller)."""

    accountRequested = Signal(object)  # OnboardingChoice
    WELCOME_PAGE: Final = 0
    RELAY_PAGE: Final = 1
    ADDRESS_PAGE: Final = 2

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._choice: OnboardingChoice | None = None  # set when the account was requested
        self._created = False  # show_address was called: the relay page may be left
        self._validating = False  # inside the relay page's validatePage
        self.setWindowTitle(self.tr("Set up Sourdine"))
        self.setAccessibleName(self.tr("Set up Sourdine"))
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.setButtonText(QWizard.WizardButton.FinishButton, self.tr("&Start using Sourdine"))
        self.welcome_page = _WelcomePage(self)
        self.relay_page = _RelayPage(self)
        self.address_page = _AddressPage(self)
        self.setPage(self.WELCOME_PAGE, self.welcome_page)
        self.setPage(self.RELAY_PAGE, self.relay_page)
        self.setPage(self.ADDRESS_PAGE, self.address_page)
        names = {
            QWizard.WizardButton.BackButton: self.tr("Back"),
            QWizard.WizardButton.NextButton: self.tr("Next"),
            QWizard.WizardButton.CommitButton: self.tr("Create my account"),
            QWizard.WizardButton.FinishButton: self.tr("Start using Sourdine"),
            QWizard.WizardButton.CancelButton: self.tr("Cancel"),
        }
        for which, name in names.items():
            self.button(which).setAccessibleName(name)

    # --- what the caller uses ---------------------------------------------------------------

    def choice(self) -> OnboardingChoice:
        """The user's current choice (the one sent with accountRequested once requested).

        Raises:
            ValueError: the name or relay entered cannot be used (the page shows why).
        """
        if self._choice is not None:
            return self._choice
        choice = self._current_choice()
        if choice is None:
            raise ValueError("The onboarding choice is not valid yet.")
        return choice

    def is_busy(self) -> bool:
        """True between accountRequested and show_address/show_failure."""
        return self.relay_page.busy

    def show_address(self, address: str, invitation_link: str) -> None:
        """The account exists: show its address and QR code on the last page."""
        self.address_page.panel.set_address(address, invitation_link)
        self._created = True
        self.relay_page.set_busy(False)
        if not self._validating and self.currentId() == self.RELAY_PAGE:
            self.next()

    def show_failure(self, message: str) -> None:
        """The account could not be created: stay on the relay page and show ``message``
        (a readable, translated sentence); the user may change the relay and try again."""
        self._choice = None
        self.relay_page.set_busy(False)
        self._set_buttons_enabled(True)
        show_inline_error(self.relay_page.error, None, message)
        self.relay_page.focus_mode()

    # --- internals ----------------------------------------------------------------------------

    def _current_choice(self) -> OnboardingChoice | None:
        name = self.welcome_page.display_name()
        relay = self.relay_page.relay()
        if name is None or relay is None:
            return None
        return OnboardingChoice(name, *relay)

    def _set_buttons_enabled(self, enabled: bool) -> None:
        for which in (QWizard.WizardButton.BackButton, QWizard.WizardButton.CancelButton):
            self.button(which).setEnabled(enabled)

    def _relay_page_done(self) -> bool:
        if self._created:
            return True
        if self.relay_page.busy:
            return False
        choice = self._current_choice()
        if choice is None:
            return False
        self._choice = choice
        self.relay_page.set_busy(True)
        self._set_buttons_enabled(False)
        self._validating = True
        try:
            self.accountRequested.emit(choice)  # the caller may answer right away
        finally:
            self._validating = False
        return self._created

    def reject(self) -> None:
        if self.relay_page.busy:  # Escape while the account is being created: ignored
            return
        if self._created:  # the account exists: closing the last page is finishing
            self.accept()
            return
        super().reject()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.relay_page.busy and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            return
        super().keyPressEvent(event)
