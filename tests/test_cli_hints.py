"""Colour hints on the command line: ``--hints FILE`` for one photo, a sidecar
``PHOTO.hints.json`` beside any input, bad hint files named with the reason, and the
edits kept beside the output. ``tiny_spatial_checkpoint`` (tests/conftest.py) is a
model that takes hints; ``tiny_checkpoint`` one that does not."""

import json

import numpy as np
import pytest
from PIL import Image

from colorgui.cli.main import main
from model import color
from model.hints import Hint
from model.io.imageio import read_photo
from model.output import write_edits_beside
from model.io.provenance import read_provenance
from model.io.sidecar import Edits, content_hash, read_edits, sidecar_path, write_edits

HINT = Hint(0.25, 0.5, 70.0, 60.0, size=0.2)


def gray_photo(path, h=48, w=72):
    """A dark gradient on the left, a bright one right of x = 44: an edge a hint's colour
    must not cross."""
    y, x = np.mgrid[0:h, 0:w]
    gray = (x + y) * 100 // (h + w) + np.where(x >= 44, 140, 0)
    Image.fromarray(gray.astype(np.uint8)).save(path)
    return path


def hint_file(path, hints=(HINT,)):
    write_edits(path, Edits(list(hints)))
    return path


def colorize(inputs, out, model, *extra):
    return main(["colorize", *map(str, inputs), "-o", str(out), "--model", str(model),
                 "--device", "cpu", *extra])


def lab(path):
    return color.rgb_to_lab(read_photo(path).rgb)


def test_a_hint_file_changes_colours_near_the_hint_and_never_the_lightness(
        tmp_path, tiny_spatial_checkpoint):
    photo = gray_photo(tmp_path / "street.png")
    hints = hint_file(tmp_path / "mine.json")
    assert colorize([photo], tmp_path / "auto", tiny_spatial_checkpoint) == 0
    assert colorize([photo], tmp_path / "hinted", tiny_spatial_checkpoint,
                    "--hints", str(hints)) == 0
    auto, hinted = lab(tmp_path / "auto" / "street.png"), lab(tmp_path / "hinted" / "street.png")
    change = np.abs(hinted[..., 1:] - auto[..., 1:]).sum(-1)
    near, far = change[19:29, 13:23].mean(), change[:, 54:].mean()  # the hint: x 0.25, y 0.5;
    # far: across the edge
    assert near > 1.0 and far < near / 10
    assert np.abs(hinted[..., 0] - lab(photo)[..., 0]).max() < 0.6  # 8-bit rounding only
    record = read_provenance(tmp_path / "hinted" / "street.png")
    assert record.hints == 1 and record.model == "tiny-spatial"
    assert read_provenance(tmp_path / "auto" / "street.png").hints == 0


def test_the_edits_are_kept_beside_an_output_made_with_hints(tmp_path, tiny_spatial_checkpoint):
    photo = gray_photo(tmp_path / "street.png")
    hints = tmp_path / "mine.json"
    # (made with the paper model: the copy names the model that made the output)
    write_edits(hints, Edits([HINT, Hint(0.8, 0.1, -20.0, 30.0)], model="paper"))
    out = tmp_path / "out"
    assert colorize([photo], out, tiny_spatial_checkpoint, "--hints", str(hints),
                    "--format", "jpg") == 0
    kept = read_edits(out / "street.hints.json")
    assert kept.hints == read_edits(hints).hints and len(kept.hints) == 2
    assert (kept.photo_name, kept.photo_sha256, kept.photo_size) == (
        "street.png", content_hash(photo), (72, 48))
    assert kept.model == tiny_spatial_checkpoint.stem
    assert sorted(p.name for p in out.iterdir()) == ["street.hints.json", "street.jpg"]


def test_a_hint_file_gives_its_photo_its_saturation_and_vivid_unless_the_command_does(
        tmp_path, tiny_spatial_checkpoint):
    """The file beside an output (the app's Save writes one) and the original make the
    output again: at the file's saturation and vivid, where the command sets none."""
    photo = gray_photo(tmp_path / "street.png")
    edits = tmp_path / "street_colorized.hints.json"
    write_edits(edits, Edits([HINT], saturation=1.4, vivid=0.2))
    assert colorize([photo], tmp_path / "again", tiny_spatial_checkpoint,
                    "--hints", str(edits)) == 0
    record = read_provenance(tmp_path / "again" / "street.png")
    assert record.saturation == pytest.approx(1.4) and record.vivid == pytest.approx(0.2)
    assert colorize([photo], tmp_path / "asked", tiny_spatial_checkpoint, "--hints", str(edits),
                    "--saturation", "1.1", "--vivid", "0.5") == 0
    record = read_provenance(tmp_path / "asked" / "street.png")
    assert record.saturation == pytest.approx(1.1) and record.vivid == pytest.approx(0.5)
    kept = read_edits(tmp_path / "asked" / "street.hints.json")  # what made this output
    assert (kept.saturation, kept.vivid) == (pytest.approx(1.1), pytest.approx(0.5))
    again, asked = lab(tmp_path / "again" / "street.png"), lab(tmp_path / "asked" / "street.png")
    assert np.abs(again[..., 1:] - asked[..., 1:]).max() > 1.0


def test_a_sidecar_beside_a_photo_in_a_folder_is_used_for_that_photo(tmp_path,
                                                                      tiny_spatial_checkpoint):
    album = tmp_path / "album"
    album.mkdir()
    gray_photo(album / "a.png")
    gray_photo(album / "b.png")
    hint_file(album / "a.hints.json", [HINT, HINT])
    out = tmp_path / "out"
    assert colorize([album], out, tiny_spatial_checkpoint) == 0
    assert read_provenance(out / "album" / "a.png").hints == 2
    assert read_provenance(out / "album" / "b.png").hints == 0
    assert (out / "album" / "a.hints.json").is_file()
    assert not (out / "album" / "b.hints.json").exists()
    a, b = lab(out / "album" / "a.png"), lab(out / "album" / "b.png")
    assert np.abs(a[..., 1:] - b[..., 1:]).max() > 1.0  # same pixels, the hints differ


@pytest.mark.parametrize("text, reason", [
    ("{not json", "not valid JSON"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),  # was a RecursionError: no batch
    ('{"format": "colorgui-hints", "version": 9, "hints": []}', "version 9 is not supported"),
    ('{"format": "colorgui-hints", "version": true, "hints": []}', "version True is not"),
    ('{"format": "colorgui-hints", "version": 1, "hints": [{"x": 1.5, "y": 0, "a": 0, "b": 0}]}',
     "x is 1.5, outside 0..1"),
])
def test_bad_sidecars_fail_their_photo_naming_the_file_and_the_batch_goes_on(
        tmp_path, tiny_spatial_checkpoint, capsys, text, reason):
    album = tmp_path / "album"
    album.mkdir()
    for name in ("bad", "good"):
        gray_photo(album / f"{name}.png")
    (album / "bad.hints.json").write_text(text)
    out = tmp_path / "out"
    assert colorize([album], out, tiny_spatial_checkpoint) == 1
    err = capsys.readouterr().err
    assert f"{album / 'bad.hints.json'}: " in err and reason in err and "1 failed" in err
    assert (out / "album" / "good.png").is_file() and not (out / "album" / "bad.png").exists()


def test_a_bad_hints_file_fails_before_colorizing(tmp_path, tiny_spatial_checkpoint, capsys,
                                                  monkeypatch):
    import model.colorizer

    photo = gray_photo(tmp_path / "street.png")
    bad = tmp_path / "mine.json"
    bad.write_text(json.dumps({"format": "colorgui-hints", "version": 1,
                               "hints": [{"x": 0.5, "y": -0.2, "a": 0, "b": 0}]}))
    monkeypatch.setattr(model.colorizer, "Colorizer", None)  # loading a model would fail
    for hints, reason in ((bad, "y is -0.2, outside 0..1"), (tmp_path / "gone.json", "no such")):
        with pytest.raises(SystemExit) as exc:
            colorize([photo], tmp_path / "out", tiny_spatial_checkpoint, "--hints", str(hints))
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert f"{hints}: " in err and reason in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("inputs", [["album"], ["a.png", "b.png"]])
def test_hints_are_for_a_single_photo(tmp_path, tiny_spatial_checkpoint, capsys, inputs):
    album = tmp_path / "album"
    album.mkdir()
    for name in ("a.png", "b.png"):
        gray_photo(tmp_path / name)
    hints = hint_file(tmp_path / "mine.json")
    with pytest.raises(SystemExit) as exc:
        colorize([tmp_path / i for i in inputs], tmp_path / "out", tiny_spatial_checkpoint,
                 "--hints", str(hints))
    assert exc.value.code == 2
    assert "--hints is for a single photo" in capsys.readouterr().err


def test_a_model_without_hint_channels_fails_the_photo_with_hints(tmp_path, tiny_checkpoint,
                                                                   capsys):
    album = tmp_path / "album"
    album.mkdir()
    gray_photo(album / "a.png")
    gray_photo(album / "b.png")
    hint_file(album / "a.hints.json")
    hint_file(album / "b.hints.json", [])  # no hints: any model will do
    out = tmp_path / "out"
    assert colorize([album], out, tiny_checkpoint) == 1
    err = capsys.readouterr().err
    assert f"{album / 'a.hints.json'}: this model takes no colour hints (1 given" in err
    assert (out / "album" / "b.png").is_file() and not (out / "album" / "a.png").exists()


def test_an_output_beside_its_photo_leaves_the_photos_own_sidecar_alone(tmp_path):
    photo = gray_photo(tmp_path / "a.png")
    side = hint_file(sidecar_path(photo))
    before = side.read_bytes()
    edits = read_edits(side)
    assert write_edits_beside(tmp_path / "a.jpg", photo, edits, (72, 48), side) is None
    assert side.read_bytes() == before
    written = write_edits_beside(tmp_path / "out" / "a.jpg", photo, edits, (72, 48), side)
    assert written == tmp_path / "out" / "a.hints.json"
    assert read_edits(written).photo_name == "a.png"


def test_a_file_already_where_the_edits_would_go_beside_a_new_output_is_kept(
        tmp_path, tiny_spatial_checkpoint, capsys):
    """Only the edits of an earlier output of the same photo are replaced: --overwrite
    replaced the user's file the run before had said it kept."""
    photo = gray_photo(tmp_path / "chelsea.png")
    hints = tmp_path / "green.json"
    write_edits(hints, Edits([Hint(0.5, 0.5, -40.0, 30.0)]))
    out = tmp_path / "out"
    out.mkdir()
    mine = out / "chelsea.hints.json"
    mine.write_text("my own notes")
    for extra in ((), ("--overwrite",)):
        assert colorize([photo], out, tiny_spatial_checkpoint, "--hints", str(hints),
                        *extra) == 0
        assert (out / "chelsea.png").is_file() and mine.read_text() == "my own notes"
        assert f"{mine} was already there and is kept" in capsys.readouterr().err
    # another photo's edits are kept too; this photo's earlier ones go with their output
    write_edits(mine, Edits([HINT], photo_sha256="0" * 64))
    assert colorize([photo], out, tiny_spatial_checkpoint, "--hints", str(hints),
                    "--overwrite") == 0
    assert read_edits(mine).hints == [HINT]
    write_edits(mine, Edits([HINT], photo_sha256=content_hash(photo)))
    assert colorize([photo], out, tiny_spatial_checkpoint, "--hints", str(hints),
                    "--overwrite") == 0
    assert read_edits(mine).hints == [Hint(0.5, 0.5, -40.0, 30.0)]


def test_a_hint_file_made_for_another_photo_is_used_with_a_word(tmp_path,
                                                                 tiny_spatial_checkpoint, caplog):
    """It was applied silently (the edits beside an output name the photo they were made
    for); the file of the photo itself says nothing."""
    photo = gray_photo(tmp_path / "crop1.png")
    other = gray_photo(tmp_path / "crop0.png", 50, 70)
    made = tmp_path / "crop0.hints.json"
    write_edits(made, Edits([HINT], photo_name="crop0.png", photo_sha256=content_hash(other)))
    assert colorize([photo], tmp_path / "out", tiny_spatial_checkpoint, "--hints", str(made)) == 0
    assert "was made for crop0.png, not crop1.png" in caplog.text
    caplog.clear()
    own = tmp_path / "own.hints.json"
    write_edits(own, Edits([HINT], photo_name="crop1.png", photo_sha256=content_hash(photo)))
    assert colorize([photo], tmp_path / "out2", tiny_spatial_checkpoint, "--hints", str(own)) == 0
    assert "was made for" not in caplog.text


def test_the_edits_beside_a_prints_output_name_no_photo(tmp_path, tiny_spatial_checkpoint):
    """--split-pages cuts its prints into a temporary folder: the edits beside their
    outputs named a file that was gone (print_01.png, its hash) and so could not say how
    the output was made."""
    from model.batch import BatchItem, BatchSettings, run_jobs
    from model.colorizer import Colorizer

    (tmp_path / "00001").mkdir()
    cut = gray_photo(tmp_path / "00001" / "page_01.png")
    hints = hint_file(tmp_path / "mine.json")
    item = BatchItem(cut, tmp_path / "out" / "page_01.jpg", hints=hints, kept=False)
    report = run_jobs([item], Colorizer(tiny_spatial_checkpoint, device="cpu"), BatchSettings())
    assert len(report.done) == 1
    kept = read_edits(tmp_path / "out" / "page_01.hints.json")
    assert kept.hints == [HINT] and (kept.photo_name, kept.photo_sha256, kept.photo_size) == \
        (None, None, None)
    # a hint file of the user's beside a new print output is kept; an earlier output's
    # edits go with it when it is replaced
    (tmp_path / "out" / "page_01.jpg").unlink()
    write_edits(tmp_path / "out" / "page_01.hints.json", Edits([Hint(0.1, 0.1, 5.0, 5.0)]))
    run_jobs([item], Colorizer(tiny_spatial_checkpoint, device="cpu"), BatchSettings())
    assert read_edits(tmp_path / "out" / "page_01.hints.json").hints == [Hint(0.1, 0.1, 5.0, 5.0)]
    run_jobs([item], Colorizer(tiny_spatial_checkpoint, device="cpu"),
             BatchSettings(overwrite=True))
    assert read_edits(tmp_path / "out" / "page_01.hints.json").hints == [HINT]
