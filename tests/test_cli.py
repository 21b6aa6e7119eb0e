import hashlib
import subprocess
import sys

import pytest

from colorgui.cli.main import main
from model.io.imageio import read_photo


def digests(folder):
    return {p: hashlib.sha1(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()}


def test_colorize_folder_with_a_corrupt_file(photo_folder, tmp_path, tiny_checkpoint, capsys):
    before = digests(photo_folder)
    out = tmp_path / "out"
    code = main(["colorize", str(photo_folder), "-o", str(out), "--model", str(tiny_checkpoint),
                 "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 1
    assert "broken.jpg" in err and "not an image" in err and "1 failed" in err
    assert digests(photo_folder) == before  # inputs untouched
    done = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert done == ["album/gray.png", "album/p0.jpg", "album/p1.jpg", "album/p2.jpg",
                    "album/sub/q.png"]
    for rel in done:
        src = read_photo(photo_folder / rel.split("/", 1)[1])
        assert read_photo(out / rel).size == src.size


def test_existing_outputs_are_skipped_unless_overwrite(photo_folder, tmp_path, tiny_checkpoint,
                                                       capsys):
    out = tmp_path / "out"
    args = ["colorize", str(photo_folder / "p0.jpg"), "-o", str(out), "--model",
            str(tiny_checkpoint), "--device", "cpu"]
    assert main(args) == 0
    target = out / "p0.jpg"
    target.write_bytes(b"keep me")
    assert main(args) == 0
    assert target.read_bytes() == b"keep me"
    assert "1 skipped" in capsys.readouterr().err
    assert main(args + ["--overwrite", "--format", "png"]) == 0
    assert (out / "p0.png").is_file()


def test_an_output_that_would_overwrite_an_input_is_refused(photo_folder, tiny_checkpoint, capsys):
    before = digests(photo_folder)
    code = main(["colorize", str(photo_folder / "p1.jpg"), "-o", str(photo_folder),
                 "--model", str(tiny_checkpoint), "--device", "cpu", "--overwrite"])
    assert code == 1
    assert "would overwrite an input" in capsys.readouterr().err
    assert digests(photo_folder) == before


def test_missing_model_is_a_clear_error_before_anything_loads(photo_folder, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["colorize", str(photo_folder), "-o", str(tmp_path / "o"), "--model",
              str(tmp_path / "nope.safetensors")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "nope.safetensors: no such checkpoint file" in err


def test_train_and_evaluate_commands(photo_folder, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", str(photo_folder), "-o", str(run), "--architecture", "hybrid",
                 "--width", "0.125", "--branches", "random_0", "--crop", "32",
                 "--batch-size", "2", "--steps", "3",
                 "--device", "cpu", "--cache-dir", str(tmp_path / "cache")]) == 0
    assert (run / "best.safetensors").is_file()
    capsys.readouterr()
    assert main(["evaluate", str(photo_folder), "--model", str(run / "best.safetensors"),
                 "--device", "cpu"]) == 0
    table = capsys.readouterr().out
    assert "gray baseline" in table and "best.safetensors" in table and "PSNR" in table


@pytest.mark.parametrize("command", [["app"], ["colorize"], ["train"], ["evaluate"], ["demo"]])
def test_help_explains_each_command(command):
    proc = subprocess.run([sys.executable, "-m", "colorgui", *command, "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "usage: colorgui" in proc.stdout


@pytest.mark.parametrize("command", ["colorize", "train", "evaluate"])
def test_a_missing_input_fails_before_the_model_loads(photo_folder, tmp_path, command):
    out = tmp_path / "out"
    argv = [command, str(photo_folder), str(tmp_path / "albun")]
    argv += ["-o", str(out)] if command != "evaluate" else []
    # read as the command line is: fails before torch is imported (0.1 against 2.4 s)
    code = ("import sys; from colorgui.cli.main import main\n"
            "try:\n"
            f"    main({argv})\n"
            "finally:\n"
            "    assert 'torch' not in sys.modules")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert f"no such file or folder: {tmp_path / 'albun'}" in proc.stderr
    assert not out.exists()


def test_inputs_with_nothing_to_colorize_fail_before_the_model_loads(photo_folder, monkeypatch,
                                                                     capsys):
    import model.colorizer

    monkeypatch.setattr(model.colorizer, "Colorizer", None)  # calling it would fail
    code = main(["colorize", str(photo_folder / "p1.jpg"), "-o", str(photo_folder)])
    assert code == 1
    err = capsys.readouterr().err
    assert "nothing to colorize" in err and "would overwrite an input photo" in err


def test_the_self_test_fails_with_the_reason_and_opens_no_dialog(tmp_path):
    """An installed or frozen app's self-test on a model that cannot load ends by itself
    (exit 1, the reason on stderr) instead of waiting on an error dialog nobody answers."""
    import os

    from colorgui.settings import Settings

    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a checkpoint")
    settings = Settings(tmp_path / "config" / "colorgui.ini")
    settings.model_path, settings.device = str(broken), "cpu"
    settings.sync()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "COLORGUI_CONFIG_DIR": str(tmp_path / "config")}
    run = subprocess.run([sys.executable, "-m", "colorgui", "app", "--self-test"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    assert "self-test failed" in run.stderr and "broken.safetensors" in run.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM to a child is POSIX-only")
def test_sigterm_ends_the_window_as_the_signal_does(tmp_path, tiny_checkpoint):
    """The command line's SIGTERM handler unwound the window's event loop with the
    model's thread running: Qt aborted the app (status 134, "QThread: Destroyed")."""
    import os
    import signal
    import time

    from colorgui.settings import Settings

    settings = Settings(tmp_path / "config" / "colorgui.ini")
    settings.model_path, settings.device = str(tiny_checkpoint), "cpu"
    settings.sync()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "COLORGUI_CONFIG_DIR": str(tmp_path / "config")}
    proc = subprocess.Popen([sys.executable, "-m", "colorgui", "app"], env=env,
                            stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(8)  # the window up, its model's thread started
        proc.send_signal(signal.SIGTERM)
        err = proc.communicate(timeout=60)[1]
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGTERM, err
    assert "QThread" not in err


@pytest.mark.parametrize("argv, said", [
    (["colorize", "x.png", "--saturation", "nan"], "must lie between 0 and 2, not nan"),
    (["colorize", "x.png", "--saturation", "-1"], "must lie between 0 and 2, not -1"),
    (["colorize", "x.png", "--quality", "150"], "must lie between 1 and 100, not 150"),
    (["split", "x.png", "--quality", "0"], "must lie between 1 and 100, not 0"),
    (["colorize", "x.png", "--quality", "high"], "not a whole number: high"),
])
def test_settings_out_of_their_range_are_usage_errors(argv, said, capsys, tmp_path):
    """--saturation nan wrote a white photo and -1 an inverted one, with exit status 0."""
    (tmp_path / "x.png").write_bytes(b"")
    with pytest.raises(SystemExit) as usage:
        main([str(tmp_path / a) if a == "x.png" else a for a in argv])
    assert usage.value.code == 2 and said in capsys.readouterr().err


def test_evaluate_says_which_folder_has_no_colour_photos_and_scores_the_others(
        photo_folder, tmp_path, capsys, caplog, tiny_checkpoint):
    from PIL import Image

    empty = tmp_path / "empty"
    empty.mkdir()
    gray = tmp_path / "black and white"
    gray.mkdir()
    Image.new("L", (48, 40), 90).save(gray / "old.png")
    args = ["evaluate", str(empty), str(gray), str(photo_folder), "--model",
            str(tiny_checkpoint), "--device", "cpu"]
    assert main(args) == 1  # no traceback: each folder said, the good one scored
    captured = capsys.readouterr()
    assert f"no readable colour photos in {empty}" in captured.err
    assert f"no readable colour photos in {gray}" in captured.err
    assert any("old.png: black and white" in r.getMessage() for r in caplog.records)
    assert "gray baseline" in captured.out and "nan" not in captured.out


def test_the_same_photo_given_twice_is_colorized_once(photo_folder, tmp_path, tiny_checkpoint,
                                                      capsys, monkeypatch):
    monkeypatch.chdir(photo_folder)
    out = tmp_path / "out"
    assert main(["colorize", "p0.jpg", str(photo_folder / "p0.jpg"), "./p0.jpg", "-o", str(out),
                 "--model", str(tiny_checkpoint), "--device", "cpu"]) == 0
    assert "1 colorized, 0 skipped (output exists), 0 failed" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["colorize", "split"])
def test_an_output_that_is_a_file_is_a_usage_error(photo_folder, tmp_path, capsys, command):
    afile = tmp_path / "afile"
    afile.write_text("mine")
    with pytest.raises(SystemExit) as usage:
        main([command, str(photo_folder / "p0.jpg"), "-o", str(afile)])
    assert usage.value.code == 2
    assert f"-o {afile} is a file, not a folder" in capsys.readouterr().err
    assert afile.read_text() == "mine"


@pytest.mark.parametrize("command", ["colorize", "split"])
def test_an_output_folder_nothing_can_be_written_in_is_a_usage_error(photo_folder, tmp_path,
                                                                      capsys, monkeypatch,
                                                                      command):
    """A read-only output folder was found out photo by photo, after each had been
    colorized. (Root may write where the permissions say no: the disk is made to refuse.)"""
    import tempfile

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with pytest.raises(SystemExit) as usage:
        main([command, str(photo_folder / "p0.jpg"), "-o", str(tmp_path / "out" / "new")])
    assert usage.value.code == 2
    err = capsys.readouterr().err
    assert f"nothing can be written in {tmp_path} (Read-only file system)" in err


def test_evaluate_limit_counts_the_photos_scored_not_the_files_skipped(tmp_path):
    from PIL import Image

    from model.training.evaluate import load_ground_truth
    from tests.conftest import gradient_photo

    folder = tmp_path / "mixed"
    folder.mkdir()
    Image.new("L", (48, 40), 90).save(folder / "a old.png")  # black and white: left out
    (folder / "b broken.png").write_bytes(b"\x89PNG no")
    for name in ("c", "d", "e"):
        Image.fromarray(gradient_photo(40, 48)).save(folder / f"{name}.png")
    assert len(load_ground_truth(folder, 2, colour_only=True)) == 2  # was 0: a and b
