"""Every output says it was colorized by colorgui (XMP, EXIF Software), in each format and
bit depth, and keeps the photo's own EXIF and ICC profile; ``colorgui info`` reads it."""

import numpy as np
import pytest
from PIL import Image, ImageCms

from colorgui.cli.main import main
from model.io.imageio import read_photo, read_xmp
from model.output import write_colorized
from model.io.provenance import (AI_SOURCE_TYPE, Provenance, model_digest, provenance_for,
                              read_provenance, software_version)
from model.io.sidecar import content_hash
from tests.conftest import gradient_photo

RECORD = Provenance("0.1.0", "spatial", "0123456789ab", 1.2, 0.15, 3, "2026-01-02T03:04:05+00:00")
DATE_TAKEN = "1961:07:14 10:30:00"


def camera_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Leica"  # Make
    exif.get_ifd(0x8769)[0x9003] = DATE_TAKEN  # DateTimeOriginal, in the Exif sub-IFD
    return exif.tobytes()


SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def prediction(h=24, w=36):
    L = np.linspace(20, 80, h * w, dtype=np.float32).reshape(h, w)
    ab = np.zeros((h, w, 2), np.float32)
    ab[..., 0], ab[..., 1] = 0.2, -0.1
    return L, ab


@pytest.mark.parametrize("suffix, bit_depth", [(".jpg", 8), (".png", 8), (".tif", 8), (".webp", 8),
                                               (".png", 16), (".tif", 16)])
def test_provenance_exif_and_icc_survive_in_every_format(tmp_path, suffix, bit_depth):
    target = tmp_path / f"out{suffix}"
    write_colorized(target, *prediction(), 1.2, bit_depth=bit_depth, exif=camera_exif(),
                    icc=SRGB, provenance=RECORD)
    assert read_provenance(target) == RECORD
    assert AI_SOURCE_TYPE.encode() in read_xmp(target)
    back = read_photo(target)
    assert back.bit_depth == bit_depth and back.size == (36, 24)
    assert back.icc == SRGB
    exif = Image.Exif()
    exif.load(back.exif)
    assert exif[0x010F] == "Leica" and exif.get_ifd(0x8769)[0x9003] == DATE_TAKEN
    assert exif[0x0131] == "colorgui 0.1.0"  # Software


@pytest.mark.parametrize("suffix, bit_depth", [(".png", 16), (".tif", 16), (".png", 8)])
def test_alpha_is_kept_beside_the_provenance(tmp_path, suffix, bit_depth):
    alpha = np.tile(np.linspace(0, 255, 36).astype(np.uint8), (24, 1))
    target = tmp_path / f"out{suffix}"
    write_colorized(target, *prediction(), alpha=alpha, bit_depth=bit_depth, provenance=RECORD)
    back = read_photo(target)
    scale = 257 if bit_depth == 16 else 1
    assert np.array_equal(back.alpha.astype(np.int64), alpha.astype(np.int64) * scale)
    assert read_provenance(target) == RECORD


def test_an_output_without_provenance_has_none_and_keeps_its_exif(tmp_path):
    target = tmp_path / "out.jpg"
    write_colorized(target, *prediction(), exif=camera_exif(), provenance=None)
    assert read_provenance(target) is None and read_xmp(target) is None
    with Image.open(target) as img:
        assert img.getexif()[0x010F] == "Leica" and 0x0131 not in img.getexif()


def test_bmp_cannot_hold_provenance_but_is_written(tmp_path):
    target = tmp_path / "out.bmp"
    write_colorized(target, *prediction(), provenance=RECORD)
    assert read_photo(target).size == (36, 24) and read_provenance(target) is None


def test_the_record_of_a_colorizer_names_its_model_and_hashes_it_once(tiny_checkpoint, monkeypatch):
    import model.io.provenance

    class Loaded:  # what provenance_for reads of a Colorizer
        checkpoint, has_vivid, vivid = tiny_checkpoint, True, 0.25

    hashed = []
    real = model.io.provenance.content_hash
    monkeypatch.setattr(model.io.provenance, "content_hash", lambda p: hashed.append(p) or real(p))
    model.io.provenance._digest.cache_clear()
    first = provenance_for(Loaded(), 0.8, hints=2)
    again = provenance_for(Loaded(), 0.8)
    assert len(hashed) == 1  # once per model file, not per photo
    assert first.model == "tiny" and first.model_sha256 == content_hash(tiny_checkpoint)[:12]
    assert (first.saturation, first.vivid, first.hints, again.hints) == (0.8, 0.25, 2, 0)
    assert first.version == software_version() != "unknown"
    assert first.date[:2] == "20" and "T" in first.date
    assert model_digest(tiny_checkpoint.with_name("gone.safetensors")) == ""


def test_a_record_rewritten_as_elements_still_reads(tmp_path):
    """Some tools rewrite XMP properties as elements instead of attributes."""
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf='
           b'"http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
           b'xmlns:colorgui="http://ns.colorgui.org/provenance/1.0/"><colorgui:Version>0.1.0'
           b'</colorgui:Version><colorgui:Model>paper</colorgui:Model><colorgui:Hints>0'
           b'</colorgui:Hints></rdf:Description></rdf:RDF></x:xmpmeta>')
    got = Provenance.from_xmp(xmp)
    assert (got.version, got.model, got.hints, got.vivid) == ("0.1.0", "paper", 0, None)
    assert Provenance.from_xmp(b"<not xml") is None
    assert Provenance.from_xmp(b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>') is None


def test_info_prints_the_provenance_or_says_there_is_none(tmp_path, capsys):
    marked, plain, broken = tmp_path / "marked.png", tmp_path / "plain.jpg", tmp_path / "broken.jpg"
    write_colorized(marked, *prediction(), provenance=RECORD)
    Image.fromarray(gradient_photo(20, 20)).save(plain)
    broken.write_bytes(b"not a photo")
    assert main(["info", str(marked), str(plain)]) == 0
    out = capsys.readouterr().out
    assert f"{marked}: colorized by colorgui 0.1.0" in out
    assert "model: spatial (SHA-256 0123456789ab" in out and "saturation: 1.2" in out
    assert "vivid: 0.15" in out and "colour hints: 3" in out and "2026-01-02T03:04:05" in out
    assert f"{plain}: no colorgui provenance" in out
    assert main(["info", str(broken), str(plain)]) == 1
    captured = capsys.readouterr()
    assert f"{broken}: not an image" in captured.err and f"{plain}: no colorgui" in captured.out
    assert main(["info", str(tmp_path / "gone.png")]) == 1
    assert "gone.png: the file does not exist" in capsys.readouterr().err
    (tmp_path / "empty.png").write_bytes(b"")  # as colorize says it
    assert main(["info", str(tmp_path / "empty.png")]) == 1
    assert "empty.png: the file is empty (0 bytes)" in capsys.readouterr().err


def test_cli_outputs_carry_provenance_unless_told_not_to(photo_folder, tmp_path, tiny_checkpoint):
    args = ["colorize", str(photo_folder / "p0.jpg"), str(photo_folder / "sub" / "q.png"),
            "--model", str(tiny_checkpoint), "--device", "cpu", "--saturation", "0.9"]
    assert main(args + ["-o", str(tmp_path / "marked")]) == 0
    for name in ("p0.jpg", "q.png"):
        record = read_provenance(tmp_path / "marked" / name)
        assert record.model == "tiny" and record.saturation == 0.9 and record.hints == 0
        assert record.vivid is None  # the paper-style model has no vivid setting
    assert main(args + ["-o", str(tmp_path / "plain"), "--no-provenance"]) == 0
    for name in ("p0.jpg", "q.png"):
        assert (tmp_path / "plain" / name).is_file()
        assert read_provenance(tmp_path / "plain" / name) is None


def test_the_preferences_switch_is_on_by_default_and_remembered(qtbot, tmp_path):
    from colorgui.settings import Settings
    from colorgui.settings_dialog import SettingsDialog

    ini = tmp_path / "colorgui.ini"
    settings = Settings(ini)
    assert settings.provenance is True
    dialog = SettingsDialog(settings, cuda_available=False)
    qtbot.addWidget(dialog)
    assert dialog.provenance.isChecked()
    assert "AI-colorized" in dialog.provenance.text()
    dialog.provenance.setChecked(False)
    dialog.apply()
    assert Settings(ini).provenance is False  # read back from the INI file
    settings.provenance = True
    settings.sync()
    assert Settings(ini).provenance is True


DC = "http://purl.org/dc/elements/1.1/"
CAPTIONED = ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
             '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
             'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
             '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
             'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="Scanner 3000">'
             '<dc:creator><rdf:Seq><rdf:li>Grandpa Joe</rdf:li></rdf:Seq></dc:creator>'
             '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>').encode()


@pytest.mark.parametrize("suffix, bit_depth", [(".jpg", 8), (".png", 8), (".tif", 8), (".webp", 8),
                                               (".png", 16), (".tif", 16)])
@pytest.mark.parametrize("marked", [True, False])
def test_the_photos_own_xmp_is_kept_beside_the_record(tmp_path, suffix, bit_depth, marked):
    """Captions, keywords and people a photo's XMP held were lost in every output."""
    from model.io.imageio import write_photo

    photo = tmp_path / f"scan{suffix}"
    gray = np.repeat(np.linspace(0, 1, 36 * 24, dtype=np.float32).reshape(24, 36, 1), 3, 2)
    write_photo(photo, gray, bit_depth=bit_depth, xmp=CAPTIONED)
    read = read_photo(photo)
    assert b"Grandpa Joe" in read.xmp
    first = tmp_path / f"out{suffix}"
    write_colorized(first, *prediction(), bit_depth=bit_depth, xmp=read.xmp,
                    provenance=RECORD if marked else None)
    kept = read_xmp(first)
    assert b"Grandpa Joe" in kept and DC.encode() in kept
    assert read_provenance(first) == (RECORD if marked else None)
    # what made the output is said once: colorgui, not the scanner
    assert (b"colorgui 0.1.0" in kept) == marked and (b"Scanner 3000" in kept) != marked
    # an output colorized again keeps one record, the newest
    again = tmp_path / f"again{suffix}"
    newer = Provenance("0.2.0", "spatial", "0123456789ab", 1.0, None, 0, "2026-02-02T00:00:00+00:00")
    write_colorized(again, *prediction(), bit_depth=bit_depth, xmp=read_photo(first).xmp,
                    provenance=newer)
    packet = read_xmp(again)
    assert read_provenance(again) == newer and packet.count(b"colorgui 0.") == 1
    assert b"Grandpa Joe" in packet


def test_a_photos_xmp_that_is_not_xml_is_left_out(tmp_path):
    target = tmp_path / "out.jpg"
    write_colorized(target, *prediction(), xmp=b"<not xml", provenance=RECORD)
    assert read_provenance(target) == RECORD


def test_a_batch_to_bmp_says_before_it_starts_that_its_outputs_are_unmarked(
        tmp_path, tiny_checkpoint, capsys):
    """BMP holds no metadata: the outputs went out unmarked without a word."""
    photo = tmp_path / "rocket.png"
    Image.fromarray(gradient_photo(32, 32)).save(photo)
    args = ["colorize", str(photo), "-o", str(tmp_path / "out"), "--model", str(tiny_checkpoint),
            "--device", "cpu", "--format", "bmp"]
    assert main(args) == 0
    assert "BMP holds no metadata, so 1 output will not say that its colours are AI's " \
           "(rocket.bmp)" in capsys.readouterr().err
    assert main(args + ["--overwrite", "--no-provenance"]) == 0
    assert "BMP holds no metadata" not in capsys.readouterr().err
