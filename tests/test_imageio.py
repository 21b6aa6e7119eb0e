import io
import os
import stat

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from model.io.files import atomic_write
from model.io.imageio import ImageReadError, read_photo, write_photo
from tests.conftest import gradient_photo

RGB = gradient_photo(30, 50)
GRAY = RGB.mean(axis=2).astype(np.uint8)
ALPHA = np.tile(np.linspace(0, 255, 50).astype(np.uint8), (30, 1))


def save(tmp_path, name, img, **kw):
    path = tmp_path / name
    img.save(path, **kw)
    return path


def test_gray(tmp_path):
    p = read_photo(save(tmp_path, "g.png", Image.fromarray(GRAY)))
    assert p.size == (50, 30) and p.is_gray and p.alpha is None and p.bit_depth == 8
    assert np.allclose(p.rgb[..., 0] * 255, GRAY, atol=0.5)


def test_gray_alpha_keeps_alpha(tmp_path):
    img = Image.fromarray(np.dstack([GRAY, ALPHA]), "LA")
    p = read_photo(save(tmp_path, "ga.png", img))
    assert p.is_gray and np.array_equal(p.alpha, ALPHA)


def test_rgb_is_colour(tmp_path):
    p = read_photo(save(tmp_path, "c.png", Image.fromarray(RGB)))
    assert not p.is_gray and np.allclose(p.rgb * 255, RGB, atol=0.5)


def test_rgba_keeps_alpha(tmp_path):
    p = read_photo(save(tmp_path, "c.png", Image.fromarray(np.dstack([RGB, ALPHA]), "RGBA")))
    assert np.array_equal(p.alpha, ALPHA) and p.rgb.shape == (30, 50, 3)


def test_sixteen_bit_gray_png(tmp_path):
    g16 = (GRAY.astype(np.uint16) * 257 + 3)
    path = tmp_path / "g16.png"
    cv2.imwrite(str(path), g16)
    p = read_photo(path)
    assert p.bit_depth == 16 and p.is_gray
    assert np.allclose(p.rgb[..., 0] * 65535, g16, atol=0.6)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_sixteen_bit_rgb(tmp_path, suffix):
    rgb16 = RGB.astype(np.uint16) * 257
    path = tmp_path / f"c16{suffix}"
    cv2.imwrite(str(path), cv2.cvtColor(rgb16, cv2.COLOR_RGB2BGR))
    p = read_photo(path)
    assert p.bit_depth == 16 and not p.is_gray
    assert np.allclose(p.rgb * 65535, rgb16, atol=0.6)


def test_palette_with_transparency(tmp_path):
    img = Image.fromarray(GRAY).convert("P")
    img.info["transparency"] = 0
    path = save(tmp_path, "p.png", img, transparency=0)
    p = read_photo(path)
    assert p.alpha is not None and p.rgb.shape == (30, 50, 3)


def test_palette_without_transparency(tmp_path):
    p = read_photo(save(tmp_path, "p.gif", Image.fromarray(RGB).convert("P")))
    assert p.alpha is None and p.rgb.shape == (30, 50, 3)


def test_cmyk_jpeg(tmp_path):
    p = read_photo(save(tmp_path, "k.jpg", Image.fromarray(RGB).convert("CMYK")))
    assert p.rgb.shape == (30, 50, 3)


def test_exif_orientation_is_applied(tmp_path):
    img = Image.fromarray(RGB)
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    path = save(tmp_path, "r.jpg", img, exif=exif.tobytes())
    p = read_photo(path)
    assert p.size == (30, 50)  # upright: width and height swapped


@pytest.mark.parametrize("content,needle", [
    (b"", "empty"),
    (b"hello, I am text", "not an image"),
])
def test_bad_files_name_the_file_and_reason(tmp_path, content, needle):
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(ImageReadError) as err:
        read_photo(path)
    assert "bad.jpg" in str(err.value) and needle in str(err.value)


def test_truncated_jpeg(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(gradient_photo(200, 200)).save(buf, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ImageReadError, match="cut.jpg"):
        read_photo(path)


def test_missing_file(tmp_path):
    with pytest.raises(ImageReadError, match="does not exist"):
        read_photo(tmp_path / "gone.png")


def test_write_is_atomic_and_keeps_metadata(tmp_path):
    src = Image.fromarray(RGB)
    exif = src.getexif()
    exif[0x010E] = "family album"  # ImageDescription
    target = tmp_path / "out" / "x.jpg"
    write_photo(target, RGB / 255.0, exif=exif.tobytes(), icc=b"")
    assert [f.name for f in target.parent.iterdir()] == ["x.jpg"]  # no temporary left
    with Image.open(target) as img:
        assert img.getexif()[0x010E] == "family album"


def test_write_sixteen_bit_png_with_alpha(tmp_path):
    target = tmp_path / "x.png"
    write_photo(target, RGB / 255.0, alpha=ALPHA.astype(np.uint16) * 257, bit_depth=16)
    back = cv2.imread(str(target), cv2.IMREAD_UNCHANGED)
    assert back.dtype == np.uint16 and back.shape == (30, 50, 4)
    assert np.array_equal(back[..., 3], ALPHA.astype(np.uint16) * 257)


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    import os

    def boom(*a):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_photo(tmp_path / "x.png", RGB / 255.0)
    assert list(tmp_path.iterdir()) == []


def write_sixteen_bit_with_exif(path, rgb16, exif: "Image.Exif") -> None:
    """A 16-bit RGB PNG (eXIf chunk) or TIFF (tags in its first IFD) with EXIF tags;
    Pillow cannot write 16-bit RGB."""
    if path.suffix == ".tif":
        import tifffile

        tags = [(274, "H", 1, exif[0x0112], True), (271, "s", 0, exif[0x010F], True)]
        tifffile.imwrite(path, rgb16, photometric="rgb", extratags=tags)
        return
    import struct
    import zlib

    png = cv2.imencode(".png", cv2.cvtColor(rgb16, cv2.COLOR_RGB2BGR))[1].tobytes()
    body = exif.tobytes()[6:]  # an eXIf chunk holds the TIFF data without "Exif\0\0"
    chunk = (struct.pack(">I", len(body)) + b"eXIf" + body
             + struct.pack(">I", zlib.crc32(b"eXIf" + body)))
    at = png.index(b"IDAT") - 4
    path.write_bytes(png[:at] + chunk + png[at:])


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_sixteen_bit_exif_orientation_is_applied_as_for_eight_bit(tmp_path, suffix, orientation):
    exif = Image.Exif()
    exif[0x0112], exif[0x010F] = orientation, "Camera maker"
    path = tmp_path / f"r16{suffix}"
    write_sixteen_bit_with_exif(path, RGB.astype(np.uint16) * 257, exif)
    with Image.open(save(tmp_path, "r8.png", Image.fromarray(RGB), exif=exif.tobytes())) as img:
        upright8 = np.asarray(ImageOps.exif_transpose(img), np.float32)
    p = read_photo(path)
    assert p.bit_depth == 16 and p.rgb.shape == upright8.shape
    assert np.allclose(p.rgb * 255, upright8, atol=0.01)
    kept = Image.Exif()
    kept.load(p.exif)
    assert kept.get(0x0112, 1) == 1 and kept[0x010F] == "Camera maker"


def test_atomic_write_leaves_the_process_umask_alone(tmp_path, monkeypatch):
    """Another thread creating a file meanwhile would get the wrong permissions."""
    import os

    calls = []
    real_umask = os.umask
    monkeypatch.setattr(os, "umask", lambda mask: calls.append(mask) or real_umask(mask))
    atomic_write(tmp_path / "a.bin", b"data")
    assert calls == [] and (tmp_path / "a.bin").read_bytes() == b"data"


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads the umask from /proc")
@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_outputs_get_the_permissions_the_umask_gives(tmp_path, umask):
    previous = os.umask(umask)
    try:
        atomic_write(tmp_path / "a.bin", b"data")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "a.bin").stat().st_mode) == 0o666 & ~umask


def test_a_tiff_keeps_its_exif_but_not_its_layout_tags(tmp_path):
    exif = Image.Exif()
    exif[0x010F] = "Nikon"
    path = save(tmp_path, "scan.tif", Image.fromarray(RGB), exif=exif.tobytes())
    kept = Image.Exif()
    kept.load(read_photo(path).exif)
    assert kept[0x010F] == "Nikon"
    assert not {256, 257, 273, 279} & set(kept)  # the scan's size and strips are not the output's


def test_atomic_write_writes_through_a_link_and_never_over_a_device_or_pipe(tmp_path):
    """The rename put a plain file where a symbolic link was (its file kept the old
    bytes), and as root replaced /dev/full with a file."""
    real = tmp_path / "dotfiles" / "real.json"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    atomic_write(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"
    pipe = tmp_path / "pipe.json"
    os.mkfifo(pipe)
    with pytest.raises(OSError) as caught:
        atomic_write(pipe, b"new")
    assert "not a regular file" in str(caught.value) and str(pipe) in str(caught.value)
    assert stat.S_ISFIFO(pipe.lstat().st_mode)


def test_a_pipe_named_like_a_photo_is_said_to_be_no_regular_file(tmp_path):
    pipe = tmp_path / "pipe.jpg"
    os.mkfifo(pipe)
    with pytest.raises(ImageReadError) as caught:
        read_photo(pipe)  # (not "the file is empty", nor a read that waits for a writer)
    assert str(pipe) in str(caught.value) and "not a regular file" in str(caught.value)
