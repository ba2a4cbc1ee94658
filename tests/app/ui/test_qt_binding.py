"""The Qt binding in use does not corrupt the interpreter when Qt signals carry bools.

PySide6 6.12.0 released a reference to ``True``/``False`` on every bool signal delivered to a
Python slot (every ``clicked(bool)``, ``toggled(bool)``...), so a long session aborted with
"Fatal Python error: bool_dealloc". pyproject.toml excludes it; this guards the pin.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

PROGRAM = textwrap.dedent(
    """
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QApplication, QCheckBox

    app = QApplication([])
    received = []

    class Emitter(QObject):
        flag = Signal(bool)

    emitter = Emitter()
    emitter.flag.connect(received.append)
    box = QCheckBox()
    box.toggled.connect(received.append)
    for _ in range(2000):
        emitter.flag.emit(True)
        emitter.flag.emit(False)
        box.toggle()
    print(len(received))
    """
)


def test_bool_signals_to_python_slots_keep_the_interpreter_alive() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", PROGRAM], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "6000"
