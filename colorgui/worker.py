"""The single worker thread that owns the model.

The GUI thread never runs the network: it emits requests (queued signals) to a
``ModelWorker`` living in its own ``QThread``, and gets plain data back through signals.
torch is imported in the worker thread, after the window is on screen.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

PREVIEW_SIDE = 1280  # the saturation slider re-renders this on the GUI thread (0.15–0.25 s)


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


@dataclass
class TrainOutcome:
    best: str                      # the best checkpoint of the run
    cancelled: bool
    steps: int
    rows: list                     # EvalRow for gray, base and fine-tuned models
    examples: list                 # (gray, base, fine-tuned, truth) 256×256 float RGB
    val_photos: int


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


class ModelWorker(QObject):
    modelLoaded = Signal(str, str, str)      # path, description, device
    modelFailed = Signal(str, str)           # path, reason
    colorized = Signal(int, object)          # request id, ColorizeResult
    failed = Signal(int, str, str)           # request id, file, reason
    saved = Signal(str)                      # path written
    saveFailed = Signal(str, str)            # path, reason
    batchItem = Signal(int, str, str)        # row, state (running/done/skipped/failed), detail
    batchFinished = Signal(int, int, int, bool)  # done, skipped, failed, cancelled
    scanned = Signal(object)                 # ScanReport
    trainMessage = Signal(str)
    trainStep = Signal(int, int, float)      # step, total, loss
    trainEpoch = Signal(object)              # history record (dict)
    trainFinished = Signal(object)           # TrainOutcome
    trainFailed = Signal(str)
    notice = Signal(str)                     # a warning from the model code (GPU fallback…)

    def __init__(self):
        super().__init__()
        self._notices = _NoticeHandler(self.notice)
        logging.getLogger("model").addHandler(self._notices)
        self.colorizer = None
        self.cuda_available = False  # known once a model has loaded
        self.cancel = threading.Event()
        self.resume = threading.Event()
        self.resume.set()

    def _should_stop(self) -> bool:
        """Blocks while the batch is paused; True once it is cancelled."""
        while not self.resume.wait(0.1):
            if self.cancel.is_set():
                break
        return self.cancel.is_set()

    @Slot(object, bool, float, int)
    def run_batch(self, jobs: list, overwrite: bool, saturation: float, quality: int) -> None:
        """``jobs``: (row, source, target) triples; every row reports its state."""
        from model.batch import Job, run_jobs

        job_list = [Job(Path(src), Path(dst)) for _, src, dst in jobs]
        row_of = {id(job): row for job, (row, _, _) in zip(job_list, jobs)}
        counts = {"done": 0, "skipped": 0, "failed": 0}
        started = iter(job_list)

        def on_item(job, state, reason):
            counts[state] += 1
            self.batchItem.emit(row_of[id(job)], state, reason or str(job.target))

        def should_stop() -> bool:
            if self._should_stop():
                return True
            job = next(started, None)
            if job is not None:
                self.batchItem.emit(row_of[id(job)], "running", "")
            return False

        if self.colorizer is None:
            for job in job_list:
                on_item(job, "failed", "no model is loaded")
        else:
            run_jobs(job_list, self.colorizer, saturation=saturation, overwrite=overwrite,
                     quality=quality, on_item=on_item, should_stop=should_stop)
        self.batchFinished.emit(counts["done"], counts["skipped"], counts["failed"],
                                self.cancel.is_set())

    @Slot(list)
    def scan_folders(self, folders: list) -> None:
        from model.data import scan_training_photos

        self.scanned.emit(scan_training_photos(*folders))

    @Slot(list, str, object)
    def fine_tune(self, folders: list, base: str, options) -> None:
        """Fine-tune ``base`` on the folders, then compare base and result on the
        held-out photos."""
        from model.colorizer import Colorizer, bundled_model_path
        from model.evaluate import colorizer_method, gray_baseline, load_ground_truth, score_methods
        from model.registry import user_models_dir
        from model.train import Progress, fit

        worker = self

        class WorkerProgress(Progress):
            @property
            def cancelled(self) -> bool:
                return worker.cancel.is_set()

            def message(self, text):
                worker.trainMessage.emit(text)

            def step(self, step, total, loss):
                worker.trainStep.emit(step, total, loss)

            def epoch(self, record):
                worker.trainEpoch.emit(dict(record))

        try:
            base = base or str(bundled_model_path())
            run_dir = user_models_dir().parent / "runs" / time.strftime("%Y%m%d-%H%M%S")
            result = fit(folders, run_dir, from_checkpoint=base, options=options,
                         progress=WorkerProgress())
            val = result.val_paths[:EVAL_PHOTOS]
            truths = load_ground_truth(val)
            rows, examples = [], []
            if truths:
                before = colorizer_method(Colorizer(base, device=options.device))(truths)
                after = colorizer_method(Colorizer(result.best, device=options.device))(truths)
                rows = score_methods(truths, {"before (base model)": before,
                                              "after (fine-tuned)": after})
                examples = list(zip(gray_baseline(truths), before, after, truths))[:EXAMPLES]
            self.trainFinished.emit(TrainOutcome(str(result.best), result.cancelled,
                                                 result.steps, rows, examples, len(val)))
        except Exception as exc:
            traceback.print_exc()
            self.trainFailed.emit(str(exc))

    @Slot(str, str)
    def load_model(self, path: str, device: str) -> None:
        try:
            from model.colorizer import Colorizer

            import torch

            self.cuda_available = torch.cuda.is_available()
            self.colorizer = Colorizer(path or None, device=device)
            self.modelLoaded.emit(str(self.colorizer.checkpoint), self.colorizer.describe(),
                                  self.colorizer.device.type)
        except Exception as exc:  # the app keeps running and says why
            self.modelFailed.emit(path, str(exc))

    @Slot(int, str)
    def colorize_file(self, request_id: int, path: str) -> None:
        from model.imageio import ImageReadError, read_photo

        try:
            if self.colorizer is None:
                raise RuntimeError("no model is loaded")
            photo = read_photo(path)
            pred = self.colorizer.predict(photo.rgb)
            self.colorized.emit(request_id, ColorizeResult(
                path, photo.size, _preview(photo.rgb), _preview(pred.L), _preview(pred.ab),
                pred.L, pred.ab, photo.alpha, photo.bit_depth, photo.exif, photo.icc))
        except ImageReadError as exc:
            self.failed.emit(request_id, path, exc.reason)
        except Exception as exc:
            traceback.print_exc()
            self.failed.emit(request_id, path, f"{exc.__class__.__name__}: {exc}")

    @Slot(object, str, float, int)
    def save(self, result: ColorizeResult, target: str, saturation: float, quality: int) -> None:
        from model import color
        from model.imageio import write_photo

        try:
            rgb = color.compose(result.full_L, result.full_ab, saturation)
            write_photo(target, rgb, alpha=result.alpha, bit_depth=result.bit_depth,
                        exif=result.exif, icc=result.icc, quality=quality)
            self.saved.emit(target)
        except Exception as exc:
            self.saveFailed.emit(target, str(exc))


def _collect_due_garbage() -> None:
    """One collection of the oldest generation whose threshold is crossed, as Python's
    automatic collection would have run."""
    counts, limits = gc.get_count(), gc.get_threshold()
    for generation in (2, 1, 0):
        if counts[generation] > limits[generation]:
            gc.collect(generation)
            return


_gc_hosts = 0  # hosts alive that hold automatic garbage collection off


class WorkerHost(QObject):
    """Owns the worker thread; requests go out through these signals (queued).

    While it lives, Python's cyclic garbage collector runs only on the GUI thread: left
    automatic, it runs in whichever thread allocates past a threshold, and from the
    worker thread its walk through PySide's objects raced the GUI thread's changes to
    them and crashed (a segfault in 2 of 6 runs of the GUI tests, once the worker
    allocated more). So automatic collection is off and a GUI-thread timer collects
    what the thresholds ask for, every 250 ms.
    """

    requestLoad = Signal(str, str)
    requestColorize = Signal(int, str)
    requestSave = Signal(object, str, float, int)
    requestBatch = Signal(object, bool, float, int)
    requestScan = Signal(list)
    requestFineTune = Signal(list, str, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName("colorgui-model")
        self.worker = ModelWorker()
        self.worker.moveToThread(self.thread)
        self.requestLoad.connect(self.worker.load_model)
        self.requestColorize.connect(self.worker.colorize_file)
        self.requestSave.connect(self.worker.save)
        self.requestBatch.connect(self.worker.run_batch)
        self.requestScan.connect(self.worker.scan_folders)
        self.requestFineTune.connect(self.worker.fine_tune)
        self.pending = 0
        for done in (self.worker.colorized, self.worker.failed, self.worker.saved, self.worker.saveFailed,
                     self.worker.batchFinished, self.worker.scanned,
                     self.worker.trainFinished, self.worker.trainFailed):
            done.connect(self._one_done)
        global _gc_hosts
        _gc_hosts += 1
        gc.disable()
        self._gc_timer = QTimer(self, interval=250)
        self._gc_timer.timeout.connect(_collect_due_garbage)
        self._gc_timer.start()
        self.thread.start()

    def _one_done(self, *_):
        self.pending = max(0, self.pending - 1)

    def busy(self) -> bool:
        """Whether work the user asked for (not a model load) is still unfinished."""
        return self.pending > 0

    def load(self, path: str, device: str) -> None:
        self.requestLoad.emit(path, device)

    def colorize(self, request_id: int, path: str) -> None:
        self.pending += 1
        self.requestColorize.emit(request_id, path)

    def save(self, result: "ColorizeResult", target: str, saturation: float, quality: int) -> None:
        self.pending += 1
        self.requestSave.emit(result, target, saturation, quality)

    def run_batch(self, jobs: list, overwrite: bool, saturation: float, quality: int) -> None:
        self.worker.cancel.clear()
        self.worker.resume.set()
        self.pending += 1
        self.requestBatch.emit(jobs, overwrite, saturation, quality)

    def scan(self, folders: list[str]) -> None:
        self.pending += 1
        self.requestScan.emit(folders)

    def fine_tune(self, folders: list[str], base: str, options) -> None:
        self.worker.cancel.clear()
        self.pending += 1
        self.requestFineTune.emit(folders, base, options)

    def pause(self, paused: bool) -> None:
        (self.worker.resume.clear if paused else self.worker.resume.set)()

    def cancel(self) -> None:
        """Stop a batch before its next photo (the current one finishes or is not written),
        or a fine-tune at its next step (its best checkpoint so far is kept)."""
        self.worker.cancel.set()
        self.worker.resume.set()

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Ask running work to stop, end the thread's event loop and wait for it."""
        self.cancel()
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
