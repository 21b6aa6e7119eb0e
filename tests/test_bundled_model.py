"""End to end with the real bundled model (a few tests: it loads three ImageNet CNNs)."""

import numpy as np
import pytest
from skimage import data

from colorgui.cli.main import main
from model import color
from model.store.checkpoint import read_header
from model.colorizer import Colorizer, bundled_model_path
from model.training.evaluate import colourfulness
from model.io.imageio import read_photo


@pytest.fixture(scope="module")
def colorizer():
    return Colorizer(device="cpu")


def test_the_default_is_the_spatial_model_and_the_paper_model_ships_beside_it():
    from resources import BUNDLED_MODELS

    config, meta = read_header(bundled_model_path())
    assert config.architecture == "spatial" and config.hints and config.class_head
    assert 0 < meta["vivid"] < 1 and meta["data"]["train_photos"] > 10_000
    paper, paper_meta = read_header(BUNDLED_MODELS["paper"])
    assert paper.fusion == "mean" and len(paper.branches) == 3
    assert all(b.startswith("effnet_lite") for b in paper.branches)
    assert paper_meta["step"] > 0 and paper_meta["data"]["train_photos"] > 1000
    assert all(p.stat().st_size < 20_000_000 for p in BUNDLED_MODELS.values())


def test_bundled_model_colours_a_gray_photo(colorizer):
    truth = color.from_uint8(data.astronaut())
    gray = color.gray_to_rgb(color.luminance(truth))
    out = colorizer.colorize(gray)
    assert out.shape == gray.shape
    assert np.abs(color.luminance(out) - color.luminance(gray)).max() < 0.39
    assert colourfulness(color.to_uint8(out)) > 10  # clearly not gray or sepia


def test_demo_command(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path / "demo"), "--device", "cpu", "--no-gui"]) == 0
    outs = sorted((tmp_path / "demo" / "colorized" / "black-and-white").glob("*.png"))
    assert [p.stem for p in outs] == ["astronaut", "camera", "chelsea", "coffee", "motorcycle", "rocket"]
    assert read_photo(outs[0]).size == (512, 512)
    assert "colorized by the bundled model" in capsys.readouterr().out
