"""The real app on a real X server (Xvfb, no window manager), as a user would run it.

The offscreen tests never saw Save crash the app (a segfault some seconds after writing,
with "QObject: Cannot create children for a parent that is in a different thread" on
stderr). This test starts ``colorgui.app.run`` in a subprocess under ``xvfb-run`` and
drives the window through a session (open a photo, Save, Save As, a small batch, a
one-epoch fine-tune, quit), each step started by the reply to the one before. It passes
if the app exits 0 and Qt printed no threading warning. Needs ``xvfb-run`` (Debian:
``apt-get install xvfb xauth``) and the xcb libraries Qt's X11 plugin loads (README).

Run by hand: ``xvfb-run -a python tests/test_xvfb_app.py WORK`` with WORK prepared as
``prepare()`` does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# what Qt prints when a widget, a timer or a QObject is used from the wrong thread
THREADING_WARNINGS = ("QObject:", "QObject::", "Cannot create children", "Timers cannot",
                      "QThread: Destroyed", "QBasicTimer", "QSocketNotifier",
                      "Segmentation fault")


def prepare(work: Path, checkpoint: Path) -> None:
    """A photo, a folder for the batch, a folder of colour photos to fine-tune on, and
    settings that use the tiny model on the CPU."""
    import numpy as np
    from PIL import Image

    from colorgui.settings import Settings
    from tests.conftest import gradient_photo

    (work / "album").mkdir(parents=True)
    (work / "colour").mkdir()
    Image.fromarray(gradient_photo(90, 120).mean(axis=2).astype(np.uint8)).save(work / "photo.png")
    for i in range(3):
        Image.fromarray(gradient_photo(64, 80, i)).convert("L").save(work / "album" / f"b{i}.png")
    for i in range(8):
        Image.fromarray(gradient_photo(48, 56, i)).save(work / "colour" / f"c{i}.jpg", quality=95)
    settings = Settings(work / "config" / "colorgui.ini")
    settings.model_path, settings.device, settings.output_dir = str(checkpoint), "cpu", ""
    settings.sync()


def drive(work: Path) -> int:
    """Run the real app on ``work`` (see ``prepare``) and walk it through a session."""
    from PySide6.QtCore import QObject, QTimer, Slot
    from PySide6.QtWidgets import QApplication, QFileDialog

    from colorgui import app as colorgui_app
    from colorgui.main_window import MainWindow

    os.environ["COLORGUI_CONFIG_DIR"] = str(work / "config")
    app = QApplication(sys.argv[:1])

    class Session(QObject):
        """Each step runs in a slot on the GUI thread, started by the previous reply."""

        def __init__(self):
            super().__init__()
            self.window: MainWindow | None = None
            self.saves = 0

        def say(self, text: str) -> None:
            print(f"session: {text}", flush=True)

        def fail(self, text: str, code: int = 1) -> None:
            print(f"session failed: {text}", file=sys.stderr, flush=True)
            app.exit(code)

        @Slot()
        def start(self) -> None:
            self.window = w = next(t for t in app.topLevelWidgets() if isinstance(t, MainWindow))
            w.error = lambda title, reason: self.fail(f"{title}: {reason}")  # no modal dialog
            w.start_worker()
            h = w.host
            h.modelFailed.connect(self.model_failed)
            h.colorized.connect(self.colorized)
            h.saved.connect(self.saved)
            h.batchFinished.connect(self.batch_finished)
            h.scanned.connect(self.scanned)
            h.trainFinished.connect(self.train_finished)
            w.open_paths([str(work / "photo.png")])

        @Slot(str, str)
        def model_failed(self, path: str, reason: str) -> None:
            self.fail(f"the model did not load: {reason}")

        @Slot(int, object)
        def colorized(self, job_id: int, result) -> None:
            self.say(f"colorized {result.path}")
            self.window.save()

        @Slot(int, str)
        def saved(self, job_id: int, path: str) -> None:
            self.saves += 1
            self.say(f"saved {path}")
            if self.saves == 1:
                QFileDialog.getSaveFileName = staticmethod(
                    lambda *a, **k: (str(work / "saved as.jpg"), ""))
                self.window.save_as()
                return
            tab = self.window.batch_tab
            tab.output_edit.setText(str(work / "batch"))
            tab.add_paths([str(work / "album")])
            tab.start_button.click()

        @Slot(int, int, int, int, bool)
        def batch_finished(self, job_id: int, done: int, skipped: int, failed: int,
                           cancelled: bool) -> None:
            self.say(f"batch: {done} done, {skipped} skipped, {failed} failed")
            if (done, failed, cancelled) != (3, 0, False):
                return self.fail("the batch did not colorize its 3 photos")
            self.window.train_tab.add_folders([str(work / "colour")])

        @Slot(int, object)
        def scanned(self, job_id: int, report) -> None:
            tab = self.window.train_tab
            self.say(f"scanned: {len(report.usable)} usable")
            tab.epochs.setValue(1)
            tab.batch.setValue(4)
            tab.start_button.click()

        @Slot(int, object)
        def train_finished(self, job_id: int, outcome) -> None:
            self.say(f"fine-tuned: {outcome.steps} steps, best {outcome.best}")
            if outcome.cancelled or not outcome.best:
                return self.fail("the fine-tune did not finish")
            bar = self.window.statusBar()
            if bar.currentMessage():  # live on until the status bar's timer takes it away
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

    session = Session()
    QTimer.singleShot(0, session.start)
    QTimer.singleShot(90_000, lambda: session.fail("timed out", 2))
    code = colorgui_app.run()
    session.say(f"exit {code}")
    return code


def test_the_real_window_under_xvfb_saves_twice_batches_fine_tunes_and_exits_cleanly(
        tmp_path, tiny_checkpoint):
    import pytest

    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None:
        pytest.skip("needs xvfb-run (apt-get install xvfb xauth)")
    work = tmp_path / "session"
    prepare(work, tiny_checkpoint)
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(ROOT),
           "OMP_NUM_THREADS": "1", "PYTHONFAULTHANDLER": "1"}
    run = subprocess.run([xvfb_run, "-a", "-s", "-screen 0 1280x1024x24", sys.executable,
                          str(Path(__file__)), str(work)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=240)
    log = f"stdout:\n{run.stdout[-3000:]}\nstderr:\n{run.stderr[-5000:]}"
    assert run.returncode == 0, log
    assert "session: quitting" in run.stdout and "session: exit 0" in run.stdout, log
    assert not [w for w in THREADING_WARNINGS if w in run.stderr], log
    assert (work / "photo_colorized.png").is_file() and (work / "saved as.jpg").is_file()
    assert sorted(p.name for p in (work / "batch" / "album").iterdir()) == \
        ["b0.png", "b1.png", "b2.png"]


if __name__ == "__main__":
    sys.exit(drive(Path(sys.argv[1])))
