"""Where should I click? (``model.memory.suggest`` and ``colorgui suggest``), with the
real bundled model."""

import json

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

from colorgui.cli import memory as cli_memory
from model import color
from model.colorizer import Colorizer
from model.hints import Hint
from model.io.sidecar import read_edits, sidecar_path, write_edits, Edits
from model.memory.suggest import doubt_map, suggest


@pytest.fixture(scope="module")
def colorizer():
    return Colorizer(device="cpu")


@pytest.fixture(scope="module")
def analysis(colorizer):
    rgb = cv2.resize(color.from_uint8(data.astronaut()), (256, 256), interpolation=cv2.INTER_AREA)
    return colorizer.analyse(color.luminance(rgb))


def test_suggestions_are_distinct_places_best_first_with_the_models_colour(analysis):
    found, doubt = suggest(analysis, 5)
    assert len(found) == 5
    assert all(0 <= s.x <= 1 and 0 <= s.y <= 1 for s in found)
    assert len({(round(s.x, 3), round(s.y, 3)) for s in found}) == 5
    scores = [s.score for s in found]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0
    h, w = analysis.ab.shape[:2]
    for s in found:  # the model's colour there now
        a, b = analysis.ab[min(h - 1, int(s.y * h)), min(w - 1, int(s.x * w))] * color.AB_SCALE
        assert abs(s.a - a) < 1e-3 and abs(s.b - b) < 1e-3
    assert doubt.shape == (h, w) and 0 <= doubt.min() and doubt.max() <= 1


def test_a_hint_given_lowers_the_doubt_around_it_and_moves_the_suggestions(analysis):
    first, before = suggest(analysis, 1)
    top = first[0]
    after_hint, after = suggest(analysis, 1, [Hint(top.x, top.y, top.a, top.b)])
    h, w = before.shape
    y, x = int(top.y * h), int(top.x * w)
    near = (slice(max(0, y - 3), y + 4), slice(max(0, x - 3), x + 4))
    assert after[near].mean() < 0.2 * before[near].mean()
    moved = after_hint[0]
    assert np.hypot(moved.x - top.x, moved.y - top.y) > 0.05
    assert moved.score < top.score
    # a place the user put a hint on is never suggested again, however many are asked
    # (the place clicked came back fifth, hidden under the hint's mark)
    many, _ = suggest(analysis, 30, [Hint(top.x, top.y, top.a, top.b)])
    assert many and all(np.hypot(m.x - top.x, m.y - top.y) > 1.5 / w for m in many)


def test_a_photo_covered_by_hints_gets_no_suggestion_where_a_hint_would_change_little(
        analysis):
    """A reference of the photo's own scene gives it hundreds of hints: the places left
    (its corners, under those hints) would remove almost none of its doubt."""
    from model.memory.suggest import MIN_SHARE

    h, w = analysis.ab.shape[:2]
    grid = [Hint((x + 0.5) / 24, (y + 0.5) / 24, 0.0, 0.0) for y in range(24) for x in range(24)]
    found, _ = suggest(analysis, 5, grid)
    total = float(doubt_map(analysis).sum())
    assert all(s.score >= MIN_SHARE * total for s in found)
    assert len(found) < 5
    assert len(suggest(analysis, 5, grid[::40])[0]) >= 1  # a few hints leave places


def test_the_doubt_is_the_models_expected_error(analysis):
    d = doubt_map(analysis)
    assert d.shape == analysis.ab.shape[:2] and d.min() >= 0
    # a model without a class head has no doubt to give: nothing to suggest
    from dataclasses import replace

    assert doubt_map(replace(analysis, probabilities=None)).max() == 0
    assert suggest(replace(analysis, probabilities=None), 3)[0] == []


def test_the_suggest_command_writes_a_hint_file(tmp_path, capsys, monkeypatch):
    import argparse

    photo = tmp_path / "grandma.png"
    Image.fromarray(data.camera()).save(photo)
    out = tmp_path / "where.json"
    parser = argparse.ArgumentParser()
    cli_memory.add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["suggest", str(photo), "-n", "4", "-o", str(out), "--device", "cpu"])
    assert cli_memory.COMMANDS[args.command](args) == 0
    edits = read_edits(out)
    assert len(edits.hints) == 4 and edits.photo_name == "grandma.png"
    assert edits.photo_size == (512, 512)
    # to stdout without -o; the photo's own hints are taken as given, and kept in the file
    # (colorize --hints with it left them out of the output)
    mine = Hint(edits.hints[0].x, edits.hints[0].y, 0, 0)
    write_edits(sidecar_path(photo), Edits([mine], saturation=1.2))
    args = parser.parse_args(["suggest", str(photo), "-n", "2", "--device", "cpu"])
    assert cli_memory.COMMANDS["suggest"](args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["format"] == "colorgui-hints" and doc["version"] == 1 and len(doc["hints"]) == 3
    assert (doc["hints"][0]["x"], doc["hints"][0]["y"], doc["hints"][0]["a"]) == (mine.x, mine.y, 0)
    assert all((h["x"], h["y"]) != (mine.x, mine.y) for h in doc["hints"][1:])
    assert doc["saturation"] == 1.2
    # more than the photo holds apart: said; a missing photo is a usage error, as elsewhere
    args = parser.parse_args(["suggest", str(photo), "-n", "1000", "--device", "cpu"])
    assert cli_memory.COMMANDS["suggest"](args) == 0
    assert "of 1000 asked" in capsys.readouterr().err
    bad = parser.parse_args(["suggest", str(tmp_path / "missing.png"), "--device", "cpu"])
    assert cli_memory.COMMANDS["suggest"](bad) == 2
    assert "missing.png: no such file" in capsys.readouterr().err


def test_suggest_never_writes_over_the_photo_nor_a_hint_file_without_overwrite(
        tmp_path, capsys):
    import argparse

    photo = tmp_path / "grandma.png"
    Image.fromarray(data.camera()).save(photo)
    mine = tmp_path / "grandma.hints.json"
    set_colour = Hint(0.5, 0.5, -20.0, -50.0)
    write_edits(mine, Edits([set_colour]))  # colours the user set
    other = tmp_path / "other.json"
    write_edits(other, Edits([set_colour]))
    before = photo.read_bytes(), mine.read_bytes(), other.read_bytes()
    parser = argparse.ArgumentParser()
    cli_memory.add_commands(parser.add_subparsers(dest="command"))
    for out, extra, why in ((photo, [], "is the photo itself"),
                            (photo, ["--overwrite"], "is the photo itself"),
                            (other, [], "--overwrite"), (tmp_path, [], "is a folder")):
        args = parser.parse_args(["suggest", str(photo), "-o", str(out), "--device", "cpu",
                                  *extra])
        assert cli_memory.COMMANDS["suggest"](args) == 2
        assert why in capsys.readouterr().err
    assert (photo.read_bytes(), mine.read_bytes(), other.read_bytes()) == before
    # the photo's own hint file, as the README writes it: the user's hints stay in it
    args = parser.parse_args(["suggest", str(photo), "-o", str(mine), "-n", "2",
                              "--device", "cpu"])
    assert cli_memory.COMMANDS["suggest"](args) == 0
    kept = read_edits(mine).hints
    assert len(kept) == 3 and kept[0] == set_colour
