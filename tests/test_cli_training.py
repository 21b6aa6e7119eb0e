"""`colorgui train` and `colorgui evaluate` as a family would read them: models compared
with each other, the best checkpoint's own step, a stop when validation stops improving."""

import csv
import io
import shutil

import pytest
import torch

from colorgui.cli.main import main
from model.nets.network import HybridNet
from model.store.checkpoint import save_checkpoint
from tests.conftest import colour_photo_folder, tiny_config


@pytest.fixture
def two_runs(tmp_path, tiny_checkpoint):
    """run10/best.safetensors and run25/best.safetensors: two models, one file name."""
    a, b = tmp_path / "run10" / "best.safetensors", tmp_path / "run25" / "best.safetensors"
    a.parent.mkdir()
    b.parent.mkdir()
    shutil.copy(tiny_checkpoint, a)
    torch.manual_seed(1)
    save_checkpoint(b, HybridNet(tiny_config()), {"note": "other random weights"})
    return a, b


def test_two_models_of_one_file_name_get_a_row_each(photo_folder, two_runs, capsys):
    a, b = two_runs
    assert main(["evaluate", str(photo_folder), "--model", str(a), "--model", str(b),
                 "--device", "cpu"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if "best.safetensors" in line]
    assert [r.split("|")[1].strip() for r in rows] == ["run10/best.safetensors",
                                                       "run25/best.safetensors"]


def test_against_gives_each_models_paired_difference_and_the_photos_it_improved(
        photo_folder, two_runs, capsys):
    a, b = two_runs
    assert main(["evaluate", str(photo_folder), "--model", str(a), "--model", str(b),
                 "--against", str(a), "--device", "cpu"]) == 0
    lines = capsys.readouterr().out.splitlines()
    head = next(line for line in lines if line.startswith("| model"))
    assert "vs run10/best.safetensors dB" in head and "better than run10/best.safetensors" in head
    row_b = next(line for line in lines if line.startswith("| run25/best.safetensors"))
    cells = [c.strip() for c in row_b.split("|")]
    vs, better = cells[head.split("|").index(" vs run10/best.safetensors dB ")], cells[6]
    # 4 readable colour photos (the black-and-white one has no colour to compare with)
    assert " ± " in vs and better.endswith("%)") and "/4 (" in better
    row_a = next(line for line in lines if line.startswith("| run10/best.safetensors"))
    assert row_a.split("|")[5].strip() == ""  # no difference from itself


def test_evaluate_writes_csv_with_the_paired_columns(photo_folder, two_runs, capsys):
    a, b = two_runs
    assert main(["evaluate", str(photo_folder), "--model", str(a), "--model", str(b),
                 "--against", str(a), "--format", "csv", "--device", "cpu"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["model"] for r in rows] == ["gray baseline (a=b=0)", "run10/best.safetensors",
                                          "run25/best.safetensors"]
    b_row = rows[2]
    assert b_row["against"] == "run10/best.safetensors" and b_row["photos"] == "4"
    assert float(b_row["vs_against_half_db"]) >= 0 and 0 <= float(b_row["better_than_against"]) <= 1
    assert rows[1]["vs_against_db"] == ""


def test_train_says_where_the_best_came_from_and_why_it_stopped(tmp_path, tiny_checkpoint,
                                                                 capsys):
    photos = colour_photo_folder(tmp_path / "photos", 16)
    assert main(["train", str(photos), "-o", str(tmp_path / "ft"), "--from", str(tiny_checkpoint),
                 "--epochs", "20", "--lr", "0", "--patience", "2", "--crop", "32",
                 "--batch-size", "4", "--val-share", "0.25", "--device", "cpu",
                 "--cache-dir", str(tmp_path / "cache")]) == 0
    captured = capsys.readouterr()
    # lr 0: no pass beats the base model, which is the first candidate; two passes (of 3
    # steps: 16 photos, a quarter held out, batches of 4) without a gain end the run
    assert ("No pass did better than the base model on the photos that choose the best, so "
            "the result is the base model itself (2 passes over the photos tried, ") in captured.err
    assert ("it stopped because validation had not improved for 2 passes over the photos"
            in captured.err)
    assert "Fine-tuning did not beat the base model on your photos" in captured.out
    assert "The best model came from pass" not in captured.err + captured.out


def test_a_time_limit_without_epochs_trains_until_the_time_is_spent(tmp_path, tiny_checkpoint,
                                                                    capsys):
    photos = colour_photo_folder(tmp_path / "photos", 16)
    assert main(["train", str(photos), "-o", str(tmp_path / "ft"), "--from", str(tiny_checkpoint),
                 "--time-limit", "3", "--no-early-stop", "--crop", "32", "--batch-size", "4",
                 "--device", "cpu", "--cache-dir", str(tmp_path / "cache")]) == 0
    err = capsys.readouterr().err
    assert "it stopped because its time (0:03 of training) was spent" in err  # not 10 epochs


@pytest.mark.parametrize("option, value", [
    ("--batch-size", "0"), ("--lr", "-1"), ("--time-limit", "0"), ("--epochs", "0"),
    ("--val-share", "1"), ("--judge-share", "-0.1"), ("--patience", "0"), ("--steps", "0")])
def test_train_refuses_a_setting_out_of_range_before_reading_photos(tmp_path, option, value,
                                                                     capsys):
    """They were taken, and then failed in PyTorch's words after the photos were read
    (--batch-size 0, --lr -1), or were quietly ignored (--time-limit 0, --epochs 0), or
    left no photo to train on (--val-share 1)."""
    with pytest.raises(SystemExit) as exit_:
        main(["train", str(tmp_path), "-o", str(tmp_path / "run"), option, value])
    assert exit_.value.code == 2
    assert f"argument {option}: must lie between" in capsys.readouterr().err


def test_train_from_a_file_that_is_no_model_says_so_in_a_line(tmp_path, capsys):
    """It ended in a traceback after the photos were read."""
    fake = tmp_path / "fake.safetensors"
    fake.write_text("not a model")
    folder = colour_photo_folder(tmp_path / "photos", 4)
    with pytest.raises(SystemExit) as exit_:
        main(["train", str(folder), "-o", str(tmp_path / "run"), "--from", str(fake)])
    assert "fake.safetensors: not a colorgui checkpoint" in str(exit_.value.code)
    assert not (tmp_path / "run" / "last.safetensors").exists()


def test_evaluate_counts_the_photos_each_model_has_colorized(tmp_path, tiny_checkpoint):
    """``evaluate`` said nothing for minutes on a folder: its bars count these."""
    import numpy as np

    from model.colorizer import Colorizer
    from model.training.evaluate import colorizer_method

    counted = []
    photos = [np.full((24, 24, 3), 0.5, np.float32)] * 5
    out = colorizer_method(Colorizer(tiny_checkpoint, device="cpu"), batch=2,
                           done=counted.append)(photos)
    assert len(out) == 5 and counted == [2, 2, 1]
