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

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import Slot  # noqa: E402
from PySide6.QtWidgets import QFileDialog  # noqa: E402

from tests.xvfb_session import (Session, assert_clean, drive, run_under_xvfb,  # noqa: E402
                                write_settings)


def prepare(work: Path, checkpoint: Path) -> None:
    """A photo, a folder for the batch, a folder of colour photos to fine-tune on, and
    settings that use the tiny model on the CPU."""
    import numpy as np
    from PIL import Image

    from tests.conftest import gradient_photo

    (work / "album").mkdir(parents=True)
    (work / "colour").mkdir()
    Image.fromarray(gradient_photo(90, 120).mean(axis=2).astype(np.uint8)).save(work / "photo.png")
    for i in range(3):
        Image.fromarray(gradient_photo(64, 80, i)).convert("L").save(work / "album" / f"b{i}.png")
    for i in range(8):
        Image.fromarray(gradient_photo(48, 56, i)).save(work / "colour" / f"c{i}.jpg", quality=95)
    write_settings(work, checkpoint)


class SaveBatchFineTune(Session):
    """Open a photo, Save, Save As, a batch of three, a one-epoch fine-tune, quit."""

    saves = 0

    def begin(self, w) -> None:
        h = w.host
        for signal, slot in ((h.colorized, self.colorized), (h.saved, self.saved),
                             (h.batchFinished, self.batch_finished), (h.scanned, self.scanned),
                             (h.trainFinished, self.train_finished)):
            signal.connect(slot)
        w.open_paths([str(self.work / "photo.png")])

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
                lambda *a, **k: (str(self.work / "saved as.jpg"), ""))
            self.window.save_as()
            return
        tab = self.window.batch_tab
        tab.output_edit.setText(str(self.work / "batch"))
        tab.add_paths([str(self.work / "album")])
        tab.start_button.click()

    @Slot(int, int, int, int, bool)
    def batch_finished(self, job_id: int, done: int, skipped: int, failed: int,
                       cancelled: bool) -> None:
        self.say(f"batch: {done} done, {skipped} skipped, {failed} failed")
        if (done, failed, cancelled) != (3, 0, False):
            return self.fail("the batch did not colorize its 3 photos")
        self.window.train_tab.add_folders([str(self.work / "colour")])

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
        self.quit_when_status_clears()


def test_the_real_window_under_xvfb_saves_twice_batches_fine_tunes_and_exits_cleanly(
        tmp_path, tiny_checkpoint):
    work = tmp_path / "session"
    prepare(work, tiny_checkpoint)
    run, log = run_under_xvfb(Path(__file__), work, "1280x1024", 240)
    assert_clean(run, log)
    assert (work / "photo_colorized.png").is_file() and (work / "saved as.jpg").is_file()
    assert sorted(p.name for p in (work / "batch" / "album").iterdir()) == \
        ["b0.png", "b1.png", "b2.png"]


if __name__ == "__main__":
    sys.exit(drive(SaveBatchFineTune(Path(sys.argv[1])), 90_000))
