"""The unread count on the app's taskbar or dock button.

Linux: the ``com.canonical.Unity.LauncherEntry.Update`` D-Bus signal (signature ``sa{sv}``)
on the session bus, which KDE Plasma's task manager, Dash to Dock/Dash to Panel, Unity and
Plank read. Its first argument names the app by its desktop file
(``application://<desktop id>.desktop``), so the desktop id must match
``QGuiApplication.setDesktopFileName`` and the installed ``.desktop`` file. The signal is sent
with jeepney, which writes the exact D-Bus types (``count`` as int64, ``count-visible`` as a
boolean). Nobody answers a signal: when no dock listens, nothing happens, and a dock that
starts later learns the count only when it is sent again (the caller re-sends when the
``com.canonical.Unity`` name appears).

Windows: ``ITaskbarList3::SetOverlayIcon`` through ctypes (COM vtable calls), on the window's
taskbar button. Written from the Windows SDK documentation and NOT run here (no Windows in
this environment).

Neither ever raises: a badge is a courtesy, a failure to show one is logged once and the app
goes on.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable
from typing import Any, Final, Protocol

_log = logging.getLogger(__name__)

LAUNCHER_ENTRY_INTERFACE: Final = "com.canonical.Unity.LauncherEntry"
LAUNCHER_ENTRY_PATH: Final = "/im/sourdine/LauncherEntry"
"""Any object path will do (docks match on the interface and the app URI)."""
UNITY_SERVICE: Final = "com.canonical.Unity"
"""The bus name a Unity-compatible dock owns; send the badge again when it appears."""


class _SignalSender(Protocol):
    def send(self, message: Any) -> None: ...
    def close(self) -> None: ...


def _session_bus() -> _SignalSender:
    from jeepney.io.blocking import open_dbus_connection

    connection: _SignalSender = open_dbus_connection(bus="SESSION")
    return connection


class LauncherEntry:
    """Sends the unread count of the app ``desktop_id`` to Unity-compatible docks.

    ``connect`` opens the session bus (jeepney's blocking connection by default); it is
    called lazily, and again after a failure, so a bus that appears later is used.
    """

    def __init__(
        self, desktop_id: str, connect: Callable[[], _SignalSender] = _session_bus,
    ) -> None:
        self.app_uri = f"application://{desktop_id}.desktop"
        self._connect = connect
        self._connection: _SignalSender | None = None  # None: not open (or broken)
        self._failure_logged = False  # log the first failure only, not one per message

    def update(self, count: int) -> bool:
        """Show ``count`` on the launcher (hidden when 0) and return whether it was sent.

        Only ``count`` and ``count-visible`` are sent: the window's own "demands attention"
        state (``QApplication.alert``) is left to the window manager, not overridden here.
        """
        from jeepney import DBusAddress, new_signal

        properties = {"count": ("x", max(count, 0)), "count-visible": ("b", count > 0)}
        message = new_signal(
            DBusAddress(LAUNCHER_ENTRY_PATH, interface=LAUNCHER_ENTRY_INTERFACE),
            "Update", "sa{sv}", (self.app_uri, properties),
        )
        try:
            if self._connection is None:
                self._connection = self._connect()
            self._connection.send(message)
        except (OSError, KeyError, ValueError, RuntimeError) as error:
            # KeyError: no DBUS_SESSION_BUS_ADDRESS; OSError: no bus or it went away.
            self._drop()
            if not self._failure_logged:
                _log.info("no taskbar badge: the session bus is not reachable (%s)",
                          type(error).__name__)
                self._failure_logged = True
            return False
        self._failure_logged = False
        return True

    def close(self) -> None:
        """Close the bus connection (a later update opens it again)."""
        self._drop()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.close()


class TaskbarOverlay:
    """Windows: an overlay icon on a window's taskbar button (``ITaskbarList3``).

    [untested: written from the Windows SDK documentation, never run here.] The caller passes
    the window handle and an ``HICON`` it owns (Qt: ``QImage.toHICON()``), or 0 to remove the
    overlay. Apply it again when Explorer restarts (the ``TaskbarButtonCreated`` message).
    """

    _CLSID_TASKBAR_LIST: Final = "{56FDF344-FD6D-11d0-958A-006097C9A090}"
    _IID_TASKBAR_LIST3: Final = "{EA1AFB91-9E28-4B86-90E9-9E9F8A5EEFAF}"
    _HR_INIT: Final = 3  # vtable slots: IUnknown (0-2), ITaskbarList (3-7), ...
    _SET_OVERLAY_ICON: Final = 18
    _RELEASE: Final = 2

    def __init__(self) -> None:
        self._taskbar: Any = None  # the ITaskbarList3 pointer once created
        self._unavailable = sys.platform != "win32"

    def set_overlay(self, hwnd: int, hicon: int, description: str) -> bool:
        """Show ``hicon`` over the taskbar button of ``hwnd`` (0 removes it); whether it worked."""
        if self._unavailable:
            return False
        try:
            import ctypes  # Windows only

            taskbar = self._taskbar or self._create(ctypes)
            method = self._method(ctypes, taskbar, self._SET_OVERLAY_ICON, ctypes.c_void_p,
                                  ctypes.c_void_p, ctypes.c_wchar_p)
            result = method(taskbar, hwnd, hicon or None, description)
        except (OSError, AttributeError, ValueError) as error:
            _log.info("no taskbar overlay: %s", type(error).__name__)
            self._unavailable = True
            return False
        return int(result) >= 0

    def close(self) -> None:
        if self._taskbar is not None:
            import ctypes  # Windows only

            self._method(ctypes, self._taskbar, self._RELEASE)(self._taskbar)
            self._taskbar = None

    def _create(self, ctypes: Any) -> Any:
        ole32 = ctypes.oledll.ole32
        ole32.CoInitialize(None)
        clsid, iid = ctypes.create_string_buffer(16), ctypes.create_string_buffer(16)
        ole32.CLSIDFromString(self._CLSID_TASKBAR_LIST, clsid)
        ole32.IIDFromString(self._IID_TASKBAR_LIST3, iid)
        pointer = ctypes.c_void_p()
        ole32.CoCreateInstance(clsid, None, 1, iid, ctypes.byref(pointer))  # CLSCTX_INPROC_SERVER
        self._method(ctypes, pointer, self._HR_INIT)(pointer)
        self._taskbar = pointer
        return pointer

    @staticmethod
    def _method(ctypes: Any, pointer: Any, slot: int, *arguments: Any) -> Any:
        vtable = ctypes.cast(pointer, ctypes.POINTER(ctypes.POINTER(ctypes.c_void_p)))[0]
        prototype = ctypes.WINFUNCTYPE(ctypes.c_long, ctypes.c_void_p, *arguments)
        return prototype(vtable[slot])
