"""Render the application icon's PNG sizes from its SVG (run after editing the SVG).

    python packaging/render_icons.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])  # painting needs one alive
    renderer = QSvgRenderer(str(ICONS / "colorgui.svg"))
    if not renderer.isValid():
        sys.exit(f"cannot read {ICONS / 'colorgui.svg'}")
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        target = ICONS / f"colorgui-{size}.png"
        image.save(str(target))
        print(target.relative_to(ICONS.parents[1]))
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
