"""Faults and properties: a killed batch or fine-tune loses nothing, no code path opens a
socket, loading a model never leaves its folder, and any image size and mode comes out
at its own size with its own luminance."""

import math
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image

from colorgui.cli.main import main
from model import color
from model.store.checkpoint import read_header
from model.colorizer import Colorizer
from model.io.imageio import read_photo
from model.store.registry import list_models, user_models_dir
from tests.conftest import gradient_photo, save_in_mode

ROOT = Path(__file__).resolve().parents[1]


def start_cli(*args) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "colorgui", *map(str, args)], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_for(condition, proc, timeout=120.0):
    end = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"finished before it could be killed: {proc.stderr.read().decode()[-2000:]}")
        if time.monotonic() > end:
            proc.kill()
            pytest.fail("timed out waiting")
        time.sleep(0.02)


def kill(proc):
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()


posix_only = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")


@posix_only
def test_sigkill_mid_batch_leaves_no_half_file_and_a_rerun_finishes(tmp_path, tiny_checkpoint,
                                                                    capsys):
    album = tmp_path / "album"
    album.mkdir()
    for i in range(40):
        Image.fromarray(gradient_photo(600, 800, i)).save(album / f"p{i:02}.png")
    out = tmp_path / "out"

    def outputs():
        return sorted((out / "album").glob("p*.png"))

    proc = start_cli("colorize", album, "-o", out, "--model", tiny_checkpoint, "--device", "cpu")
    wait_for(lambda: len(outputs()) >= 3, proc)
    kill(proc)
    finished = outputs()
    assert 3 <= len(finished) < 40
    for path in finished:  # every visible output is complete
        assert read_photo(path).size == (800, 600)
    assert main(["colorize", str(album), "-o", str(out), "--model", str(tiny_checkpoint),
                 "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert f"{40 - len(finished)} colorized, {len(finished)} skipped" in err
    assert len(outputs()) == 40
    assert not list(out.rglob(".*"))  # the killed run's temporary file is gone too


@posix_only
def test_sigkill_mid_fine_tune_resumes_from_the_last_checkpoint(tmp_path, capsys):
    album = tmp_path / "album"
    album.mkdir()
    for i in range(12):
        Image.fromarray(gradient_photo(48, 48, i)).save(album / f"p{i}.png")
    run = tmp_path / "run"
    args = ["train", album, "-o", run, "--width", "0.125", "--branches", "random_0",
            "--input-size", "64", "--crop", "32", "--batch-size", "2", "--device", "cpu",
            "--checkpoint-every", "4"]
    proc = start_cli(*args, "--epochs", "1000")
    last = run / "last.safetensors"
    wait_for(lambda: last.is_file() and read_header(last)[1]["step"] >= 8, proc)
    kill(proc)
    step = read_header(last)[1]["step"]  # the checkpoint on disk is whole, never half written
    assert main(list(map(str, args)) + ["--epochs", "3"]) == 0
    assert f"resuming from {last} at step {step}" in capsys.readouterr().err
    meta = read_header(last)[1]
    assert meta["step"] == 3 * math.ceil(meta["data"]["train_photos"] / 2) > step


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to reach the network fails the test."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise AssertionError(f"network access attempted: {args!r}")

    for name in ("connect", "connect_ex", "sendto"):
        monkeypatch.setattr(socket.socket, name, refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield attempts
    assert not attempts


def test_colorize_batch_and_fine_tune_open_no_socket(no_network, photo_folder, tmp_path,
                                                     tiny_checkpoint):
    assert main(["colorize", str(photo_folder / "p0.jpg"), "-o", str(tmp_path / "one"),
                 "--model", str(tiny_checkpoint), "--device", "cpu"]) == 0
    assert main(["colorize", str(photo_folder), "-o", str(tmp_path / "batch"),
                 "--model", str(tiny_checkpoint), "--device", "cpu"]) == 1  # broken.jpg
    assert main(["train", str(photo_folder), "--from", str(tiny_checkpoint), "-o",
                 str(tmp_path / "ft"), "--steps", "2", "--batch-size", "2", "--crop", "32",
                 "--device", "cpu"]) == 0


def test_the_bundled_model_opens_no_socket(no_network):
    Colorizer(device="cpu").colorize(color.from_uint8(gradient_photo(40, 40)))


def test_a_model_entry_cannot_point_outside_the_models_folder(tmp_path, tiny_checkpoint):
    folder = user_models_dir()
    folder.mkdir(parents=True)
    (folder / "mine.safetensors").write_bytes(tiny_checkpoint.read_bytes())
    (folder / "escape.safetensors").symlink_to(tiny_checkpoint)
    (folder / "sub").mkdir()
    (folder / "sub" / "nested.safetensors").write_bytes(tiny_checkpoint.read_bytes())
    names = [m.name for m in list_models() if not m.bundled]
    assert names == ["mine"]


MODES = ["L", "LA", "RGB", "RGBA", "P", "I;16", "RGB16"]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(h=st.integers(1, 90), w=st.integers(1, 90), mode=st.sampled_from(MODES),
       seed=st.integers(0, 1000))
def test_any_size_and_mode_keeps_size_and_luminance(tmp_path, tiny_checkpoint, h, w, mode, seed):
    path = tmp_path / f"in-{h}-{w}-{mode.replace(';', '')}.png"
    save_in_mode(gradient_photo(h, w, seed), mode, path)
    photo = read_photo(path)
    out = Colorizer(tiny_checkpoint, device="cpu").colorize(photo.rgb)
    assert out.shape == (h, w, 3)
    assert np.abs(color.luminance(out) - color.luminance(photo.rgb)).max() < 0.39


class FailingNetwork:
    """A colorizer whose network raises, as a shape or dtype mismatch inside torch does."""

    def predict(self, rgb, hints=None, vivid=None):
        raise ValueError("expected a 4-D input, got 3-D")


def one_failure(tmp_path, colorizer):
    from model.batch import plan_jobs, run_jobs

    Image.fromarray(gradient_photo(32, 32)).save(tmp_path / "a.png")
    jobs, _ = plan_jobs([tmp_path / "a.png"], tmp_path / "out")
    report = run_jobs(jobs, colorizer)
    assert len(report.failed) == 1 and not report.done
    return report.failed[0][1]


def test_a_network_error_in_a_batch_is_not_called_a_write_error(tmp_path):
    reason = one_failure(tmp_path, FailingNetwork())
    assert "could not write" not in reason
    assert reason.startswith("could not colorize") and "expected a 4-D input" in reason
    assert not (tmp_path / "out").exists()


def test_a_write_error_in_a_batch_says_so(tmp_path, tiny_checkpoint, monkeypatch):
    import model.output

    def disk_full(path, *a, **k):  # as atomic_write fails: naming its temporary file
        raise OSError(28, "No space left on device", str(tmp_path / ".out.png.x1y2.part"))

    monkeypatch.setattr(model.output, "write_photo", disk_full)
    reason = one_failure(tmp_path, Colorizer(tiny_checkpoint, device="cpu"))
    assert reason.startswith("could not write") and "No space left" in reason
    assert ".part" not in reason
