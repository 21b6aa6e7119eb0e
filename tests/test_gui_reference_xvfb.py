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
    xvfb-run -a -s "-screen 0 1600x1000x24" python tests/test_gui_reference_xvfb.py --shot-scene docs/reference-scene.png
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import Slot  # noqa: E402

from model.hints import REFERENCE  # noqa: E402
from tests.xvfb_session import (Session, assert_clean, drive, run_under_xvfb,  # noqa: E402
                                save_grab, show_window, wait_for, write_settings)


def prepare(work: Path, checkpoint: Path) -> None:
    """A gray photo, a colour photo of the same scene as its reference, and settings that
    use the tiny spatial model on the CPU."""
    import numpy as np
    from PIL import Image

    from tests.test_gui_reference import scene

    work.mkdir(parents=True)
    colour = scene()
    Image.fromarray(colour).convert("L").save(work / "grandma.png")
    Image.fromarray(np.ascontiguousarray(colour)).save(work / "wedding in colour.jpg", quality=95)
    write_settings(work, checkpoint)


class Reference(Session):
    """Open a photo, drop a reference, show its hints and the places to click, save."""

    asked = False

    def begin(self, w) -> None:
        h = w.host
        for signal, slot in ((h.colorized, self.colorized), (h.recolored, self.recolored),
                             (h.places, self.places), (h.saved, self.saved)):
            signal.connect(slot)
        w.open_paths([str(self.work / "grandma.png")])

    @Slot(int, object)
    def colorized(self, job_id: int, result) -> None:
        self.say(f"colorized {result.path}")
        panel = self.window.colorize_tab.hint_tool.memory_panel
        panel.references.filesDropped.emit([str(self.work / "wedding in colour.jpg")])

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
        self.quit_when_status_clears()


def walk(work: Path) -> int:
    os.environ["COLORGUI_DATA_DIR"] = str(work / "data")
    return drive(Reference(work), 120_000)


def test_a_reference_in_the_real_window_under_xvfb_shows_its_hints_and_saves_cleanly(
        tmp_path, tiny_spatial_checkpoint):
    from model.io.sidecar import read_edits, sidecar_path

    work = tmp_path / "session"
    prepare(work, tiny_spatial_checkpoint)
    run, log = run_under_xvfb(Path(__file__), work, "1280x1024", 240)
    assert_clean(run, log, "hints from the reference shown", "places where a hint would help")
    out = work / "grandma_colorized.png"
    assert out.is_file()
    kept = read_edits(sidecar_path(out))
    assert any(h.origin == REFERENCE and h.source == "wedding in colour.jpg" for h in kept.hints)
    assert kept.references == [str(work / "wedding in colour.jpg")]


def shoot(out: Path, scene: bool = False) -> int:
    """docs/reference.png: the astronaut's left 70% in black and white, with her right 70%
    (another view of the same moment, mirrored) in colour as its reference. With
    ``scene`` (docs/reference-scene.png): skimage's coffee cut as the benchmark cuts its
    pairs (``tests.test_reference.pair``), the right 60% in black and white and the left
    60% in colour, which shows a third of it and raises its saturation."""
    import tempfile

    import cv2
    import numpy as np
    from skimage import data

    from model import color
    from model.io.imageio import write_photo

    tmp = Path(tempfile.mkdtemp(prefix="colorgui-shot-"))
    os.environ["COLORGUI_CONFIG_DIR"] = str(tmp / "config")
    os.environ["COLORGUI_DATA_DIR"] = str(tmp / "data")

    if scene:
        from tests.test_reference import pair, photo

        reference, bw = pair(photo("coffee", 512))
        names = ("coffee 1950.png", "coffee today.jpg")
    else:
        rgb = color.from_uint8(data.astronaut())
        w = rgb.shape[1]
        cut = round(0.7 * w)
        bw = rgb[:, :cut]
        reference = cv2.resize(np.ascontiguousarray(rgb[:, w - cut:][:, ::-1]), None, fx=0.85,
                               fy=0.85, interpolation=cv2.INTER_AREA)
        names = ("astronaut 1969.png", "the same day, in colour.jpg")
    write_photo(tmp / names[0], color.gray_to_rgb(color.luminance(bw)))
    write_photo(tmp / names[1], reference)

    _, window = show_window(1400, 820)
    window.start_worker()
    wait_for(window.host.modelLoaded)
    window.open_paths([str(tmp / names[0])])
    wait_for(window.host.colorized)
    tab = window.colorize_tab
    window.hint_session.memory.add_references([str(tmp / names[1])])
    wait_for(window.host.matched)
    tool = tab.hint_tool
    while tab.shown_hints != tuple(tool.hints.hints):
        wait_for(tab.previewShown)
    matched = [i for i, h in enumerate(tool.hints.hints) if h.origin == REFERENCE]
    if matched and not scene:  # the most colourful, so the panel shows what a reference gave
        tool.hints.select(max(matched, key=lambda i: np.hypot(tool.hints.hints[i].a,
                                                              tool.hints.hints[i].b)))
        wait_for(window.host.suggested)  # the model's likeliest colours there
    save_grab(window, out)
    print(f"{out}: {len(matched)} hints from the reference; saturation {tab.saturation:.0%}")
    window.close()
    return 0


if __name__ == "__main__":
    if sys.argv[1] in ("--shot", "--shot-scene"):
        sys.exit(shoot(Path(sys.argv[2]), scene=sys.argv[1] == "--shot-scene"))
    sys.exit(walk(Path(sys.argv[1])))
