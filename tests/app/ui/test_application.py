"""The application shell: first run, reopening, the shared relay on this computer, startup
errors, and the ``sourdine`` command. Real relay processes, real keyring, real databases."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from app.adapters.keystore import open_secret_store
from app.adapters.local_relay import relay_answers
from app.adapters.preferences_file import load_preferences, save_preferences
from app.config import ProfilePaths
from app.core.client import SourdineClient
from app.core.preferences import Preferences
from app.ui.application import Session, StartupError, apply_appearance, run_session
from app.ui.bridge import Bridge
from app.ui.views.onboarding import OnboardingWizard
from tests.app.ui.support import create_bridge, fast_options, introduce, run, wait_until
from tests.app.ui.views.test_main_window import free_port
from tests.integration.conftest import REPO, RelayProcess, start_relay


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def press(key: Qt.Key) -> None:
    QTest.keyClick(focused(), key)


class Sessions:
    """Sessions of this test (shut down after it), their relay directory and port."""

    def __init__(self, qloop: qasync.QEventLoop, tmp_path: Path) -> None:
        self.qloop = qloop
        self.relay_dir = tmp_path / "local-relay"
        self.port = free_port()
        self.made: list[tuple[Session, ProfilePaths]] = []

    def new(self, paths: ProfilePaths) -> Session:
        session = Session(paths, relay_dir=self.relay_dir, relay_port=self.port,
                          options=fast_options())
        self.made.append((session, paths))
        return session

    def onboard(self, session: Session, name: str, relay_url: str | None = None) -> bool:
        """Run the first-run wizard with the keyboard: name, relay, Create, Start."""
        starting = self.qloop.create_task(session.start())
        run(self.qloop, wait_until(lambda: session.wizard is not None
                                   and session.wizard.isVisible()))
        wizard = session.wizard
        assert wizard is not None
        wizard.activateWindow()
        QTest.keyClicks(focused(), name)
        press(Qt.Key.Key_Return)
        if relay_url is not None:
            press(Qt.Key.Key_Down)  # "My company's relay"
            press(Qt.Key.Key_Tab)
            QTest.keyClicks(focused(), relay_url)
        press(Qt.Key.Key_Return)  # Create my account
        run(self.qloop, wait_until(
            lambda: wizard.currentId() == OnboardingWizard.ADDRESS_PAGE, timeout=30))
        press(Qt.Key.Key_Return)  # Start using Sourdine
        return run(self.qloop, starting)

    def close(self) -> None:
        for session, paths in self.made:
            run(self.qloop, session.shutdown())
            with contextlib.suppress(Exception):  # nothing to delete if onboarding failed
                open_secret_store(paths).delete()


@pytest.fixture
def sessions(qloop: qasync.QEventLoop, tmp_path: Path) -> Iterator[Sessions]:
    made = Sessions(qloop, tmp_path)
    yield made
    made.close()


def authenticated(bridge: Bridge | None) -> bool:
    return bridge is not None and bridge.connection_state == "authenticated"


def test_first_run_creates_the_account_on_a_relay_on_this_computer_and_reopens_it(
    qloop: qasync.QEventLoop, sessions: Sessions, make_profile: Callable[[str], ProfilePaths],
) -> None:
    paths = make_profile("marie")
    first = sessions.new(paths)
    assert sessions.onboard(first, "Marie Dupont") is True
    assert first.window is not None and first.window.isVisible()
    assert first.local_relay is not None and first.local_relay.owned
    run(qloop, wait_until(lambda: authenticated(first.bridge), timeout=20))
    assert first.bridge is not None
    assert f"127.0.0.1:{sessions.port}" in first.bridge.address
    assert load_preferences(paths.settings).relay_mode == "local"
    run(qloop, first.shutdown())
    assert first.window is None and first.bridge is None
    assert not run(qloop, relay_answers(sessions.port))  # we started it: we stopped it

    again = Session(paths, relay_dir=sessions.relay_dir, options=fast_options())
    sessions.made.append((again, paths))
    assert run(qloop, again.start()) is True
    assert again.wizard is None  # no onboarding for an existing account
    assert again.bridge is not None and again.bridge.display_name == "Marie Dupont"
    assert run(qloop, relay_answers(sessions.port))  # started again on the account's port
    run(qloop, wait_until(lambda: authenticated(again.bridge), timeout=20))


def test_a_second_profile_shares_the_relay_and_brings_it_back_when_the_first_quits(
    qloop: qasync.QEventLoop, sessions: Sessions, make_profile: Callable[[str], ProfilePaths],
) -> None:
    alice, bob = sessions.new(make_profile("alice")), sessions.new(make_profile("bob"))
    assert sessions.onboard(alice, "Alice") and sessions.onboard(bob, "Bob")
    assert alice.local_relay is not None and alice.local_relay.owned
    assert bob.local_relay is not None and not bob.local_relay.owned  # attached to Alice's
    assert alice.bridge is not None and bob.bridge is not None
    run(qloop, wait_until(lambda: authenticated(alice.bridge) and authenticated(bob.bridge),
                          timeout=20))
    contact = run(qloop, bob.bridge.addContact(alice.bridge.invitation_link, ""))
    assert contact is not None
    run(qloop, bob.bridge.sendText(contact.contact_id, "same relay, two windows"))
    run(qloop, wait_until(lambda: alice.bridge is not None
                          and alice.bridge.attention_state.total == 1, timeout=20))

    run(qloop, alice.shutdown())  # Alice quits: her relay stops
    run(qloop, wait_until(lambda: bob.local_relay is not None and bob.local_relay.owned,
                          timeout=20))
    run(qloop, wait_until(lambda: authenticated(bob.bridge), timeout=20))
    assert run(qloop, relay_answers(sessions.port))
    run(qloop, bob.bridge.sendText(contact.contact_id, "sent after the restart"))
    run(qloop, until_in_history(bob.bridge, contact.contact_id, "sent after the restart",
                                ("sent", "delivered")), timeout=20)

    # Alice comes back: she attaches to the relay Bob's app runs now, and nothing was lost.
    back = Session(alice.paths, relay_dir=sessions.relay_dir, options=fast_options())
    sessions.made.append((back, alice.paths))
    assert run(qloop, back.start()) is True
    assert back.local_relay is not None and not back.local_relay.owned
    assert back.bridge is not None
    (with_bob,) = back.bridge.contacts()
    run(qloop, until_in_history(back.bridge, with_bob.contact_id, "sent after the restart",
                                ("received",)), timeout=20)
    for session, _paths in sessions.made:  # both quit: the relay goes away with its owner
        run(qloop, session.shutdown())
    assert not run(qloop, relay_answers(sessions.port))


async def until_in_history(bridge: Bridge, conversation_id: int, body: str,
                           states: tuple[str, ...]) -> None:
    """Poll the conversation until a message with ``body`` is in one of ``states``."""
    while not any(m.body == body and m.state in states
                  for m in await bridge.history(conversation_id)):
        await asyncio.sleep(0.05)


def test_an_unreachable_company_relay_is_explained_and_nothing_is_created(
    qloop: qasync.QEventLoop, sessions: Sessions, relay: RelayProcess,
    make_profile: Callable[[str], ProfilePaths],
) -> None:
    paths = make_profile("remote")
    session = sessions.new(paths)
    starting = qloop.create_task(session.start())
    run(qloop, wait_until(lambda: session.wizard is not None and session.wizard.isVisible()))
    wizard = session.wizard
    assert wizard is not None
    wizard.activateWindow()
    QTest.keyClicks(focused(), "Remote Person")
    press(Qt.Key.Key_Return)
    press(Qt.Key.Key_Down)
    press(Qt.Key.Key_Tab)
    QTest.keyClicks(focused(), f"ws://127.0.0.1:{free_port()}")  # nothing listens there
    press(Qt.Key.Key_Return)
    run(qloop, wait_until(lambda: wizard.relay_page.error.isVisible(), timeout=30))
    assert "cannot reach this relay" in wizard.relay_page.error.text()
    assert wizard.currentId() == OnboardingWizard.RELAY_PAGE
    assert not paths.database.exists() and session.bridge is None

    wizard.relay_page.url_edit.setText(relay.url)  # the right address this time
    wizard.relay_page.url_edit.setFocus()
    press(Qt.Key.Key_Return)
    run(qloop, wait_until(lambda: wizard.currentId() == OnboardingWizard.ADDRESS_PAGE,
                          timeout=30))
    press(Qt.Key.Key_Return)
    assert run(qloop, starting) is True
    assert session.local_relay is None
    assert load_preferences(paths.settings).relay_mode == "remote"
    run(qloop, wait_until(lambda: authenticated(session.bridge), timeout=20))


def test_a_profile_open_in_another_window_is_a_readable_error_and_a_clean_exit(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge],
    qtbot: QtBot,
) -> None:
    open_elsewhere = bridge_for("Alice", relay)
    session = Session(open_elsewhere.client.paths, options=fast_options())
    with pytest.raises(StartupError) as caught:
        run(qloop, session.start())
    assert caught.value.title == "Sourdine cannot open this profile"
    assert "open in another Sourdine process" in str(caught.value)

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    second = Session(open_elsewhere.client.paths)
    exiting = qloop.create_task(run_session(app, second, asyncio.Event()))
    run(qloop, wait_until(lambda: any(isinstance(w, QMessageBox) and w.isVisible()
                                      for w in QApplication.topLevelWidgets())))
    (box,) = [w for w in QApplication.topLevelWidgets()
              if isinstance(w, QMessageBox) and w.isVisible()]
    assert box.windowTitle() == "Sourdine cannot open this profile"
    assert "another Sourdine process" in box.text() and "Traceback" not in box.text()
    QTest.mouseClick(box.button(QMessageBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert run(qloop, exiting) == 1  # a clean exit status, no window left
    app.setQuitOnLastWindowClosed(True)


def healthy(port: int) -> bool:
    """A blocking ``GET /healthz`` (this test runs no event loop)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def test_the_command_line(tmp_path: Path) -> None:
    env = {**os.environ, "SOURDINE_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1",
           "XDG_DATA_HOME": str(tmp_path / "data")}
    command = [sys.executable, "-m", "app"]
    version = subprocess.run([*command, "--version"], capture_output=True, text=True, env=env,
                             cwd=REPO, timeout=60, check=True)
    assert version.stdout.startswith("sourdine ")
    bad = subprocess.run([*command, "--profile", "no/slash"], capture_output=True, text=True,
                         env=env, cwd=REPO, timeout=60)
    assert bad.returncode == 2 and "Invalid profile name" in bad.stderr
    assert "Traceback" not in bad.stderr
    headless = {k: v for k, v in env.items()
                if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    nowhere = subprocess.run(command, capture_output=True, text=True, env=headless, cwd=REPO,
                             timeout=60)
    assert nowhere.returncode == 1 and "no display" in nowhere.stderr
    assert "--relay-only" in nowhere.stderr and "Traceback" not in nowhere.stderr

    port = free_port()
    relay = subprocess.Popen([*command, "--relay-only", "--port", str(port)], env=env, cwd=REPO,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert relay.stdout is not None
        first = relay.stdout.readline()
        assert f"ws://127.0.0.1:{port}" in first
        assert healthy(port)
        relay.send_signal(signal.SIGINT)
        rest = relay.communicate(timeout=30)[0]
        assert relay.returncode == 0 and "Relay stopped." in rest
    finally:
        if relay.poll() is None:
            relay.kill()
    assert not healthy(port)
    assert (tmp_path / "data" / "Sourdine" / "local-relay" / "port").read_text() == f"{port}\n"


def test_the_running_app_follows_the_appearance_and_wires_the_desktop_surfaces(
    qloop: qasync.QEventLoop, relay: RelayProcess, bridge_for: Callable[..., Bridge],
    make_profile: Callable[[str], ProfilePaths],
) -> None:
    paths = make_profile("alice")
    alice = run(qloop, create_bridge(paths, "Alice", relay.url, options=fast_options()))
    bob = bridge_for("Bob", relay)
    pair = run(qloop, introduce(alice, bob))
    run(qloop, alice.close())
    save_preferences(paths.settings, Preferences(appearance="dark", relay_mode="remote"))

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    light = app.palette().color(QPalette.ColorRole.Window).lightness()
    session = Session(paths, options=fast_options())
    quitting = asyncio.Event()
    running = qloop.create_task(run_session(app, session, quitting))
    try:
        run(qloop, wait_until(lambda: session.surfaces is not None))
        assert app.palette().color(QPalette.ColorRole.Window).lightness() < 100  # dark
        assert session.window is not None and session.window.isVisible()
        assert session.local_relay is None  # a company relay: nothing started here
        surfaces = session.surfaces
        assert surfaces is not None
        surfaces.openConversation.emit(pair.alice_bob)  # a notification was clicked
        assert session.window.current == pair.alice_bob
        assert session.bridge is not None
        run(qloop, session.bridge.updatePreferences(
            session.bridge.preferences.replace(appearance="system")))
        assert app.palette().color(QPalette.ColorRole.Window).lightness() == light
        quitting.set()  # what the application's aboutToQuit does
        assert run(qloop, running) == 0
    finally:
        apply_appearance(app, "system")
        run(qloop, session.shutdown())
        open_secret_store(paths).delete()
    assert session.surfaces is None and session.bridge is None


def visible_prompt(containing: str) -> QInputDialog | None:
    for widget in QApplication.topLevelWidgets():
        if (isinstance(widget, QInputDialog) and widget.isVisible()
                and containing in widget.labelText()):
            return widget
    return None


def test_a_profile_in_a_passphrase_vault_asks_until_the_passphrase_opens_it(
    qloop: qasync.QEventLoop, relay: RelayProcess, make_profile: Callable[[str], ProfilePaths],
    qtbot: QtBot,
) -> None:
    paths = make_profile("vera")
    vault = open_secret_store(paths, passphrase="correct horse battery")
    client = run(qloop, SourdineClient.create(paths, vault, display_name="Vera",
                                              relay_url=relay.url, options=fast_options()))
    run(qloop, client.close())

    session = Session(paths, options=fast_options())
    starting = qloop.create_task(session.start())
    try:
        run(qloop, wait_until(lambda: visible_prompt("locked with a passphrase") is not None))
        prompt = visible_prompt("locked with a passphrase")
        assert prompt is not None
        field = prompt.findChild(QLineEdit)
        assert field is not None and field.echoMode() == QLineEdit.EchoMode.Password
        QTest.keyClicks(field, "wrong guess")
        QTest.keyClick(field, Qt.Key.Key_Return)
        run(qloop, wait_until(lambda: visible_prompt("does not open") is not None, timeout=20))
        again = visible_prompt("does not open")
        assert again is not None
        field = again.findChild(QLineEdit)
        assert field is not None
        QTest.keyClicks(field, "correct horse battery")
        QTest.keyClick(field, Qt.Key.Key_Return)
        assert run(qloop, starting) is True
        assert session.bridge is not None and session.bridge.display_name == "Vera"
    finally:
        run(qloop, session.shutdown())


def invitation_codes(database: Path, count: int) -> list[str]:
    """Codes from the operator's ``sourdine-relay invite`` command."""
    made = subprocess.run(
        [sys.executable, "-m", "relay", "invite", "--database", str(database), "--count",
         str(count)], cwd=REPO, check=True, capture_output=True, text=True, timeout=60)
    return made.stdout.split()


def test_an_invitation_only_relay_refusing_the_code_is_explained_and_a_good_code_joins(
    qloop: qasync.QEventLoop, sessions: Sessions, tmp_path: Path,
    make_profile: Callable[[str], ProfilePaths],
) -> None:
    database = tmp_path / "company" / "relay.db"
    database.parent.mkdir()
    (code,) = invitation_codes(database, 1)
    company = start_relay(database.parent, "--admission", "invite", database=database)
    try:
        paths = make_profile("newcomer")
        session = sessions.new(paths)
        starting = qloop.create_task(session.start())
        run(qloop, wait_until(lambda: session.wizard is not None
                              and session.wizard.isActiveWindow()))
        wizard = session.wizard
        assert wizard is not None
        QTest.keyClicks(focused(), "New Colleague")
        press(Qt.Key.Key_Return)
        press(Qt.Key.Key_Down)
        press(Qt.Key.Key_Tab)
        QTest.keyClicks(focused(), company.url)
        press(Qt.Key.Key_Tab)
        QTest.keyClicks(focused(), "ZZZZ-ZZZZ-ZZZZ")  # a wrong code
        press(Qt.Key.Key_Return)
        run(qloop, wait_until(lambda: wizard.relay_page.error.isVisible(), timeout=30))
        assert "did not let your new account in" in wizard.relay_page.error.text()
        assert open_secret_store(paths).load() is None  # nothing half-made is kept

        wizard.relay_page.invitation_edit.setText(code)
        wizard.relay_page.invitation_edit.setFocus()
        press(Qt.Key.Key_Return)
        run(qloop, wait_until(lambda: wizard.currentId() == OnboardingWizard.ADDRESS_PAGE,
                              timeout=30))
        press(Qt.Key.Key_Return)
        assert run(qloop, starting) is True
        assert authenticated(session.bridge)
        assert load_preferences(paths.settings).relay_mode == "remote"
        assert code not in company.log_text()
    finally:
        company.kill()
