"""A colour photo as a reference: read and checked (it must exist, be readable, not be
huge, and have colour to give), then seen as the matcher sees it: its cells, from the
spatial model's analysis of its gray (and of its mirror image), with its colours, and its
colourfulness. What it lends to a black-and-white photo is ``model.memory.reference``'s.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model import color
from model.io.files import FileError
from model.memory.cells import Cells, cells_of, stacked


# a reference this large is refused before it is decoded: the matcher sees it at the
# model's working size (about 192² pixels) and a 50 MP photo already takes 600 MB as float RGB
REFERENCE_MAX_PIXELS = 50_000_000
# a reference whose colours stray this little from its own cast (95th percentile of the
# a/b distance from its median a/b, Lab units) has no colour to give: a gray or toned
# (sepia) print. Of 40 historical black-and-white scans the most reached 5.4; of 316
# training colour photos (every 70th) all but 2 (4.2, 5.6) lie above 5.9
MIN_CHROMA = 5.5


class ReferenceError(FileError):
    """A reference photo that cannot be used; ``str()`` names the file and the reason."""


@dataclass
class Reference:
    """A colour photo as the matcher sees it."""

    name: str          # what its hints say they came from (the file's name)
    cells: Cells
    sha256: str = ""   # of its file: a photo is never its own reference
    colourfulness: float = 0.0  # Hasler-Süsstrunk M of its colours at the working size



def _gray(rgb: np.ndarray) -> np.ndarray:
    return color.luminance(rgb)


def check_colour(rgb: np.ndarray, path: os.PathLike | str) -> None:
    """Refuse a reference (float RGB, any size) with no colour to take: gray, or one
    tone (a sepia print) over the whole photo."""
    lab = color.rgb_to_lab(_resized(rgb, 256))
    a, b = lab[..., 1], lab[..., 2]
    if float(np.percentile(np.hypot(a - np.median(a), b - np.median(b)), 95)) < MIN_CHROMA:
        raise ReferenceError(path, NO_COLOUR)


NO_COLOUR = ("it has no colour to take (a black-and-white or toned photo cannot be a "
             "reference)")


def _resized(rgb: np.ndarray, side: int) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    s = side / max(h, w)
    if s >= 1:
        return np.ascontiguousarray(rgb, np.float32)
    return cv2.resize(np.ascontiguousarray(rgb, np.float32),
                      (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def reference_from_rgb(rgb: np.ndarray, colorizer, name: str, sha256: str = "",
                       strides: str = "8+16", centre: bool = True, mirror: bool = True
                       ) -> Reference:
    """A colour photo (float RGB) as a reference: the backbone sees its gray, the cells
    take its colours at the model's working size. With ``mirror``, its mirror image too
    (``reference_cells``)."""
    gray = _gray(rgb)
    small = working_rgb(rgb, colorizer, gray)
    flipped = colorizer.analyse(np.ascontiguousarray(gray[:, ::-1])) if mirror else None
    return Reference(name, reference_cells(colorizer.analyse(gray), color.rgb_to_lab(small),
                                           flipped, strides, centre), sha256,
                     colourfulness_of(small))


def working_rgb(rgb: np.ndarray, colorizer, gray: np.ndarray | None = None) -> np.ndarray:
    """A colour photo (float RGB) at the model's working size, where its cells and its
    colourfulness are taken; ``gray``: its lightness, where already known."""
    import cv2

    h, w = colorizer.working_L(_gray(rgb) if gray is None else gray).shape
    interp = cv2.INTER_AREA if h * w < rgb.shape[0] * rgb.shape[1] else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(rgb, np.float32), (w, h), interpolation=interp)


def colourfulness_of(rgb: np.ndarray) -> float:
    """A float RGB photo's colourfulness (``color.colourfulness`` of its 8-bit copy)."""
    return color.colourfulness(color.to_uint8(rgb))


def reference_cells(analysis, lab: np.ndarray, flipped=None, strides: str = "8+16",
                    centre: bool = True) -> Cells:
    """A reference's cells from its ``Analysis`` and its colours (Lab, any size); with
    ``flipped`` (the ``Analysis`` of its mirror image), the mirror image's cells too.
    The backbone is not mirror-symmetric: a mirrored crop of the same photo matched its
    original at a median cosine similarity under 0.8 (training photos), while two photos
    of one person facing the same way match above it; an album holds both (prints
    scanned flipped, people turned the other way)."""
    cells = cells_of(analysis, lab, strides, centre)
    if flipped is None:
        return cells
    return stacked(cells, cells_of(flipped, np.ascontiguousarray(lab[:, ::-1]), strides, centre))


def read_reference_photo(path: os.PathLike | str) -> tuple[np.ndarray, str]:
    """A reference photo's float RGB and SHA-256, or ``ReferenceError`` naming the file
    and why it cannot be a reference: missing, unreadable, too large, or without colour."""
    from model.io.files import hash_file
    from model.io.imageio import ImageReadError, read_photo

    path = Path(path)
    _check_size(path)
    try:
        sha = hash_file(path)
    except OSError as exc:
        raise ReferenceError(path, f"cannot be read ({exc.strerror or exc})") from None
    try:
        photo = read_photo(path)
    except ImageReadError as exc:
        raise ReferenceError(path, exc.reason) from None
    except MemoryError:
        raise ReferenceError(path, "too large to read into memory") from None
    if photo.is_gray:
        raise ReferenceError(path, NO_COLOUR)
    check_colour(photo.rgb, path)
    return photo.rgb, sha


def check_reference_file(path: os.PathLike | str) -> None:
    """Whether a file can be a reference (before any model loads); ``ReferenceError``."""
    read_reference_photo(path)


def load_reference(path: os.PathLike | str, colorizer, photo_sha256: str | None = None
                   ) -> Reference:
    """Read a colour photo as a reference; ``ReferenceError`` names the file and says why
    it cannot be one (``read_reference_photo``, or it is the photo itself:
    ``photo_sha256``, the SHA-256 of the photo being colorized)."""
    rgb, sha = read_reference_photo(path)
    if photo_sha256 and sha == photo_sha256:
        raise ReferenceError(path, OWN)
    return reference_from_rgb(rgb, colorizer, Path(path).name, sha)


OWN = "it is the photo being colorized: a photo cannot be its own reference"


def _check_size(path: Path) -> None:
    """Refuse a huge reference from its header, before decoding it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            w, h = img.size
    except FileNotFoundError:
        raise ReferenceError(path, "no such file") from None
    except IsADirectoryError:
        raise ReferenceError(path, "is a folder, not a photo") from None
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return  # read_photo says what is wrong with it
    if w * h > REFERENCE_MAX_PIXELS:
        raise ReferenceError(path, f"too large for a reference ({w}×{h} pixels, limit "
                                   f"{REFERENCE_MAX_PIXELS // 1_000_000} megapixels): the "
                                   f"matcher sees it at about 192² pixels, so a smaller copy "
                                   f"does as well")
