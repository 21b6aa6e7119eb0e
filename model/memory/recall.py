"""What the colour memory brings to one photo: the hints matched from its reference
photos and those carried from its album's memory, beside the user's own.

``Recall`` is one per run (a CLI batch, the app's worker): it keeps each reference and
each remembered photo as the matcher sees it, so a reference used for a hundred photos is
read and analysed once. The user's hints win: a matched or carried hint within
``CLEAR_CELLS`` cells of one of the user's is left out (two hints pinned side by side
with different colours would meet halfway), and a carried hint wins over a reference's.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from model import color
from model.hints import CARRIED, REFERENCE, USER, Hint
from model.memory.album import AlbumMemory
from model.memory.carry import ALBUM_TEST, Remembered, carried_hints, remembered
from model.memory.cells import cells_of
from model.memory.reference import (DEFAULT_STRENGTH, REFERENCE_TEST, match_references,
                                    scene_saturation)
from model.memory.reference_photo import OWN, Reference, ReferenceError, load_reference

log = logging.getLogger(__name__)
CLEAR_CELLS = 1.5  # matched/carried hints this close (in cells) to a user's are left out


@dataclass
class Recalled:
    """The hints the memory brings to a photo, and what could not be used."""

    reference: list[Hint] = field(default_factory=list)
    carried: list[Hint] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # each names a file and the reason
    # the colourfulness the references say the photo has (``FromReferences``), and the
    # strength they were matched at (``model.memory.reference.scene_saturation``)
    scene_colourfulness: float | None = None
    strength: float = DEFAULT_STRENGTH
    # the kinds of hint this recall stands for (REFERENCE where references were matched,
    # CARRIED where an album's memory was asked), found or not: those the photo's edits
    # held from an earlier run give way to them
    kinds: frozenset = frozenset()

    @property
    def hints(self) -> list[Hint]:
        return self.carried + self.reference

    def saturation(self, L, ab) -> float:
        """The saturation that brings the photo colorized with these hints (its L and
        normalised a/b) to the colourfulness its references say; 1 where none does."""
        return scene_saturation(L, ab, self.scene_colourfulness, self.strength)


def matched_place(hint: Hint) -> tuple[str, float, float]:
    """A matched hint's reference and place, as a photo's edits keep those the user
    deleted (``Edits.reference_dropped``)."""
    return hint.source, round(hint.x, 6), round(hint.y, 6)


def without_near(auto: list[Hint], mine: list[Hint], cell: float) -> list[Hint]:
    """``auto`` hints farther than ``CLEAR_CELLS`` cells (``cell``: a cell's side,
    relative to the longer side, so roughly to both) from every hint of ``mine``."""
    if not mine:
        return list(auto)
    r = CLEAR_CELLS * cell
    return [h for h in auto
            if all(abs(h.x - m.x) > r or abs(h.y - m.y) > r for m in mine)]


class Recall:
    """The colour memory of a run, for a ``colorizer`` (``Colorizer``: ``analyse``)."""

    def __init__(self, colorizer, strength: float = DEFAULT_STRENGTH):
        self.colorizer = colorizer
        self.strength = strength
        self._references: dict[tuple, Reference | ReferenceError] = {}
        self._remembered: dict[tuple, Remembered | None] = {}  # None: unreadable
        self._hashes: dict[tuple, str] = {}

    # ----- references
    @staticmethod
    def _key(path: Path) -> tuple:
        try:
            stat = path.stat()
            return str(path.resolve()), stat.st_mtime_ns, stat.st_size
        except OSError:
            return str(path), 0, 0

    def _sha256(self, path: Path) -> str:
        from model.io.files import hash_file

        key = self._key(path)
        if key not in self._hashes:
            try:
                self._hashes[key] = hash_file(path)
            except OSError:
                return ""
        return self._hashes[key]

    def reference(self, path: os.PathLike | str) -> Reference:
        """A reference photo, read and analysed once; ``ReferenceError`` says why not."""
        path = Path(path)
        key = self._key(path)
        if key not in self._references:
            try:
                self._references[key] = load_reference(path, self.colorizer)
            except ReferenceError as exc:
                self._references[key] = exc
        found = self._references[key]
        if isinstance(found, ReferenceError):
            raise found
        return found

    def references(self, paths, photo_sha256: str = "") -> tuple[list[Reference], list[str]]:
        """The usable references among ``paths`` for a photo (its SHA-256: a photo is
        never its own reference), and why each other one is not."""
        refs, problems = [], []
        for p in paths:
            if photo_sha256 and self._sha256(Path(p)) == photo_sha256:
                problems.append(str(ReferenceError(p, OWN)))
                continue
            try:
                refs.append(self.reference(p))
            except ReferenceError as exc:
                problems.append(str(exc))
        return refs, problems

    # ----- the album's remembered photos
    def _remembered_photo(self, memory: AlbumMemory, name: str, entries) -> Remembered | None:
        from model.io.imageio import ImageReadError, read_photo

        path = memory.resolve(name)
        key = (str(path), tuple((m.id, m.hint) for m in entries))
        if key not in self._remembered:
            try:
                rgb = read_photo(path).rgb
            except ImageReadError as exc:  # said once a run, not once a photo
                log.warning("the album's hints on %s are not carried: %s", name, exc.reason)
                self._remembered[key] = None
                return None
            L = color.luminance(rgb)
            self._remembered[key] = remembered(
                self.colorizer.analyse(L), [m.hint for m in entries], name,
                [m.id for m in entries], flipped=self.colorizer.analyse(L[:, ::-1].copy()))
        return self._remembered[key]

    # ----- one photo
    def recall(self, photo: os.PathLike | str, L, user_hints: list[Hint] = (),
               references=(), memory: AlbumMemory | None = None, photo_sha256: str = "",
               analysis=None, strength: float | None = None, dropped=frozenset()
               ) -> Recalled:
        """The hints the memory brings to ``photo`` (its lightness ``L``, 0..100, any
        size; ``analysis``: its ``Analysis`` if already made): from ``references`` (paths)
        and the album's references, less the matched places the user deleted
        (``dropped``, ``matched_place``), and carried from ``memory`` (none of the
        photo's own, none it dropped)."""
        out = Recalled()
        paths = list(references)
        if memory is not None and memory.enabled:
            paths += [memory.resolve(r) for r in memory.references
                      if memory.resolve(r).absolute() not in {Path(p).absolute() for p in paths}]
            out.kinds |= {CARRIED}
        refs, out.problems = self.references(paths, photo_sha256)
        if refs:
            out.kinds |= {REFERENCE}
        sources = []
        if memory is not None and memory.enabled:
            own, forgotten = memory.name_of(photo), memory.dropped_at(photo)
            for name, entries in memory.by_photo().items():
                if name == own:
                    continue
                entries = [m for m in entries if m.id not in forgotten]
                if entries:
                    src = self._remembered_photo(memory, name, entries)
                    if src is not None:
                        sources.append(src)
        if not refs and not sources:
            return out
        if analysis is None:
            analysis = self.colorizer.analyse(L)
        target = cells_of(analysis)
        cell = 1.0 / max(target.h, target.w)
        mine = [h for h in user_hints if h.origin == USER]
        if sources:
            out.carried = without_near(carried_hints(target, sources, ALBUM_TEST), mine, cell)
        if refs:
            out.strength = self.strength if strength is None else strength
            found = match_references(analysis, refs, out.strength, REFERENCE_TEST, target)
            kept = [h for h in found.hints if matched_place(h) not in dropped]
            out.reference = without_near(kept, mine + out.carried, cell)
            out.scene_colourfulness = found.colourfulness
        return out


def replace_auto(hints: list[Hint], recalled: Recalled) -> list[Hint]:
    """``hints`` with their matched and carried hints replaced by ``recalled``'s, of the
    kinds it stands for: a hint file's matched hints are not doubled by a new match."""
    return [h for h in hints if h.origin not in recalled.kinds] + recalled.hints
