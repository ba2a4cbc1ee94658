"""The first-run wizard, driven with the keyboard only (keys go to the focused widget)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget, QWizard
from pytestqt.qtbot import QtBot

from app.core.account import clean_display_name
from app.core.address import normalize_relay_url
from app.core.errors import AccountError, AddressError
from app.ui.views.onboarding import OnboardingChoice, OnboardingWizard
from tests.app.ui.views.dialog_checks import duplicate_mnemonics, unnamed_controls

ADDRESS = "sourdine+ws://127.0.0.1:8765/" + "A" * 42 + "Q"
LINK = ADDRESS + "?name=Marie%20Dupont"


class Wizard:
    """A shown wizard, the choices it emitted, and keyboard helpers."""

    def __init__(self, qtbot: QtBot) -> None:
        self.qtbot = qtbot
        self.wizard = OnboardingWizard()
        qtbot.addWidget(self.wizard)
        self.requested: list[OnboardingChoice] = []
        self.wizard.accountRequested.connect(self.requested.append)
        with qtbot.waitActive(self.wizard):
            self.wizard.show()
            self.wizard.activateWindow()

    def focused(self) -> QWidget:
        widget = QApplication.focusWidget()
        assert widget is not None
        return widget

    def type(self, text: str) -> None:
        QTest.keyClicks(self.focused(), text)

    def key(self, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
            times: int = 1) -> None:
        for _ in range(times):
            QTest.keyClick(self.focused(), key, modifier)

    def enter(self) -> None:
        self.key(Qt.Key.Key_Return)

    def to_relay_page(self, name: str = "Marie Dupont") -> None:
        assert self.focused() is self.wizard.welcome_page.name_edit
        self.type(name)
        self.enter()
        assert self.wizard.currentId() == OnboardingWizard.RELAY_PAGE

    def choose_company_relay(self, url: str, code: str = "") -> None:
        assert self.focused() is self.wizard.relay_page.local_radio
        self.key(Qt.Key.Key_Down)  # arrow keys move between radio buttons
        assert self.wizard.relay_page.remote_radio.isChecked()
        self.key(Qt.Key.Key_Tab)
        assert self.focused() is self.wizard.relay_page.url_edit
        self.type(url)
        if code:
            self.key(Qt.Key.Key_Tab)
            self.type(code)


@pytest.fixture
def w(qtbot: QtBot) -> Iterator[Wizard]:
    yield Wizard(qtbot)


def test_enter_through_the_defaults_asks_for_a_local_relay(w: Wizard) -> None:
    w.to_relay_page("  Marie   Dupont ")
    assert w.wizard.relay_page.local_radio.isChecked()  # the default, preselected
    assert not w.wizard.relay_page.url_edit.isEnabled()
    w.enter()
    assert w.requested == [OnboardingChoice("Marie Dupont", "local", None, None)]
    assert w.wizard.choice() == w.requested[0]
    assert w.wizard.currentId() == OnboardingWizard.RELAY_PAGE  # waits for the caller


def test_a_company_relay_and_invitation_code_typed_with_the_keyboard(w: Wizard) -> None:
    w.to_relay_page()
    w.choose_company_relay("wss://Chat.Example.COM", "abcd-efgh-2345")
    w.enter()
    assert w.requested == [OnboardingChoice(
        "Marie Dupont", "remote", "wss://chat.example.com:443/", "abcd-efgh-2345")]


def test_an_empty_name_is_refused_inline_and_nothing_is_requested(w: Wizard) -> None:
    w.enter()
    page = w.wizard.welcome_page
    assert w.wizard.currentId() == OnboardingWizard.WELCOME_PAGE
    assert page.error.isVisible() and page.error.text() == "Please type your name."
    assert w.focused() is page.name_edit
    w.type("   ")
    w.enter()
    assert w.wizard.currentId() == OnboardingWizard.WELCOME_PAGE
    w.type("x" * 70)
    w.enter()
    assert "too long" in page.error.text()
    assert w.wizard.currentId() == OnboardingWizard.WELCOME_PAGE
    assert w.requested == []
    with pytest.raises(ValueError):
        w.wizard.choice()


@pytest.mark.parametrize("url", [
    "http://chat.example.com", "chat.example.com", "wss://chat.example.com/path",
    "wss://user@chat.example.com", "wss://:443", "",
])
def test_a_bad_relay_url_is_refused_inline_and_nothing_is_requested(
    w: Wizard, url: str
) -> None:
    w.to_relay_page()
    w.choose_company_relay(url)
    w.enter()
    page = w.wizard.relay_page
    assert w.requested == []
    assert w.wizard.currentId() == OnboardingWizard.RELAY_PAGE
    assert page.error.isVisible() and "wss://" in page.error.text()
    assert w.focused() is page.url_edit
    assert not w.wizard.is_busy()


def test_a_bad_invitation_code_is_refused_inline(w: Wizard) -> None:
    w.to_relay_page()
    w.choose_company_relay("wss://chat.example.com", "abc/def")
    w.enter()
    assert w.requested == []
    assert w.focused() is w.wizard.relay_page.invitation_edit


def test_while_creating_buttons_are_disabled_and_escape_is_ignored(w: Wizard) -> None:
    w.to_relay_page()
    w.enter()
    wizard = w.wizard
    assert wizard.is_busy() and wizard.relay_page.progress.isVisible()
    for which in (QWizard.WizardButton.CommitButton, QWizard.WizardButton.BackButton,
                  QWizard.WizardButton.CancelButton):
        assert not wizard.button(which).isEnabled()
    assert not wizard.relay_page.local_radio.isEnabled()
    QTest.keyClick(wizard, Qt.Key.Key_Escape)
    QTest.keyClick(wizard, Qt.Key.Key_Return)
    assert wizard.isVisible() and len(w.requested) == 1


def test_a_failure_keeps_the_user_on_the_relay_page_to_try_again(w: Wizard) -> None:
    w.to_relay_page()
    w.choose_company_relay("wss://chat.example.com")
    w.enter()
    w.wizard.show_failure("The relay cannot be reached. Check the address.")
    page = w.wizard.relay_page
    assert w.wizard.currentId() == OnboardingWizard.RELAY_PAGE
    assert page.error.text() == "The relay cannot be reached. Check the address."
    assert not w.wizard.is_busy() and page.url_edit.isEnabled()
    assert w.wizard.button(QWizard.WizardButton.CommitButton).isEnabled()
    assert w.wizard.button(QWizard.WizardButton.BackButton).isEnabled()
    # The user picks the local relay instead and tries again.
    assert w.focused() is page.remote_radio
    w.key(Qt.Key.Key_Up)
    w.enter()
    assert [c.relay_mode for c in w.requested] == ["remote", "local"]


def test_the_address_page_shows_the_address_and_enter_finishes(w: Wizard) -> None:
    w.to_relay_page()
    w.enter()
    w.wizard.show_address(ADDRESS, LINK)
    assert w.wizard.currentId() == OnboardingWizard.ADDRESS_PAGE
    panel = w.wizard.address_page.panel
    assert panel.address_edit.text() == LINK and panel.address_edit.isReadOnly()
    assert panel.address() == ADDRESS
    assert panel.qr.data() == LINK and panel.qr.modules() > 0
    assert w.focused() is panel.address_edit
    assert not w.wizard.button(QWizard.WizardButton.BackButton).isVisible()
    w.key(Qt.Key.Key_Tab)
    assert w.focused() is panel.copy_button
    w.key(Qt.Key.Key_Space)
    assert QApplication.clipboard().text() == LINK
    w.enter()  # the default button: Start using Sourdine
    assert w.wizard.result() == OnboardingWizard.DialogCode.Accepted


def test_an_immediate_answer_from_the_caller_is_handled(qtbot: QtBot) -> None:
    w = Wizard(qtbot)
    w.wizard.accountRequested.connect(lambda _c: w.wizard.show_address(ADDRESS, LINK))
    w.to_relay_page()
    w.enter()
    assert w.wizard.currentId() == OnboardingWizard.ADDRESS_PAGE


def test_escape_on_the_first_page_cancels(w: Wizard) -> None:
    w.key(Qt.Key.Key_Escape)
    assert w.wizard.result() == OnboardingWizard.DialogCode.Rejected
    assert not w.wizard.isVisible() and w.requested == []


def test_every_control_has_an_accessible_name_and_its_own_shortcut(w: Wizard) -> None:
    assert unnamed_controls(w.wizard) == []
    assert duplicate_mnemonics(w.wizard) == []
    w.to_relay_page()
    assert duplicate_mnemonics(w.wizard) == []
    w.enter()
    w.wizard.show_address(ADDRESS, LINK)
    assert duplicate_mnemonics(w.wizard) == []


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(url=st.one_of(st.text(max_size=80), st.text(max_size=40).map(lambda t: "wss://" + t)),
       code=st.text(max_size=30), name=st.text(max_size=80))
def test_any_typed_relay_and_name_is_either_used_as_parsed_or_refused_inline(
    qtbot: QtBot, url: str, code: str, name: str
) -> None:
    wizard = OnboardingWizard()
    qtbot.addWidget(wizard)
    wizard.welcome_page.name_edit.setText(name)
    wizard.relay_page.remote_radio.setChecked(True)
    wizard.relay_page.url_edit.setText(url)
    wizard.relay_page.invitation_edit.setText(code)
    try:
        expected_url: str | None = normalize_relay_url(url.strip())
    except AddressError:
        expected_url = None
    try:
        expected_name: str | None = clean_display_name(name)
    except AccountError:
        expected_name = None
    try:
        choice = wizard.choice()
    except ValueError:
        code_ok = all(c.isascii() and (c.isalnum() or c in "- ") for c in " ".join(code.split()))
        assert expected_url is None or expected_name is None or not code_ok
        assert wizard.welcome_page.error.text() or wizard.relay_page.error.text()
    else:
        assert choice.relay_url == expected_url and choice.display_name == expected_name
        assert choice.invitation == (" ".join(code.split()) or None)
    wizard.deleteLater()
