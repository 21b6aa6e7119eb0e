"""Colorize many files into an output folder, continuing past bad ones.

Shared by the CLI and the desktop app's batch queue; no Qt and no torch here (the
colorizer comes in as an argument), so the app can plan a batch on its GUI thread.
A photo's colour hints come from its job's hint file or else the sidecar beside it
(``<stem>.hints.json``); an output made with hints gets a copy of them beside it.

Colour memory (``model.memory``): ``BatchSettings.references`` lend their colours to every
photo, and with ``album_memory`` each album (an input folder, or a photo's own folder)
keeps its colours consistent: the user's hints in its photos' sidecars are remembered in
the album's memory file, which is written before the first photo, and carried to the
album's other photos with its reference photos.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

from model import color
from model.hints import REFERENCE
from model.io.files import LINK_LOOP, is_link_loop, list_images, remove_stale_temporaries
from model.io.imageio import ImageReadError, output_suffix, read_photo
from model.output import write_colorized, write_edits_beside
from model.progress import Progress
from model.io.provenance import Provenance, edits_model, maybe_an_original, provenance_for
from model.io.sidecar import Edits, HintFileError, read_edits, sidecar_path
from model.memory.album import AlbumError, AlbumMemory, album_of, open_memory, write_memory
from model.memory.recall import Recall, replace_auto
from model.memory.reference import DEFAULT_STRENGTH

log = logging.getLogger(__name__)
COLORIZING = "colorizing"  # the one stage of a batch
DONE, SKIPPED, FAILED = "done", "skipped", "failed"  # what became of a photo
RUNNING = "running"  # begun, not yet done (the app shows it)


@dataclass
class BatchItem:
    """One photo of a batch: where it comes from and where its colour goes."""

    source: Path
    target: Path
    hints: Path | None = None  # its hint file; None: the sidecar beside ``source``, if any
    album: Path | None = None  # the album it belongs to (its input folder); None: album_of
    # the app's stored edits of this photo (what its Colorize tab showed): its hints,
    # saturation and vivid; None: its hint file's hints, and the batch's settings
    edits: Edits | None = None
    # the user's photo that ``source`` was made from (a restored copy in a temporary
    # folder): what the album remembers and the edits beside the output name; None: source
    original: Path | None = None
    # False: ``source`` is a print cut from a page for this run and kept nowhere, so the
    # edits beside its output name no photo (a temporary file's name and hash would)
    kept: bool = True

    @property
    def album_folder(self) -> Path:
        return self.album if self.album is not None else album_of(self.photo)

    @property
    def photo(self) -> Path:
        """The user's own photo this item colorizes."""
        return self.original if self.original is not None else self.source


@dataclass
class BatchReport:
    """What became of each photo of a batch: the one place that counts them, for the
    CLI, the app and the Ray cluster alike. ``on_item(item, state, reason)`` hears of
    each photo as it is recorded, and ``progress`` advances by one photo of ``total``."""

    done: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    on_item: Callable[[BatchItem, str, str | None], None] | None = field(
        default=None, repr=False, compare=False)
    progress: Progress | None = field(default=None, repr=False, compare=False)
    total: int = 0

    @property
    def recorded(self) -> int:
        return len(self.done) + len(self.skipped) + len(self.failed)

    def record(self, item: BatchItem, state: str, reason: str | None = None) -> None:
        if state == DONE:
            self.done.append(item.source)
        elif state == SKIPPED:
            self.skipped.append(item.source)
        elif state == FAILED:
            self.failed.append((item.source, reason or "failed"))
        else:
            raise ValueError(f"unknown batch state {state!r}")
        if self.progress:
            self.progress.advance(COLORIZING, self.recorded, max(self.total, self.recorded))
        if self.on_item:
            self.on_item(item, state, reason)

    def summary(self) -> str:
        return (f"{len(self.done)} colorized, {len(self.skipped)} skipped (output exists), "
                f"{len(self.failed)} failed")


@dataclass(frozen=True)
class BatchSettings:
    """How every photo of a batch is colorized and written."""

    saturation: float | None = None  # None: each photo's own (its edits'), else 1.0
    vivid: float | None = None   # None: each photo's own (its edits'), else the model's
    quality: int = 95            # JPEG/WebP
    overwrite: bool = False      # False: a photo whose output exists is skipped
    provenance: bool = True      # mark outputs as AI colour (model.io.provenance)
    references: tuple[str, ...] = ()  # colour photos that lend their colours to every photo
    reference_strength: float = DEFAULT_STRENGTH  # how far they weigh against the model, 0..1
    album_memory: bool = False   # keep colours consistent across each album (model.memory)


def plan_jobs(inputs: Iterable[os.PathLike | str], out_dir: os.PathLike | str | None,
              fmt: str | None = None, keep_structure: bool = True, numbered: bool = False
              ) -> tuple[list[BatchItem], list[tuple[Path, str]]]:
    """Map inputs to outputs: a file goes to OUT/name, a folder to OUT/folder/relative path
    (or to OUT/name with ``keep_structure=False``). ``numbered``: the outputs are a page's
    prints, named from the target with a number (``model.album.prints.print_path``), so a
    target named as its input is no clash (each print is checked as it is written).

    Returns the jobs and the inputs refused up front (missing, colliding, or an output
    that would overwrite an input), each with its reason. A folder's photos under the
    folder its outputs go to are not inputs, so an output folder inside an input folder is
    not colorized again (an input folder inside the output folder is colorized whole); nor
    are the colour copies the app saved beside its photos.

    ``out_dir`` None: no output folder is chosen yet (the app's empty Save to). The photos
    are listed with targets relative to the folder to come, and only outputs that collide
    with each other are refused: what would overwrite an input depends on the folder.
    """
    out_dir = Path(out_dir) if out_dir is not None else None
    out_real = out_dir.resolve() if out_dir is not None else None
    jobs: list[BatchItem] = []
    refused: list[tuple[Path, str]] = []
    sources: list[tuple[Path, Path, Path]] = []
    for item in map(Path, inputs):
        if item.is_dir():
            # its own name ("." and ".." have none: out/.. is no folder of the output's)
            name = item.resolve().name
            # where this folder's outputs go: its earlier outputs there are not inputs
            home = None if out_real is None else (out_real / name if keep_structure else out_real)
            found = list_images(item)
            loops = [p for p in found if is_link_loop(p)]  # failed, named: the rest is done
            refused += [(p, LINK_LOOP) for p in loops]
            found = [p for p in found if p not in loops]
            stems = {(p.parent, p.stem) for p in found}
            kept = [p for p in found
                    if not (home is not None and p.resolve().is_relative_to(home))
                    and not _saved_beside(p, stems)]
            if home is not None and found and not kept:
                refused.append((item, f"its outputs would go into the folder itself ({home}): "
                                      "choose another output folder"))
            sources += [(p, Path(name) / p.relative_to(item) if keep_structure
                         else Path(p.name), item) for p in kept]
        elif item.exists():
            sources.append((item, Path(item.name), item.parent))
        else:
            refused.append((item, LINK_LOOP if is_link_loop(item) else "no such file or folder"))
    input_set = {p.resolve() for p, _, _ in sources}
    taken: dict[Path, Path] = {}
    seen: set[Path] = set()
    for src, rel, album in sources:
        if src.resolve() in seen:  # given twice (a.jpg ./a.jpg, or a folder and its photo)
            continue
        seen.add(src.resolve())
        suffix = f".{fmt.lower().lstrip('.')}" if fmt else output_suffix(src.suffix)
        target = (rel if out_dir is None else out_dir / rel).with_suffix(suffix)
        key = target if out_dir is None else target.resolve()  # relative: no input is it
        if key in input_set and not numbered:
            refused.append((src, f"its output {target} would overwrite an input photo"))
        elif key in taken and numbered:  # prints: a_01.png on, not a.png
            shown = target.with_name(f"{target.stem}_NN{target.suffix}")
            refused.append((src, f"its prints {shown} would collide with those of "
                                 f"{taken[key]}"))
        elif key in taken:
            refused.append((src, f"its output {target} would collide with that of {taken[key]}"))
        else:
            taken[key] = src
            jobs.append(BatchItem(src, target, album=album))
    return jobs, refused


def run_jobs(items: list[BatchItem], colorizer, settings: BatchSettings = BatchSettings(), *,
             report: BatchReport | None = None, progress: Progress | None = None,
             on_start: Callable[[BatchItem], None] | None = None) -> BatchReport:
    """Colorize each photo; a failure is recorded with its reason and the batch goes on.

    Each photo is recorded in ``report`` (by default a new one that reports to
    ``progress``) as done, skipped or failed; ``on_start(item)`` is called before a photo
    is begun. The batch stops before the next photo once ``progress.should_stop()`` (which
    also waits while paused). Outputs are written atomically; inputs are never written.
    """
    if report is None:
        report = BatchReport(progress=progress, total=len(items))
    record = provenance_for(colorizer, settings.saturation) if settings.provenance else None
    unmarked = [item.target.name for item in items if item.target.suffix.lower() == ".bmp"]
    if record is not None and unmarked:  # said before, not found out afterwards
        log.warning("BMP holds no metadata, so %d output%s will not say that %s colours are "
                    "AI's (%s%s): choose PNG to keep the marking", len(unmarked),
                    "s" if len(unmarked) > 1 else "", "their" if len(unmarked) > 1 else "its",
                    ", ".join(unmarked[:3]), "…" if len(unmarked) > 3 else "")
    remove_stale_temporaries([item.target for item in items])  # of a run that was killed
    memory = BatchMemory.of(items, colorizer, settings)
    if progress:
        progress.advance(COLORIZING, report.recorded, max(report.total, report.recorded))
    for item in items:
        if progress and progress.should_stop():
            break
        if on_start:
            on_start(item)
        report.record(item, *process(item, colorizer, settings, record, memory))
    return report


@dataclass
class BatchMemory:
    """A batch's colour memory: its ``Recall`` (references and remembered photos, each
    analysed once) and each album's memory, filled from its photos' sidecars."""

    recall: Recall
    albums: dict[Path, AlbumMemory] = field(default_factory=dict)
    told: set[str] = field(default_factory=set)  # problems said once, not once a photo

    @classmethod
    def of(cls, items: list[BatchItem], colorizer, settings: BatchSettings
           ) -> "BatchMemory | None":
        """None where the batch uses no colour memory."""
        if not settings.references and not settings.album_memory:
            return None
        memory = cls(Recall(colorizer, settings.reference_strength))
        if settings.album_memory:
            memory.albums = remember_albums(items, settings.references)
        return memory


def remember_albums(items: list[BatchItem], references=()) -> dict[Path, AlbumMemory]:
    """Each album's memory, with the user's hints of its photos in this batch (the app's
    stored edits, their hint files or sidecars) and the batch's ``references`` remembered,
    written beside the album before any photo is colorized.
    An unreadable memory file is kept aside and a new one begins (said in the log); an
    album whose memory cannot be written is colorized without it."""
    from model.io.sidecar import content_hash

    albums: dict[Path, AlbumMemory] = {}
    changed: set[Path] = set()
    for item in items:
        folder = item.album_folder
        if folder not in albums:
            try:
                albums[folder], notice = open_memory(folder)
            except AlbumError as exc:
                log.warning("album memory not used: %s", exc)
                albums[folder] = None
                continue
            if notice:
                log.warning("%s", notice)
            if not albums[folder].path.exists():
                changed.add(folder)
            for ref in references:
                if albums[folder].add_reference(Path(ref).absolute()):
                    changed.add(folder)
        memory = albums[folder]
        if memory is None:
            continue
        try:
            edits, _ = _edits(item)
        except HintFileError:
            continue  # the photo fails with the reason when its turn comes
        if edits is None:
            continue
        hints = edits.hints
        if memory.remember(item.photo, hints, content_hash(item.photo) if hints else ""):
            changed.add(folder)
    for folder in changed:
        try:
            write_memory(albums[folder])
        except OSError as exc:
            log.warning("album memory of %s not written: %s", folder, exc)
    return {k: v for k, v in albums.items() if v is not None}


def _saved_beside(path: Path, stems: set[tuple[Path, str]]) -> bool:
    """Whether ``path`` is the app's Save of a photo beside it (``<stem>_colorized``, with
    colorgui's mark; ``stems``: the (folder, stem) of each photo found): a folder's photos
    are colorized, not their colour copies again (and the album memory would learn their
    hints)."""
    from model.io.imageio import ImageReadError
    from model.io.provenance import read_provenance
    from model.output import SAVED

    if not path.stem.endswith(SAVED):
        return False
    if (path.parent, path.stem[: -len(SAVED)]) not in stems:
        return False
    try:
        return read_provenance(path) is not None
    except ImageReadError:
        return False


def process(item: BatchItem, colorizer, settings: BatchSettings,
            provenance: Provenance | None, memory: BatchMemory | None = None
            ) -> tuple[str, str | None]:
    """One photo of a batch, here or on a cluster's worker: (state, reason)."""
    if item.target.is_dir():  # no output that exists: nothing can be written there
        return FAILED, f"{item.target} is a folder, so the output cannot be written there"
    if item.target.exists():
        if not settings.overwrite:
            return SKIPPED, None
        if maybe_an_original(item.target, item.photo):
            return FAILED, kept_original(item.target)
    reason = colorize_one(item, colorizer, settings, provenance, memory)
    return (DONE, None) if reason is None else (FAILED, reason)


def kept_original(target: Path) -> str:
    return (f"{target} is kept: it sits beside the originals and holds no colorgui mark, "
            f"so it may be another original (delete it, or choose another output folder "
            f"or format; outputs without the mark, BMP or --no-provenance ones, are never "
            f"replaced beside the originals)")


def _say_if_made_for_another(job: BatchItem, edits: Edits) -> None:
    """A hint file given (``--hints``) that names another photo is used (its hints sit
    where they sit relative to the photo), and the user is told so."""
    if edits.photo_name and edits.photo_name != job.photo.name:
        log.warning("%s was made for %s, not %s: its hints are placed where they sit "
                    "relative to the photo", job.hints, edits.photo_name, job.photo.name)


def _hint_file(job: BatchItem) -> Path | None:
    if job.hints is not None:
        return job.hints
    side = sidecar_path(job.source)
    return side if side.is_file() else None


def _edits(job: BatchItem) -> tuple[Edits | None, Path | None]:
    """The photo's edits (the app's stored ones, else its hint file's) and the hint file
    they came from. Raises HintFileError for a hint file that cannot be used."""
    if job.edits is not None:
        return job.edits, None
    hint_file = _hint_file(job)
    return (read_edits(hint_file) if hint_file else None), hint_file


def colorize_one(job: BatchItem, colorizer, settings: BatchSettings,
                 provenance: Provenance | None, memory: BatchMemory | None = None) -> str | None:
    """Read, colorize and write one photo; None, or why it failed, naming the step that
    failed (a ValueError from the network is no write error). One bad photo must never
    stop the batch, so every exception becomes a reason."""
    try:
        edits, hint_file = _edits(job)
    except HintFileError as exc:
        return str(exc)
    hints = edits.hints if edits else []
    if hints and job.hints is not None:
        _say_if_made_for_another(job, edits)
    if hints and not getattr(colorizer, "takes_hints", False):
        return (f"{hint_file or job.source}: this model takes no colour hints ({len(hints)} "
                f"given; the spatial model takes them)")
    saturation, vivid = _own_settings(job, edits, settings, colorizer)
    try:
        photo = read_photo(job.source)
    except ImageReadError as exc:
        return exc.reason
    except Exception as exc:  # MemoryError on a huge photo…
        return f"could not read: {_described(exc)}"
    if not photo.is_gray and color.has_own_colours(photo.rgb):
        # by name: a print cut from a page lies in a temporary folder under its own name
        log.warning("%s is in colour already: its colours are replaced by the model's, "
                    "from its lightness", job.photo.name)
    recalled = None
    # a photo with the app's edits is written as the app showed it: its matched and
    # carried hints and its saturation are among those edits already
    if memory is not None and job.edits is None and getattr(colorizer, "takes_hints", False):
        try:
            recalled = _recalled(job, photo, hints, memory, settings, edits)
        except Exception as exc:
            return f"could not match its reference photos or album: {_described(exc)}"
        if recalled.hints or any(h.origin in recalled.kinds for h in hints):
            hints = replace_auto(hints, recalled)
            edits = replace(edits or Edits(), hints=hints)
            if REFERENCE in recalled.kinds:  # else the edits' matched hints and their list stay
                edits = replace(edits, references=list(settings.references),
                                reference_strength=settings.reference_strength
                                if settings.references else None)
    try:
        pred = colorizer.predict(photo.rgb, hints or None, vivid)
    except Exception as exc:
        return f"could not colorize: {_described(exc)}"
    if recalled is not None:
        # a reference more colourful than the photo (of its own scene, or far bolder at its
        # matches): as colourful as it says, never paler than the user's own saturation
        # (the edits' own where a reference raised theirs, unless the command sets one),
        # which it goes back to where none raises it now
        own = saturation
        if edits is not None and edits.saturation_own is not None \
                and settings.saturation is None:
            own = edits.saturation_own
        wanted = recalled.saturation(pred.L, pred.ab)  # 1: no raise (as the app's slider)
        saturation = max(own, wanted) if wanted > 1.0 else own
        if edits is not None:
            edits = replace(edits, saturation_own=own if saturation > own else None)
    if edits is not None:  # what made the output, so that it and the original make it again
        edits = replace(edits, saturation=saturation, vivid=vivid,
                        model=edits_model(getattr(colorizer, "checkpoint", None)))
    size = photo.size
    photo.rgb = None  # not needed to write: 144 MB less at the writer's peak on 12 MP
    return _write(job, photo, size, pred, saturation, settings.quality,
                  provenance and provenance.for_photo(len(hints), saturation, vivid), edits,
                  hint_file)


def _own_settings(job: BatchItem, edits: Edits | None, settings: BatchSettings, colorizer
                  ) -> tuple[float, float | None]:
    """The photo's saturation and vivid. The app's stored edits (``job.edits``) are what
    its Colorize tab showed, so they come first. A hint file's come after the command's
    --saturation and --vivid, where given, so that the original and the file beside an
    output make that output again. Otherwise 100% and the model's own vivid."""
    own = getattr(colorizer, "has_vivid", False) and edits is not None \
        and edits.vivid is not None
    if job.edits is not None:
        return job.edits.saturation, edits.vivid if own else settings.vivid
    saturation = settings.saturation
    if saturation is None:
        saturation = edits.saturation if edits is not None else 1.0
    vivid = settings.vivid if settings.vivid is not None or not own else edits.vivid
    return saturation, vivid


def _recalled(job: BatchItem, photo, hints, memory: BatchMemory, settings: BatchSettings,
              edits: Edits | None):
    """What the batch's colour memory brings to one photo, less the matched hints its
    edits say the user deleted; a reference that cannot be used (the photo itself,
    unreadable…) is said once in the log, naming the file, and the photos are colorized
    without it."""
    from model.io.sidecar import content_hash

    album = memory.albums.get(job.album_folder)
    sha = content_hash(job.photo) if settings.references or album else ""
    dropped = frozenset(edits.reference_dropped) if edits is not None else frozenset()
    recalled = memory.recall.recall(job.photo, color.luminance(photo.rgb), hints,
                                    settings.references, album, sha, dropped=dropped)
    for problem in recalled.problems:
        if problem not in memory.told:
            memory.told.add(problem)
            log.warning("reference not used: %s", problem)
    return recalled


def _write(job: BatchItem, photo, size: tuple[int, int], pred, saturation: float, quality: int,
           provenance: Provenance | None, edits: Edits | None, hint_file: Path | None
           ) -> str | None:
    replaced = job.target.exists()  # (with --overwrite)
    source = job.photo if job.kept else None
    try:
        write_colorized(job.target, pred.L, pred.ab, saturation, alpha=photo.alpha,
                        bit_depth=photo.bit_depth, exif=photo.exif, icc=photo.icc,
                        xmp=photo.xmp, quality=quality, provenance=provenance)
        beside = sidecar_path(job.target)
        if edits is not None and beside.exists() \
                and not _earlier_edits_of(beside, source, replaced):
            log.warning("%s was already there and is kept: the edits that made %s are not "
                        "written beside it", beside, job.target)
        elif edits is not None:
            write_edits_beside(job.target, source, edits, size, hint_file)
    except OSError as exc:  # by its reason: the file it names is the temporary one
        return f"could not write {job.target}: {exc.strerror or exc}"
    except ValueError as exc:
        return f"could not write {job.target}: {exc}"
    except Exception as exc:
        return f"could not write {job.target}: {_described(exc)}"
    return None


def _earlier_edits_of(path: Path, photo: Path | None, replaced: bool) -> bool:
    """Whether the hint file ``path`` holds the edits of an earlier output of ``photo``
    (they name its content; ``photo`` None, a print kept nowhere: they name none, and
    lie beside the output ``replaced``), which its new output's edits replace; any other
    file there (the user's notes, another photo's hints) is kept, --overwrite or not."""
    from model.io.sidecar import content_hash

    if photo is None and not replaced:
        return False
    try:
        earlier = read_edits(path).photo_sha256
        return earlier == (content_hash(photo) if photo is not None else None)
    except (HintFileError, OSError):
        return False


def _described(exc: Exception) -> str:
    return f"{exc.__class__.__name__}: {exc}"
