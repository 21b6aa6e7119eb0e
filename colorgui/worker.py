"""The single worker thread that owns the model, and the host that feeds it jobs.

The GUI thread never runs the network. Each request (``colorgui.requests``: colorize,
save, batch, scan, fine-tune; ``colorgui.hints.jobs``: the hint tool's recolor and
suggest) becomes a ``Job``: an id, its typed request and its own
``model.progress.Progress`` (cancel, pause, stage/step/total). The ``WorkerHost`` queues
jobs to a ``ModelWorker`` living in its own ``QThread`` and keeps them as handles, so each
Cancel button cancels its own job and the window can say what is queued and what runs.

Replies are plain data in signals that carry the job id. The worker emits them on its
thread; the host re-emits each on the GUI thread (a queued signal-to-signal connection),
so the window, the tabs and the tests connect to the host only, and whatever they
connect runs on the GUI thread, lambdas included. torch is imported in the worker
thread, after the window is on screen.
"""

from __future__ import annotations

import gc
import logging
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from colorgui.jobs import ENDED, QUEUED, REPLIES, RUNNING, Job, Replies, Request, SignalProgress
from model.hints import Hint


class _NoticeHandler(logging.Handler):
    """Passes the model code's warnings (the GPU ran out of memory, fell back to the
    CPU…) on as a signal, so the window can tell the user."""

    def __init__(self, signal):
        super().__init__(logging.WARNING)
        self.signal = signal

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.signal.emit(record.getMessage())
        except RuntimeError:  # the worker is gone (the window closed)
            pass


class ModelWorker(Replies):
    """Lives in the worker thread; runs one job at a time, in the order they came."""

    def __init__(self):
        super().__init__()
        self._notices = _NoticeHandler(self.notice)
        logging.getLogger("model").addHandler(self._notices)
        self.colorizer = None
        self.cuda_available = False  # known once a model has loaded

    @Slot(object)
    def run(self, job: Job) -> None:
        self.jobStarted.emit(job.id)
        try:
            if job.request.runs_cancelled or not job.progress.cancelled:
                with self._telling_exports():  # a fine-tune's comparison may load a model
                    job.request.run(self, job)
        finally:
            self.jobEnded.emit(job.id)

    def _telling_exports(self):
        """While in the block, each network that model.nets.runtime exports for this CPU
        (the first use's wait: 0.5-4 s for the spatial model, 13-19 s for the paper
        model's three branches) is announced by ``preparing``."""
        from model.nets.graph import listening_to_exports

        return listening_to_exports(
            lambda event: self.preparing.emit(event.name, event.stage, event.seconds))

    @Slot(str, str)
    def load_model(self, path: str, device: str) -> None:
        try:
            from model.colorizer import Colorizer
            from model.nets.devices import wants_cuda

            self.cuda_available = wants_cuda("auto")  # torch only where a GPU may be
            with self._telling_exports():
                self.colorizer = Colorizer(path or None, device=device)
            c = self.colorizer
            self.modelVivid.emit(c.has_vivid, c.default_vivid)
            self.modelHints.emit(bool(c.takes_hints))
            self.modelLoaded.emit(str(c.checkpoint), c.describe(), c.device.type)
        except Exception as exc:  # the app keeps running and says why
            self.modelFailed.emit(path, str(exc))

    # ----- what the jobs share
    def usable_vivid(self, vivid: float | None) -> float | None:
        """A job's vivid setting where the model in use has one, else None (its own)."""
        return vivid if vivid is not None and self.colorizer.has_vivid else None

    def applied(self, hints) -> list[Hint]:
        """The hints the model in use applies: none if it takes none."""
        taken = self.colorizer is not None and self.colorizer.takes_hints
        return list(hints) if hints and taken else []

    def full_ab(self, result, hints: list[Hint]) -> np.ndarray:
        """Full-resolution a/b with ``hints``: the ones the result holds if it was made
        with them, else the network again on the original photo (at the vivid setting the
        result was made with), read from its file (the preview's colours are too small to
        save)."""
        if tuple(hints) == tuple(result.hints):
            return result.full_ab
        from model.io.imageio import read_photo

        photo = read_photo(result.path)
        if photo.size != tuple(result.size):
            raise RuntimeError(f"{result.path} changed since it was opened; open it again")
        return self.colorizer.predict(photo.rgb, hints, self.usable_vivid(result.vivid)).ab

    def keep_edits_beside(self, target: str, result, edits) -> None:
        """The edits that made a saved photo, beside it (``<stem>.hints.json``), naming
        the model in use and the original photo (its name, SHA-256 and size)."""
        from model.io.provenance import edits_model
        from model.output import write_edits_beside

        edits = replace(edits, model=edits_model(getattr(self.colorizer, "checkpoint", None)))
        write_edits_beside(target, result.path, edits, tuple(result.size))


def _collect_due_garbage() -> None:
    """One collection of the oldest generation whose threshold is crossed, as Python's
    automatic collection would have run."""
    counts, limits = gc.get_count(), gc.get_threshold()
    for generation in (2, 1, 0):
        if counts[generation] > limits[generation]:
            gc.collect(generation)
            return


_gc_hosts = 0  # hosts alive that hold automatic garbage collection off


class WorkerHost(Replies):
    """Owns the worker thread and the jobs; lives on the GUI thread.

    Its reply signals are the worker's, re-emitted on the GUI thread. While it lives,
    Python's cyclic garbage collector runs only on the GUI thread: left automatic, it runs
    in whichever thread allocates past a threshold, and from the worker thread its walk
    through PySide's objects races the GUI thread's changes to them and crashes (a
    segfault "Garbage-collecting" on the worker thread in 2 of 6 runs of the GUI tests,
    even with every widget touched and every reply handled on the GUI thread). So
    automatic collection is off and a GUI-thread timer collects what the thresholds ask
    for, every 250 ms.
    """

    requestLoad = Signal(str, str)
    requestJob = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName("colorgui-model")
        self.worker = ModelWorker()
        self.worker.moveToThread(self.thread)
        self.requestLoad.connect(self.worker.load_model)
        self.requestJob.connect(self.worker.run)
        for name in REPLIES:  # queued: the worker lives on another thread
            getattr(self.worker, name).connect(getattr(self, name))
        self.jobs: dict[int, Job] = {}  # queued and running, in the order they came
        self._last_id = 0
        self.jobStarted.connect(self._started)
        for last_reply in ("jobEnded", "colorized", "recolored", "suggested", "failed",
                           "saved", "saveFailed", "batchFinished", "scanned", "trainFinished",
                           "trainFailed"):
            getattr(self, last_reply).connect(self._ended)  # the first that comes
        global _gc_hosts
        _gc_hosts += 1
        gc.disable()
        self._gc_timer = QTimer(self, interval=250)
        self._gc_timer.timeout.connect(_collect_due_garbage)
        self._gc_timer.start()
        self.thread.start()

    def submit(self, request: Request) -> Job:
        """Queue a job for the worker; returns its handle."""
        self._last_id += 1
        job = Job(self._last_id, request, SignalProgress(self.worker, self._last_id))
        self.jobs[job.id] = job
        self.requestJob.emit(job)
        return job

    @Slot(int)
    def _started(self, job_id: int) -> None:
        if job_id in self.jobs:
            self.jobs[job_id].state = RUNNING

    @Slot(int)
    def _ended(self, job_id: int, *_) -> None:
        job = self.jobs.pop(job_id, None)
        if job is not None:
            job.state = ENDED

    def busy(self) -> bool:
        """Whether work the user asked for (not a model load, nor the hint tool's quick
        re-render or suggestions, nothing to lose) is queued or running."""
        return any(not job.request.light for job in self.jobs.values())

    def describe(self) -> str:
        """What runs, what is paused and what waits, for the status bar: "" when idle."""
        words: dict[str, list[str]] = {"running": [], "paused": [], "queued": []}
        for job in self.jobs.values():
            if job.state == QUEUED:
                words["queued"].append(job.request.label)
            elif job.state == RUNNING:
                # a paused batch waits inside its job, after the photo in hand
                words["paused" if job.progress.paused else "running"].append(job.request.label)
        return "; ".join(f"{word}: {', '.join(labels)}" for word, labels in words.items()
                         if labels)

    def load(self, path: str, device: str) -> None:
        self.requestLoad.emit(path, device)

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel every job (a batch stops before its next photo, a fine-tune at its next
        step), end the thread's event loop and wait for it."""
        for job in self.jobs.values():
            job.cancel()
        self.thread.quit()
        stopped = self.thread.wait(timeout_ms)
        logging.getLogger("model").removeHandler(self.worker._notices)
        if self._gc_timer.isActive():
            global _gc_hosts
            self._gc_timer.stop()
            _gc_hosts -= 1
            if _gc_hosts == 0:
                gc.enable()
        return stopped
