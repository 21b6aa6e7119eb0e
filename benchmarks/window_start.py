"""How long a user waits for the window: process start → the main window exposed on a
real X server (Xvfb), as ``colorgui app`` starts it.

    python benchmarks/window_start.py          # starts its own Xvfb through xvfb-run
    python benchmarks/window_start.py -n 9

Each run is a fresh Python process (``python -m colorgui app``'s path: the window, its
theme, the worker started) that prints the wall-clock time at which the X server told Qt
the window is exposed; the clock starts just before the process is spawned, so Python's
own start and every import count. Prints each run and the median. Needs ``xvfb-run``
(``apt-get install xvfb xauth``) and Qt's xcb libraries (README).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import sys, time
from PySide6.QtWidgets import QApplication
from colorgui.main_window import MainWindow, apply_theme
app = QApplication(sys.argv[:1])
w = MainWindow()
apply_theme(app, w.settings.theme)
w.show()
w.start_worker()
while not (w.windowHandle() and w.windowHandle().isExposed()):
    app.processEvents()
print("EXPOSED", time.time(), flush=True)
w.close()
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=7, help="runs (the first warms the disk cache)")
    args = ap.parse_args(argv)
    if not os.environ.get("DISPLAY"):
        xvfb_run = shutil.which("xvfb-run")
        if xvfb_run is None:
            sys.exit("window_start: needs xvfb-run (apt-get install xvfb xauth)")
        return subprocess.call([xvfb_run, "-a", "-s", "-screen 0 1600x1000x24", sys.executable,
                                __file__, *(argv if argv is not None else sys.argv[1:])])
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "COLORGUI_CONFIG_DIR": tmp,
               "PYTHONPATH": str(ROOT)}
        for i in range(args.n + 1):
            t0 = time.time()
            out = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env,
                                 capture_output=True, text=True, check=True).stdout
            shown = float([l for l in out.splitlines() if l.startswith("EXPOSED")][0].split()[1])
            if i:  # the first run only warms the disk cache
                times.append(shown - t0)
                print(f"run {i}: window exposed {shown - t0:.2f} s after process start", flush=True)
    print(f"process start → window on screen under Xvfb: median {statistics.median(times):.2f} s "
          f"of {len(times)} runs (min {min(times):.2f}, max {max(times):.2f}); "
          f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
