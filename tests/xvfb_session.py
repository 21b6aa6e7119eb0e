"""The harness of the tests that run the real app on a real X server (Xvfb).

A test prepares a folder (``write_settings`` points the app at a model there), then
``run_under_xvfb`` starts the test's own file as a script under ``xvfb-run``; the script
walks the window through a ``Session`` (``drive``), each step started by the reply to the
one before, and ``assert_clean`` checks how it ended. ``show_window``, ``wait_for`` and
``save_grab`` serve the screenshots for docs/ (scripts/screenshots.py and the tests' own).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, QObject, QTimer, Slot
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[1]
# what Qt prints when something is wrong: a widget, a timer or a QObject used from the
# wrong thread, a painter or layout misused, and any Python error or crash
WARNINGS = ("QObject:", "QObject::", "Cannot create children", "Timers cannot",
            "QThread: Destroyed", "QBasicTimer", "QSocketNotifier", "Segmentation fault",
            "QPainter::", "QWidget::", "QLayout:", "Traceback")


def write_settings(work: Path, checkpoint: Path, **more) -> None:
    """Settings in ``work/config`` (where ``drive`` points the app) that use ``checkpoint``
    on the CPU and save beside each photo; ``more``: other settings, by name."""
    from colorgui.settings import Settings

    settings = Settings(work / "config" / "colorgui.ini")
    settings.model_path, settings.device, settings.output_dir = str(checkpoint), "cpu", ""
    for name, value in more.items():
        setattr(settings, name, value)
    settings.sync()


class Session(QObject):
    """A walk through the real window on ``work``: each step runs in a slot on the GUI
    thread, started by the reply to the one before. A subclass takes the first step in
    ``begin`` and ends with ``quit`` (or ``quit_when_status_clears``)."""

    def __init__(self, work: Path):
        super().__init__()
        self.work = work
        self.window = None  # the MainWindow, once shown

    def say(self, text: str) -> None:
        print(f"session: {text}", flush=True)

    def fail(self, text: str, code: int = 1) -> None:
        print(f"session failed: {text}", file=sys.stderr, flush=True)
        QApplication.instance().exit(code)

    @Slot()
    def start(self) -> None:
        from colorgui.main_window import MainWindow

        self.window = w = next(t for t in QApplication.instance().topLevelWidgets()
                               if isinstance(t, MainWindow))
        w.error = lambda title, reason: self.fail(f"{title}: {reason}")  # no modal dialog
        w.start_worker()
        w.host.modelFailed.connect(self.model_failed)
        self.begin(w)

    def begin(self, window) -> None:
        raise NotImplementedError

    @Slot(str, str)
    def model_failed(self, path: str, reason: str) -> None:
        self.fail(f"the model did not load: {reason}")

    def quit_when_status_clears(self) -> None:
        """Quit, but only once the status bar's timer has taken its message away (the
        app lives on that long)."""
        bar = self.window.statusBar()
        if bar.currentMessage():
            bar.messageChanged.connect(self.message_changed)
        else:
            self.quit()

    @Slot(str)
    def message_changed(self, text: str) -> None:
        if not text:
            self.quit()

    def quit(self) -> None:
        self.say("quitting")
        self.window.close()  # the last window: run() returns app.exec()'s 0


def drive(session: Session, timeout_ms: int) -> int:
    """Run the real app (``colorgui.app.run``) on ``session.work``'s settings, ``session``
    taking over once the window shows; it exits 2 after ``timeout_ms``. Its exit code."""
    from colorgui import app as colorgui_app

    os.environ["COLORGUI_CONFIG_DIR"] = str(session.work / "config")
    app = QApplication.instance() or QApplication(sys.argv[:1])  # before the timers; run() uses it
    QTimer.singleShot(0, session.start)
    QTimer.singleShot(timeout_ms, app, lambda: session.fail("timed out", 2))
    code = colorgui_app.run()
    session.say(f"exit {code}")
    return code


def run_under_xvfb(script: Path, work: Path, screen: str, timeout: float,
                   *args) -> tuple[subprocess.CompletedProcess, str]:
    """Run ``python script work *args`` under ``xvfb-run`` on a ``screen`` ("WxH")
    screen; skips the test where ``xvfb-run`` is missing. The finished process, and the
    ends of its output for an assertion's message."""
    import pytest

    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None:
        pytest.skip("needs xvfb-run (apt-get install xvfb xauth)")
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(ROOT),
           "OMP_NUM_THREADS": "1", "PYTHONFAULTHANDLER": "1"}
    run = subprocess.run([xvfb_run, "-a", "-s", f"-screen 0 {screen}x24", sys.executable,
                          str(script), str(work), *map(str, args)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=timeout)
    return run, f"stdout:\n{run.stdout[-3000:]}\nstderr:\n{run.stderr[-5000:]}"


def assert_clean(run: subprocess.CompletedProcess, log: str, *said: str) -> None:
    """The session said each of ``said`` and walked to its end, the app exited 0, and Qt
    printed no warning."""
    assert run.returncode == 0, log
    for text in (*said, "session: quitting", "session: exit 0"):
        assert text in run.stdout, f"the session never said {text!r}\n{log}"
    assert not [w for w in WARNINGS if w in run.stderr], log


def show_window(width: int = 1400, height: int = 820):
    """The main window, themed and shown as the app shows it, at ``width`` x ``height``:
    (the application, the window)."""
    from colorgui.main_window import MainWindow, apply_theme

    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    apply_theme(app, window.settings.theme)
    window.resize(width, height)
    window.show()
    return app, window


def wait_for(signal, ms: int = 600_000) -> None:
    """Run the event loop until ``signal`` fires, or ``ms`` pass (a real model on a CPU
    takes minutes over a batch or a fine-tune)."""
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def save_grab(widget, path: Path) -> None:
    """Save what ``widget`` shows to ``path``, once the events that paint it are done."""
    for _ in range(5):
        QApplication.instance().processEvents()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not widget.grab().save(str(path)):
        raise OSError(f"could not write {path}")
