"""The colour memory's command-line side (``colorgui/cli/memory.py``): ``--reference``
and ``--album`` on ``colorize``, and ``colorgui album``. No model loads here."""

import argparse

import pytest
from PIL import Image
from skimage import data

from colorgui.cli import memory as cli_memory
from model.batch import BatchSettings
from model.hints import Hint
from model.memory.album import FILE_NAME, AlbumMemory, write_memory


def colorize_parser():
    ap = argparse.ArgumentParser(prog="colorgui colorize")
    ap.add_argument("inputs", nargs="+")
    cli_memory.add_colorize_options(ap)
    return ap


def test_references_are_checked_before_the_model_loads(tmp_path, capsys):
    gray = tmp_path / "gray.png"
    Image.fromarray(data.camera()).save(gray)
    colour = tmp_path / "colour.png"
    Image.fromarray(data.astronaut()).save(colour)
    args = colorize_parser().parse_args(["in.jpg", "--reference", str(colour),
                                         "--reference", str(gray)])
    with pytest.raises(SystemExit) as exited:
        cli_memory.check_colorize_options(args)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert str(gray) in err and "no colour to take" in err and str(colour) not in err
    args = colorize_parser().parse_args(["in.jpg", "--reference", str(colour)])
    cli_memory.check_colorize_options(args)  # a good one passes
    with pytest.raises(SystemExit):
        colorize_parser().parse_args(["in.jpg", "--reference-strength", "1.5"])


def test_the_options_become_the_batchs_settings(tmp_path, monkeypatch):
    """The references were recorded as given (relative to where the command ran, one
    twice), in hint files beside outputs elsewhere."""
    monkeypatch.chdir(tmp_path)
    args = colorize_parser().parse_args(["in.jpg", "--reference", "a.jpg", "--reference",
                                         "b.jpg", "--reference", "./x/../a.jpg",
                                         "--reference-strength", "0.5", "--album"])
    settings = cli_memory.with_memory(args, BatchSettings(saturation=1.2))
    assert settings.references == (str(tmp_path / "a.jpg"), str(tmp_path / "b.jpg"))
    assert settings.reference_strength == 0.5
    assert settings.album_memory and settings.saturation == 1.2
    plain = cli_memory.with_memory(colorize_parser().parse_args(["in.jpg"]), BatchSettings())
    assert plain.references == () and not plain.album_memory
    assert plain.reference_strength == BatchSettings().reference_strength


def test_a_reference_strength_with_no_reference_is_said(capsys):
    args = colorize_parser().parse_args(["in.jpg", "--reference-strength", "0.5"])
    cli_memory.check_colorize_options(args)
    assert "--reference-strength weighs reference photos, and none is given" in \
        capsys.readouterr().err


def test_album_prints_the_memory_and_names_a_bad_file(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    cli_memory.add_commands(parser.add_subparsers(dest="command"))
    memory = AlbumMemory(tmp_path, references=["refs/wedding.jpg"])
    memory.remember(tmp_path / "grandma.jpg", [Hint(0.4, 0.3, 12, -30)])
    memory.drop(tmp_path / "house.jpg", memory.hints[0].id)
    write_memory(memory)
    args = parser.parse_args(["album", str(tmp_path)])
    assert cli_memory.COMMANDS["album"](args) == 0
    out = capsys.readouterr().out
    assert "refs/wedding.jpg" in out and "grandma.jpg: 1 hint" in out
    assert memory.hints[0].id in out and "dropped on house.jpg" in out
    (tmp_path / FILE_NAME).write_text("{")
    assert cli_memory.COMMANDS["album"](args) == 1
    err = capsys.readouterr().err
    assert str(tmp_path / FILE_NAME) in err and "not valid JSON" in err
    assert (tmp_path / FILE_NAME).read_text() == "{"  # reading never rewrites it


def test_album_says_when_it_is_given_no_folder_or_a_photo(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    cli_memory.add_commands(parser.add_subparsers(dest="command"))
    photo = tmp_path / "coffee.jpg"
    photo.write_bytes(b"\xff\xd8")
    for given, said in ((tmp_path / "nonexist", "no such folder"),
                        (photo, "a file, not an album folder")):
        assert cli_memory.COMMANDS["album"](parser.parse_args(["album", str(given)])) == 1
        err = capsys.readouterr().err
        assert f"{given}: {said}" in err and "colorgui-album.json:" not in err
