"""A photo's edits, kept beside it and never in it: colour hints and settings as JSON.

The original photo is never touched. Its edits (the user's colour hints, the model, the
saturation and vivid settings) live in a small sidecar file, ``<photo stem>.hints.json``
beside an output or an input, and in the app's data folder keyed by the SHA-256 of the
photo's bytes, so reopening the same photo (even renamed or moved) restores them.

The format (``docs/hints.md``), version 1::

    {"format": "colorgui-hints", "version": 1,
     "photo": {"name": "grandma.jpg", "sha256": "…", "width": 2400, "height": 1800},
     "model": "spatial", "saturation": 1.0, "vivid": 0.15,
     "hints": [{"x": 0.41, "y": 0.30, "a": 12.0, "b": -30.0, "size": 0.02}]}

``x`` and ``y`` are relative to the photo's width and height (0..1, from the top left),
``size`` is the side of the hint's square relative to the longer side, ``a`` and ``b``
are CIE Lab (lightness-independent, so a hint never changes the photo's luminance).
A hint matched from a reference photo or carried from the album's memory says so
(``"from": "reference"`` or ``"carried"``, with its ``"source"``); the reference photos
used are listed in ``references`` with their ``reference_strength`` (and the user's own
saturation as ``saturation_own`` where such a reference raised it). Everything but
``format``, ``version`` and ``hints`` is optional. Standard library only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from model.io.files import FileError, atomic_write, hash_file, json_number, read_json
from model.hints import ORIGINS, USER, Hint

FORMAT, VERSION = "colorgui-hints", 1
SUFFIX = ".hints.json"


class HintFileError(FileError):
    """A hint file that cannot be used; ``str()`` names the file and the reason."""


@dataclass
class Edits:
    """What a user set for one photo."""

    hints: list[Hint] = field(default_factory=list)
    model: str | None = None        # a model name (``model.store.registry``), None: the default
    saturation: float = 1.0
    vivid: float | None = None      # None: the model's own default
    photo_name: str | None = None
    photo_sha256: str | None = None
    photo_size: tuple[int, int] | None = None  # (width, height)
    references: list[str] = field(default_factory=list)  # colour photos lending colours
    reference_strength: float | None = None  # None: the app's default
    # matched hints the user deleted, (reference name, x, y): a new match leaves them out
    reference_dropped: list[tuple[str, float, float]] = field(default_factory=list)
    # the user's own saturation, where a reference more colourful than the photo raised
    # it to ``saturation``: what it goes back to once no reference raises it
    saturation_own: float | None = None

    def to_json(self) -> str:
        doc: dict = {"format": FORMAT, "version": VERSION}
        photo = {k: v for k, v in (("name", self.photo_name), ("sha256", self.photo_sha256))
                 if v is not None}
        if self.photo_size is not None:
            photo["width"], photo["height"] = self.photo_size
        if photo:
            doc["photo"] = photo
        if self.model is not None:
            doc["model"] = self.model
        doc["saturation"] = self.saturation
        if self.saturation_own is not None:
            doc["saturation_own"] = self.saturation_own
        if self.vivid is not None:
            doc["vivid"] = self.vivid
        if self.references:
            doc["references"] = [str(r) for r in self.references]
        if self.reference_strength is not None:
            doc["reference_strength"] = self.reference_strength
        if self.reference_dropped:
            doc["reference_dropped"] = [{"source": s, "x": round(x, 6), "y": round(y, 6)}
                                        for s, x, y in self.reference_dropped]
        doc["hints"] = [_hint_json(h) for h in self.hints]
        return json.dumps(doc, indent=1) + "\n"

    @property
    def empty(self) -> bool:
        """Nothing the user set: the defaults."""
        return (not self.hints and self.model is None and self.saturation == 1.0
                and self.vivid is None and not self.references
                and self.reference_strength is None and not self.reference_dropped)


def _hint_json(h: Hint) -> dict:
    out = {"x": round(h.x, 6), "y": round(h.y, 6), "a": round(h.a, 3), "b": round(h.b, 3),
           "size": round(h.size, 6)}
    if h.origin != USER:
        out["from"] = h.origin
        if h.source:
            out["source"] = h.source
    return out


def sidecar_path(photo: os.PathLike | str) -> Path:
    """The sidecar beside a photo: ``<stem>.hints.json``."""
    photo = Path(photo)
    return photo.with_name(photo.stem + SUFFIX)


def content_hash(path: os.PathLike | str) -> str:
    """SHA-256 of a file's bytes (hex), the key of its edits in the app's data folder."""
    return hash_file(path, "sha256")


def _parse(doc) -> Edits:
    if not isinstance(doc, dict):
        raise ValueError("not a colorgui hint file (the JSON is not an object)")
    if doc.get("format") != FORMAT:
        raise ValueError(f"not a colorgui hint file (format is {doc.get('format')!r}, "
                         f"expected {FORMAT!r})")
    if isinstance(doc.get("version"), bool) or doc.get("version") != VERSION:  # true == 1
        raise ValueError(f"hint file version {doc.get('version')!r} is not supported "
                         f"(this colorgui reads version {VERSION})")
    raw = doc.get("hints")
    if not isinstance(raw, list):
        raise ValueError("'hints' must be a list")
    hints = []
    for i, h in enumerate(raw, 1):
        if not isinstance(h, dict):
            raise ValueError(f"hint {i} is not an object")
        missing = [k for k in ("x", "y", "a", "b") if k not in h]
        if missing:
            raise ValueError(f"hint {i} lacks {', '.join(missing)}")
        origin = h.get("from", USER)
        if origin not in ORIGINS:
            raise ValueError(f"hint {i}: 'from' is {origin!r}, not one of {', '.join(ORIGINS)}")
        source = h.get("source", "")
        if not isinstance(source, str):
            raise ValueError(f"hint {i}: 'source' must be text, not {source!r}")
        hints.append(Hint(json_number(h["x"], f"hint {i}: x", 0, 1),
                          json_number(h["y"], f"hint {i}: y", 0, 1),
                          json_number(h["a"], f"hint {i}: a", -128, 127),
                          json_number(h["b"], f"hint {i}: b", -128, 127),
                          json_number(h.get("size", 0.02), f"hint {i}: size", 1e-6, 1),
                          origin, source if origin != USER else ""))
    edits = Edits(hints, saturation=json_number(doc.get("saturation", 1.0), "saturation", 0, 2))
    if doc.get("vivid") is not None:
        edits.vivid = json_number(doc["vivid"], "vivid", 0, 1)
    if doc.get("saturation_own") is not None:
        edits.saturation_own = json_number(doc["saturation_own"], "saturation_own", 0, 2)
    model = doc.get("model")
    if model is not None and not isinstance(model, str):
        raise ValueError(f"'model' must be a name, not {model!r}")
    edits.model = model
    refs = doc.get("references", [])
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise ValueError("'references' must be a list of file names")
    edits.references = list(refs)
    if doc.get("reference_strength") is not None:
        edits.reference_strength = json_number(doc["reference_strength"], "reference_strength",
                                               0, 1)
    dropped = doc.get("reference_dropped", [])
    if not isinstance(dropped, list) or not all(
            isinstance(d, dict) and isinstance(d.get("source"), str) for d in dropped):
        raise ValueError("'reference_dropped' must be a list of {source, x, y}")
    edits.reference_dropped = [(d["source"], json_number(d.get("x"), "reference_dropped: x", 0, 1),
                                json_number(d.get("y"), "reference_dropped: y", 0, 1))
                               for d in dropped]
    photo = doc.get("photo") or {}
    if not isinstance(photo, dict):
        raise ValueError("'photo' must be an object")
    edits.photo_name = photo.get("name")
    edits.photo_sha256 = photo.get("sha256")
    if "width" in photo and "height" in photo:
        edits.photo_size = (int(json_number(photo["width"], "photo width", 1, 1e6)),
                            int(json_number(photo["height"], "photo height", 1, 1e6)))
    return edits


def read_edits(path: os.PathLike | str) -> Edits:
    """Read a hint file; HintFileError names the file and what is wrong with it."""
    return read_json(path, HintFileError, "no such hint file", _parse)


def write_edits(path: os.PathLike | str, edits: Edits) -> None:
    """Write a hint file atomically."""
    atomic_write(path, edits.to_json().encode("utf-8"))


class EditStore:
    """Edits kept in the app's data folder, one file per photo content (SHA-256)."""

    def __init__(self, root: os.PathLike | str):
        self.root = Path(root)

    def _file(self, sha256: str) -> Path:
        return self.root / f"{sha256}{SUFFIX}"

    def get(self, sha256: str) -> Edits | None:
        """The stored edits of this photo content; None if there are none (or the file
        is unusable: the photo then opens without them, the original untouched)."""
        path = self._file(sha256)
        if not path.is_file():
            return None
        try:
            return read_edits(path)
        except HintFileError:
            return None

    def holds_any(self) -> bool:
        """Whether any photo's edits are stored (none: no photo need be hashed to look)."""
        return self.root.is_dir() and next(self.root.glob(f"*{SUFFIX}"), None) is not None

    def put(self, sha256: str, edits: Edits) -> None:
        """Store edits (none left: forget the photo)."""
        if edits.empty:
            self._file(sha256).unlink(missing_ok=True)
            return
        self.root.mkdir(parents=True, exist_ok=True)
        write_edits(self._file(sha256), edits)
