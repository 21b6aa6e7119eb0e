"""Does the window stay responsive while a batch runs?

    python benchmarks/gui_latency.py          # 40 photos of 1–3 MP, bundled model, offscreen
    python benchmarks/gui_latency.py -n 10

Opens the real main window offscreen, queues a folder on the Batch tab and starts it,
while a 10 ms timer on the GUI thread records how late each of its ticks fires (the event
loop delay a user would feel as lag). Prints the delay while idle and during the batch.
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

from benchmarks.run import make_photos  # noqa: E402

TICK_MS = 10


def delays_ms(ticks: list[float]) -> np.ndarray:
    return np.maximum(np.diff(ticks) * 1000 - TICK_MS, 0)


def describe(d: np.ndarray) -> str:
    return (f"| {len(d)} | {np.median(d):.1f} | {np.percentile(d, 95):.1f} | "
            f"{np.percentile(d, 99):.1f} | {d.max():.0f} |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=40)
    args = ap.parse_args(argv)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from colorgui.main_window import MainWindow
    from colorgui.settings import Settings

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["COLORGUI_CONFIG_DIR"] = tmp
        album = Path(tmp) / "album"
        make_photos(album, args.n, seed=5)
        settings = Settings(Path(tmp) / "colorgui.ini")
        settings.device = "cpu"
        win = MainWindow(settings)
        win.show()
        win.start_worker()
        while not win.device_label.text().startswith("Model:"):
            app.processEvents()
            time.sleep(0.01)

        ticks: list[float] = []
        timer = QTimer()
        timer.setTimerType(timer.timerType().PreciseTimer)
        timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
        timer.start(TICK_MS)

        def run_for(seconds: float) -> None:
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                app.processEvents()
                time.sleep(0.001)

        run_for(3.0)
        idle = delays_ms(ticks)
        ticks.clear()
        finished = []
        win.host.batchFinished.connect(lambda *a: finished.append(a))
        tab = win.batch_tab
        tab.add_paths([str(album)])
        tab.output_edit.setText(str(Path(tmp) / "out"))
        t0 = time.perf_counter()
        tab.start_button.click()
        while not finished or win.host.busy():  # the window learns of the end a moment later
            app.processEvents()
            time.sleep(0.001)
        wall = time.perf_counter() - t0
        busy = delays_ms(ticks)
        timer.stop()
        win.close()
    _, done, skipped, failed, _ = finished[0]
    print(f"GUI event-loop delay (a {TICK_MS} ms timer's lateness), offscreen, bundled model on "
          f"{os.cpu_count()} CPU cores; batch of {args.n} photos of 1–3 MP: {done} done, "
          f"{failed} failed, {wall:.0f} s")
    print()
    print("| while | ticks | median ms | p95 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|")
    print("| idle " + describe(idle))
    print("| batch running " + describe(busy))
    return 0


if __name__ == "__main__":
    sys.exit(main())
