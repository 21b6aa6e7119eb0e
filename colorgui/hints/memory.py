"""The worker's side of the colour memory: matching reference photos and carrying the
album's hints to the photo shown (``MatchReferences``, ``CarryAlbum``), and where a hint would help most
(``SuggestPlaces``). Both run on the worker thread and send plain data back; the tab
decides what to show. The references and remembered photos, each analysed once, live in
one ``model.memory.recall.Recall`` per loaded model.
"""

from __future__ import annotations

import traceback
import weakref
from dataclasses import dataclass, field

import numpy as np

from colorgui.jobs import Request
from model.hints import Hint

_recalls: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # colorizer → Recall


def recall_of(colorizer):
    """The colour memory kept for this loaded model (worker thread only)."""
    from model.memory.recall import Recall

    if colorizer not in _recalls:
        _recalls[colorizer] = Recall(colorizer)
    return _recalls[colorizer]


@dataclass
class Matched:
    """The hints the colour memory brings to the photo shown, of one ``origin``."""

    serial: int                         # which photo (ColorizeTab.result_serial)
    origin: str                         # model.hints.REFERENCE or CARRIED
    hints: tuple[Hint, ...]
    problems: list[str] = field(default_factory=list)  # "FILE: reason" of each unusable one
    unusable: tuple[str, ...] = ()      # the references that cannot be used
    # the colourfulness the references say the photo has, which it is brought to
    # (``model.memory.reference.scene_saturation``); None where none says
    colourfulness: float | None = None
    # what it was matched for: the usable references and the strength (REFERENCE only)
    matched_for: tuple | None = None


@dataclass
class MatchReferences(Request):
    """Match the reference photos (``references``: paths) against the photo (``L``: its
    preview lightness; ``sha256``: its file's, as no photo is its own reference)."""

    serial: int
    path: str
    sha256: str
    L: np.ndarray
    user_hints: tuple[Hint, ...]
    references: tuple[str, ...]
    strength: float

    label = "match references"
    superseded = True
    light = True

    def run(self, worker, job) -> None:
        from pathlib import Path

        from model.hints import REFERENCE

        try:
            _check(worker)
            recalled = recall_of(worker.colorizer).recall(
                self.path, self.L, list(self.user_hints), self.references, None,
                self.sha256, strength=self.strength)
            unusable = tuple(r for r in self.references
                             if any(p.startswith(f"{Path(r)}:") for p in recalled.problems))
            usable = tuple(r for r in self.references if r not in unusable)
            reply = Matched(self.serial, REFERENCE, tuple(recalled.reference),
                            recalled.problems, unusable, recalled.scene_colourfulness,
                            (usable, self.strength))
        except Exception as exc:
            traceback.print_exc()
            reply = Matched(self.serial, REFERENCE, (), [f"{self.path}: could not match its "
                                                         f"reference photos ({exc})"])
        worker.matched.emit(job.id, reply)


@dataclass
class CarryAlbum(Request):
    """Carry the hints of the album memory of the photo's folder to the photo."""

    serial: int
    path: str
    L: np.ndarray
    user_hints: tuple[Hint, ...]

    label = "carry album colours"
    superseded = True
    light = True

    def run(self, worker, job) -> None:
        from model.hints import CARRIED
        from model.memory.album import AlbumError, album_of, read_memory

        try:
            _check(worker)
            memory = read_memory(album_of(self.path))
            # the app matches the photo's own reference photos (MatchReferences); the
            # album's list of them is for the batch
            memory.references = []
            recalled = recall_of(worker.colorizer).recall(
                self.path, self.L, list(self.user_hints), (), memory)
            reply = Matched(self.serial, CARRIED, tuple(recalled.carried), recalled.problems)
        except AlbumError as exc:
            reply = Matched(self.serial, CARRIED, (), [str(exc)])
        except Exception as exc:
            traceback.print_exc()
            reply = Matched(self.serial, CARRIED, (), [f"{self.path}: could not carry the "
                                                       f"album's colours ({exc})"])
        worker.matched.emit(job.id, reply)


def _check(worker) -> None:
    if worker.colorizer is None or not worker.colorizer.takes_hints:
        raise RuntimeError("the model in use takes no colour hints")


@dataclass
class Places:
    """Where a hint would help most, and the doubt left (h×w, 0..1) for the faint map."""

    serial: int
    suggestions: list                   # model.memory.suggest.Suggestion
    doubt: np.ndarray | None


@dataclass
class SuggestPlaces(Request):
    """The ``count`` places where a hint would change the photo most, given its hints."""

    serial: int
    L: np.ndarray
    hints: tuple[Hint, ...]
    count: int = 5

    label = "where to click"
    superseded = True
    light = True

    def run(self, worker, job) -> None:
        from model.memory.suggest import suggest

        try:
            _check(worker)
            analysis = worker.colorizer.analyse(self.L)
            found, doubt = suggest(analysis, self.count, list(self.hints))
            worker.places.emit(job.id, Places(self.serial, found, doubt))
        except Exception as exc:
            traceback.print_exc()
            worker.notice.emit(f"Could not find where a hint would help: {exc}")
            worker.places.emit(job.id, Places(self.serial, [], None))
