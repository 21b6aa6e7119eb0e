"""Run-time hook of the frozen app, in place of PyInstaller's ``pyi_rth_pyside6``
(colorgui.spec): it points Qt at the bundled plugins, as that hook does, but does not
import QtCore at start to relocate Qt, which cost every ``colorgui colorize`` 65 ms on
the build machine; the PySide6 wheel relocates its Qt itself when QtCore is first
imported (its embedded qt.conf)."""

import os
import sys

_qt = os.path.join(sys._MEIPASS, "PySide6", *(() if sys.platform == "win32" else ("Qt",)))
os.environ["QT_PLUGIN_PATH"] = os.path.join(_qt, "plugins")
if sys.platform == "win32":  # the plugins find the Qt DLLs beside them
    os.environ["PATH"] = sys._MEIPASS + os.pathsep + os.environ.get("PATH", "")
