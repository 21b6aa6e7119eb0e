"""The single worker thread that owns the model, and the jobs it runs.

The GUI thread never runs the network. Each request (colorize, save, batch, scan,
fine-tune; the hint tool's recolor and suggest, ``colorgui.hint_jobs``) becomes a
``Job``: an id, its arguments and its own ``model.progress.Progress`` (cancel, pause,
stage/step/total); the jobs, the reply signals and the data they carry are in
``colorgui.jobs``. The ``WorkerHost`` queues jobs to a ``ModelWorker``
living in its own ``QThread`` and keeps them as handles, so each Cancel button cancels
its own job and the window can say what is queued and what runs.

Replies are plain data in signals that carry the job id. The worker emits them on its
thread; the host re-emits each on the GUI thread (a queued signal-to-signal connection),
so the window, the tabs and the tests connect to the host only, and whatever they
connect runs on the GUI thread, lambdas included. torch is imported in the worker
thread, after the window is on screen.
"""

from __future__ import annotations

import gc
import logging
import time
import traceback
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from colorgui.hint_jobs import RECOLOR, SUGGEST, HintJobs, stored_edits
from colorgui.jobs import (  # noqa: F401  (re-exported: the window and the tests import them)
    BATCH, COLORIZE, ENDED, FINE_TUNE, QUEUED, REPLIES, RUNNING, SAVE, SCAN, ColorizeResult, Job,
    Replies, SignalProgress, TrainOutcome)

PREVIEW_SIDE = 1280  # the saturation slider re-renders this on the GUI thread (0.15–0.25 s)
EVAL_PHOTOS, EXAMPLES = 60, 3


def _preview(arr: np.ndarray, side: int = PREVIEW_SIDE) -> np.ndarray:
    import cv2

    h, w = arr.shape[:2]
    s = side / max(h, w)
    if s >= 1:
        return arr
    return cv2.resize(arr, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


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


class ModelWorker(Replies, HintJobs):
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
            # a cancelled batch still runs, to stop at once and say so; the rest is skipped
            if job.kind == BATCH or not job.progress.cancelled:
                with self._telling_exports():  # a fine-tune's comparison may load a model
                    getattr(self, "_" + job.kind.replace("-", "_"))(job, *job.args)
        finally:
            self.jobEnded.emit(job.id)

    def _telling_exports(self):
        """While in the block, each network that model.runtime exports for this CPU (the
        first use's wait: 0.5-4 s for the spatial model, 13-19 s for the paper model's
        three branches) is announced by ``preparing``."""
        from model.runtime import listening_to_exports

        return listening_to_exports(
            lambda event: self.preparing.emit(event.name, event.stage, event.seconds))

    @Slot(str, str)
    def load_model(self, path: str, device: str) -> None:
        try:
            from model.colorizer import Colorizer

            import torch

            self.cuda_available = torch.cuda.is_available()
            with self._telling_exports():
                self.colorizer = Colorizer(path or None, device=device)
            c = self.colorizer
            self.modelVivid.emit(c.has_vivid, c.default_vivid)
            self.modelHints.emit(bool(c.takes_hints))
            self.modelLoaded.emit(str(c.checkpoint), c.describe(), c.device.type)
        except Exception as exc:  # the app keeps running and says why
            self.modelFailed.emit(path, str(exc))

    def _colorize(self, job: Job, path: str, vivid: float | None = None, edits=None) -> None:
        """``vivid``: the Vivid slider's value (None: the model's own). ``edits``: the
        photo's edits (``model.sidecar.Edits``) when it is colorized again with other
        settings; None for a photo being opened, whose stored edits are then looked up
        by its content and applied."""
        from model.imageio import ImageReadError, read_photo

        try:
            if self.colorizer is None:
                raise RuntimeError("no model is loaded")
            photo = read_photo(path)
            if edits is None:
                sha, restored = stored_edits(path)
                if restored is not None and restored.vivid is not None:
                    vivid = restored.vivid
            else:
                sha, restored = edits.photo_sha256 or "", None
            self._use_vivid(vivid)
            source = edits if edits is not None else restored
            hints = self.applied(source.hints if source is not None else [])
            pred = self.colorizer.predict(photo.rgb, hints)
            self.colorized.emit(job.id, ColorizeResult(
                path, photo.size, _preview(photo.rgb), _preview(pred.L), _preview(pred.ab),
                pred.L, pred.ab, photo.alpha, photo.bit_depth, photo.exif, photo.icc,
                sha, edits is None, restored, tuple(hints)))
        except ImageReadError as exc:
            self.failed.emit(job.id, path, exc.reason)
        except Exception as exc:
            traceback.print_exc()
            self.failed.emit(job.id, path, f"{exc.__class__.__name__}: {exc}")

    def _use_vivid(self, vivid: float | None) -> None:
        """Set the Vivid slider's value, where the model has the setting (here, on the
        worker thread: the colorizer is used on this thread only)."""
        if vivid is not None and self.colorizer.has_vivid:
            self.colorizer.vivid = vivid

    def _save(self, job: Job, result: ColorizeResult, target: str, saturation: float,
              quality: int, edits=None, provenance: bool = True) -> None:
        """``edits``: the photo's edits now (``model.sidecar.Edits``); their hints colour
        the saved photo at full resolution and are kept beside it. ``provenance``: mark
        the output as AI colour (``model.provenance``)."""
        from model.output import write_colorized
        from model.provenance import provenance_for

        try:
            hints = self.applied(edits.hints if edits is not None else [])
            record = provenance_for(self.colorizer, saturation, len(hints)) \
                if provenance and self.colorizer is not None else None
            write_colorized(target, result.full_L, self.full_ab(result, hints), saturation,
                            alpha=result.alpha, bit_depth=result.bit_depth, exif=result.exif,
                            icc=result.icc, quality=quality, provenance=record)
            if hints:
                self.keep_edits_beside(target, result, edits)
            self.saved.emit(job.id, target)
        except Exception as exc:
            self.saveFailed.emit(job.id, target, str(exc))

    def _batch(self, job: Job, rows: list, overwrite: bool, saturation: float,
               quality: int, vivid: float | None = None, provenance: bool = True) -> None:
        """``rows``: (row, source, target) triples; every row reports its state."""
        from model.batch import Job as Photo, run_jobs

        photos = [Photo(Path(src), Path(dst)) for _, src, dst in rows]
        row_of = {id(photo): row for photo, (row, _, _) in zip(photos, rows)}
        counts = {"done": 0, "skipped": 0, "failed": 0}

        def on_start(photo):
            self.batchItem.emit(job.id, row_of[id(photo)], "running", "")

        def on_item(photo, state, reason):
            counts[state] += 1
            self.batchItem.emit(job.id, row_of[id(photo)], state, reason or str(photo.target))

        if self.colorizer is None:
            for photo in photos:
                on_item(photo, "failed", "no model is loaded")
        else:
            self._use_vivid(vivid)
            run_jobs(photos, self.colorizer, saturation=saturation, overwrite=overwrite,
                     quality=quality, on_item=on_item, on_start=on_start, progress=job.progress,
                     provenance=provenance)
        self.batchFinished.emit(job.id, counts["done"], counts["skipped"], counts["failed"],
                                job.progress.cancelled)

    def _scan(self, job: Job, folders: list) -> None:
        from model.data import scan_training_photos

        self.scanned.emit(job.id, scan_training_photos(*folders))

    def _fine_tune(self, job: Job, folders: list, base: str, options) -> None:
        """Fine-tune ``base`` on the folders, then compare base and result on the
        held-out photos."""
        from model.colorizer import bundled_model_path
        from model.finetune import Comparison, compare_before_after
        from model.registry import user_models_dir
        from model.train import fit

        try:
            base = base or str(bundled_model_path())
            run_dir = user_models_dir().parent / "runs" / time.strftime("%Y%m%d-%H%M%S")
            result = fit(folders, run_dir, from_checkpoint=base, options=options,
                         progress=job.progress)
            best = str(result.best) if result.best and Path(result.best).is_file() else ""
            comparison = compare_before_after(base, best, result.val_paths, options.device,
                                              EVAL_PHOTOS, EXAMPLES) if best else Comparison()
            self.trainFinished.emit(job.id, TrainOutcome(
                best, result.cancelled, result.steps, comparison.rows, comparison.examples,
                comparison.photos, comparison.summary() if best else ""))
        except Exception as exc:
            traceback.print_exc()
            self.trainFailed.emit(job.id, str(exc))


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
    through PySide's objects raced the GUI thread's changes to them and crashed (a
    segfault in 2 of 6 runs of the GUI tests, once the worker allocated more). Still so
    with no widget touched from the worker any more and every reply on the GUI thread:
    with automatic collection on, 2 runs of 2 of the GUI tests segfaulted "Garbage-
    collecting" on the worker thread while it built a model. So automatic collection is
    off and a GUI-thread timer collects what the thresholds ask for, every 250 ms.
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

    def submit(self, kind: str, *args) -> Job:
        """Queue a job for the worker; returns its handle."""
        self._last_id += 1
        job = Job(self._last_id, kind, args, SignalProgress(self.worker, self._last_id))
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
        return any(job.kind not in (RECOLOR, SUGGEST) for job in self.jobs.values())

    def describe(self) -> str:
        """What runs and what waits, for the status bar: "" when idle."""
        running = [j.kind for j in self.jobs.values() if j.state == RUNNING]
        queued = [j.kind for j in self.jobs.values() if j.state == QUEUED]
        parts = ([f"running: {', '.join(running)}"] if running else []) + \
                ([f"queued: {', '.join(queued)}"] if queued else [])
        return "; ".join(parts)

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
