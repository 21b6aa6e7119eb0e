"""Colorize many files into an output folder, continuing past bad ones.

Shared by the CLI and the desktop app's batch queue; no Qt and no torch here (the
colorizer comes in as an argument), so the app can plan a batch on its GUI thread.
A photo's colour hints come from its job's hint file or else the sidecar beside it
(``<stem>.hints.json``); an output made with hints gets a copy of them beside it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .files import list_images, remove_stale_temporaries
from .imageio import ImageReadError, output_suffix, read_photo
from .output import write_colorized, write_edits_beside
from .progress import Progress
from .provenance import Provenance, provenance_for
from .sidecar import Edits, HintFileError, read_edits, sidecar_path

COLORIZING = "colorizing"  # the one stage of a batch


@dataclass
class Job:
    source: Path
    target: Path
    hints: Path | None = None  # its hint file; None: the sidecar beside ``source``, if any


@dataclass
class BatchReport:
    done: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{len(self.done)} colorized, {len(self.skipped)} skipped (output exists), "
                f"{len(self.failed)} failed")


def plan_jobs(inputs: Iterable[os.PathLike | str], out_dir: os.PathLike | str,
              fmt: str | None = None, keep_structure: bool = True
              ) -> tuple[list[Job], list[tuple[Path, str]]]:
    """Map inputs to outputs: a file goes to OUT/name, a folder to OUT/folder/relative path
    (or to OUT/name with ``keep_structure=False``).

    Returns the jobs and the inputs refused up front (missing, colliding, or an output
    that would overwrite an input), each with its reason. Photos under ``out_dir`` are never
    inputs, so an output folder inside an input folder is not colorized again.
    """
    out_dir = Path(out_dir)
    out_real = out_dir.resolve()
    jobs: list[Job] = []
    refused: list[tuple[Path, str]] = []
    sources: list[tuple[Path, Path]] = []
    for item in map(Path, inputs):
        if item.is_dir():
            sources += [(p, Path(item.name) / p.relative_to(item) if keep_structure else Path(p.name))
                        for p in list_images(item)
                        if not p.resolve().is_relative_to(out_real)]
        elif item.exists():
            sources.append((item, Path(item.name)))
        else:
            refused.append((item, "no such file or folder"))
    input_set = {p.resolve() for p, _ in sources}
    taken: dict[Path, Path] = {}
    for src, rel in sources:
        suffix = f".{fmt.lower().lstrip('.')}" if fmt else output_suffix(src.suffix)
        target = out_dir / rel.with_suffix(suffix)
        key = target.resolve()
        if key in input_set:
            refused.append((src, f"its output {target} would overwrite an input photo"))
        elif key in taken:
            refused.append((src, f"its output {target} would collide with that of {taken[key]}"))
        else:
            taken[key] = src
            jobs.append(Job(src, target))
    return jobs, refused


def run_jobs(jobs: list[Job], colorizer, *, saturation: float = 1.0, overwrite: bool = False,
             quality: int = 95, on_item: Callable[[Job, str, str | None], None] | None = None,
             should_stop: Callable[[], bool] | None = None, progress: Progress | None = None,
             on_start: Callable[[Job], None] | None = None,
             provenance: bool = True) -> BatchReport:
    """Colorize each job; a failure is recorded with its reason and the batch goes on.

    ``on_item(job, state, reason)`` is called with state ``done``, ``skipped`` or
    ``failed``; ``on_start(job)`` before a photo is begun. The batch stops before the
    next photo once ``should_stop()`` or ``progress.should_stop()`` is true (the latter
    also waits while paused), and reports each photo to ``progress``. Outputs are written
    atomically, marked as AI colour unless ``provenance`` is false; inputs are never
    written.
    """
    report = BatchReport()
    record = provenance_for(colorizer, saturation) if provenance else None
    remove_stale_temporaries([job.target for job in jobs])  # of a run that was killed
    for i, job in enumerate(jobs):
        if (should_stop and should_stop()) or (progress and progress.should_stop()):
            break
        if on_start:
            on_start(job)
        if job.target.exists() and not overwrite:
            report.skipped.append(job.source)
            state, reason = "skipped", None
        else:
            reason = colorize_one(job, colorizer, saturation, quality, record)
            state = "done" if reason is None else "failed"
            if reason is None:
                report.done.append(job.source)
            else:
                report.failed.append((job.source, reason))
        if progress:
            progress.advance(COLORIZING, i + 1, len(jobs))
        if on_item:
            on_item(job, state, reason)
    return report


def _hint_file(job: Job) -> Path | None:
    if job.hints is not None:
        return job.hints
    side = sidecar_path(job.source)
    return side if side.is_file() else None


def colorize_one(job: Job, colorizer, saturation: float, quality: int,
                  provenance: Provenance | None) -> str | None:
    """Read, colorize and write one photo; None, or why it failed, naming the step that
    failed (a ValueError from the network is no write error). One bad photo must never
    stop the batch, so every exception becomes a reason."""
    hint_file = _hint_file(job)
    try:
        edits = read_edits(hint_file) if hint_file else None
    except HintFileError as exc:
        return str(exc)
    hints = edits.hints if edits else []
    if hints and not getattr(colorizer, "takes_hints", False):
        return (f"{hint_file}: this model takes no colour hints ({len(hints)} given; the "
                f"spatial model takes them)")
    try:
        photo = read_photo(job.source)
    except ImageReadError as exc:
        return exc.reason
    except Exception as exc:  # MemoryError on a huge photo…
        return f"could not read: {_described(exc)}"
    try:
        pred = colorizer.predict(photo.rgb, hints or None)
    except Exception as exc:
        return f"could not colorize: {_described(exc)}"
    size = photo.size
    photo.rgb = None  # not needed to write: 144 MB less at the writer's peak on 12 MP
    return _write(job, photo, size, pred, saturation, quality,
                  provenance and provenance.for_photo(len(hints)), edits, hint_file)


def _write(job: Job, photo, size: tuple[int, int], pred, saturation: float, quality: int,
           provenance: Provenance | None, edits: Edits | None, hint_file: Path | None
           ) -> str | None:
    try:
        write_colorized(job.target, pred.L, pred.ab, saturation, alpha=photo.alpha,
                        bit_depth=photo.bit_depth, exif=photo.exif, icc=photo.icc,
                        quality=quality, provenance=provenance)
        if edits is not None:
            write_edits_beside(job.target, job.source, edits, size, hint_file)
    except (OSError, ValueError) as exc:
        return f"could not write {job.target}: {exc}"
    except Exception as exc:
        return f"could not write {job.target}: {_described(exc)}"
    return None


def _described(exc: Exception) -> str:
    return f"{exc.__class__.__name__}: {exc}"
