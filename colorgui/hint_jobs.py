"""The worker's side of colour hints: re-colouring the preview, the model's suggestions,
the edits kept per photo, and the full-resolution colours a Save writes.

Everything here runs on the worker thread (``HintJobs`` is mixed into
``colorgui.worker.ModelWorker``) and sends plain data back: the Colorize tab decides what
to show.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, replace

import numpy as np

from model.hints import Hint
from model.sidecar import EditStore, Edits, content_hash

RECOLOR, SUGGEST = "recolor", "suggest"


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
    from model.registry import user_data_root

    return EditStore(user_data_root() / "edits")


def stored_edits(path: str) -> tuple[str, Edits | None]:
    """The photo's SHA-256 and the edits stored for that content (a renamed or moved copy
    finds them too)."""
    sha = content_hash(path)
    return sha, edit_store().get(sha)


class HintJobs:
    """The hint jobs of ``ModelWorker`` (it provides ``colorizer`` and the signals)."""

    def _recolor(self, job, serial: int, rgb: np.ndarray, hints: tuple[Hint, ...]) -> None:
        """The network again on the preview (``rgb``, about 1 MP), with the hints: only a/b
        change. The photo's full resolution waits for a Save."""
        try:
            if self.colorizer is None or not self.colorizer.takes_hints:
                raise RuntimeError("the model in use takes no colour hints")
            pred = self.colorizer.predict(rgb, list(hints))
            self.recolored.emit(job.id, Recolored(serial, tuple(hints), pred.ab))
        except Exception as exc:
            traceback.print_exc()
            self.notice.emit(f"Could not apply the hints: {exc}")

    def _suggest(self, job, serial: int, L: np.ndarray, x: float, y: float,
                 hints: tuple[Hint, ...]) -> None:
        try:
            colours = [] if self.colorizer is None else self.colorizer.likely_colours(
                L, x, y, list(hints) or None)
        except Exception:
            traceback.print_exc()
            colours = []
        self.suggested.emit(job.id, Suggestions(serial, x, y, colours))

    def applied(self, hints) -> list[Hint]:
        """The hints the model in use applies: none if it takes none."""
        taken = self.colorizer is not None and self.colorizer.takes_hints
        return list(hints) if hints and taken else []

    def full_ab(self, result, hints: list[Hint]) -> np.ndarray:
        """Full-resolution a/b with ``hints``: the ones the result holds if it was made
        with them, else the network again on the original photo, read from its file (the
        preview's colours are too small to save)."""
        if tuple(hints) == tuple(result.hints):
            return result.full_ab
        from model.imageio import read_photo

        photo = read_photo(result.path)
        if photo.size != tuple(result.size):
            raise RuntimeError(f"{result.path} changed since it was opened; open it again")
        return self.colorizer.predict(photo.rgb, hints).ab

    def keep_edits_beside(self, target: str, result, edits: Edits) -> None:
        """The edits that made a saved photo, beside it (``<stem>.hints.json``), naming
        the model in use and the original photo (its name, SHA-256 and size)."""
        from model.output import write_edits_beside
        from model.provenance import model_name

        checkpoint = getattr(self.colorizer, "checkpoint", None)
        edits = replace(edits, model=model_name(checkpoint) if checkpoint else None)
        write_edits_beside(target, result.path, edits, tuple(result.size))
