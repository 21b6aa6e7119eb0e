"""The plain data the worker and the window exchange: the job handles, the reply
signals, and the results they carry (``colorgui.worker`` runs the jobs).

A ``Job`` is an id, its ``Request`` (one dataclass per kind, with its own fields and its
own ``run``: ``colorgui.requests``, ``colorgui.hints.jobs``) and its own
``model.progress.Progress`` (cancel, pause, stage/step/total); ``SignalProgress`` is that
progress as the worker's signals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from PySide6.QtCore import QObject, Signal

from model.progress import Progress


@dataclass
class ColorizeResult:
    """Everything the Colorize tab needs, as plain data."""

    path: str
    size: tuple[int, int]          # full-resolution (w, h)
    original: np.ndarray           # preview-size float RGB of the input
    L: np.ndarray                  # preview-size L
    ab: np.ndarray                 # preview-size normalised a/b
    full_L: np.ndarray             # full-resolution L and a/b, for saving
    full_ab: np.ndarray
    alpha: np.ndarray | None
    bit_depth: int
    exif: bytes | None
    icc: bytes | None
    xmp: bytes | None
    sha256: str = ""               # of the photo's file: the key of its stored edits
    opened: bool = False           # newly opened (not colorized again with other settings)
    restored: object = None        # the model.io.sidecar.Edits stored for it, if opened
    hints: tuple = ()              # the hints its colours were made with
    vivid: float | None = None     # the vivid setting they were made with (None: the model's)


@dataclass
class TrainOutcome:
    best: str                      # the best checkpoint of the run; "" if none was written
    cancelled: bool
    steps: int
    rows: list                     # EvalRow for gray, base and fine-tuned models
    examples: list                 # (gray, base, fine-tuned, truth) 256×256 float RGB
    val_photos: int
    summary: str = ""              # what the comparison means, in plain words
    base_kept: bool = False        # no pass beat the base model: ``best`` holds the base


QUEUED, RUNNING, ENDED = "queued", "running", "ended"


class Request:
    """What a job asks of the worker: a dataclass per kind, with its own fields, whose
    ``run`` the worker calls on its thread (never looked up by name)."""

    label: ClassVar[str] = "job"       # what the status bar calls it
    # a newer request of the same kind cancels this one if it has not started yet
    superseded: ClassVar[bool] = False
    # quick work with nothing to lose: the window may close while it waits
    light: ClassVar[bool] = False
    # runs even when cancelled before it started, to stop at once and say so
    runs_cancelled: ClassVar[bool] = False

    def run(self, worker, job: "Job") -> None:
        raise NotImplementedError


@dataclass(eq=False)
class Job:
    """One request to the worker; the window keeps it as a handle to cancel or pause."""

    id: int
    request: Request
    progress: Progress = field(repr=False)
    state: str = QUEUED            # set by the host, on the GUI thread

    @property
    def kind(self) -> type[Request]:
        return type(self.request)

    def cancel(self) -> None:
        """A queued job is skipped; a running batch stops before its next photo, a
        fine-tune at its next step (keeping its best checkpoint so far)."""
        self.progress.cancel()

    def pause(self, paused: bool) -> None:
        self.progress.pause(paused)


class Replies(QObject):
    """What the worker tells the window; every job reply starts with the job's id."""

    modelLoaded = Signal(str, str, str)      # path, description, device
    modelFailed = Signal(str, str)           # path, reason
    modelVivid = Signal(bool, float)         # has a vivid setting, its recommended value
    modelHints = Signal(bool)                # takes colour hints
    preparing = Signal(str, str, float)      # a network exported for this CPU: name,
                                             # "start"/"done", seconds it took
    notice = Signal(str)                     # a warning from the model code (GPU fallback…)
    jobStarted = Signal(int)
    jobEnded = Signal(int)                   # after its last reply; also when it was skipped
    jobMessage = Signal(int, str)            # what a long job does now
    jobProgress = Signal(int, str, int, int, float)  # stage, step, total, loss (NaN: none)
    colorized = Signal(int, object)          # ColorizeResult
    recolored = Signal(int, object)          # hints.jobs.Recolored
    suggested = Signal(int, object)          # hints.jobs.Suggestions
    matched = Signal(int, object)            # hints.memory.Matched: reference/carried hints
    places = Signal(int, object)             # hints.memory.Places: where to click
    failed = Signal(int, str, str)           # file, reason (colorizing it failed)
    saved = Signal(int, str)                 # path written
    saveFailed = Signal(int, str, str)       # path, reason
    batchItem = Signal(int, int, str, str)   # row, state (running/done/skipped/failed), detail
    batchFinished = Signal(int, int, int, int, bool)  # done, skipped, failed, cancelled
    scanned = Signal(int, object)            # ScanReport
    trainEpoch = Signal(int, object)         # history record (dict)
    trainFinished = Signal(int, object)      # TrainOutcome
    trainFailed = Signal(int, str)


REPLIES = [name for name, value in vars(Replies).items() if isinstance(value, Signal)]


class SignalProgress(Progress):
    """A job's progress as the worker's signals: the Qt face of ``model.progress``."""

    def __init__(self, replies: Replies, job_id: int):
        super().__init__()
        self.replies, self.job_id = replies, job_id

    def changed(self) -> None:
        self.replies.jobProgress.emit(self.job_id, self.stage, self.at, self.total, self.loss)

    def message(self, text: str) -> None:
        super().message(text)
        self.replies.jobMessage.emit(self.job_id, text)

    def epoch(self, record: dict) -> None:
        self.replies.trainEpoch.emit(self.job_id, dict(record))
