"""The app's icons, from ``resources/icons`` (SVG, rendered by Qt at any size)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from PySide6.QtGui import QIcon

ICONS_DIR: Final = Path(__file__).resolve().parents[3] / "resources" / "icons"
APP_ICON: Final = ICONS_DIR / "sourdine.svg"
TRAY_ICONS: Final = {"normal": ICONS_DIR / "tray.svg", "unread": ICONS_DIR / "tray-unread.svg"}
"""The tray's icon for each state key: plain, or with the unread dot."""


def tray_icon(key: str) -> QIcon:
    """The tray icon for ``key`` ("normal" or "unread")."""
    return QIcon(str(TRAY_ICONS[key]))
