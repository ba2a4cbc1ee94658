"""Screenshots of widgets as PNG files a person can look at (build/screenshots/, kept by CI).

``widget.grab()`` renders the widget itself, so it works on Qt's offscreen platform and under
Xvfb alike (no window manager or compositor needed). The checks below say whether a picture
shows something: a real size, more than one colour, content in a region.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QWidget

SCREENSHOTS = Path(__file__).resolve().parents[3] / "build" / "screenshots"


class ScreenshotError(RuntimeError):
    """A screenshot could not be written."""


def save_screenshot(widget: QWidget, name: str, folder: Path = SCREENSHOTS) -> Path:
    """Render ``widget`` (laid out and painted now) to ``folder/<name>.png``; its path.

    Raises:
        ScreenshotError: the file could not be written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    if not widget.grab().toImage().save(str(path), "PNG"):
        raise ScreenshotError(f"could not write {path}")
    return path


@dataclass(frozen=True)
class Picture:
    """A saved screenshot, read back from its file, with a few measures of its content."""

    image: QImage

    @classmethod
    def load(cls, path: Path) -> Picture:
        image = QImage(str(path))
        if image.isNull():
            raise ScreenshotError(f"{path} is not a readable image")
        return cls(image.convertToFormat(QImage.Format.Format_RGB32))

    def colours(self, area: QRect | None = None, step: int = 2) -> Counter[int]:
        """How often each colour occurs in ``area`` (every ``step``-th pixel each way)."""
        area = area or self.image.rect()
        found: Counter[int] = Counter()
        for y in range(area.top(), area.bottom() + 1, step):
            for x in range(area.left(), area.right() + 1, step):
                found[self.image.pixel(x, y)] += 1
        return found

    def share_unlike(self, background: QColor, area: QRect, step: int = 2) -> float:
        """The share of ``area`` whose pixels are clearly not ``background`` (0 to 1)."""
        counts = self.colours(area, step)
        total = sum(counts.values())
        near = sum(n for rgb, n in counts.items() if _distance(QColor(rgb), background) < 24)
        return 1 - near / total if total else 0.0

    def mean_lightness(self) -> float:
        """Average lightness, 0 (black) to 255 (white)."""
        counts = self.colours(step=4)
        total = sum(counts.values())
        return sum(QColor(rgb).lightness() * n for rgb, n in counts.items()) / total


def _distance(a: QColor, b: QColor) -> int:
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue())
