"""Take screenshots of the app's windows, for docs/: on a real X server, as users see it,

    xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/screenshots.py docs/
    xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/screenshots.py docs/ --only hints

or, without one, offscreen (small fonts, no window frame). ``--only`` takes some of
colorize, hints, batch, train (default: all).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ("colorize", "hints", "batch", "train")
# the hint tool's photo: three women of 1895 whose skirts and jacket the family
# remembers; the skimage astronaut where the shared historical photos are missing
HINTS_PHOTO = ROOT.parent / "shared/data/historical_bw/deoldify_test_images/1895BikeMaidens.jpg"
HINTS = ((0.80, 0.56, -2.0, -45.0),   # x, y, a, b: the right one's skirt, blue
         (0.14, 0.70, 45.0, 18.0),    # the left one's skirt, red
         (0.42, 0.22, -28.0, 12.0))   # the middle one's jacket, green
ASTRONAUT_HINTS = ((0.30, 0.75, -2.0, -45.0), (0.55, 0.85, 45.0, 18.0))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", nargs="?", default="docs", type=Path)
    ap.add_argument("--only", nargs="+", choices=SHOTS, default=list(SHOTS))
    args = ap.parse_args(argv)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="colorgui-shots-"))
    os.environ["COLORGUI_CONFIG_DIR"] = str(tmp / "config")
    os.environ["COLORGUI_DATA_DIR"] = str(tmp / "data")

    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtTest import QTest
    from skimage import data as skdata

    from model import color
    from model.io.imageio import write_photo

    sys.path.insert(0, str(ROOT))
    from tests.xvfb_session import save_grab, show_window, wait_for  # the tests' harness

    names = ("astronaut", "chelsea", "coffee", "rocket")
    bw, colour = tmp / "black-and-white", tmp / "colour"
    for name in names:
        rgb = color.from_uint8(getattr(skdata, name)())
        write_photo(bw / f"{name}.png", color.gray_to_rgb(color.luminance(rgb)))
        write_photo(colour / f"{name}.png", rgb)

    app, window = show_window(1400, 820)

    def shot(name):
        save_grab(window, out / name)

    def place_hints(hints):
        """Click each place on the colour view, as a user does, then pick its colour in
        the panel (as a swatch or the colour dialog would)."""
        tab = window.colorize_tab
        tool = tab.hint_tool
        tool.action.setChecked(True)
        app.processEvents()
        view = tab.colour_view
        rect = view.sceneRect()
        for x, y, a, b in hints:
            at = view.mapFromScene(QPointF(x * rect.width(), y * rect.height()))
            QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=at)
            wait_for(window.host.suggested)  # the model's likeliest colours there
            tool.panel.colourChosen.emit(a, b)
        while tab.shown_hints != tuple(tool.hints.hints):
            wait_for(tab.previewShown)
        tool.hints.select(0)  # the blue skirt: its suggestions and the colours used
        wait_for(window.host.suggested)

    window.start_worker()
    wait_for(window.host.modelLoaded)
    if "colorize" in args.only:
        window.open_paths([str(bw / "astronaut.png")])
        wait_for(window.host.colorized)
        shot("colorize-side-by-side.png")
        window.colorize_tab.mode.setCurrentIndex(1)
        window.colorize_tab.split_view.set_position(0.45)
        shot("colorize-split.png")
        window.colorize_tab.mode.setCurrentIndex(0)

    if "hints" in args.only:
        photo = HINTS_PHOTO if HINTS_PHOTO.is_file() else bw / "astronaut.png"
        window.open_paths([str(photo)])
        wait_for(window.host.colorized)
        place_hints(HINTS if photo == HINTS_PHOTO else ASTRONAUT_HINTS)
        shot("screenshot-hints.png")
        window.colorize_tab.hint_tool.action.setChecked(False)

    if "batch" in args.only:
        window.tabs.setCurrentWidget(window.batch_tab)
        (bw / "damaged scan.jpg").write_bytes(b"not really a photo")
        window.batch_tab.add_paths([str(bw)])
        window.batch_tab.output_edit.setText(str(tmp / "colorized"))
        window.batch_tab.start()
        wait_for(window.host.batchFinished)
        shot("batch.png")

    if "train" in args.only:
        window.tabs.setCurrentWidget(window.train_tab)
        window.train_tab.add_folders([str(colour)])
        wait_for(window.host.scanned)
        window.train_tab.epochs.setValue(3)
        window.train_tab.val_share.setValue(25)
        window.train_tab.batch.setValue(2)
        window.train_tab.start()
        wait_for(window.host.trainFinished)
        window.train_tab.name_edit.setText("My album")
        shot("train.png")
    window.close()
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
