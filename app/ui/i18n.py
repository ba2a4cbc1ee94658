"""The user interface's language: Qt's own strings and ours, from compiled ``.qm`` catalogues.

Sources are English; ``resources/translations/sourdine_<language>.ts`` holds a language's
translations and ``make translations`` compiles them to ``.qm`` next to it (``make
update-translations`` refreshes the ``.ts`` files from the code with ``pyside6-lupdate``).
Qt's own catalogue (``qtbase_<language>.qm``, shipped with PySide6) translates the standard
dialogs' buttons and the text-edit context menus.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

_log = logging.getLogger(__name__)

TRANSLATIONS_DIR: Final = Path(__file__).resolve().parents[2] / "resources" / "translations"
"""Where ``sourdine_<language>.ts`` and the compiled ``.qm`` files live."""

SOURCE_LANGUAGE: Final = "en"
LANGUAGES: Final = ("en", "fr")
"""The languages the interface speaks (English is the source language)."""

_installed: list[QTranslator] = []
"""The translators the last call installed (removed by the next one)."""


def resolve_language(language: str) -> str:
    """The language to use for a preference value: ``"system"`` follows the system locale;
    anything the interface does not speak falls back to English."""
    if language == "system":
        language = QLocale.system().name().split("_")[0]
    return language if language in LANGUAGES else SOURCE_LANGUAGE


def install_translators(
    app: QCoreApplication, language: str, directory: Path = TRANSLATIONS_DIR
) -> str:
    """Install the translators for ``language`` ("system", "en" or "fr") on ``app``, replacing
    those a previous call installed, and return the language now used. Our catalogue is read
    from ``directory`` (``sourdine_<language>.qm``), Qt's from its own translations folder.

    A missing catalogue is not an error (the interface then shows English, and the reason is
    logged): a build without ``make translations`` must still start.
    """
    used = resolve_language(language)
    for old in _installed:
        app.removeTranslator(old)
    _installed.clear()
    if used != SOURCE_LANGUAGE:
        qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        for name, folder in ((f"qtbase_{used}", qt_dir), (f"sourdine_{used}", str(directory))):
            translator = QTranslator(app)
            if translator.load(name, folder):
                app.installTranslator(translator)
                _installed.append(translator)
            else:
                _log.warning("no %s.qm in %s: those strings stay in English", name, folder)
    # Numbers and dates: the system's conventions, unless a language was chosen explicitly.
    QLocale.setDefault(QLocale.system() if language == "system" else QLocale(used))
    return used
