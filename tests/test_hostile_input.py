"""The hostile corpus: every kind of file an old album's scans arrive as, through the CLI.

Each bad file must fail with a message naming the file and the reason, leave no output
and no temporary file behind, and never stop the rest of the batch; each odd but valid
file must come out at its own size.
"""

import errno
import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorgui.cli.main import main
from model.batch import plan_jobs, run_jobs
from model.colorizer import Colorizer
from model.io.imageio import read_photo
from tests.conftest import gradient_photo


def colorize(inputs, out, checkpoint, *extra):
    return main(["colorize", *map(str, inputs), "-o", str(out), "--model", str(checkpoint),
                 "--device", "cpu", *extra])


def files_under(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def jpeg_bytes(rgb, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", **kw)
    return buf.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A valid PNG header that declares a huge image, followed by almost no data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + png_chunk(b"IEND", b""))


def png_with_bad_checksum() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(gradient_photo(32, 32)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    idat = data.index(b"IDAT")
    length = struct.unpack(">I", data[idat - 4:idat])[0]
    data[idat + 4 + length] ^= 0xFF  # first byte of IDAT's CRC
    return bytes(data)


BAD_FILES = {
    "zero-byte": ("empty.jpg", lambda: b"", "empty"),
    "truncated-jpeg": ("cut.jpg", lambda: jpeg_bytes(gradient_photo(200, 200))[:1500],
                       "truncated"),
    "text-named-jpg": ("notes.jpg", lambda: b"Grandma's album, 1952\n", "not an image"),
    "png-bad-checksum": ("crc.png", png_with_bad_checksum, "damaged"),
    "decompression-bomb": ("bomb.png", lambda: png_declaring(100_000, 100_000), "too large"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_reported_by_name_and_reason(case, tmp_path, tiny_checkpoint, capsys):
    name, make, reason = BAD_FILES[case]
    album = tmp_path / "album"
    album.mkdir()
    (album / name).write_bytes(make())
    Image.fromarray(gradient_photo(40, 40)).save(album / "good.png")
    out = tmp_path / "out"
    assert colorize([album], out, tiny_checkpoint) == 1
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if name in x)
    assert reason in line
    assert "1 colorized" in err and "1 failed" in err  # the batch went on
    assert files_under(out) == ["album/good.png"]      # no output, no .part for the bad file


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    import resource

    path = tmp_path / "bomb.png"
    path.write_bytes(png_declaring(100_000, 100_000))  # 30 GB if decoded
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(Exception, match="too large"):
        read_photo(path)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB


def save_with(fn):
    def make(path):
        fn(path)
        return path
    return make


def exif_rotated(path):
    img = Image.fromarray(gradient_photo(30, 50))  # stored 50 wide, 30 high
    exif = img.getexif()
    exif[0x0112] = 6  # display rotated 90° clockwise: 30 wide, 50 high
    img.save(path, exif=exif.tobytes())


def animated_gif(path):
    frames = [Image.fromarray(gradient_photo(24, 36, i)).convert("P") for i in range(3)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)


def palette_with_transparency(path):
    img = Image.fromarray(gradient_photo(20, 30)).convert("P")
    img.info["transparency"] = 0
    img.save(path, transparency=0)


ODD_FILES = {
    "one-pixel": ("dot.png", save_with(lambda p: Image.fromarray(gradient_photo(1, 1)).save(p))),
    "1x10000": ("strip.png", save_with(lambda p: Image.fromarray(gradient_photo(1, 10000)).save(p))),
    "10000x1": ("column.png", save_with(lambda p: Image.fromarray(gradient_photo(10000, 1)).save(p))),
    "16-bit-png": ("deep.png", save_with(lambda p: Image.fromarray(
        (np.arange(64 * 48, dtype=np.uint16).reshape(48, 64) * 21)).save(p))),
    "16-bit-tiff": ("deep.tif", save_with(lambda p: __import__("cv2").imwrite(
        str(p), (gradient_photo(40, 60).astype(np.uint16) * 257)))),
    "cmyk-jpeg": ("cmyk.jpg", save_with(lambda p: Image.fromarray(gradient_photo(40, 40))
                                         .convert("CMYK").save(p))),
    "palette-transparency": ("pal.png", save_with(palette_with_transparency)),
    "animated-gif": ("anim.gif", save_with(animated_gif)),
    "exif-rotated": ("turned.jpg", save_with(exif_rotated)),
    "non-ascii-spaces": ("Großmutters Album/été 1952 ✿ copy (2).jpg", save_with(
        lambda p: Image.fromarray(gradient_photo(40, 48)).save(p))),
}


@pytest.mark.parametrize("case", sorted(ODD_FILES))
def test_odd_but_valid_file_comes_out_at_its_own_size(case, tmp_path, tiny_checkpoint):
    name, make = ODD_FILES[case]
    src = tmp_path / "in" / name
    src.parent.mkdir(parents=True, exist_ok=True)
    make(src)
    before = src.read_bytes()
    out = tmp_path / "out"
    assert colorize([src], out, tiny_checkpoint) == 0
    [rel] = files_under(out)
    original, result = read_photo(src), read_photo(out / rel)
    assert result.size == original.size
    assert result.bit_depth == original.bit_depth
    assert (result.alpha is None) == (original.alpha is None)
    assert src.read_bytes() == before
    if case == "exif-rotated":  # upright pixels, not a tag that a viewer must apply
        with Image.open(out / rel) as img:
            assert img.size == (30, 50) and img.getexif().get(0x0112, 1) == 1


def test_symlink_loop_in_a_folder(tmp_path, tiny_checkpoint):
    album = tmp_path / "album"
    album.mkdir()
    Image.fromarray(gradient_photo(32, 32)).save(album / "a.png")
    (album / "loop").symlink_to(album, target_is_directory=True)
    out = tmp_path / "out"
    assert colorize([album], out, tiny_checkpoint) == 0
    assert "album/a.png" in files_under(out)


def test_a_symbolic_link_loop_fails_by_name_and_the_rest_is_done(tmp_path, tiny_checkpoint,
                                                                 capsys):
    """Two links pointing at each other ended colorize and split in a traceback before
    anything ran (``Path.resolve`` raises on a loop)."""
    album = tmp_path / "album"
    album.mkdir()
    Image.fromarray(gradient_photo(32, 32)).save(album / "a.png")
    (album / "loop1.jpg").symlink_to("loop2.jpg")
    (album / "loop2.jpg").symlink_to("loop1.jpg")
    out = tmp_path / "out"
    assert colorize([album], out, tiny_checkpoint) == 1
    assert files_under(out) == ["album/a.png"]
    assert "loop1.jpg: a symbolic link loop" in capsys.readouterr().err
    assert main(["split", str(album), "-o", str(tmp_path / "prints")]) == 1
    said = capsys.readouterr()
    assert "loop2.jpg: a symbolic link loop" in said.out + said.err
    with pytest.raises(SystemExit):  # given by name: a usage error, before the model loads
        colorize([album / "loop1.jpg"], out, tiny_checkpoint)
    assert "loop1.jpg: a symbolic link loop" in capsys.readouterr().err
    with pytest.raises(Exception, match="a symbolic link loop"):
        read_photo(album / "loop1.jpg")


def test_overwrite_replaces_earlier_outputs_but_never_another_original(tmp_path, tiny_checkpoint,
                                                                         capsys):
    """``colorize a.jpg -o . --format png --overwrite`` replaced the user's other
    original a.png; an earlier output (colorgui's mark in it) is still replaced."""
    album = tmp_path / "album"
    album.mkdir()
    Image.fromarray(gradient_photo(32, 32)).convert("L").save(album / "a.jpg")
    other = gradient_photo(20, 24, 5)
    Image.fromarray(other).save(album / "a.png")
    before = (album / "a.png").read_bytes()
    assert colorize([album / "a.jpg"], album, tiny_checkpoint, "--format", "png",
                    "--overwrite") == 1
    assert (album / "a.png").read_bytes() == before
    assert "a.png is kept: it sits beside the originals" in capsys.readouterr().err
    for _ in range(2):  # written, then replaced: its own earlier output
        assert colorize([album / "a.jpg"], album, tiny_checkpoint, "--format", "webp",
                        "--overwrite") == 0
    # in another folder an output is replaced whatever it holds (--no-provenance ones too)
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(before)
    assert colorize([album / "a.jpg"], out, tiny_checkpoint, "--format", "png",
                    "--overwrite") == 0
    assert (out / "a.png").read_bytes() != before


def test_a_photo_of_a_format_colorgui_does_not_write_comes_out_as_png(tmp_path, tiny_checkpoint):
    """A TGA, or a photo with no suffix, given by name was colorized and then failed:
    "unsupported output format ''"."""
    for name, fmt in (("scan", "PNG"), ("scan.tga", "TGA")):
        Image.fromarray(gradient_photo(32, 32)).save(tmp_path / name, fmt)
    out = tmp_path / "out"
    assert colorize([tmp_path / "scan", tmp_path / "scan.tga"], out, tiny_checkpoint) == 1
    assert files_under(out) == ["scan.png"]  # the two outputs collide: one is written
    assert colorize([tmp_path / "scan.tga"], tmp_path / "out2", tiny_checkpoint) == 0
    assert files_under(tmp_path / "out2") == ["scan.png"]


def test_a_file_deleted_after_queueing(tmp_path, tiny_checkpoint):
    album = tmp_path / "album"
    album.mkdir()
    for name in ("a", "b", "c"):
        Image.fromarray(gradient_photo(32, 32)).save(album / f"{name}.png")
    jobs, refused = plan_jobs([album], tmp_path / "out")
    (album / "b.png").unlink()
    report = run_jobs(jobs, Colorizer(tiny_checkpoint, device="cpu"))
    assert not refused and len(report.done) == 2
    [(path, reason)] = report.failed
    assert path.name == "b.png" and "does not exist" in reason


def test_two_inputs_with_the_same_output_name(tmp_path, tiny_checkpoint, capsys):
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        Image.fromarray(gradient_photo(32, 32)).save(tmp_path / folder / "p.png")
    Image.fromarray(gradient_photo(32, 32)).save(tmp_path / "x" / "q.gif")
    Image.fromarray(gradient_photo(32, 32)).save(tmp_path / "x" / "q.png")
    out = tmp_path / "out"
    inputs = [tmp_path / "x" / "p.png", tmp_path / "y" / "p.png",
              tmp_path / "x" / "q.gif", tmp_path / "x" / "q.png"]
    assert colorize(inputs, out, tiny_checkpoint) == 1
    err = capsys.readouterr().err
    assert err.count("would collide") == 2
    assert files_under(out) == ["p.png", "q.png"]


def test_output_folder_inside_the_input_folder(tmp_path, tiny_checkpoint, capsys):
    album = tmp_path / "album"
    album.mkdir()
    Image.fromarray(gradient_photo(32, 32)).save(album / "a.png")
    out = album / "colour"
    assert colorize([album], out, tiny_checkpoint) == 0
    assert colorize([album], out, tiny_checkpoint) == 0  # a second run adds nothing
    assert files_under(album) == ["a.png", "colour/album/a.png"]
    assert "0 colorized, 1 skipped" in capsys.readouterr().err


def test_the_current_folder_and_its_parent_as_inputs(tmp_path, tiny_checkpoint, capsys,
                                                     monkeypatch):
    """``colorize .`` took its outputs of the first run for inputs of the second (and
    wrote colorized/colorized/...); ``colorize .. -o out`` wrote beside the photos, out/..
    being the parent itself."""
    album = tmp_path / "album"
    (album / "work").mkdir(parents=True)
    Image.fromarray(gradient_photo(32, 32)).save(album / "a.png")
    monkeypatch.chdir(album)
    out = Path("colorized")
    assert colorize(["."], out, tiny_checkpoint) == 0
    assert colorize(["."], out, tiny_checkpoint) == 0  # a second run skips the photo
    assert "0 colorized, 1 skipped" in capsys.readouterr().err
    assert files_under(album) == ["a.png", "colorized/album/a.png"]
    scans = tmp_path / "scans"
    (scans / "work").mkdir(parents=True)
    Image.fromarray(gradient_photo(32, 32)).save(scans / "b.png")
    monkeypatch.chdir(scans / "work")
    assert colorize([".."], "out", tiny_checkpoint) == 0
    assert files_under(scans) == ["b.png", "work/out/scans/b.png"]


def test_an_input_folder_inside_the_output_folder_is_colorized_whole(tmp_path,
                                                                     tiny_checkpoint, capsys):
    scans = tmp_path / "family" / "a" / "scans"
    scans.mkdir(parents=True)
    Image.fromarray(gradient_photo(32, 32)).convert("L").save(scans / "a.png")
    out = tmp_path / "family"
    assert colorize([scans], out, tiny_checkpoint) == 0
    assert (out / "scans" / "a.png").is_file()
    # outputs that would land in the input folder itself: said, not "no photos"
    assert colorize([scans], scans.parent, tiny_checkpoint) == 1
    assert "would go into the folder itself" in capsys.readouterr().err


def test_read_only_output_folder(tmp_path, tiny_checkpoint, capsys, monkeypatch):
    src = tmp_path / "a.png"
    Image.fromarray(gradient_photo(32, 32)).save(src)
    out = tmp_path / "locked"
    out.mkdir()
    if os.geteuid() == 0:  # root writes anywhere: make the folder refuse like a read-only one
        import tempfile

        def refuse(*args, dir=None, **kw):
            raise PermissionError(errno.EACCES, "Permission denied", dir)

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    else:
        out.chmod(0o555)
    with pytest.raises(SystemExit) as usage:  # found before the model loads
        colorize([src], out, tiny_checkpoint)
    err = capsys.readouterr().err
    assert usage.value.code == 2 and str(out) in err and "Permission denied" in err
    out.chmod(0o755)
    assert files_under(out) == []


def test_full_disk_fails_that_photo_cleanly_and_goes_on(tmp_path, tiny_checkpoint, capsys,
                                                       monkeypatch):
    album = tmp_path / "album"
    album.mkdir()
    for name in ("a", "b"):
        Image.fromarray(gradient_photo(64, 64)).save(album / f"{name}.png")
    real_fsync, calls = os.fsync, []

    def fsync(fd):  # the disk fills up while the first output is flushed
        calls.append(fd)
        if len(calls) == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    out = tmp_path / "out"
    assert colorize([album], out, tiny_checkpoint) == 1
    err = capsys.readouterr().err
    assert "a.png" in err and "No space left on device" in err and "1 colorized" in err
    assert files_under(out) == ["album/b.png"]  # no partial a.png, no temporary file


@pytest.mark.parametrize("content,reason", [
    (b"garbage, not safetensors", "not a colorgui checkpoint"),
    (b"", "not a colorgui checkpoint"),
])
def test_corrupt_checkpoint_is_a_clear_error(tmp_path, content, reason, capsys):
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(content)
    src = tmp_path / "a.png"
    Image.fromarray(gradient_photo(32, 32)).save(src)
    with pytest.raises(SystemExit) as exc:
        colorize([src], tmp_path / "out", bad)
    assert "model.safetensors" in str(exc.value) and reason in str(exc.value)
    assert not (tmp_path / "out").exists()


def test_a_photo_in_colour_is_said_to_be_so_and_a_toned_one_is_not(tmp_path, tiny_checkpoint,
                                                                    caplog):
    """A colour photo had its colours replaced by the model's without a word."""
    from skimage import data

    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(data.astronaut()).save(folder / "colour.png")
    sepia = np.asarray(Image.fromarray(data.camera()).convert("RGB"), np.float32)
    sepia *= np.array([1.0, 0.86, 0.66], np.float32)  # a sepia print's single warm hue
    Image.fromarray(sepia.astype(np.uint8)).save(folder / "sepia.png")
    assert colorize([folder], tmp_path / "out", tiny_checkpoint) == 0
    assert "colour.png is in colour already" in caplog.text
    assert "sepia.png is in colour" not in caplog.text


def test_a_folder_where_an_output_goes_fails_that_photo(tmp_path, tiny_checkpoint, capsys):
    """It was counted as "skipped (output exists)", exit 0: no photo and no error."""
    Image.fromarray(gradient_photo(32, 32)).save(tmp_path / "a.png")
    (tmp_path / "out" / "a.png").mkdir(parents=True)
    assert colorize([tmp_path / "a.png"], tmp_path / "out", tiny_checkpoint) == 1
    assert "a.png is a folder, so the output cannot be written there" in capsys.readouterr().err


def test_a_photo_just_over_the_limit_is_refused_in_our_words_alone(tmp_path):
    """Pillow printed its raw "could be decompression bomb DOS attack" warning first."""
    import subprocess
    import sys

    path = tmp_path / "big.png"
    path.write_bytes(png_declaring(20_000, 13_000))  # 260 MP: over 250, under twice that
    # (a child: pytest records every warning, whatever the filters say)
    run = subprocess.run([sys.executable, "-c", "import sys\n"
                          "from model.io.imageio import ImageReadError, read_photo\n"
                          "try:\n    read_photo(sys.argv[1])\n"
                          "except ImageReadError as exc:\n    print(exc)",
                          str(path)], capture_output=True, text=True, timeout=120)
    assert "megapixels" in run.stdout and "DecompressionBomb" not in run.stderr, run.stderr
