"""``colorgui split`` and ``colorgui colorize --split-pages / --restore-tone /
--clean-dust`` on pages built here, bad ones among them."""

import hashlib
import tempfile

import numpy as np
import pytest
from PIL import Image
from skimage import data

from colorgui.cli.main import main
from model import color
from model.album.synthetic import album_page, blank_page
from model.io.imageio import write_photo


def make_pages(folder):
    folder.mkdir(parents=True)
    photos = [color.from_uint8(x) for x in (data.astronaut(), data.chelsea(), data.coffee())]
    page = album_page(photos, "lid", np.random.default_rng(1), 100, pale_edge=False)
    write_photo(folder / "page one.png", page.rgb)
    write_photo(folder / "blank.png", blank_page("cream", np.random.default_rng(2), 100).rgb)
    good = (folder / "page one.png").read_bytes()
    (folder / "cut short.png").write_bytes(good[: len(good) // 3])
    return folder


def digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def test_split_writes_numbered_prints_reports_each_bad_page_and_exits_1(tmp_path, capsys):
    pages = make_pages(tmp_path / "scans")
    before = digests(pages)
    code = main(["split", str(pages), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    out = tmp_path / "out" / "scans"
    assert sorted(p.name for p in out.iterdir()) == \
        ["page one_01.png", "page one_02.png", "page one_03.png"]
    assert "blank.png: no photo found on the page" in err
    assert "cut short.png: failed:" in err and "truncated" in err
    assert "3 prints written, 0 skipped (file exists), 1 with no photo, 1 failed" in err
    assert digests(pages) == before


def test_split_of_a_jpeg_keeps_jpeg_and_its_exif(tmp_path, capsys):
    photos = [color.from_uint8(x) for x in (data.astronaut(), data.coffee())]
    page = album_page(photos, "black", np.random.default_rng(3), 100)
    path = tmp_path / "page.jpg"
    exif = Image.Exif()
    exif[0x0110] = "Flatbed 9000"
    Image.fromarray(color.to_uint8(page.rgb)).save(path, quality=95, exif=exif.tobytes())
    assert main(["split", str(path), "-o", str(tmp_path / "out")]) == 0
    prints = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in prints] == ["page_01.jpg", "page_02.jpg"]
    assert Image.open(prints[0]).getexif().get(0x0110) == "Flatbed 9000"


def test_colorize_split_pages_colorizes_each_print_under_its_pages_name(tmp_path, capsys,
                                                                        tiny_checkpoint):
    pages = make_pages(tmp_path / "scans")
    code = main(["colorize", str(pages / "page one.png"), str(pages / "blank.png"), "-o",
                 str(tmp_path / "out"), "--model", str(tiny_checkpoint), "--device", "cpu",
                 "--split-pages", "--restore-tone", "--clean-dust"])
    err = capsys.readouterr().err
    assert code == 1  # the blank page
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == \
        ["page one_01.png", "page one_02.png", "page one_03.png"]
    assert "blank.png: no photo found on the page" in err
    assert "colorgui-prints-" not in err  # failures name the page, not a temporary file


def test_colorize_restore_tone_on_a_photo_writes_its_colour_to_the_photos_name(tmp_path,
                                                                             tiny_checkpoint):
    photo = tmp_path / "faded.png"
    from model.album.ageing import faded, gray

    write_photo(photo, faded(gray(color.from_uint8(data.camera()[..., None].repeat(3, 2))),
                             np.random.default_rng(0), contrast=0.55, black=0.3, cast="sepia"))
    code = main(["colorize", str(photo), "-o", str(tmp_path / "out"), "--model",
                 str(tiny_checkpoint), "--device", "cpu", "--restore-tone"])
    assert code == 0 and (tmp_path / "out" / "faded.png").is_file()


def test_split_pages_is_refused_with_ray(tmp_path, capsys):
    pages = make_pages(tmp_path / "scans")
    code = main(["colorize", str(pages), "-o", str(tmp_path / "out"), "--split-pages", "--ray"])
    assert code == 2 and "run on this machine" in capsys.readouterr().err


def test_a_restored_photo_keeps_its_hints_and_its_album_and_edits_name_it(
        tmp_path, capsys, tiny_spatial_checkpoint):
    """--restore-tone colorizes a restored copy in a temporary folder: the photo's --hints
    still apply, and the album memory and the edits beside the output name the photo."""
    from model.hints import Hint
    from model.io.sidecar import Edits, content_hash, read_edits, sidecar_path, write_edits
    from model.io.provenance import read_provenance
    from model.memory.album import read_memory

    album = tmp_path / "album"
    album.mkdir()
    photo = album / "grandma.png"
    write_photo(photo, color.from_uint8(data.camera()[..., None].repeat(3, 2)))
    mine = tmp_path / "mine.json"
    write_edits(mine, Edits([Hint(0.3, 0.4, 20.0, -60.0)]))
    run = ["--model", str(tiny_spatial_checkpoint), "--device", "cpu", "--restore-tone"]
    assert main(["colorize", str(photo), "-o", str(tmp_path / "out"), "--hints", str(mine),
                 *run]) == 0
    assert read_provenance(tmp_path / "out" / "grandma.png").hints == 1
    kept = read_edits(sidecar_path(tmp_path / "out" / "grandma.png"))
    assert (kept.photo_name, kept.photo_sha256) == ("grandma.png", content_hash(photo))

    write_edits(sidecar_path(photo), Edits([Hint(0.5, 0.5, 20.0, -60.0)]))
    assert main(["colorize", str(album), "-o", str(tmp_path / "out2"), "--album", *run]) == 0
    assert [m.photo for m in read_memory(album).hints] == ["grandma.png"]
    # a page's prints are photos of their own: a hint file is for one photo
    capsys.readouterr()
    with pytest.raises(SystemExit) as usage:  # before anything loads, as argparse's errors
        main(["colorize", str(photo), "-o", str(tmp_path / "out3"), "--hints", str(mine),
              "--split-pages", *run])
    assert usage.value.code == 2
    assert "not for the prints cut from a page" in capsys.readouterr().err


def test_a_print_never_replaces_another_page_given_even_with_overwrite(tmp_path, capsys):
    """b/scan_01.png is a page given, and also the name of a/scan.png's first print."""
    pages = make_pages(tmp_path / "a")
    (tmp_path / "b").mkdir()
    scan = pages / "scan.png"
    (pages / "page one.png").rename(scan)
    other = tmp_path / "b" / "scan_01.png"
    other.write_bytes(scan.read_bytes())
    before = other.read_bytes()
    code = main(["split", str(scan), str(other), "-o", str(tmp_path / "b"), "--overwrite"])
    assert code == 1 and other.read_bytes() == before
    assert "would be written over another page" in capsys.readouterr().err


def test_prints_are_written_beside_their_page(tmp_path, capsys, tiny_checkpoint):
    """``split scan.png -o <its folder>`` was refused: "its output scan.png would overwrite
    an input photo", though the prints are scan_01.png…"""
    pages = make_pages(tmp_path / "scans")
    page = pages / "page one.png"
    before = page.read_bytes()
    assert main(["split", str(page), "-o", str(pages)]) == 0
    assert (pages / "page one_03.png").is_file() and page.read_bytes() == before
    assert main(["colorize", str(page), "-o", str(tmp_path / "scans"), "--split-pages",
                 "--model", str(tiny_checkpoint), "--device", "cpu", "--overwrite"]) == 1
    # colour over the prints just cut, which are no photos given: they are the prints'
    # names, and their colour replaces them only where they carry colorgui's mark
    assert "holds no colorgui mark" in capsys.readouterr().err and page.read_bytes() == before


def test_ctrl_c_while_pages_are_split_says_nothing_was_written(tmp_path, capsys,
                                                               tiny_checkpoint, monkeypatch):
    import model.album.prints as prints

    pages = make_pages(tmp_path / "scans")
    real, calls = prints.split_page, []

    def split_then_ctrl_c(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(prints, "split_page", split_then_ctrl_c)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    code = main(["colorize", str(pages), "-o", str(tmp_path / "out"), "--model",
                 str(tiny_checkpoint), "--device", "cpu", "--split-pages"])
    err = capsys.readouterr().err
    assert code == 130
    # (it said "3 not started" after pages had been split)
    assert ("interrupted while splitting the pages: nothing written, none of the 3 pages "
            "colorized") in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*"))
    assert not any(scratch.iterdir())  # the prints split so far are gone


def test_prints_of_a_gray_page_are_gray_at_its_bit_depth_without_its_shape(
        tmp_path, capsys, caplog):
    """An 8-bit gray PNG gave RGB prints and a 16-bit gray TIFF 16-bit RGB ones, which
    also kept tifffile's {"shape": [h, w]} of the page, so tifffile warned on reading."""
    import tifffile

    photos = [color.from_uint8(x) for x in (data.astronaut(), data.coffee())]
    page = album_page(photos, "lid", np.random.default_rng(4), 100, pale_edge=False)
    gray = page.rgb.mean(axis=2)
    pages = tmp_path / "scans"
    pages.mkdir()
    Image.fromarray(color.to_uint8(gray), "L").save(pages / "eight.png")
    tifffile.imwrite(pages / "sixteen.tif", np.rint(gray * 65535).astype(np.uint16))
    assert main(["split", str(pages), "-o", str(tmp_path / "out")]) == 0
    out = tmp_path / "out" / "scans"
    for name in ("eight_01.png", "eight_02.png"):
        assert Image.open(out / name).mode == "L"
    for name in ("sixteen_01.tif", "sixteen_02.tif"):
        with Image.open(out / name) as tif:
            assert tif.mode == "I;16" and 270 not in tif.getexif()
        with caplog.at_level("WARNING"):
            assert tifffile.imread(out / name).ndim == 2
    assert "does not match" not in caplog.text


def test_a_failed_write_names_the_print_not_its_temporary_file(tmp_path, capsys,
                                                                monkeypatch):
    import errno
    import os

    def refused(src, dst):  # what a read-only or full folder gives, naming the temporary
        raise PermissionError(errno.EACCES, "Permission denied", src)

    pages = make_pages(tmp_path / "scans")
    monkeypatch.setattr(os, "replace", refused)
    code = main(["split", str(pages / "page one.png"), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and ".part" not in err
    assert f"could not write {tmp_path / 'out' / 'page one_01.png'}: Permission denied" in err


def test_split_overwrite_keeps_a_file_beside_the_page_that_colorgui_did_not_write(
        tmp_path, capsys):
    """scan_01.png beside scan.png was the user's own scan, replaced by print 1."""
    pages = make_pages(tmp_path / "scans")
    scan = pages / "scan.png"
    (pages / "page one.png").rename(scan)
    theirs = pages / "scan_01.png"
    theirs.write_bytes((pages / "blank.png").read_bytes())
    before = theirs.read_bytes()
    code = main(["split", str(scan), "-o", str(pages), "--overwrite"])
    err = capsys.readouterr().err
    assert code == 1 and theirs.read_bytes() == before
    assert f"print 1 -> {theirs} [not replaced: it sits beside the page" in err
    assert "2 prints written, 0 skipped (file exists), 1 kept beside the page" in err
    assert (pages / "scan_03.png").is_file()
    # in a folder of their own, earlier prints are what --overwrite replaces
    out = tmp_path / "out"
    out.mkdir()
    (out / "scan_01.png").write_bytes(before)
    assert main(["split", str(scan), "-o", str(out), "--overwrite"]) == 0
    assert (out / "scan_01.png").read_bytes() != before


def test_split_names_the_prints_that_would_collide_not_the_pages_target(tmp_path, capsys):
    """a.png and a.gif both give a_01.png...; the message named out/scans/a.png."""
    pages = tmp_path / "scans"
    pages.mkdir()
    Image.fromarray(data.camera()).save(pages / "a.png")
    Image.fromarray(data.camera()).save(pages / "a.gif")
    main(["split", str(pages), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    prints = tmp_path / "out" / "scans" / "a_NN.png"
    assert f"a.png: its prints {prints} would collide with those of {pages / 'a.gif'}" in err
    assert "a.png would collide" not in err


def test_a_print_not_turned_is_said_to_be_straight(tmp_path, capsys):
    photos = [color.from_uint8(x) for x in (data.astronaut(), data.coffee())]
    page = album_page(photos, "black", np.random.default_rng(5), 100, max_turn=0.0)
    write_photo(tmp_path / "page.png", page.rgb)
    assert main(["split", str(tmp_path / "page.png"), "-o", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert err.count("[already straight]") == 2 and "0.0°" not in err


def test_split_pages_says_a_single_photo_is_kept_whole_as_split_does(tmp_path, capsys,
                                                                     tiny_checkpoint):
    """--split-pages showed it as "print 1 (+0.0°)"."""
    photo = tmp_path / "photo.png"
    write_photo(photo, color.from_uint8(data.camera()[..., None].repeat(3, 2)))
    assert main(["colorize", str(photo), "-o", str(tmp_path / "out"), "--split-pages",
                 "--model", str(tiny_checkpoint), "--device", "cpu"]) == 0
    assert f"{photo}: print 1 (a single photo, kept whole)" in capsys.readouterr().err


def test_split_pages_says_once_that_a_pages_own_hint_file_is_not_used(tmp_path, capsys,
                                                                      tiny_checkpoint):
    """page.hints.json beside page.png was left unused without a word."""
    from model.hints import Hint
    from model.io.sidecar import Edits, sidecar_path, write_edits

    pages = make_pages(tmp_path / "scans")
    page = pages / "page one.png"
    write_edits(sidecar_path(page), Edits([Hint(0.5, 0.5, 20.0, -60.0)]))
    assert main(["colorize", str(page), "-o", str(tmp_path / "out"), "--split-pages",
                 "--model", str(tiny_checkpoint), "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert err.count(f"{sidecar_path(page)} is not used: its hints are placed on the "
                     f"whole page, not on the prints cut from it") == 1
