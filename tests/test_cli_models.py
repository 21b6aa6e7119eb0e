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
