"""``colorgui demo`` keeps its photos in the user's data folder, not the current one, and
colorizes enough of scikit-image's photos to be worth opening."""

import numpy as np

from colorgui.cli import colorize as cli_colorize, main as cli
from model import color
from model.colorizer import Colorizer
from model.io.imageio import read_photo


def test_the_demo_goes_to_the_user_data_folder_says_where_and_keeps_the_originals(
        tmp_path, tiny_checkpoint, monkeypatch, capsys):
    cwd = tmp_path / "clone"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    # the tiny model instead of the bundled one (whose first load takes ~20 s)
    monkeypatch.setattr(cli_colorize, "colorizer_from",
                        lambda args: Colorizer(tiny_checkpoint, device="cpu"))
    assert cli.main(["demo", "--no-gui", "--device", "cpu"]) == 0
    assert list(cwd.iterdir()) == []
    demo = tmp_path / "user-data" / "demo"  # COLORGUI_DATA_DIR, see conftest
    out = capsys.readouterr()
    assert f"demo folder: {demo}" in out.err and f"{demo / 'colorized'}" in out.out
    stems = lambda folder: sorted(p.stem for p in folder.glob("*.png"))  # noqa: E731
    colour = ["astronaut", "chelsea", "coffee", "motorcycle", "rocket"]
    assert stems(demo / "black-and-white") == sorted(colour + ["camera"])
    assert stems(demo / "colorized" / "black-and-white") == sorted(colour + ["camera"])
    assert stems(demo / "originals") == colour
    for name in colour:
        original = read_photo(demo / "originals" / f"{name}.png").rgb
        gray = read_photo(demo / "black-and-white" / f"{name}.png").rgb
        assert original.shape == gray.shape
        assert np.ptp(original, axis=2).mean() > 0.02  # a colour photo...
        np.testing.assert_allclose(color.luminance(gray), color.luminance(original), atol=0.5)
        assert np.ptp(gray, axis=2).max() < 0.02  # ...and its gray copy
