"""Start the desktop app."""

from __future__ import annotations

import sys


def run(paths: list[str] | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    from colorgui.main_window import MainWindow, apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("colorgui")
    window = MainWindow()
    apply_theme(app, window.settings.theme)
    window.show()
    if paths:
        window.open_paths(paths)
    return app.exec()
