"""Ctrl-C in ``colorgui colorize``: the photo in hand is finished, a summary is printed,
exit status 130, no traceback."""

import logging
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


def signalled(args: list[str], signum: int, ready, env=None, times: int = 1
              ) -> tuple[int, str]:
    """Run ``colorgui ARGS`` in a child, send it ``signum`` (``times`` times) once
    ``ready()``: its exit status and stderr."""
    proc = subprocess.Popen([sys.executable, "-m", "colorgui", *args], stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        deadline = time.monotonic() + 120
        while not ready():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        for _ in range(times):
            proc.send_signal(signum)
            time.sleep(0.2)
        err = proc.communicate(timeout=120)[1]
    finally:
        proc.kill()
    return proc.returncode, err


def interrupted_batch(tmp_path, checkpoint, size: tuple[int, int], presses: int
                      ) -> tuple[int, str]:
    """``colorize`` of PHOTOS photos of ``size`` (h, w) into tmp_path/out, Ctrl-C pressed
    ``presses`` times once the first is written: its exit status and stderr."""
    src, out = tmp_path / "album", tmp_path / "out"
    src.mkdir()
    for i in range(PHOTOS):
        Image.fromarray(gradient_photo(*size, i)).save(src / f"p{i:02}.png")
    return signalled(["colorize", str(src), "-o", str(out), "--model", str(checkpoint),
                      "--device", "cpu"], signal.SIGINT,
                     lambda: any(p.name.startswith("p") for p in out.rglob("*.png")),
                     times=presses)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX-only")
def test_ctrl_c_finishes_the_photo_in_hand_prints_a_summary_and_exits_130(tmp_path,
                                                                          tiny_checkpoint):
    out = tmp_path / "out"
    code, err = interrupted_batch(tmp_path, tiny_checkpoint, (600, 800), 1)
    assert code == 130, err
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


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX-only")
def test_a_second_ctrl_c_stops_at_once_and_still_says_what_was_done(tmp_path, tiny_checkpoint):
    """It printed "interrupted" alone: what was colorized, and what not, went unsaid."""
    out = tmp_path / "out"
    code, err = interrupted_batch(tmp_path, tiny_checkpoint, (1200, 1600), 2)
    assert code == 130 and "Traceback" not in err, err
    m = re.search(r"interrupted: (\d+) colorized, 0 skipped \(output exists\), 0 failed, "
                  r"(\d+) not started", err)
    assert m, err
    written = sorted(p for p in out.rglob("*") if p.is_file())
    assert len(written) == int(m[1]) and int(m[1]) + int(m[2]) <= PHOTOS


def test_a_ctrl_c_swallowed_while_the_model_loads_still_stops_the_command(monkeypatch,
                                                                         caplog):
    """ONNX Runtime turned a Ctrl-C while it built its session into its own error, which
    the loader took for "no graph": the whole batch then ran and exited 0."""
    import argparse

    import colorgui.cli as cli
    from colorgui.cli.colorize import colorizer_from

    def loading_swallows_it(*args, **kwargs):
        try:
            signal.raise_signal(signal.SIGINT)  # the handler runs here
        except BaseException as exc:  # what a library catching everything does
            logging.getLogger("model.nets.graph").info("cannot use x.onnx: %s", exc)

    monkeypatch.setattr("model.colorizer.Colorizer.__init__", loading_swallows_it)
    monkeypatch.setattr(cli, "_interrupts", 0)
    previous = signal.signal(signal.SIGINT, cli._interrupted)
    try:
        with pytest.raises(KeyboardInterrupt), caplog.at_level(logging.INFO):
            colorizer_from(argparse.Namespace(model=None, device="cpu", vivid=None))
        # nor is the interrupt said to be a model that cannot be used
        assert "cannot use" not in caplog.text
    finally:
        signal.signal(signal.SIGINT, previous)
        logging.disable(logging.NOTSET)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM to a child is POSIX-only")
def test_sigterm_while_pages_are_cut_leaves_no_temporary_prints(tmp_path, tiny_checkpoint):
    """The prints cut for --split-pages stayed in the temporary folder after a SIGTERM."""
    import os

    import numpy as np
    from skimage import data

    from model import color
    from model.album.synthetic import album_page
    from model.io.imageio import write_photo

    pages, out, temp = tmp_path / "pages", tmp_path / "out", tmp_path / "tmp"
    pages.mkdir()
    temp.mkdir()
    photos = [color.from_uint8(x) for x in (data.astronaut(), data.chelsea(), data.coffee())]
    for i in range(12):
        page = album_page(photos, "lid", np.random.default_rng(i), 100, pale_edge=False)
        write_photo(pages / f"page{i:02}.png", page.rgb)
    code, err = signalled(["colorize", str(pages), "-o", str(out), "--model",
                           str(tiny_checkpoint), "--device", "cpu", "--split-pages"],
                          signal.SIGTERM, lambda: list(temp.glob("colorgui-prints-*/**/*.png")),
                          {**os.environ, "TMPDIR": str(temp)})  # (the first print cut)
    assert code == 128 + signal.SIGTERM, err
    assert not list(temp.iterdir()) and not out.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX-only")
def test_a_ctrl_c_once_the_command_has_said_what_it_did_prints_no_traceback():
    """A second Ctrl-C that came as the interpreter shut down raised KeyboardInterrupt
    inside a library's exit handler: a traceback after the summary."""
    script = ("import os, signal, sys, time\n"
              "from colorgui.cli import run\n"
              "sys.argv = ['colorgui', '--version']\n"
              "try:\n"
              "    code = run()\n"
              "except SystemExit as done:  # argparse's --version\n"
              "    code = done.code\n"
              "os.kill(os.getpid(), signal.SIGINT)\n"
              "time.sleep(0.2)\n"
              "print('still tidying up')\n"
              "sys.exit(code)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and "still tidying up" in done.stdout, done.stderr
    assert "Traceback" not in done.stderr
