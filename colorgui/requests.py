"""The worker's jobs, one dataclass per kind (the hint tool's are in
``colorgui.hints.jobs``): each carries its own settings (vivid, saturation…) and its own
``run``, which the worker calls on its thread with itself (the loaded colorizer and the
reply signals) and the job's handle. Nothing a job needs is left on the shared colorizer
by the job before it.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from colorgui.hints.jobs import edit_store, stored_edits
from colorgui.jobs import ColorizeResult, Request, TrainOutcome

PREVIEW_SIDE = 1280  # the saturation slider re-renders this on the GUI thread (0.15–0.25 s)
EXAMPLES = 3


def _preview(arr: np.ndarray, side: int = PREVIEW_SIDE) -> np.ndarray:
    import cv2

    h, w = arr.shape[:2]
    s = side / max(h, w)
    if s >= 1:
        return arr
    return cv2.resize(arr, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


@dataclass
class Colorize(Request):
    """Open a photo (``edits`` None: its stored edits are looked up by its content and
    applied) or colorize it again with the photo's ``edits`` now (``model.io.sidecar.Edits``).
    ``vivid``: the Vivid slider's value (None: the model's own)."""

    path: str
    vivid: float | None = None
    edits: object = None

    label = "colorize"
    superseded = True

    def run(self, worker, job) -> None:
        from model.io.imageio import ImageReadError, read_photo

        path, vivid = self.path, self.vivid
        try:
            if worker.colorizer is None:
                raise RuntimeError("no model is loaded")
            photo = read_photo(path)
            if self.edits is None:
                sha, restored = stored_edits(path)
                if restored is not None and restored.vivid is not None:
                    vivid = restored.vivid
            else:
                sha, restored = self.edits.photo_sha256 or "", None
            vivid = worker.usable_vivid(vivid)
            source = self.edits if self.edits is not None else restored
            hints = worker.applied(source.hints if source is not None else [])
            pred = worker.colorizer.predict(photo.rgb, hints, vivid)
            worker.colorized.emit(job.id, ColorizeResult(
                path, photo.size, _preview(photo.rgb), _preview(pred.L), _preview(pred.ab),
                pred.L, pred.ab, photo.alpha, photo.bit_depth, photo.exif, photo.icc,
                photo.xmp, sha, self.edits is None, restored, tuple(hints), vivid))
        except ImageReadError as exc:
            worker.failed.emit(job.id, path, exc.reason)
        except Exception as exc:
            traceback.print_exc()
            worker.failed.emit(job.id, path, f"{exc.__class__.__name__}: {exc}")


@dataclass
class Save(Request):
    """Write ``result`` (a ``ColorizeResult``) to ``target`` at full resolution with the
    photo's ``edits`` now: their hints colour it and are kept beside it.
    ``provenance``: mark the output as AI colour (``model.io.provenance``)."""

    result: ColorizeResult
    target: str
    saturation: float
    quality: int
    edits: object = None
    provenance: bool = True

    label = "save"

    def run(self, worker, job) -> None:
        from model.io.provenance import provenance_for
        from model.output import write_colorized

        result = self.result
        try:
            hints = worker.applied(self.edits.hints if self.edits is not None else [])
            record = provenance_for(worker.colorizer, self.saturation, len(hints)) \
                if self.provenance and worker.colorizer is not None else None
            write_colorized(self.target, result.full_L, worker.full_ab(result, hints),
                            self.saturation, alpha=result.alpha, bit_depth=result.bit_depth,
                            exif=result.exif, icc=result.icc, xmp=result.xmp,
                            quality=self.quality, provenance=record)
            if hints:
                worker.keep_edits_beside(self.target, result, self.edits)
            worker.saved.emit(job.id, self.target)
        except Exception as exc:
            worker.saveFailed.emit(job.id, self.target, str(exc))


def _stored(path: str):
    """The edits the app keeps for this photo (its hints, saturation and vivid, as its
    Colorize tab showed it), or None: none, or a file that cannot be read (it fails with
    the reason when its turn comes)."""
    try:
        return stored_edits(path)[1]
    except OSError:
        return None


@dataclass
class Batch(Request):
    """The Batch tab's queue: ``rows`` of (row, source, target); every row reports its
    state. ``settings``: a ``model.batch.BatchSettings``."""

    rows: list
    settings: object

    label = "batch"
    runs_cancelled = True

    def run(self, worker, job) -> None:
        from dataclasses import replace

        from model.batch import FAILED, RUNNING, BatchItem, BatchReport, run_jobs

        # each photo is hashed to find its edits: a whole album's worth of reading, spared
        # where the user has never edited a photo
        look = edit_store().holds_any()
        items = [BatchItem(Path(src), Path(dst), edits=_stored(src) if look else None)
                 for _, src, dst in self.rows]
        row_of = {id(item): row for item, (row, _, _) in zip(items, self.rows)}

        def on_start(item):
            worker.batchItem.emit(job.id, row_of[id(item)], RUNNING, "")

        def on_item(item, state, reason):
            worker.batchItem.emit(job.id, row_of[id(item)], state, reason or str(item.target))

        report = BatchReport(on_item=on_item, progress=job.progress, total=len(items))
        if worker.colorizer is None:
            for item in items:
                report.record(item, FAILED, "no model is loaded")
        else:
            settings = replace(self.settings, vivid=worker.usable_vivid(self.settings.vivid))
            run_jobs(items, worker.colorizer, settings, report=report, progress=job.progress,
                     on_start=on_start)
        worker.batchFinished.emit(job.id, len(report.done), len(report.skipped),
                                  len(report.failed), job.progress.cancelled)


def _forget_runs(runs: Path) -> None:
    """Remove the earlier fine-tunes' run folders (about 33 MB each): the Train tab offers
    to save only the latest run's model, and a saved one was copied out of its run."""
    import shutil

    if runs.is_dir():
        for old in runs.iterdir():
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)


@dataclass
class Scan(Request):
    """Count the usable colour photos of the Train tab's folders."""

    folders: list

    label = "scan"
    superseded = True

    def run(self, worker, job) -> None:
        from model.training.data import scan_training_photos

        worker.scanned.emit(job.id, scan_training_photos(*self.folders))


@dataclass
class FineTune(Request):
    """Fine-tune ``base`` ("": the bundled model) on the folders, then compare base and
    result on the held-out photos. ``options``: a ``model.training.train.FitOptions``."""

    folders: list
    base: str
    options: object

    label = "fine-tune"

    def run(self, worker, job) -> None:
        from model.colorizer import bundled_model_path
        from model.store.registry import user_models_dir
        from model.training.finetune import Comparison, compare_before_after
        from model.training.plan import base_came_back
        from model.training.train import LAST, fit

        try:
            base = self.base or str(bundled_model_path())
            runs = user_models_dir().parent / "runs"
            _forget_runs(runs)
            run_dir = runs / time.strftime("%Y%m%d-%H%M%S")
            result = fit(self.folders, run_dir, from_checkpoint=base, options=self.options,
                         progress=job.progress)
            (run_dir / LAST).unlink(missing_ok=True)  # the tab never resumes a run
            best = str(result.best) if result.best and Path(result.best).is_file() else ""
            comparison = compare_before_after(base, best, result.val_paths, self.options.device,
                                              examples=EXAMPLES) if best else Comparison()
            worker.trainFinished.emit(job.id, TrainOutcome(
                best, result.cancelled, result.steps, comparison.rows, comparison.examples,
                comparison.photos, comparison.summary() if best else "",
                bool(best) and base_came_back(result.best_at)))
        except Exception as exc:
            traceback.print_exc()
            worker.trainFailed.emit(job.id, str(exc))
