"""The CLI's words: help for every option, each command listed once, plurals."""

import argparse
import re

import pytest

from colorgui.cli.main import build_parser, main

COMMANDS = ("colorize", "info", "train", "evaluate", "app", "demo", "split", "suggest", "album")


def subparsers():
    ap = build_parser()
    sub = next(a for a in ap._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices


def test_every_option_and_argument_of_every_command_has_help_text():
    choices = subparsers()
    assert set(choices) == set(COMMANDS)
    silent = [f"{name}: {'/'.join(a.option_strings) or a.dest}"
              for name, parser in choices.items() for a in parser._actions
              if not (a.help or "").strip()]
    assert silent == []


def test_top_level_help_lists_each_command_once():
    text = build_parser().format_help()
    for command in COMMANDS:
        assert len(re.findall(rf"^\s+{command}\s", text, re.M)) == 1, command


@pytest.mark.parametrize("count,words", [(1, "colorizing 1 photo with"),
                                         (2, "colorizing 2 photos with")])
def test_the_photo_count_reads_right(photo_folder, tmp_path, tiny_checkpoint, capsys,
                                     count, words):
    inputs = [str(photo_folder / f"p{i}.jpg") for i in range(count)]
    assert main(["colorize", *inputs, "-o", str(tmp_path / "out"), "--model",
                 str(tiny_checkpoint), "--device", "cpu"]) == 0
    assert words in capsys.readouterr().err


def test_the_header_counts_the_photos_that_cannot_be_colorized(photo_folder, tmp_path,
                                                               tiny_checkpoint, capsys):
    """"colorizing 1 photo" was followed by "1 colorized, 0 skipped, 1 failed"."""
    import shutil

    from PIL import Image

    album = tmp_path / "twins"  # a.jpg and a.png: both would come out as a.png
    album.mkdir()
    shutil.copy(photo_folder / "p0.jpg", album / "a.jpg")
    Image.open(photo_folder / "p0.jpg").save(album / "a.png")
    main(["colorize", str(album), "-o", str(tmp_path / "out"), "--format", "png", "--model",
          str(tiny_checkpoint), "--device", "cpu"])
    err = capsys.readouterr().err
    assert "colorizing 1 photo (1 cannot be, below) with" in err, err
