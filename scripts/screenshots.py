"""Take screenshots of the app's windows offscreen, for docs/.

    QT_QPA_PLATFORM=offscreen python scripts/screenshots.py docs/
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

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

    photo = tmp / "astronaut.png"
    rgb = color.from_uint8(skdata.astronaut())
    write_photo(photo, color.gray_to_rgb(color.luminance(rgb)))

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
    wait_for(window.host.worker.modelLoaded)
    window.open_paths([str(photo)])
    wait_for(window.host.worker.colorized)
    app.processEvents()
    window.grab().save(str(out / "colorize-side-by-side.png"))
    window.colorize_tab.mode.setCurrentIndex(1)
    window.colorize_tab.split_view.set_position(0.45)
    app.processEvents()
    window.grab().save(str(out / "colorize-split.png"))
    window.close()
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
