"""Writing a colorized photo: the one way the app's Save and the batch make an output.

Compose (the photo's own L, the predicted colours at a saturation), mark it as AI colour
(``model.io.provenance``), keep the photo's alpha, bit depth, EXIF and ICC profile, write
atomically; and keep a copy of the edits that made it beside it. No Qt, no torch.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from model import color
from model.io.imageio import write_photo
from model.io.provenance import Provenance, marked_exif, output_xmp
from model.io.sidecar import Edits, content_hash, sidecar_path, write_edits


SAVED = "_colorized"  # the app's Save writes a photo's colour beside it as <stem>_colorized


def saved_name(photo: Path, suffix: str) -> str:
    """The name the app's Save gives ``photo``'s colour (in ``suffix``'s format)."""
    return f"{photo.stem}{SAVED}{suffix}"


def write_colorized(target: os.PathLike | str, L: np.ndarray, ab: np.ndarray,
                    saturation: float = 1.0, *, alpha: np.ndarray | None = None,
                    bit_depth: int = 8, exif: bytes | None = None, icc: bytes | None = None,
                    xmp: bytes | None = None, quality: int = 95,
                    provenance: Provenance | None = None) -> None:
    """Write the colorized photo ``target`` (its suffix picks the format) atomically.

    ``L``: the photo's lightness (H×W, 0..100); ``ab``: predicted normalised a/b
    (H×W×2), as in ``model.colorizer.Prediction``; ``alpha``, ``bit_depth``, ``exif``,
    ``icc``, ``xmp``: the input's (``model.io.imageio.Photo``), kept; ``provenance``: the
    record to embed (``provenance_for(colorizer, saturation, hints)``), None for an
    unmarked output. Raises OSError or ValueError if it cannot be written."""
    rgb = color.compose(L, ab, saturation)
    xmp = output_xmp(xmp, provenance)
    if provenance is not None:
        exif = marked_exif(exif, provenance)
    write_photo(target, rgb, alpha=alpha, bit_depth=bit_depth, exif=exif, icc=icc, xmp=xmp,
                quality=quality)


def write_edits_beside(target: os.PathLike | str, source: os.PathLike | str | None,
                       edits: Edits, size: tuple[int, int],
                       hint_file: os.PathLike | str | None = None) -> Path | None:
    """Keep the edits that made ``target`` beside it (``<stem>.hints.json``), naming the
    photo they apply to (``source``: its name, SHA-256 and ``size``, width × height), so
    the original plus this file make the output again; ``source`` None: a print cut from
    a page for this run and kept nowhere, so the edits name no photo. Returns the file
    written, or None where it would replace ``hint_file`` or the source's own sidecar (an
    output written beside its input): those already hold the edits, and inputs are never
    written."""
    path = sidecar_path(target)
    keep = {Path(p).resolve() for p in (hint_file, source and sidecar_path(source))
            if p is not None}
    if path.resolve() in keep:
        return None
    if source is None:
        named = replace(edits, photo_name=None, photo_sha256=None, photo_size=None)
    else:
        named = replace(edits, photo_name=Path(source).name, photo_sha256=content_hash(source),
                        photo_size=tuple(size))
    write_edits(path, named)
    return path
