"""Album pages in the real window on a real X server (Xvfb), as a user would: the Batch
tab told "these are album pages", a page added, the review dialog's rectangle dragged
with the mouse, the prints queued, cut and colorized, the app quit. Passes if the app
exits 0 with the three prints colorized and Qt printed no warning. Skipped where
``xvfb-run`` is missing (as tests/test_xvfb_app.py).

The review dialog's screenshot in docs/ is made with it:

    xvfb-run -a -s "-screen 0 1600x1000x24" python tests/test_gui_pages_xvfb.py WORK \\
        --screenshot docs/album-review.png
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QPoint, Qt, QTimer, Slot  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from tests.xvfb_session import (Session, assert_clean, drive, run_under_xvfb,  # noqa: E402
                                save_grab, write_settings)


def prepare(work: Path, checkpoint: Path) -> None:
    """An album page of three prints (scikit-image's free photos on cream paper with
    photo corners) and settings that use the tiny model on the CPU."""
    import numpy as np
    from skimage import data

    from model import color
    from model.album.ageing import faded
    from model.album.synthetic import album_page
    from model.io.imageio import write_photo

    (work / "scans").mkdir(parents=True)
    cat = faded(color.from_uint8(data.chelsea()), np.random.default_rng(0), contrast=0.55,
                black=0.3, cast="sepia")  # a faded print, to be restored
    photos = [color.from_uint8(data.astronaut()), cat, color.from_uint8(data.coffee())]
    page = album_page(photos, "cream", np.random.default_rng(8), 100, borders=0.5)
    write_photo(work / "scans" / "album page 3.png", page.rgb)
    write_settings(work, checkpoint, batch_output_dir=str(work / "colour"))


class AlbumPages(Session):
    """Add a page, review it (a before-and-after, a rectangle dragged), queue, colorize;
    ``screenshot``: where to save the review dialog, or None."""

    def __init__(self, work: Path, screenshot: Path | None = None):
        super().__init__(work)
        self.screenshot = screenshot
        self.dialog = None

    def begin(self, w) -> None:
        w.resize(1400, 900)
        w.host.batchFinished.connect(self.batch_finished)
        tab = w.batch_tab
        w.tabs.setCurrentWidget(tab)
        tab.output_edit.setText(str(self.work / "colour"))
        tab.album_pages.setChecked(True)
        tab.add_paths([str(self.work / "scans")])
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
        if self.screenshot is not None:
            save_grab(d, self.screenshot)
            self.say(f"screenshot {self.screenshot}")
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
        self.quit()


def walk(work: Path, screenshot: Path | None = None) -> int:
    os.environ.setdefault("COLORGUI_CACHE_DIR", str(work / "cache"))
    return drive(AlbumPages(work, screenshot), 120_000)


def test_album_pages_in_the_real_window_are_reviewed_dragged_queued_and_colorized(
        tmp_path, tiny_checkpoint):
    work = tmp_path / "session"
    prepare(work, tiny_checkpoint)
    run, log = run_under_xvfb(Path(__file__), work, "1600x1000", 300)
    assert_clean(run, log, "session: moved print 1")
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
    sys.exit(walk(args.work, args.screenshot))
