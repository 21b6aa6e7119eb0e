"""How soon does a change of the colour hints show in the preview?

    python benchmarks/hint_latency.py         # bundled model, CPU, 1280×800 photo, 10 changes
    python benchmarks/hint_latency.py --photo old.jpg -n 20

Opens the real main window offscreen on the CPU, opens a photo (by default scikit-image's
astronaut as a black-and-white 1280×800 scan, 1 MP, so the preview is the photo), adds
one hint and waits until it shows, then recolours and moves it ``-n`` times, one change
at a time, timing each from the edit to the moment the colour preview shows the new
colours (the network on the worker thread, then composing on the GUI thread). Prints the
preview's size and the median and 90th percentile in seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SIZE = (1280, 800)
TIMEOUT_S = 120


def make_photo(path: Path) -> None:
    from PIL import Image
    from skimage import data

    Image.fromarray(data.astronaut()).convert("L").resize(SIZE).save(path, quality=92)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photo", type=Path, help="a photo (default: a 1280×800 gray scan)")
    ap.add_argument("-n", type=int, default=10, help="changes to time (default 10)")
    args = ap.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in ("CONFIG", "DATA"):  # no edits or settings of the user's
            os.environ[f"COLORGUI_{name}_DIR"] = str(tmp / name.lower())
        from colorgui.main_window import MainWindow
        from colorgui.settings import Settings
        from model.hints import Hint

        photo = args.photo or tmp / "astronaut.jpg"
        if args.photo is None:
            make_photo(photo)
        settings = Settings(tmp / "colorgui.ini")
        settings.device, settings.model_path = "cpu", ""
        win = MainWindow(settings)
        win.show()
        win.start_worker()
        tab = win.colorize_tab
        hints = tab.hint_tool.hints

        def run_until(done, what: str) -> float:
            t0 = time.perf_counter()
            while not done():
                app.processEvents()
                time.sleep(0.001)
                if time.perf_counter() - t0 > TIMEOUT_S:
                    raise SystemExit(f"timed out waiting for {what}")
            return time.perf_counter() - t0

        def shown() -> bool:
            return tab.shown_hints == tuple(hints.hints)

        run_until(lambda: win.hint_session.takes_hints, "the model")
        win.open_paths([str(photo)])
        run_until(lambda: tab.result is not None, "the photo")
        hints.add(Hint(0.5, 0.45, 20.0, -50.0))
        run_until(shown, "the first hint")  # warm: the network's first run is slower
        rng = np.random.default_rng(0)
        times = []
        for i in range(args.n):
            if i % 2:
                start = hints.hints[0]
                hints.move_live(0, *rng.uniform(0.2, 0.8, 2))
                hints.finish_move(0, start)
            else:
                hints.recolour(0, *rng.uniform(-60, 60, 2))
            times.append(run_until(shown, f"change {i + 1}"))
        h, w = tab.result.L.shape
        t = np.array(times)
        print(f"preview {w}×{h} ({w * h / 1e6:.2f} MP), bundled model "
              f"({win._model_desc}), {len(t)} changes: median {np.median(t):.3f} s, "
              f"p90 {np.percentile(t, 90):.3f} s, max {t.max():.3f} s")
        win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
