"""Start the desktop app."""

from __future__ import annotations

import sys


def run(paths: list[str] | None = None, batch_inputs: list[str] | None = None,
        batch_output: str | None = None) -> int:
    """Open the window; ``paths``: photos to open, ``batch_inputs``/``batch_output``: a
    queue to show in the Batch tab."""
    from PySide6.QtWidgets import QApplication

    from colorgui.main_window import MainWindow, apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("colorgui")
    window = MainWindow()
    apply_theme(app, window.settings.theme)
    window.show()
    if paths:
        window.open_paths(paths)
    if batch_inputs:
        if batch_output:
            window.batch_tab.output_edit.setText(batch_output)
        window.batch_tab.add_paths(batch_inputs)
    return app.exec()
