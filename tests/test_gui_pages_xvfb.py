"""Album pages in the real window on a real X server (Xvfb), as a user would: the Batch
tab told "these are album pages", a page added, the review dialog's rectangle dragged
with the mouse, the prints queued, cut and colorized, the app quit. Passes if the app
exits 0 with the three prints colorized and Qt printed no threading warning. Skipped
where ``xvfb-run`` is missing (as tests/test_xvfb_app.py).

The review dialog's screenshot in docs/ is made with it:

    xvfb-run -a -s "-screen 0 1600x1000x24" python tests/test_gui_pages_xvfb.py WORK \\
        --screenshot docs/album-review.png
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_xvfb_app import THREADING_WARNINGS  # noqa: E402


def prepare(work: Path, checkpoint: Path) -> None:
    """An album page of three prints (scikit-image's free photos on cream paper with
    photo corners) and settings that use the tiny model on the CPU."""
    import numpy as np
    from skimage import data

    from colorgui.settings import Settings
    from model import color
    from model.album.synthetic import album_page
    from model.io.imageio import write_photo

    from model.album.ageing import faded

    (work / "scans").mkdir(parents=True)
    cat = faded(color.from_uint8(data.chelsea()), np.random.default_rng(0), contrast=0.55,
                black=0.3, cast="sepia")  # a faded print, to be restored
    photos = [color.from_uint8(data.astronaut()), cat, color.from_uint8(data.coffee())]
    page = album_page(photos, "cream", np.random.default_rng(8), 100, borders=0.5)
    write_photo(work / "scans" / "album page 3.png", page.rgb)
    settings = Settings(work / "config" / "colorgui.ini")
    settings.model_path, settings.device, settings.output_dir = str(checkpoint), "cpu", ""
    settings.batch_output_dir = str(work / "colour")
    settings.sync()


def drive(work: Path, screenshot: Path | None = None) -> int:
    from PySide6.QtCore import QObject, QPoint, Qt, QTimer, Slot
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from colorgui import app as colorgui_app
    from colorgui.main_window import MainWindow

    os.environ["COLORGUI_CONFIG_DIR"] = str(work / "config")
    os.environ.setdefault("COLORGUI_CACHE_DIR", str(work / "cache"))
    app = QApplication(sys.argv[:1])

    class Session(QObject):
        def __init__(self):
            super().__init__()
            self.window: MainWindow | None = None
            self.dialog = None

        def say(self, text: str) -> None:
            print(f"session: {text}", flush=True)

        def fail(self, text: str, code: int = 1) -> None:
            print(f"session failed: {text}", file=sys.stderr, flush=True)
            app.exit(code)

        @Slot()
        def start(self) -> None:
            self.window = w = next(t for t in app.topLevelWidgets() if isinstance(t, MainWindow))
            w.resize(1400, 900)
            w.error = lambda title, reason: self.fail(f"{title}: {reason}")
            w.start_worker()
            w.host.batchFinished.connect(self.batch_finished)
            tab = w.batch_tab
            w.tabs.setCurrentWidget(tab)
            tab.output_edit.setText(str(work / "colour"))
            tab.album_pages.setChecked(True)
            tab.add_paths([str(work / "scans")])
            self.dialog = tab.pages_dialog
            self.dialog.pageReviewed.connect(self.reviewed)
            self.dialog.printsReady.connect(self.queued)

        @Slot(int)
        def reviewed(self, index: int) -> None:
            d = self.dialog
            items = d.view.items_()
            self.say(f"reviewed: {len(items)} prints on the page")
            if len(items) != 3:
                return self.fail(f"found {len(items)} prints, not 3")
            d.scene_items = items
            items[1].setSelected(True)  # the faded cat, before and after
            d.previewShown.connect(self.previewed)
            d.tone_box.setChecked(True)

        @Slot()
        def previewed(self) -> None:
            d = self.dialog
            d.previewShown.disconnect(self.previewed)
            self.say(f"before and after: {d.restore_note.text()}")
            if screenshot is not None:
                for _ in range(5):
                    app.processEvents()
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                d.grab().save(str(screenshot))
                self.say(f"screenshot {screenshot}")
            items = d.scene_items
            before = d.view.rect_of(items[0])
            start = d.view.mapFromScene(items[0].pos())
            port = d.view.viewport()
            QTest.mousePress(port, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
            for step in range(1, 9):
                QTest.mouseMove(port, start + QPoint(3 * step, 2 * step))
            QTest.mouseRelease(port, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                               start + QPoint(24, 16))
            after = d.view.rect_of(items[0])
            self.say(f"moved print 1 by {after.cx - before.cx:.0f}, {after.cy - before.cy:.0f} px")
            if after.cx <= before.cx:
                return self.fail("the rectangle did not move")
            d.queue_button.click()

        @Slot(list)
        def queued(self, prints: list) -> None:
            self.say(f"queued {len(prints)} prints")
            QTimer.singleShot(0, self.window.batch_tab.start_button.click)

        @Slot(int, int, int, int, bool)
        def batch_finished(self, job_id, done, skipped, failed, cancelled) -> None:
            self.say(f"batch: {done} done, {skipped} skipped, {failed} failed")
            if (done, failed, cancelled) != (3, 0, False):
                return self.fail("the batch did not colorize the 3 prints")
            self.say("quitting")
            self.window.close()

    session = Session()
    QTimer.singleShot(0, session.start)
    QTimer.singleShot(120_000, lambda: session.fail("timed out", 2))
    code = colorgui_app.run()
    session.say(f"exit {code}")
    return code


def test_album_pages_in_the_real_window_are_reviewed_dragged_queued_and_colorized(
        tmp_path, tiny_checkpoint):
    import pytest

    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None:
        pytest.skip("needs xvfb-run (apt-get install xvfb xauth)")
    work = tmp_path / "session"
    prepare(work, tiny_checkpoint)
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(ROOT),
           "OMP_NUM_THREADS": "1", "PYTHONFAULTHANDLER": "1"}
    run = subprocess.run([xvfb_run, "-a", "-s", "-screen 0 1600x1000x24", sys.executable,
                          str(Path(__file__)), str(work)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    log = f"stdout:\n{run.stdout[-3000:]}\nstderr:\n{run.stderr[-5000:]}"
    assert run.returncode == 0, log
    assert "session: moved print 1" in run.stdout and "session: exit 0" in run.stdout, log
    assert not [w for w in THREADING_WARNINGS if w in run.stderr], log
    assert sorted(p.name for p in (work / "colour").iterdir()) == \
        ["album page 3_01.png", "album page 3_02.png", "album page 3_03.png"]


if __name__ == "__main__":
    import argparse
    import tempfile

    ap = argparse.ArgumentParser()
    ap.add_argument("work", type=Path)
    ap.add_argument("--screenshot", type=Path)
    args = ap.parse_args()
    if not (args.work / "scans").exists():  # by hand: a tiny random model, as the test's
        import torch

        from model.nets.network import HybridNet
        from model.store.checkpoint import save_checkpoint
        from tests.conftest import tiny_config

        torch.manual_seed(0)
        checkpoint = Path(tempfile.mkdtemp()) / "tiny.safetensors"
        save_checkpoint(checkpoint, HybridNet(tiny_config()), {"note": "random weights"})
        prepare(args.work, checkpoint)
    sys.exit(drive(args.work, args.screenshot))
