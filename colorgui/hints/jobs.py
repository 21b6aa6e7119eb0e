"""The worker's side of colour hints: re-colouring the preview and the model's
suggestions (jobs run on the worker thread, sending plain data back: the Colorize tab
decides what to show), and the edits kept per photo.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass

import numpy as np

from colorgui.jobs import Request
from model.hints import Hint
from model.io.sidecar import EditStore, Edits, content_hash


@dataclass
class Recolored:
    """The preview's colours with the hints the user has now."""

    serial: int                    # which photo (ColorizeTab.result_serial) they are for
    hints: tuple[Hint, ...]
    ab: np.ndarray                 # preview-size normalised a/b


@dataclass
class Suggestions:
    """The colours the model finds likeliest at a point, (a, b, probability) each."""

    serial: int
    x: float
    y: float
    colours: list[tuple[float, float, float]]


def edit_store() -> EditStore:
    """The user's edits of every photo opened, keyed by the photo's content."""
    from model.io.places import user_data_root

    return EditStore(user_data_root() / "edits")


def stored_edits(path: str) -> tuple[str, Edits | None]:
    """The photo's SHA-256 and the edits stored for that content (a renamed or moved copy
    finds them too)."""
    sha = content_hash(path)
    return sha, edit_store().get(sha)


@dataclass
class Recolor(Request):
    """The network again on the preview (``rgb``, about 1 MP), with the hints: only a/b
    change. The photo's full resolution waits for a Save. ``vivid``: the photo's setting
    (None: the model's own)."""

    serial: int                    # which photo (ColorizeTab.result_serial)
    rgb: np.ndarray
    hints: tuple[Hint, ...]
    vivid: float | None = None

    label = "recolor"
    light = True

    def run(self, worker, job) -> None:
        try:
            if worker.colorizer is None or not worker.colorizer.takes_hints:
                raise RuntimeError("the model in use takes no colour hints")
            pred = worker.colorizer.predict(self.rgb, list(self.hints),
                                            worker.usable_vivid(self.vivid))
            worker.recolored.emit(job.id, Recolored(self.serial, tuple(self.hints), pred.ab))
        except Exception as exc:
            traceback.print_exc()
            worker.notice.emit(f"Could not apply the hints: {exc}")


@dataclass
class Suggest(Request):
    """The colours the model finds likeliest at a point of the preview's lightness."""

    serial: int
    L: np.ndarray
    x: float
    y: float
    hints: tuple[Hint, ...]

    label = "suggest"
    superseded = True
    light = True

    def run(self, worker, job) -> None:
        try:
            colours = [] if worker.colorizer is None else worker.colorizer.likely_colours(
                self.L, self.x, self.y, list(self.hints) or None)
        except Exception:
            traceback.print_exc()
            colours = []
        worker.suggested.emit(job.id, Suggestions(self.serial, self.x, self.y, colours))
