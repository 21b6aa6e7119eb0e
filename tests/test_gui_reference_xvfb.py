"""A reference photo in the real app on a real X server (Xvfb), as a user would use it:
open a black-and-white photo, add a colour photo of the same scene as its reference (the
way a drop on the reference list does), wait until its matched hints show, turn on "where
should I click?", save, quit. Passes if the app exits 0, Qt printed no warning, and the
saved photo's edits hold the matched hints and the reference. Needs ``xvfb-run`` (see
``tests/test_xvfb_app.py``).

Run by hand: ``xvfb-run -a python tests/test_gui_reference_xvfb.py WORK`` with WORK
prepared as ``prepare()`` does. The screenshot of docs/ comes from the same window on the
bundled model and a real photo::

    xvfb-run -a -s "-screen 0 1600x1000x24" python tests/test_gui_reference_xvfb.py --shot docs/reference.png
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# what Qt prints when something is wrong: the threading warnings and any other
WARNINGS = ("QObject:", "QObject::", "Cannot create children", "Timers cannot",
            "QThread: Destroyed", "QBasicTimer", "QSocketNotifier", "Segmentation fault",
            "QPainter::", "QWidget::", "QLayout:", "Traceback")


def prepare(work: Path, checkpoint: Path) -> None:
    """A gray photo, a colour photo of the same scene as its reference, and settings that
    use the tiny spatial model on the CPU."""
    import numpy as np
    from PIL import Image

    from colorgui.settings import Settings
    from tests.test_gui_reference import scene

    work.mkdir(parents=True)
    colour = scene()
    Image.fromarray(colour).convert("L").save(work / "grandma.png")
    Image.fromarray(np.ascontiguousarray(colour)).save(work / "wedding in colour.jpg", quality=95)
    settings = Settings(work / "config" / "colorgui.ini")
    settings.model_path, settings.device, settings.output_dir = str(checkpoint), "cpu", ""
    settings.sync()


def drive(work: Path) -> int:
    from PySide6.QtCore import QObject, QTimer, Slot
    from PySide6.QtWidgets import QApplication

    from colorgui import app as colorgui_app
    from colorgui.main_window import MainWindow
    from model.hints import REFERENCE

    os.environ["COLORGUI_CONFIG_DIR"] = str(work / "config")
    os.environ["COLORGUI_DATA_DIR"] = str(work / "data")
    app = QApplication(sys.argv[:1])

    class Session(QObject):
        def __init__(self):
            super().__init__()
            self.window: MainWindow | None = None
            self.asked = False

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
            h.recolored.connect(self.recolored)
            h.places.connect(self.places)
            h.saved.connect(self.saved)
            w.open_paths([str(work / "grandma.png")])

        @Slot(str, str)
        def model_failed(self, path: str, reason: str) -> None:
            self.fail(f"the model did not load: {reason}")

        @Slot(int, object)
        def colorized(self, job_id: int, result) -> None:
            self.say(f"colorized {result.path}")
            panel = self.window.colorize_tab.hint_tool.memory_panel
            panel.references.filesDropped.emit([str(work / "wedding in colour.jpg")])

        @Slot(int, object)
        def recolored(self, job_id: int, reply) -> None:
            matched = [h for h in reply.hints if h.origin == REFERENCE]
            if matched and not self.asked:
                self.asked = True
                self.say(f"{len(matched)} hints from the reference shown")
                self.window.colorize_tab.hint_tool.memory_panel.places.setChecked(True)

        @Slot(int, object)
        def places(self, job_id: int, reply) -> None:
            self.say(f"{len(reply.suggestions)} places where a hint would help")
            self.window.colorize_tab.hint_tool.memory_panel.doubt.setChecked(True)
            self.window.save()

        @Slot(int, str)
        def saved(self, job_id: int, path: str) -> None:
            self.say(f"saved {path}")
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
            self.window.close()

    session = Session()
    QTimer.singleShot(0, session.start)
    QTimer.singleShot(120_000, lambda: session.fail("timed out", 2))
    code = colorgui_app.run()
    session.say(f"exit {code}")
    return code


def test_a_reference_in_the_real_window_under_xvfb_shows_its_hints_and_saves_cleanly(
        tmp_path, tiny_spatial_checkpoint):
    import pytest

    from model.hints import REFERENCE
    from model.io.sidecar import read_edits, sidecar_path

    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None:
        pytest.skip("needs xvfb-run (apt-get install xvfb xauth)")
    work = tmp_path / "session"
    prepare(work, tiny_spatial_checkpoint)
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(ROOT),
           "OMP_NUM_THREADS": "1", "PYTHONFAULTHANDLER": "1"}
    run = subprocess.run([xvfb_run, "-a", "-s", "-screen 0 1280x1024x24", sys.executable,
                          str(Path(__file__)), str(work)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=240)
    log = f"stdout:\n{run.stdout[-3000:]}\nstderr:\n{run.stderr[-5000:]}"
    assert run.returncode == 0, log
    assert "hints from the reference shown" in run.stdout, log
    assert "places where a hint would help" in run.stdout, log
    assert "session: quitting" in run.stdout and "session: exit 0" in run.stdout, log
    assert not [w for w in WARNINGS if w in run.stderr], log
    out = work / "grandma_colorized.png"
    assert out.is_file()
    kept = read_edits(sidecar_path(out))
    assert any(h.origin == REFERENCE and h.source == "wedding in colour.jpg" for h in kept.hints)
    assert kept.references == [str(work / "wedding in colour.jpg")]


def shoot(out: Path) -> int:
    """docs/reference.png: the astronaut's left 70% in black and white, with her right 70%
    (another view of the same moment, mirrored) in colour as its reference."""
    import tempfile

    import cv2
    import numpy as np
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication
    from skimage import data

    from model import color
    from model.hints import REFERENCE
    from model.io.imageio import write_photo

    tmp = Path(tempfile.mkdtemp(prefix="colorgui-shot-"))
    os.environ["COLORGUI_CONFIG_DIR"] = str(tmp / "config")
    os.environ["COLORGUI_DATA_DIR"] = str(tmp / "data")
    from colorgui.main_window import MainWindow, apply_theme

    rgb = color.from_uint8(data.astronaut())
    w = rgb.shape[1]
    cut = round(0.7 * w)
    write_photo(tmp / "astronaut 1969.png", color.gray_to_rgb(color.luminance(rgb[:, :cut])))
    other = cv2.resize(np.ascontiguousarray(rgb[:, w - cut:][:, ::-1]), None, fx=0.85, fy=0.85,
                       interpolation=cv2.INTER_AREA)
    write_photo(tmp / "the same day, in colour.jpg", other)

    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    apply_theme(app, window.settings.theme)
    window.resize(1400, 820)
    window.show()

    def wait_for(signal, ms=300_000):
        loop = QEventLoop()
        signal.connect(loop.quit)
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    window.start_worker()
    wait_for(window.host.modelLoaded)
    window.open_paths([str(tmp / "astronaut 1969.png")])
    wait_for(window.host.colorized)
    tab = window.colorize_tab
    window.hint_session.memory.add_references([str(tmp / "the same day, in colour.jpg")])
    wait_for(window.host.matched)
    tool = tab.hint_tool
    while tab.shown_hints != tuple(tool.hints.hints):
        wait_for(tab.previewShown)
    matched = [i for i, h in enumerate(tool.hints.hints) if h.origin == REFERENCE]
    if matched:  # the most colourful, so the panel shows what a reference gave
        tool.hints.select(max(matched, key=lambda i: np.hypot(tool.hints.hints[i].a,
                                                              tool.hints.hints[i].b)))
        wait_for(window.host.suggested)  # the model's likeliest colours there
    for _ in range(5):
        app.processEvents()
    out.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out))
    print(f"{out}: {len(matched)} hints from the reference")
    window.close()
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "--shot":
        sys.exit(shoot(Path(sys.argv[2])))
    sys.exit(drive(Path(sys.argv[1])))
