"""The French translation is complete and works.

- Every string lupdate extracts from the code *now* has a finished, non-empty French
  translation in resources/translations/sourdine_fr.ts (a new string without one fails
  here, with the list of what is missing: run ``make update-translations`` and translate).
- Every translation call has a literal text, so lupdate can extract it at all (a helper like
  ``_tr(text)`` hides its strings from lupdate and from this test).
- The compiled catalogue turns real strings of the interface into French, Qt's own
  (standard buttons) included; English needs no catalogue.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale
from PySide6.QtWidgets import QApplication

from app.ui.i18n import TRANSLATIONS_DIR, install_translators, resolve_language

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
FRENCH_TS = TRANSLATIONS_DIR / "sourdine_fr.ts"

Key = tuple[str, str, str]  # context, source, disambiguation comment


def sources() -> list[Path]:
    return sorted((ROOT / "app").rglob("*.py"))


def messages(ts: Path) -> dict[Key, ET.Element]:
    """Each message of a .ts file by its key (what Qt looks a translation up by)."""
    found = {}
    for context in ET.parse(ts).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            key = (name, message.findtext("source") or "", message.findtext("comment") or "")
            found[key] = message
    return found


def unfinished(message: ET.Element) -> bool:
    translation = message.find("translation")
    if translation is None or translation.get("type") in {"unfinished", "vanished", "obsolete"}:
        return True
    forms = translation.findall("numerusform") if message.get("numerus") == "yes" else [
        translation]
    return not forms or any(not (form.text or "").strip() for form in forms)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> dict[Key, ET.Element]:
    """The strings of the current code, as pyside6-lupdate extracts them."""
    ts = tmp_path_factory.mktemp("lupdate") / "current.ts"
    subprocess.run(
        [str(BIN / "pyside6-lupdate"), "-silent", "-locations", "none", "-target-language",
         "fr", *map(str, sources()), "-ts", str(ts)],
        check=True, capture_output=True, text=True, timeout=120,
    )
    return messages(ts)


def test_every_string_of_the_code_has_a_french_translation(
    extracted: dict[Key, ET.Element],
) -> None:
    french = messages(FRENCH_TS)
    missing = [key for key in extracted if key not in french or unfinished(french[key])]
    assert len(extracted) > 100  # lupdate found the interface's strings at all
    assert not missing, (
        f"{len(missing)} string(s) without a French translation in {FRENCH_TS.name} "
        "(run `make update-translations`, then translate them):\n"
        + "\n".join(f"  [{ctx}] {source!r}" + (f" ({comment})" if comment else "")
                    for ctx, source, comment in missing)
    )


def test_plural_strings_have_both_french_forms(extracted: dict[Key, ET.Element]) -> None:
    french = messages(FRENCH_TS)
    for key, message in extracted.items():
        if message.get("numerus") == "yes":
            forms = french[key].findall("translation/numerusform")
            assert len(forms) == 2 and all("%n" in (f.text or "") for f in forms), key


TRANSLATE_CALLS = {"translate": 1, "tr": 0, "QT_TR_NOOP": 0, "QT_TRANSLATE_NOOP": 1}
"""Translation functions and the position of their text argument."""


def non_literal_translations(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        name = function.attr if isinstance(function, ast.Attribute) else getattr(
            function, "id", "")
        if name not in TRANSLATE_CALLS:
            continue
        if name == "translate" and not (isinstance(function, ast.Attribute) and isinstance(
                function.value, ast.Name) and function.value.id.endswith("Application")):
            continue  # QPainter.translate and friends
        if name == "tr" and not (isinstance(function, ast.Attribute) and isinstance(
                function.value, ast.Name) and function.value.id == "self"):
            continue
        position = TRANSLATE_CALLS[name]
        arguments = node.args
        text = arguments[position] if len(arguments) > position else None
        if not (isinstance(text, ast.Constant) and isinstance(text.value, str)):
            yield f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}"


def test_every_translation_call_has_a_literal_text() -> None:
    offending = [line for path in sources() for line in non_literal_translations(path)]
    assert not offending, (
        "lupdate cannot extract these (pass the text literally, or mark it with "
        "QT_TRANSLATE_NOOP where it is written):\n" + "\n".join(offending)
    )


@pytest.fixture
def compiled(tmp_path: Path, qapp: QApplication) -> Iterator[Path]:
    """sourdine_fr.qm compiled from the .ts (as `make translations` does), English restored
    after the test."""
    subprocess.run(
        [str(BIN / "pyside6-lrelease"), "-silent", str(FRENCH_TS), "-qm",
         str(tmp_path / "sourdine_fr.qm")],
        check=True, capture_output=True, text=True, timeout=60,
    )
    locale = QLocale()
    yield tmp_path
    install_translators(qapp, "en")
    QLocale.setDefault(locale)


def translate(context: str, text: str, comment: str | None = None, n: int = -1) -> str:
    return QCoreApplication.translate(context, text, comment, n)


def test_the_compiled_catalogue_speaks_french(qapp: QApplication, compiled: Path) -> None:
    assert install_translators(qapp, "fr", compiled) == "fr"
    assert translate("Tray", "Open Sourdine") == "Ouvrir Sourdine"
    assert translate("NotificationSurface", "New message") == "Nouveau message"
    assert translate("Tray", "Sourdine — %n unread", "tray tooltip", 1) == "Sourdine — 1 non lu"
    assert translate("Tray", "Sourdine — %n unread", "tray tooltip", 4) == "Sourdine — 4 non lus"
    assert translate("Tray", "Sourdine — off duty") == "Sourdine — hors service"
    # Qt's own catalogue: the standard buttons of dialogs.
    assert translate("QPlatformTheme", "Cancel") == "Annuler"
    assert QLocale().language() == QLocale.Language.French

    assert install_translators(qapp, "en", compiled) == "en"  # switching back removes them
    assert translate("Tray", "Open Sourdine") == "Open Sourdine"
    assert translate("QPlatformTheme", "Cancel") == "Cancel"


def test_a_missing_catalogue_leaves_english(qapp: QApplication, compiled: Path) -> None:
    empty = compiled / "empty"
    empty.mkdir()
    assert install_translators(qapp, "fr", empty) == "fr"
    assert translate("Tray", "Open Sourdine") == "Open Sourdine"  # ours: none, English
    assert translate("QPlatformTheme", "Cancel") == "Annuler"  # Qt's own still French


def test_languages_the_interface_does_not_speak_fall_back_to_english() -> None:
    assert resolve_language("fr") == "fr"
    assert resolve_language("en") == "en"
    assert resolve_language("de") == "en"
    assert resolve_language("system") in {"en", "fr"}
