"""Reading and writing photographs without losing data.

Every reader error becomes an ``ImageReadError`` that names the file and the reason.
Outputs are written atomically (``model.io.files.atomic_write``), so a crash or a cancel
never leaves half a file.
"""

from __future__ import annotations

import errno
import io
import json
import os
import struct
import warnings
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, PngImagePlugin, TiffImagePlugin, TiffTags, UnidentifiedImageError

from model.io.files import LINK_LOOP, OUTPUT_FORMATS, atomic_write, is_image_file

SIXTEEN_BIT_SUFFIXES = {".png", ".tif", ".tiff"}
# Refuse images whose declared size would take gigabytes before decoding them (read_photo
# says so by name); Pillow's own "could be decompression bomb DOS attack" warning, printed
# raw above its limit, would only say it again
MAX_PIXELS = 250_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


class ImageReadError(Exception):
    """A file that cannot be read as a photo; the message names the file and why."""

    def __init__(self, path: os.PathLike | str, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass
class Photo:
    """A decoded photo: float RGB in [0, 1] plus what must survive the round trip."""

    rgb: np.ndarray                 # H×W×3 float32, upright (EXIF orientation applied)
    alpha: np.ndarray | None = None  # H×W, same bit depth as the file, carried untouched
    bit_depth: int = 8
    is_gray: bool = True            # the file had no colour of its own
    exif: bytes | None = None
    icc: bytes | None = None
    xmp: bytes | None = None        # the file's XMP packet (captions, keywords, people)
    # the file stores one gray channel (an L or 16-bit gray PNG or TIFF), not an RGB one
    # that looks gray: what is cut from it is written gray again, at a third of the size
    one_channel: bool = False

    @property
    def size(self) -> tuple[int, int]:
        return self.rgb.shape[1], self.rgb.shape[0]


def _declares_sixteen_bits(img: Image.Image) -> bool:
    """Whether the file stores 16 bits per sample (Pillow decodes 16-bit RGB to 8)."""
    if img.mode.startswith("I;16"):
        return True
    args = img.tile[0].args if img.tile else None
    return "16" in str(args[0] if isinstance(args, tuple) else args)


def _read_sixteen_bit(path: Path) -> Photo | None:
    """16-bit PNG/TIFF through OpenCV (Pillow truncates 16-bit RGB to 8 bits)."""
    data = np.fromfile(str(path), dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if img is None or img.dtype != np.uint16:
        return None
    alpha = None
    one_channel = img.ndim == 2 or img.shape[2] == 2
    if img.ndim == 2:
        rgb = np.repeat(img[..., None], 3, axis=2)
    elif img.shape[2] == 2:
        rgb, alpha = np.repeat(img[..., :1], 3, axis=2), img[..., 1]
    elif img.shape[2] == 4:
        rgb, alpha = cv2.cvtColor(img[..., :3], cv2.COLOR_BGR2RGB), img[..., 3]
    else:
        rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    rgbf = rgb.astype(np.float32) / 65535.0
    return Photo(rgbf, alpha, 16, one_channel or _looks_gray(rgbf), one_channel=one_channel)


ORIENTATION = 0x0112  # the EXIF tag

# EXIF orientation -> what makes the pixels upright (as Pillow's exif_transpose does)
_UPRIGHT = {
    2: np.fliplr,
    3: lambda a: np.rot90(a, 2),
    4: np.flipud,
    5: lambda a: np.swapaxes(a, 0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: np.rot90(np.swapaxes(a, 0, 1), 2),
    8: lambda a: np.rot90(a, 1),
}


# tags that describe a TIFF's pixel layout, and the orientation (the pixels are made
# upright): a TIFF's EXIF holds them, and no output laid out anew may take them over
_LAYOUT_TAGS = {254, 255, 256, 257, 258, 259, 262, 263, 266, 273, ORIENTATION, 277, 278,
                279, 280, 281, 284, 317, 320, 322, 323, 324, 325, 330, 338, 339, 340, 341,
                347, 530, 531, 532}


IMAGE_DESCRIPTION = 270  # the TIFF tag


def _is_array_shape(description) -> bool:
    """Whether an ImageDescription is tifffile's record of the array it wrote (``{"shape":
    [3508, 2480]}``): a layout, not a caption. Kept on an output of another shape (a
    print, a gray page's RGB colour), tifffile warns "shaped series shape does not match
    page shape" on every read of it."""
    if not isinstance(description, str) or not description.lstrip().startswith("{"):
        return False
    try:
        record = json.loads(description)
    except ValueError:
        return False
    return isinstance(record, dict) and "shape" in record


def _kept_exif(exif: Image.Exif) -> bytes | None:
    """The file's EXIF as an output keeps it: without layout and orientation tags (taken
    from a copy: the image's own still tells ``exif_transpose`` how to turn it)."""
    if not exif:
        return None
    kept = Image.Exif()
    kept.load(exif.tobytes())
    for tag in _LAYOUT_TAGS & set(kept):
        del kept[tag]
    if _is_array_shape(kept.get(IMAGE_DESCRIPTION)):
        del kept[IMAGE_DESCRIPTION]
    return kept.tobytes() if kept else None


def _orient_upright(photo: Photo, exif: Image.Exif, suffix: str) -> None:
    """Turn a 16-bit photo decoded by OpenCV upright, as ``exif_transpose`` does for the
    rest.

    OpenCV (5.1) applies a TIFF's orientation tag itself, even with IMREAD_UNCHANGED, but
    not a PNG's eXIf chunk; test_sixteen_bit_exif_orientation_is_applied_as_for_eight_bit
    checks all eight orientations of both."""
    turn = _UPRIGHT.get(exif.get(ORIENTATION, 1)) if suffix == ".png" else None
    if turn is not None:
        photo.rgb = np.ascontiguousarray(turn(photo.rgb))
        if photo.alpha is not None:
            photo.alpha = np.ascontiguousarray(turn(photo.alpha))


def _looks_gray(rgb: np.ndarray, tolerance: float = 2.0 / 255) -> bool:
    if rgb.shape[0] * rgb.shape[1] > 1_000_000:
        rgb = rgb[:: max(1, rgb.shape[0] // 512), :: max(1, rgb.shape[1] // 512)]
    return bool(np.abs(rgb - rgb.mean(axis=2, keepdims=True)).max() <= tolerance)


def _pil_to_photo(img: Image.Image, exif: bytes | None) -> Photo:
    icc = img.info.get("icc_profile")
    alpha = None
    bit_depth = 8
    mode = img.mode
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        bit_depth = 16 if arr.max(initial=0) > 255 or mode.startswith("I;16") else 8
        gray = (arr / (65535.0 if bit_depth == 16 else 255.0)).astype(np.float32)
        return Photo(np.repeat(np.clip(gray, 0, 1)[..., None], 3, axis=2), None, bit_depth,
                     True, exif, icc, one_channel=True)
    if mode == "F":
        gray = np.clip(np.asarray(img, np.float32), 0, 1)
        return Photo(np.repeat(gray[..., None], 3, axis=2), None, 8, True, exif, icc,
                     one_channel=True)
    if mode in ("LA", "La", "PA"):
        img = img.convert("LA")
        alpha = np.asarray(img)[..., 1].copy()
        img = img.convert("L")
    elif mode in ("RGBA", "RGBa"):
        alpha = np.asarray(img.convert("RGBA"))[..., 3].copy()
        img = img.convert("RGB")
    if img.mode in ("1", "L"):
        return Photo(_float_rgb(img.convert("L")), alpha, bit_depth, True, exif, icc,
                     one_channel=True)
    rgb = _float_rgb(img if img.mode == "RGB" else img.convert("RGB"))
    return Photo(rgb, alpha, bit_depth, _looks_gray(rgb), exif, icc)


# rows converted at a time: the 8-bit copies stay a few MB, where converting a 600 dpi A4
# page whole took 2.2 GB at its peak for a 0.4 GB result
_BAND_PIXELS = 1 << 22


def _float_rgb(img: Image.Image) -> np.ndarray:
    """An 8-bit "RGB" or "L" image as float32 RGB in [0, 1] (gray repeated), converted
    band by band into the one array it returns."""
    w, h = img.size
    rgb = np.empty((h, w, 3), np.float32)
    band = max(1, _BAND_PIXELS // max(w, 1))
    for y in range(0, h, band):
        rows = np.asarray(img.crop((0, y, w, min(h, y + band))))
        rgb[y:y + band] = rows if rows.ndim == 3 else rows[..., None]
    rgb /= 255.0
    return rgb


def _png_checksum_error(path: Path) -> str | None:
    """The first PNG chunk whose CRC does not match its data, or None. Pillow does not
    check the image data's checksums, so a corrupt PNG would otherwise decode silently."""
    with open(path, "rb") as fh:
        if fh.read(8) != b"\x89PNG\r\n\x1a\n":
            return None
        while header := fh.read(8):
            if len(header) < 8:
                return None
            length, kind = struct.unpack(">I4s", header)
            body, crc = fh.read(length), fh.read(4)
            if len(body) < length or len(crc) < 4:
                return None  # truncated: the decoder says so
            if zlib.crc32(kind + body) != struct.unpack(">I", crc)[0]:
                return kind.decode("latin-1")
            if kind == b"IEND":
                return None
    return None


@contextmanager
def _reading(path: Path):
    """Turn whatever a decoder raises into an ``ImageReadError`` naming ``path``."""
    try:
        yield
    except ImageReadError:
        raise
    except FileNotFoundError:
        raise ImageReadError(path, "the file does not exist (moved or deleted?)") from None
    except PermissionError:
        raise ImageReadError(path, "permission denied") from None
    except IsADirectoryError:
        raise ImageReadError(path, "is a folder, not an image file") from None
    except UnidentifiedImageError:
        raise ImageReadError(path, "not an image, or a format that cannot be read") from None
    except Image.DecompressionBombError:
        raise ImageReadError(path, f"image is too large to open safely (over "
                                   f"{MAX_PIXELS // 1_000_000} megapixels): refused as a "
                                   f"possible decompression bomb") from None
    except (OSError, SyntaxError, ValueError) as exc:
        loop = isinstance(exc, OSError) and exc.errno == errno.ELOOP
        raise ImageReadError(path, LINK_LOOP if loop else f"damaged or truncated image "
                                                          f"({exc})") from None


def _not_empty(path: Path) -> None:
    if path.exists() and not path.is_file() and not path.is_dir():  # a pipe, a device
        raise ImageReadError(path, "not a regular file (a pipe or a device?)")
    if path.stat().st_size == 0:
        raise ImageReadError(path, "the file is empty (0 bytes)")


def read_photo(path: os.PathLike | str) -> Photo:
    """Decode any supported photo, upright, as float RGB; raise ``ImageReadError``."""
    path = Path(path)
    with _reading(path):
        _not_empty(path)
        if path.suffix.lower() == ".png" and (chunk := _png_checksum_error(path)):
            raise ImageReadError(path, f"damaged PNG: the checksum of its {chunk} chunk is wrong")
        with Image.open(path) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ImageReadError(
                    path, f"image is too large ({img.width}×{img.height} pixels, "
                          f"limit {MAX_PIXELS // 1_000_000} megapixels)")
            if _declares_sixteen_bits(img) and path.suffix.lower() in SIXTEEN_BIT_SUFFIXES:
                sixteen = _read_sixteen_bit(path)
                if sixteen is not None:
                    exif = img.getexif()
                    _orient_upright(sixteen, exif, path.suffix.lower())
                    sixteen.exif, sixteen.icc = _kept_exif(exif), img.info.get("icc_profile")
                    # not a second decode of the pixels for a packet after them
                    sixteen.xmp = _xmp_of(img, load=False)
                    return sixteen
            exif = img.getexif()  # the file's: a TIFF's are not in exif_transpose's copy
            oriented = ImageOps.exif_transpose(img)
            oriented.load()
            photo = _pil_to_photo(oriented, _kept_exif(exif))
            photo.xmp = _xmp_of(img)
            return photo


def _xmp_of(img: Image.Image, load: bool = True) -> bytes | None:
    """An open image's XMP packet, or None; ``load``: a PNG's is looked for after its
    pixels too (text chunks there are read with them)."""
    if load and "xmp" not in img.info and img.format == "PNG":
        img.load()
    xmp = img.info.get("xmp")
    return xmp.encode("utf-8") if isinstance(xmp, str) else (bytes(xmp) if xmp else None)


def read_xmp(path: os.PathLike | str) -> bytes | None:
    """The XMP packet an image file holds (JPEG APP1, PNG iTXt, TIFF tag 700, WebP), or
    None; the pixels are not decoded unless a PNG keeps it after them."""
    path = Path(path)
    with _reading(path):
        _not_empty(path)
    with _reading(path), Image.open(path) as img:
        return _xmp_of(img)


_PIL_FORMATS = {**{f".{fmt}": name.upper() for fmt, (name, _) in OUTPUT_FORMATS.items()},
                **{alias: name.upper() for name, aliases in OUTPUT_FORMATS.values()
                   for alias in aliases},
                ".gif": "PNG"}


def is_photo_file(path: os.PathLike | str) -> bool:
    """Whether a file is one colorgui would try as a photo: a photo's suffix, or any
    other name whose first bytes an image decoder knows (a TGA, a scan with no suffix).
    Only its header is read."""
    path = Path(path)
    if is_image_file(path):
        return True
    try:
        with Image.open(path):
            return True
    except (OSError, ValueError, Image.DecompressionBombError):
        return False


def output_suffix(suffix: str) -> str:
    """The suffix an output gets for an input of this suffix: its own where colorgui
    writes that format, else PNG (lossless: a GIF, a TGA, a file with no suffix), so that
    no photo is colorized only to fail at writing."""
    suffix = suffix.lower()
    return suffix if suffix in _PIL_FORMATS and suffix != ".gif" else ".png"


def encode_photo(rgb: np.ndarray, suffix: str, *, alpha: np.ndarray | None = None,
                 bit_depth: int = 8, exif: bytes | None = None, icc: bytes | None = None,
                 xmp: bytes | None = None, quality: int = 95, gray: bool = False) -> bytes:
    """Encode float RGB [0, 1] as the format of ``suffix``, keeping alpha and metadata
    (EXIF, ICC profile, an XMP packet) where the format allows: all in JPEG, PNG, TIFF
    and WebP, 16-bit PNG and TIFF included; none in BMP. ``gray``: one channel (the mean
    of the three, which are equal for a gray photo's pixels), where the format has one:
    not in WebP, nor at 16 bits with alpha (OpenCV writes no such PNG, Pillow reads no
    such TIFF)."""
    suffix = suffix.lower()
    if suffix not in _PIL_FORMATS:
        raise ValueError(f"unsupported output format {suffix!r}")
    if bit_depth == 16 and suffix in SIXTEEN_BIT_SUFFIXES:
        if gray and alpha is None:
            rgb = rgb.mean(axis=2, keepdims=True)
        pixels = np.clip(np.rint(rgb * 65535.0), 0, 65535).astype(np.uint16)
        if alpha is not None:
            a16 = alpha.astype(np.uint16) if alpha.dtype == np.uint16 else alpha.astype(np.uint16) * 257
            pixels = np.dstack([pixels, a16])
        if suffix == ".png":
            return _png16(pixels, exif, icc, xmp)
        return _tiff16(pixels, exif, icc, xmp)
    fmt = _PIL_FORMATS[suffix]
    gray = gray and fmt != "WEBP" and (alpha is None or fmt in ("PNG", "TIFF"))
    rgb8 = np.clip(np.rint((rgb.mean(axis=2) if gray else rgb) * 255.0), 0, 255).astype(np.uint8)
    if alpha is not None and fmt in ("PNG", "TIFF", "WEBP"):
        a8 = (alpha // 257).astype(np.uint8) if alpha.dtype == np.uint16 else alpha.astype(np.uint8)
        img = Image.fromarray(np.dstack([rgb8, a8]), "LA" if gray else "RGBA")
    else:
        img = Image.fromarray(rgb8, "L" if gray else "RGB")
    kwargs: dict = {}
    if fmt in ("JPEG", "PNG", "TIFF", "WEBP"):
        kwargs.update({k: v for k, v in (("exif", exif), ("icc_profile", icc)) if v})
    if xmp and fmt in ("JPEG", "WEBP"):
        kwargs["xmp"] = xmp
    elif xmp and fmt == "PNG":
        kwargs["pnginfo"] = PngImagePlugin.PngInfo()
        kwargs["pnginfo"].add_itxt(XMP_KEYWORD, xmp.decode("utf-8"))
    elif xmp and fmt == "TIFF":  # Pillow writes TIFF tags given as EXIF; 700 is XMP
        kwargs["exif"] = _exif_with(exif, {XMP_TAG: xmp})
    if fmt in ("JPEG", "WEBP"):
        kwargs["quality"] = int(quality)
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


XMP_KEYWORD = "XML:com.adobe.xmp"  # the PNG iTXt chunk that holds XMP
XMP_TAG, ICC_TAG = 700, 34675        # TIFF tags


def _exif_with(exif: bytes | None, tags: dict) -> Image.Exif:
    out = Image.Exif()
    if exif:
        out.load(exif)
    for tag, value in tags.items():
        out[tag] = value
    return out


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png16(pixels: np.ndarray, exif: bytes | None, icc: bytes | None, xmp: bytes | None) -> bytes:
    """A 16-bit gray or RGB(A) PNG from OpenCV (Pillow cannot write 16-bit RGB), with the metadata
    chunks inserted after its header: iCCP, eXIf (TIFF data without "Exif\\0\\0") and
    XMP in an iTXt chunk, where Pillow and other readers find them before the pixels."""
    if pixels.shape[2] == 1:
        bgr = pixels[..., 0]
    else:
        bgr = cv2.cvtColor(pixels, cv2.COLOR_RGBA2BGRA if pixels.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", bgr)
    if not ok:
        raise ValueError("could not encode a 16-bit .png image")
    png = buf.tobytes()
    chunks = b""
    if icc:
        chunks += _png_chunk(b"iCCP", b"ICC Profile\0\0" + zlib.compress(icc))
    if exif:
        chunks += _png_chunk(b"eXIf", exif[6:] if exif.startswith(b"Exif\0\0") else exif)
    if xmp:
        chunks += _png_chunk(b"iTXt", XMP_KEYWORD.encode("latin-1") + b"\0\0\0\0\0" + xmp)
    ihdr_end = 8 + 8 + 13 + 4  # signature, IHDR's length and kind, its 13 bytes, its CRC
    return png[:ihdr_end] + chunks + png[ihdr_end:]


STRIP_BYTES = 1 << 20


def _tiff16(pixels: np.ndarray, exif: bytes | None, icc: bytes | None, xmp: bytes | None) -> bytes:
    """A 16-bit gray, RGB or RGBA TIFF written here, as neither Pillow (no 16-bit RGB) nor OpenCV (no
    metadata in TIFF) can write one with its EXIF, ICC profile and XMP: Deflate with the
    horizontal predictor in strips of about 1 MB, tags by Pillow's IFD writer (which lays
    out the EXIF sub-IFDs and moves the strip offsets past its own data)."""
    h, w, channels = pixels.shape
    ifd = TiffImagePlugin.ImageFileDirectory_v2(prefix=b"II")
    info = _exif_with(exif, {})
    for tag in info:
        if tag not in _LAYOUT_TAGS:
            ifd[tag] = info.get_ifd(tag) if tag in TiffTags.TAGS_V2_GROUPS else info[tag]
    for tag, value in ((ICC_TAG, icc), (XMP_TAG, xmp)):
        if value:
            ifd[tag] = value
    diff = pixels.copy()
    diff[:, 1:] -= pixels[:, :-1]  # the horizontal predictor, modulo 2**16 per sample
    rows = max(1, STRIP_BYTES // (w * channels * 2))
    strips = [zlib.compress(diff[y:y + rows].astype("<u2").tobytes(), 6) for y in range(0, h, rows)]
    layout = {256: w, 257: h, 258: (16,) * channels, 259: 8, 262: 1 if channels == 1 else 2,
              277: channels, 278: rows, 284: 1, 317: 2, 279: tuple(len(s) for s in strips),
              273: tuple(np.cumsum([0] + [len(s) for s in strips[:-1]]).tolist())}
    if channels == 4:
        layout[338] = 2  # unassociated alpha
    for tag, value in layout.items():
        ifd[tag] = value
    ifd.tagtype[273] = ifd.tagtype[279] = TiffTags.LONG
    return b"II*\0" + struct.pack("<I", 8) + ifd.tobytes(8) + b"".join(strips)


def write_photo(path: os.PathLike | str, rgb: np.ndarray, **kwargs) -> None:
    """Encode and atomically write a photo; the format follows the file suffix."""
    path = Path(path)
    atomic_write(path, encode_photo(rgb, path.suffix, **kwargs))
