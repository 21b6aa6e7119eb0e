"""Ctrl-C in ``colorgui colorize``: the photo in hand is finished, a summary is printed,
exit status 130, no traceback."""

import re
import signal
import subprocess
import sys
import time

import pytest
from PIL import Image

from model.io.imageio import read_photo
from tests.conftest import gradient_photo

PHOTOS = 40


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX-only")
def test_ctrl_c_finishes_the_photo_in_hand_prints_a_summary_and_exits_130(tmp_path,
                                                                          tiny_checkpoint):
    src, out = tmp_path / "album", tmp_path / "out"
    src.mkdir()
    for i in range(PHOTOS):
        Image.fromarray(gradient_photo(600, 800, i)).save(src / f"p{i:02}.png")
    proc = subprocess.Popen(
        [sys.executable, "-m", "colorgui", "colorize", str(src), "-o", str(out), "--model",
         str(tiny_checkpoint), "--device", "cpu"], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not any(p.name.startswith("p") for p in out.rglob("*.png")):  # the first one
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=120)[1]
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    m = re.search(r"interrupted: (\d+) colorized, (\d+) skipped \(output exists\), (\d+) "
                  r"failed, (\d+) not started", err)
    assert m, err
    done, skipped, failed, not_started = map(int, m.groups())
    assert done >= 1 and not_started >= 1 and (skipped, failed) == (0, 0)
    assert done + not_started == PHOTOS
    written = sorted(p for p in out.rglob("*") if p.is_file())
    assert len(written) == done  # no half-written or temporary file left
    for p in written:
        assert read_photo(p).size == (800, 600)
