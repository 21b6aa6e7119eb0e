"""Start the desktop app."""

from __future__ import annotations

import sys


def run(paths: list[str] | None = None, batch_inputs: list[str] | None = None,
        batch_output: str | None = None, self_test: bool = False) -> int:
    """Open the window; ``paths``: photos to open, ``batch_inputs``/``batch_output``: a
    queue to show in the Batch tab. ``self_test``: close again once the model has loaded,
    exiting 0, or 1 if it could not load (checks an installed or frozen app)."""
    from PySide6.QtCore import QObject, Slot
    from PySide6.QtWidgets import QApplication

    from colorgui.main_window import MainWindow, app_icon, apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("colorgui")
    app.setDesktopFileName("io.github.colorgui.Colorgui")  # matches the .desktop entry
    app.setWindowIcon(app_icon())
    window = MainWindow()
    apply_theme(app, window.settings.theme)
    window.show()
    if paths:
        window.open_paths(paths)
    if batch_inputs:
        if batch_output:
            window.batch_tab.output_edit.setText(batch_output)
        window.batch_tab.add_paths(batch_inputs)
    if self_test:
        class SelfTest(QObject):  # a GUI-thread receiver, so the slots run on this thread
            @Slot(str, str, str)
            def loaded(self, path, description, device):
                print(f"self-test passed: window shown, model loaded: {description}")
                window.close()
                app.exit(0)

            @Slot(str, str)
            def failed(self, path, reason):
                print(f"self-test failed: {reason}", file=sys.stderr)
                window.close()
                app.exit(1)

        window.start_worker()
        check = SelfTest(window)
        window.host.worker.modelLoaded.connect(check.loaded)
        window.host.worker.modelFailed.connect(check.failed)
    return app.exec()
