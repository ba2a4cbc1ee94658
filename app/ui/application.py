"""The desktop application: one profile, its window, and the relay on this computer.

:func:`run` builds the ``QApplication`` (name, desktop file name, icon, translations, exception
hook) and runs a :class:`Session` on qasync's loop: the session opens the profile, or walks a
new user through the :class:`OnboardingWizard`, shows the :class:`MainWindow` and, once the
application quits, shuts down in order (draft saved, the bridge flushes the store and closes
the socket, the local relay stops if this app started it).

Startup problems (a locked keyring, the profile open in another window, a relay that cannot
start) end in a readable dialog and a clean exit, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import sys
from pathlib import Path
from typing import Final, TypeVar
from urllib.parse import urlsplit

import qasync
from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit, QStyleFactory, QWidget

from app.adapters.keystore import (
    KeystoreError,
    SecretStore,
    WrongPassphrase,
    open_secret_store,
)
from app.adapters.local_relay import LocalRelay, LocalRelayError
from app.adapters.preferences_file import load_preferences, save_preferences
from app.adapters.store.errors import StoreError
from app.adapters.transport import RelayConnection, TransportError
from app.config import ProfileError, ProfilePaths
from app.core.client import ClientOptions, SourdineClient
from app.core.errors import ClientError
from app.core.preferences import Preferences, PreferencesError
from app.ui.bridge import Bridge
from app.ui.collector import GuiThreadCollector
from app.ui.i18n import install_translators
from app.ui.surfaces import Surfaces
from app.ui.surfaces import install_surfaces as install
from app.ui.views.errors import install_exception_hook, show_error
from app.ui.views.main_window import MainWindow
from app.ui.views.onboarding import OnboardingChoice, OnboardingWizard

_log = logging.getLogger(__name__)
T = TypeVar("T")

APP_NAME: Final = "Sourdine"
DESKTOP_FILE_NAME: Final = "sourdine"
ICONS_DIR: Final = Path(__file__).resolve().parents[2] / "resources" / "icons"
RELAY_CHECK_TIMEOUT: Final = 6.0
"""Seconds a company relay has to answer before onboarding says it cannot be reached."""
LOCAL_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})


class NotAdmitted(Exception):
    """A company relay refused to register the new account; ``str()`` says what to do."""


_USER_ERRORS: Final = (
    ClientError, KeystoreError, StoreError, ProfileError, TransportError, LocalRelayError,
    NotAdmitted, OSError,
)
"""Failures with a sentence for the user (``str()``); anything else is a bug."""

JOIN_TIMEOUT: Final = 15.0
"""Seconds a new account has to be let in by a company relay."""
GIVE_UP_OFFLINE: Final = 3.0
"""Right after the relay answered, staying offline this long means it refused us."""


async def joined(bridge: Bridge, timeout: float = JOIN_TIMEOUT,
                 give_up: float = GIVE_UP_OFFLINE) -> bool:
    """Whether the bridge's client gets authenticated by its relay (registration included)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    offline_since: float | None = None
    while loop.time() < deadline:
        state = bridge.connection_state
        if state == "authenticated":
            return True
        now = loop.time()
        if state == "offline":
            offline_since = now if offline_since is None else offline_since
            if now - offline_since >= give_up:
                return False
        else:
            offline_since = None
        await asyncio.sleep(0.1)
    return False


class StartupError(Exception):
    """The profile cannot be opened; ``title`` and ``str()`` are what the user reads."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__(message)
        self.title = title


def relay_port(url: str) -> int | None:
    """The port of a relay URL on this computer (None when the relay is elsewhere)."""
    parts = urlsplit(url)
    if parts.hostname not in LOCAL_HOSTS:
        return None
    try:
        return parts.port or (443 if parts.scheme == "wss" else 80)
    except ValueError:
        return None


class Session(QObject):
    """One run of the application for one profile (see the module docstring).

    ``start()`` returns once the main window is shown (True) or the user cancelled the
    onboarding (False); ``shutdown()`` undoes everything. Tests drive both directly; only
    :func:`run` ties them to the application quitting.
    """

    def __init__(
        self, paths: ProfilePaths, *, relay_dir: Path | None = None,
        relay_port: int | None = None, options: ClientOptions | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.paths = paths
        self.options = options or ClientOptions()  # the core's tuning (tests: short delays)
        self._relay_dir = relay_dir  # None: the user's data directory
        self._relay_port = relay_port  # None: the port remembered by the local relay
        self._secrets: SecretStore | None = None  # the profile's keyring entry or vault
        self.preferences = Preferences()  # read from the profile's settings.toml by start()
        self.bridge: Bridge | None = None  # the open profile (set once opened or created)
        self.window: MainWindow | None = None
        self.wizard: OnboardingWizard | None = None  # shown on first run only
        self.local_relay: LocalRelay | None = None  # the relay on this computer, when used
        self.surfaces: Surfaces | None = None  # tray, badge, notifications (installed by run)
        self._relay_watch: asyncio.Task[None] | None = None  # restarts a vanished local relay
        self._creating: asyncio.Task[None] | None = None  # the onboarding's account creation
        self._closing = False  # shutdown() began

    # --- start ----------------------------------------------------------------------------------

    async def start(self) -> bool:
        """Open the profile (or onboard a new user) and show the main window.

        Returns False when the user closed the onboarding without creating an account.

        Raises:
            StartupError: the profile cannot be opened (the message says why and what to do).
        """
        self.preferences = await self._load_preferences()
        if await self._has_account():
            bridge = await self._open()
        else:
            created = await self._onboard()
            if created is None:
                return False
            bridge = created
        self.bridge = bridge
        self.window = MainWindow(bridge)
        self.window.show()
        bridge.connectionChanged.connect(self._on_connection)
        return True

    async def _load_preferences(self) -> Preferences:
        try:
            return await asyncio.to_thread(load_preferences, self.paths.settings)
        except PreferencesError as error:
            # Defaults keep the app usable; the user learns why their settings are ignored.
            show_error(None, self.tr("Settings not read"), str(error))
            return Preferences()

    async def _has_account(self) -> bool:
        if not self.paths.database.exists():
            return False
        try:
            secrets = await asyncio.to_thread((await self._store()).load)
        except KeystoreError as error:
            raise StartupError(self.tr("Your keys cannot be read"), str(error)) from None
        return secrets is not None

    async def _store(self) -> SecretStore:
        """The profile's secret store: the OS keyring, or its passphrase vault (the
        passphrase is asked until it opens the vault).

        Raises:
            StartupError: the user gave up typing the passphrase.
        """
        if self._secrets is not None:
            return self._secrets
        if not self.paths.vault.exists():
            self._secrets = open_secret_store(self.paths)
            return self._secrets
        prompt = self.tr("This profile's keys are locked with a passphrase. Type it to open "
                         "Sourdine.")
        while True:
            passphrase = await ask_passphrase(prompt)
            if passphrase is None:
                raise StartupError(self.tr("Sourdine stays locked"), self.tr(
                    "Without the passphrase, Sourdine cannot open this profile."))
            try:
                vault = open_secret_store(self.paths, passphrase=passphrase)
                await asyncio.to_thread(vault.load)
            except WrongPassphrase:
                prompt = self.tr("This passphrase does not open your keys. Check it (and "
                                 "Caps Lock) and type it again.")
                continue
            except KeystoreError as error:
                raise StartupError(self.tr("Your keys cannot be read"), str(error)) from None
            self._secrets = vault
            return vault

    async def _open(self) -> Bridge:
        try:
            client = await SourdineClient.open(self.paths, await self._store(),
                                               options=self.options)
        except KeystoreError as error:
            raise StartupError(self.tr("Your keys cannot be read"), str(error)) from None
        except (ClientError, StoreError, ProfileError) as error:
            raise StartupError(self.tr("Sourdine cannot open this profile"), str(error)) from None
        try:
            port = relay_port(client.account.relay_url)
            if self.preferences.relay_mode == "local" and port is not None:
                self.local_relay = LocalRelay(self._relay_dir, port=port)
                await self.local_relay.start(exact=True)
            bridge = Bridge(client, self.preferences, self.paths.settings)
            await bridge.start()
        except LocalRelayError as error:
            await client.close()
            raise StartupError(self.tr("The relay on this computer cannot start"), str(error)) \
                from None
        except BaseException:
            await client.close()
            raise
        return bridge

    # --- onboarding -----------------------------------------------------------------------------

    async def _onboard(self) -> Bridge | None:
        wizard = OnboardingWizard()
        self.wizard = wizard
        finished: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        wizard.finished.connect(lambda code: settle(finished, code))
        wizard.accountRequested.connect(self._account_requested)
        wizard.show()
        try:
            await finished
        finally:
            if self._creating is not None and not self._creating.done():
                await asyncio.wait({self._creating})
            wizard.deleteLater()
            self.wizard = None
        return self.bridge

    def _account_requested(self, choice: OnboardingChoice) -> None:
        if self._creating is not None and not self._creating.done():
            return
        self._creating = asyncio.ensure_future(self._create(choice))

    async def _create(self, choice: OnboardingChoice) -> None:
        wizard = self.wizard
        try:
            bridge = await self._create_account(choice)
        except _USER_ERRORS as error:
            _log.info("account not created: %s", type(error).__name__)
            if wizard is not None:
                wizard.show_failure(self._failure_text(error))
            return
        self.bridge = bridge
        if wizard is not None:
            wizard.show_address(bridge.address, bridge.invitation_link)

    def _failure_text(self, error: BaseException) -> str:
        if isinstance(error, TransportError):
            return self.tr(
                "Sourdine cannot reach this relay. Check its address (and your network), then "
                "try again."
            )
        return str(error)

    async def _create_account(self, choice: OnboardingChoice) -> Bridge:
        options = self.options
        if choice.relay_mode == "local":
            self.local_relay = self.local_relay or LocalRelay(self._relay_dir, self._relay_port)
            url = (await self.local_relay.start()).url
        else:
            url = choice.relay_url or ""
            await self._check_reachable(url)
            if choice.invitation:
                options = dataclasses.replace(options, invitation=choice.invitation)
        store = await self._store()
        client = await SourdineClient.create(
            self.paths, store, display_name=choice.display_name, relay_url=url,
            options=options,
        )
        preferences = self.preferences.replace(relay_mode=choice.relay_mode)
        try:
            bridge = Bridge(client, preferences, self.paths.settings)
            await bridge.start()
        except BaseException:
            await client.close()
            raise
        if choice.relay_mode == "remote" and not await joined(bridge):
            # Reachable, but it did not let us in (most often an invitation code): the new
            # account never connected, so nothing is lost by forgetting it for another try.
            await bridge.close()
            await asyncio.to_thread(store.delete)
            raise NotAdmitted(self.tr(
                "This relay did not let your new account in. If your company gave you an "
                "invitation code, check it (or ask for a new one) and try again."
            ))
        self.preferences = preferences
        try:
            await asyncio.to_thread(save_preferences, self.paths.settings, preferences)
        except PreferencesError as error:  # a broken settings file stays as it is
            _log.warning("settings not saved: %s", type(error).__name__)
        return bridge

    async def _check_reachable(self, url: str) -> None:
        """Raises: TransportError: nothing answers as a relay at ``url``."""
        connection = RelayConnection(url, ssl=self.options.ssl, settings=self.options.settings)
        try:
            await connection.wait_ready(timeout=RELAY_CHECK_TIMEOUT)
        except TimeoutError:
            raise TransportError(f"{url} did not answer.") from None
        finally:
            await connection.close()

    # --- while running --------------------------------------------------------------------------

    def _on_connection(self, state: str) -> None:
        """The own connection dropped: if the local relay we used went away (the app that
        started it quit), start it again; the client reconnects by itself."""
        if (state not in ("offline", "connecting") or self.local_relay is None
                or self._closing):
            return
        if self._relay_watch is None or self._relay_watch.done():
            self._relay_watch = asyncio.ensure_future(self._revive_relay())

    async def _revive_relay(self) -> None:
        relay = self.local_relay
        if relay is None:
            return
        try:
            await relay.ensure_running()
        except LocalRelayError as error:
            _log.warning("the local relay did not start again: %s", error)

    # --- shutdown -------------------------------------------------------------------------------

    async def shutdown(self) -> None:
        """Save the draft, close the profile (store flushed, socket closed), stop the local
        relay if this app started it. Idempotent."""
        self._closing = True  # the connection drops now on purpose: no relay revival
        if self._creating is not None and not self._creating.done():
            await asyncio.wait({self._creating})
        surfaces, self.surfaces = self.surfaces, None
        if surfaces is not None:
            await surfaces.close()
        window, self.window = self.window, None
        if window is not None:
            await window.save_state()
            window.hide()
            window.deleteLater()
        if self._relay_watch is not None:
            self._relay_watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relay_watch
        bridge, self.bridge = self.bridge, None
        if bridge is not None:
            await bridge.close()
        relay, self.local_relay = self.local_relay, None
        if relay is not None:
            await relay.stop()


# --- the QApplication -------------------------------------------------------------------------


def create_application(argv: list[str]) -> QApplication:
    """The QApplication with Sourdine's name, desktop file name and icon."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(argv)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName(DESKTOP_FILE_NAME)
    icon_path = ICONS_DIR / "sourdine.svg"
    if icon_path.exists():
        app.setWindowIcon(QIcon(str(icon_path)))
    return app


def apply_appearance(app: QApplication, appearance: str) -> None:
    """Light, dark or the system's look ("system"). The platform's colour scheme is asked
    first; where it cannot switch (no platform theme), Fusion's palette stands in, so every
    colour still comes from palette roles."""
    hints = app.styleHints()
    if appearance == "system":
        hints.unsetColorScheme()
        app.setPalette(_SYSTEM_PALETTE.get("palette", app.palette()))
        return
    _SYSTEM_PALETTE.setdefault("palette", app.palette())
    scheme = Qt.ColorScheme.Dark if appearance == "dark" else Qt.ColorScheme.Light
    hints.setColorScheme(scheme)
    if hints.colorScheme() != scheme:
        app.setPalette(dark_palette() if appearance == "dark" else
                       QStyleFactory.create("Fusion").standardPalette())


_SYSTEM_PALETTE: dict[str, QPalette] = {}  # the palette before a light/dark choice


def dark_palette() -> QPalette:
    """A dark palette for platforms that cannot switch their colour scheme."""
    palette = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#2b2b2b", QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1e1e1e", QPalette.ColorRole.AlternateBase: "#333333",
        QPalette.ColorRole.ToolTipBase: "#333333", QPalette.ColorRole.ToolTipText: "#e6e6e6",
        QPalette.ColorRole.PlaceholderText: "#9a9a9a", QPalette.ColorRole.Text: "#e6e6e6",
        QPalette.ColorRole.Button: "#353535", QPalette.ColorRole.ButtonText: "#e6e6e6",
        QPalette.ColorRole.BrightText: "#ff6b6b", QPalette.ColorRole.Highlight: "#3d7fcf",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.Link: "#7fb3ff",
        QPalette.ColorRole.Light: "#505050", QPalette.ColorRole.Midlight: "#404040",
        QPalette.ColorRole.Mid: "#303030", QPalette.ColorRole.Dark: "#202020",
        QPalette.ColorRole.Shadow: "#000000",
    }
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    return palette


def install_surfaces(session: Session) -> None:
    """Tray icon, title count, badge, notifications: their Quit quits the application, a
    clicked notification opens its conversation."""
    if session.bridge is None or session.window is None:
        return
    window = session.window
    surfaces = install(session.bridge, window)
    surfaces.quitRequested.connect(QApplication.quit)
    surfaces.openConversation.connect(window.show_conversation)
    session.surfaces = surfaces


async def ask_passphrase(prompt: str) -> str | None:
    """Ask for a passphrase in a window-modal box without blocking the loop; None when the
    user cancels."""
    dialog = QInputDialog()
    dialog.setWindowTitle(QCoreApplication.translate("Session", "Unlock Sourdine"))
    dialog.setLabelText(prompt)
    dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
    dialog.setAccessibleName(QCoreApplication.translate("Session", "Unlock Sourdine"))
    dialog.open()
    dialog.activateWindow()
    await wait_closed(dialog)
    accepted = dialog.result() == QInputDialog.DialogCode.Accepted
    text = dialog.textValue()
    dialog.deleteLater()
    return text if accepted else None


def settle(future: asyncio.Future[T], value: T) -> None:
    """Give ``future`` its result unless it already has one (signals may fire twice)."""
    if not future.done():
        future.set_result(value)


async def wait_closed(widget: QWidget) -> None:
    """Wait until a dialog is closed (it emits ``finished``)."""
    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    widget.finished.connect(lambda *_: settle(closed, None))  # type: ignore[attr-defined]
    await closed


async def run_session(app: QApplication, session: Session, quitting: asyncio.Event) -> int:
    """Start ``session`` and wait until ``quitting`` is set; the exit status (1 after a
    startup error, shown in a dialog; 0 when the user cancelled the onboarding)."""
    app.setQuitOnLastWindowClosed(False)  # the wizard closing is not quitting the app
    try:
        started = await session.start()
    except StartupError as error:
        await wait_closed(show_error(None, error.title, str(error)))
        return 1
    if not started:
        return 0
    app.setQuitOnLastWindowClosed(True)
    apply_appearance(app, session.preferences.appearance)
    if session.bridge is not None:
        session.bridge.preferencesChanged.connect(
            lambda prefs: apply_appearance(app, prefs.appearance))
    install_surfaces(session)
    await quitting.wait()
    return 0


def _quit_on_signals(app: QApplication) -> QTimer:
    """Ctrl+C or SIGTERM quit like the Quit menu item (the shutdown still runs). Python only
    sees a signal when it runs code, so a timer lets it run a few times a second."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: app.quit())
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(250)
    return timer


def run(
    paths: ProfilePaths, *, relay_port: int | None = None, argv: list[str] | None = None
) -> int:
    """Run the desktop application for ``paths``' profile until it quits; the exit status."""
    app = create_application(argv if argv is not None else sys.argv)
    install_exception_hook(APP_NAME)
    try:
        language = load_preferences(paths.settings).language
    except PreferencesError:
        language = "system"  # the session reports the broken file once its loop runs
    install_translators(app, language)
    _quit_on_signals(app)
    collector = GuiThreadCollector(app)  # Qt objects are only ever freed on this thread
    collector.start()
    session = Session(paths, relay_port=relay_port)
    quitting = asyncio.Event()
    app.aboutToQuit.connect(quitting.set)
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        # Quitting stops Qt's loop (and qasync's with it) inside the first run; the orderly
        # shutdown then runs the loop again.
        try:
            status = runner.run(run_session(app, session, quitting))
        except RuntimeError as error:  # the loop stopped before startup ended (quit early)
            _log.info("stopped during startup: %s", error)
            status = 0
        runner.run(session.shutdown())
    collector.stop()
    return status
