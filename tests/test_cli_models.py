"""The CLI's model choices: names, --vivid, training the spatial model, fine-tune report."""

import pytest
from PIL import Image

from colorgui.cli.main import main
from model.store.checkpoint import read_header
from tests.conftest import colour_photo_folder, gradient_photo


@pytest.fixture
def colour_folder(tmp_path):
    return colour_photo_folder(tmp_path / "colour", 12)


def test_an_unknown_model_name_fails_at_once_listing_the_known_ones(tmp_path, capsys):
    photo = tmp_path / "p.png"
    Image.fromarray(gradient_photo(16, 16)).save(photo)
    with pytest.raises(SystemExit) as exc:
        main(["colorize", str(photo), "--model", "grandmas-model"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "no model file or model called 'grandmas-model'" in err and "paper" in err


def test_vivid_must_lie_between_0_and_1_and_needs_a_class_head(tmp_path, tiny_checkpoint, capsys):
    photo = tmp_path / "p.png"
    Image.fromarray(gradient_photo(16, 16)).save(photo)
    with pytest.raises(SystemExit):
        main(["colorize", str(photo), "--vivid", "1.5"])
    assert "between 0 and 1" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["colorize", str(photo), "--model", str(tiny_checkpoint), "--vivid", "0.5",
              "-o", str(tmp_path / "out"), "--device", "cpu"])
    assert "no class head" in str(exc.value)


def test_train_a_spatial_model_then_fine_tune_it_and_see_before_and_after(colour_folder, tmp_path,
                                                                          capsys):
    run = tmp_path / "run"
    assert main(["train", str(colour_folder), "-o", str(run), "--steps", "2", "--crop", "32",
                 "--batch-size", "4", "--in-memory", "--no-check", "--device", "cpu"]) == 0
    config, meta = read_header(run / "best.safetensors")
    assert config.architecture == "spatial" and meta["step"] == 2
    capsys.readouterr()
    assert main(["train", str(colour_folder), "-o", str(tmp_path / "ft"), "--from",
                 str(run / "best.safetensors"), "--steps", "1", "--crop", "32", "--batch-size",
                 "4", "--val-share", "0.3", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "| before (base model) |" in out and "| after (fine-tuned) |" in out
    assert "held-out photo" in out  # the plain-words summary


def test_ctrl_c_during_training_keeps_the_run_to_go_on_from(colour_folder, tmp_path, capsys,
                                                            monkeypatch):
    """The first Ctrl-C stops after the step in hand and keeps the run (it said "run the
    same command again to resume", but nothing was kept, and the next run began again and
    replaced a better best checkpoint)."""
    import os
    import signal

    from model.progress import TqdmProgress

    step = TqdmProgress.step

    def ctrl_c_at_step_2(self, n, total, loss):
        step(self, n, total, loss)
        if n == 2:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(TqdmProgress, "step", ctrl_c_at_step_2)
    run = tmp_path / "run"
    args = ["train", str(colour_folder), "-o", str(run), "--steps", "6", "--crop", "32",
            "--batch-size", "4", "--in-memory", "--no-check", "--device", "cpu"]
    assert main(args) == 130
    err = capsys.readouterr().err
    assert "stopping after the step in hand" in err and "run the same command again" in err
    assert read_header(run / "last.safetensors")[1]["step"] == 2
    monkeypatch.setattr(TqdmProgress, "step", step)
    assert main(args) == 0  # goes on from step 2
    assert read_header(run / "last.safetensors")[1]["step"] == 6


def test_train_refuses_a_run_folder_it_cannot_write_before_anything_loads(colour_folder,
                                                                          tmp_path, capsys,
                                                                          monkeypatch):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    args = ["train", str(colour_folder), "--steps", "1", "--device", "cpu", "-o"]
    with pytest.raises(SystemExit) as exc:
        main(args + [str(a_file)])
    assert exc.value.code == 2 and "is a file, not a folder" in capsys.readouterr().err
    assert a_file.read_text() == "mine"

    import tempfile

    def refuse(*a, dir=None, **k):  # a read-only folder, for root too
        raise PermissionError(13, "Permission denied", dir)

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    with pytest.raises(SystemExit) as exc:
        main(args + [str(tmp_path / "locked")])
    assert exc.value.code == 2
    assert "checkpoints cannot be written to" in capsys.readouterr().err


@pytest.mark.parametrize("memory", [["--reference", "REF"], ["--album"]])
def test_reference_and_album_with_a_model_that_takes_no_hints_is_an_error(tmp_path, capsys,
                                                                          tiny_checkpoint,
                                                                          memory):
    """With the paper model they were silently ignored (exit 0, no hints)."""
    from skimage import data

    photo, ref = tmp_path / "gray.png", tmp_path / "colour.png"
    Image.fromarray(data.camera()[::8, ::8]).save(photo)
    Image.fromarray(data.astronaut()[::8, ::8]).save(ref)
    memory = [str(ref) if a == "REF" else a for a in memory]
    code = main(["colorize", str(photo), "-o", str(tmp_path / "out"), "--model",
                 str(tiny_checkpoint), "--device", "cpu", *memory])
    err = capsys.readouterr().err  # by the model's name, not its file and device
    assert code == 2 and f"the {tiny_checkpoint.stem} model does not take" in err
    assert not (tmp_path / "out").exists()


def test_a_run_that_stopped_improving_is_not_trained_again_when_run_again(colour_folder,
                                                                         tmp_path, capsys):
    """Each re-run of a run stopped by its patience trained one more pass and wrote its
    checkpoints again."""
    from model.store.checkpoint import load_checkpoint, save_checkpoint

    run = tmp_path / "run"
    args = ["train", str(colour_folder), "-o", str(run), "--epochs", "2", "--crop", "32",
            "--batch-size", "4", "--in-memory", "--no-check", "--device", "cpu",
            "--patience", "2"]
    assert main(args) == 0
    net, meta, extra = load_checkpoint(run / "last.safetensors", with_extra=True)
    save_checkpoint(run / "last.safetensors", net, {**meta, "stale": 2}, extra)  # it stalled
    steps = meta["step"]
    capsys.readouterr()
    assert main(args[:5] + ["4"] + args[6:]) == 0  # more passes allowed: the patience ends it
    assert read_header(run / "last.safetensors")[1]["step"] == steps
    assert "validation had not improved for 2 passes" in capsys.readouterr().err
