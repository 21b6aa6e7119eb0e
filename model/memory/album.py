"""The album's colour memory: a versioned file beside the album's photos, never in them.

An album is a folder of photos of one story. With "keep colours consistent across the
album" on, the hints the user made on any of its photos (their sidecars, or the app's
edits) are remembered in ``<album>/colorgui-album.json`` with the album's reference
photos, and carried to its other photos wherever the same thing matches confidently
(``model.memory.carry``). The format (docs/hints.md), version 1::

    {"format": "colorgui-album", "version": 1, "enabled": true, "strength": 1.0,
     "references": ["refs/wedding.jpg"],
     "hints": [{"id": "3f9c0a1b2c4d", "photo": "1952/grandma.jpg", "sha256": "…",
                "x": 0.41, "y": 0.30, "a": 12.0, "b": -30.0, "size": 0.02}],
     "dropped": {"1953/house.jpg": ["3f9c0a1b2c4d"]}}

``photo`` and ``references`` are relative to the album folder (``/`` between folders) or
absolute; ``dropped`` lists, per photo, the remembered hints the user dropped there. A
file that cannot be read is never overwritten: ``open_memory`` renames it aside
(``colorgui-album.json.unreadable-<time>``) and says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from model.hints import USER, Hint
from model.io.files import FileError, atomic_write, json_number, read_json

FORMAT, VERSION = "colorgui-album", 1
FILE_NAME = "colorgui-album.json"
# beside prints cut from an album page into a folder of their own (the app's cache): the
# page they came from, whose folder is their album ({"page": "/scans/page 1.jpg"})
PAGE_NOTE = "colorgui-page.json"


class AlbumError(FileError):
    """An album memory file that cannot be used; ``str()`` names the file and the reason."""


@dataclass(frozen=True)
class MemoryHint:
    """A hint the user made on one photo of the album, as the memory keeps it."""

    id: str
    photo: str        # relative to the album folder, or absolute
    sha256: str       # of the photo's file when it was remembered ("" unknown)
    hint: Hint


def hint_id(photo: str, hint: Hint) -> str:
    """A remembered hint's id: the same hint on the same photo keeps its id, so what was
    dropped stays dropped when the memory is filled again."""
    key = f"{photo}|{hint.x:.4f}|{hint.y:.4f}|{hint.a:.1f}|{hint.b:.1f}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Forgotten:
    """A remembered hint forgotten everywhere, and the photos where it had been dropped."""

    hints: list[MemoryHint]
    dropped_at: list[str]


@dataclass
class AlbumMemory:
    folder: Path
    enabled: bool = True
    strength: float = 1.0              # the album's reference photos' strength
    references: list[str] = field(default_factory=list)
    hints: list[MemoryHint] = field(default_factory=list)
    dropped: dict[str, set[str]] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.folder / FILE_NAME

    # ----- names of photos, relative to the album where they lie inside it
    def name_of(self, photo: os.PathLike | str) -> str:
        p = Path(photo).absolute()
        try:
            return p.relative_to(self.folder.absolute()).as_posix()
        except ValueError:
            return str(p)

    def resolve(self, name: str) -> Path:
        p = Path(name)
        return p if p.is_absolute() else self.folder / p

    # ----- what the user does
    def remember(self, photo: os.PathLike | str, hints: list[Hint], sha256: str = "") -> bool:
        """The user's hints on ``photo`` now (the others' hints are not the user's to
        remember); returns whether the memory changed."""
        name = self.name_of(photo)
        mine = [h.mine() for h in hints if h.origin == USER]
        new = [MemoryHint(hint_id(name, h), name, sha256, h) for h in mine]
        old = [m for m in self.hints if m.photo == name]
        if [(m.id, m.hint) for m in old] == [(m.id, m.hint) for m in new]:
            return False
        self.hints = [m for m in self.hints if m.photo != name] + new
        return True

    def forget(self, memory_id: str) -> Forgotten:
        """Remove a remembered hint from the memory everywhere; what was removed, for
        ``bring_back`` (an undone forget)."""
        gone = Forgotten([m for m in self.hints if m.id == memory_id],
                         sorted(p for p, ids in self.dropped.items() if memory_id in ids))
        self.hints = [m for m in self.hints if m.id != memory_id]
        for ids in self.dropped.values():
            ids.discard(memory_id)
        return gone

    def bring_back(self, gone: Forgotten) -> None:
        """Remember again what ``forget`` removed, dropped where it was dropped."""
        known = {m.id for m in self.hints}
        self.hints += [m for m in gone.hints if m.id not in known]
        for m in gone.hints:
            for photo in gone.dropped_at:
                self.dropped.setdefault(photo, set()).add(m.id)

    def drop(self, photo: os.PathLike | str, memory_id: str) -> None:
        """Carry this remembered hint no more to ``photo``."""
        self.dropped.setdefault(self.name_of(photo), set()).add(memory_id)

    def undrop(self, photo: os.PathLike | str, memory_id: str) -> None:
        """Carry this remembered hint to ``photo`` again (an undone delete)."""
        name = self.name_of(photo)
        self.dropped.get(name, set()).discard(memory_id)
        if not self.dropped.get(name, True):
            del self.dropped[name]

    def dropped_at(self, photo: os.PathLike | str) -> set[str]:
        return set(self.dropped.get(self.name_of(photo), ()))

    def add_reference(self, path: os.PathLike | str) -> bool:
        name = self.name_of(path)
        if name in self.references:
            return False
        self.references.append(name)
        return True

    def by_photo(self) -> dict[str, list[MemoryHint]]:
        out: dict[str, list[MemoryHint]] = {}
        for m in self.hints:
            out.setdefault(m.photo, []).append(m)
        return out

    # ----- the file
    def to_json(self) -> str:
        doc = {"format": FORMAT, "version": VERSION, "enabled": self.enabled,
               "strength": self.strength, "references": list(self.references),
               "hints": [{"id": m.id, "photo": m.photo, "sha256": m.sha256,
                          "x": round(m.hint.x, 6), "y": round(m.hint.y, 6),
                          "a": round(m.hint.a, 3), "b": round(m.hint.b, 3),
                          "size": round(m.hint.size, 6)} for m in self.hints],
               "dropped": {k: sorted(v) for k, v in sorted(self.dropped.items()) if v}}
        return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def note_page(prints: os.PathLike | str, page: os.PathLike | str) -> None:
    """Say in the folder ``prints`` that its prints were cut from ``page`` (``album_of``)."""
    doc = {"page": str(Path(page).absolute())}
    atomic_write(Path(prints) / PAGE_NOTE, (json.dumps(doc, ensure_ascii=False) + "\n").encode())


def album_of(photo: os.PathLike | str) -> Path:
    """The album a photo belongs to: its folder; for a print cut from an album page into
    a folder of its own, the page's folder, so that the prints of every page of the
    album share one memory."""
    folder = Path(photo).parent
    try:
        page = json.loads((folder / PAGE_NOTE).read_text(encoding="utf-8"))["page"]
        return Path(page).parent if isinstance(page, str) and page else folder
    except (OSError, ValueError, KeyError, TypeError):  # none, or not one of ours
        return folder


def memory_path(folder: os.PathLike | str) -> Path:
    """The memory file of an album folder (or the file itself, if named)."""
    p = Path(folder)
    return p if p.name == FILE_NAME or p.suffix == ".json" else p / FILE_NAME


def _text(value, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text, not {value!r}")
    return value


def _parse(doc, folder: Path) -> AlbumMemory:
    if not isinstance(doc, dict):
        raise ValueError("not a colorgui album memory (the JSON is not an object)")
    if doc.get("format") != FORMAT:
        raise ValueError(f"not a colorgui album memory (format is {doc.get('format')!r}, "
                         f"expected {FORMAT!r})")
    if isinstance(doc.get("version"), bool) or doc.get("version") != VERSION:  # true == 1
        raise ValueError(f"album memory version {doc.get('version')!r} is not supported "
                         f"(this colorgui reads version {VERSION})")
    memory = AlbumMemory(folder)
    enabled = doc.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ValueError(f"'enabled' must be true or false, not {enabled!r}")
    memory.enabled = enabled
    memory.strength = json_number(doc.get("strength", 1.0), "strength", 0, 1)
    refs = doc.get("references", [])
    if not isinstance(refs, list):
        raise ValueError("'references' must be a list")
    memory.references = [_text(r, f"reference {i}") for i, r in enumerate(refs, 1)]
    raw = doc.get("hints")
    if not isinstance(raw, list):
        raise ValueError("'hints' must be a list")
    for i, h in enumerate(raw, 1):
        if not isinstance(h, dict):
            raise ValueError(f"hint {i} is not an object")
        missing = [k for k in ("photo", "x", "y", "a", "b") if k not in h]
        if missing:
            raise ValueError(f"hint {i} lacks {', '.join(missing)}")
        photo = _text(h["photo"], f"hint {i}: photo")
        hint = Hint(json_number(h["x"], f"hint {i}: x", 0, 1),
                    json_number(h["y"], f"hint {i}: y", 0, 1),
                    json_number(h["a"], f"hint {i}: a", -128, 127),
                    json_number(h["b"], f"hint {i}: b", -128, 127),
                    json_number(h.get("size", 0.02), f"hint {i}: size", 1e-6, 1))
        memory.hints.append(MemoryHint(_text(h.get("id") or hint_id(photo, hint), f"hint {i}: id"),
                                       photo, _text(h.get("sha256", ""), f"hint {i}: sha256"),
                                       hint))
    dropped = doc.get("dropped", {})
    if not isinstance(dropped, dict) or not all(isinstance(v, list) for v in dropped.values()):
        raise ValueError("'dropped' must map photos to lists of hint ids")
    memory.dropped = {_text(k, "a dropped photo"): {_text(i, "a dropped id") for i in v}
                      for k, v in dropped.items()}
    return memory


def read_memory(path: os.PathLike | str) -> AlbumMemory:
    """Read an album's memory (a folder or its file); ``AlbumError`` names the file and
    what is wrong with it."""
    path = memory_path(path)
    return read_json(path, AlbumError, "no album memory here", lambda doc: _parse(doc, path.parent))


def open_memory(folder: os.PathLike | str) -> tuple[AlbumMemory, str | None]:
    """The album's memory, a new one where it has none; and a notice when its file could
    not be read: that file is renamed aside, never overwritten, and a new memory begins."""
    path = memory_path(folder)
    if not path.exists():
        return AlbumMemory(path.parent), None
    try:
        return read_memory(path), None
    except AlbumError as exc:
        aside = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
        n = 1
        while aside.exists():
            n += 1
            aside = aside.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
        try:
            path.rename(aside)
        except OSError as rename_error:
            raise AlbumError(path, f"{exc.reason}; and it could not be set aside "
                                   f"({rename_error}), so nothing was written") from None
        return AlbumMemory(path.parent), f"{exc}; it was kept as {aside.name} and a new memory begins"


def write_memory(memory: AlbumMemory) -> Path:
    """Write the album's memory atomically; returns its path."""
    memory.folder.mkdir(parents=True, exist_ok=True)
    atomic_write(memory.path, memory.to_json().encode("utf-8"))
    return memory.path
