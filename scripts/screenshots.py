"""Take screenshots of the app's windows, for docs/: on a real X server, as users see it,

    xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/screenshots.py docs/

or, without one, offscreen (small fonts, no window frame).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv=None) -> int:
    argv = argv or sys.argv[1:]
    out = Path(argv[0] if argv else "docs")
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="colorgui-shots-"))
    os.environ["COLORGUI_CONFIG_DIR"] = str(tmp / "config")
    os.environ["COLORGUI_DATA_DIR"] = str(tmp / "data")

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication
    from skimage import data as skdata

    from colorgui.main_window import MainWindow, apply_theme
    from model import color
    from model.imageio import write_photo

    names = ("astronaut", "chelsea", "coffee", "rocket")
    bw, colour = tmp / "black-and-white", tmp / "colour"
    for name in names:
        rgb = color.from_uint8(getattr(skdata, name)())
        write_photo(bw / f"{name}.png", color.gray_to_rgb(color.luminance(rgb)))
        write_photo(colour / f"{name}.png", rgb)

    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    apply_theme(app, window.settings.theme)
    window.resize(1400, 820)
    window.show()

    def wait_for(signal, ms=600_000):
        loop = QEventLoop()
        signal.connect(loop.quit)
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def shot(name):
        for _ in range(5):
            app.processEvents()
        window.grab().save(str(out / name))

    window.start_worker()
    wait_for(window.host.modelLoaded)
    window.open_paths([str(bw / "astronaut.png")])
    wait_for(window.host.colorized)
    shot("colorize-side-by-side.png")
    window.colorize_tab.mode.setCurrentIndex(1)
    window.colorize_tab.split_view.set_position(0.45)
    shot("colorize-split.png")
    window.colorize_tab.mode.setCurrentIndex(0)

    window.tabs.setCurrentWidget(window.batch_tab)
    (bw / "damaged scan.jpg").write_bytes(b"not really a photo")
    window.batch_tab.add_paths([str(bw)])
    window.batch_tab.output_edit.setText(str(tmp / "colorized"))
    window.batch_tab.start()
    wait_for(window.host.batchFinished)
    shot("batch.png")

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
