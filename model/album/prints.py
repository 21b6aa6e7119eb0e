"""A scanned page's prints written to files: ``split_page`` reads the page, finds its
prints (or takes the rectangles a user settled on), cuts each out straight, restores it
if asked, and writes it as ``<page stem>_<nn><suffix>`` with the page's EXIF and ICC
profile, at the page's bit depth, atomically. The page itself is only ever read.

A PNG or TIFF page gives PNG or TIFF prints (lossless; a print that needs no turn has
the page's very pixels, gray for a gray page); a JPEG page JPEG prints unless another
format is asked for.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from model.album.cut import cut_print
from model.album.pages import EMPTY, PRINTS, PageAnalysis, PrintRect, find_prints
from model.album.restore import RestoreOptions, restore_print
from model.io.imageio import ImageReadError, output_suffix, read_photo, write_photo
from model.io.provenance import maybe_an_original

# what became of a print's file: written; there and skipped (no --overwrite); there
# beside its page without colorgui's mark, so kept even with --overwrite
WRITTEN, SKIPPED, KEPT = "written", "skipped", "kept"


@dataclass(frozen=True)
class SplitOptions:
    suffix: str | None = None          # ".png"...; None: the page's own
    quality: int = 95                  # JPEG/WebP
    overwrite: bool = False            # False: a print whose file exists is skipped;
    # True: replaced, unless it sits beside the page and may be the user's (``KEPT``)
    restore: RestoreOptions = RestoreOptions()
    keep: frozenset[Path] = frozenset()  # files never written (resolved): the run's pages


@dataclass
class PrintFile:
    index: int                 # 1, 2... in reading order
    path: Path
    rect: PrintRect
    state: str                 # WRITTEN, SKIPPED or KEPT (its file was there)
    notes: list[str] = field(default_factory=list)  # what restoring did


@dataclass
class PageSplit:
    """What became of one page: its prints' files, or why there are none."""

    page: Path
    analysis: PageAnalysis | None = None
    prints: list[PrintFile] = field(default_factory=list)
    error: str | None = None   # the page could not be read or a print not written

    @property
    def message(self) -> str:
        if self.error:
            return self.error
        return self.analysis.message if self.analysis else ""


def print_path(target: Path, index: int, suffix: str) -> Path:
    """``target``'s folder and stem (a page's output path), numbered: scan_01.png."""
    return target.with_name(f"{target.stem}_{index:02d}{suffix}")


# why a KEPT print's file is kept (its line names the file)
KEPT_BESIDE_THE_PAGE = ("it sits beside the page and holds no colorgui mark, so it may be "
                        "another original (delete it, or choose another output folder)")


def split_page(page: os.PathLike | str, target: os.PathLike | str,
               options: SplitOptions = SplitOptions(),
               rects: list[PrintRect] | None = None,
               stopped: Callable[[], bool] = lambda: False) -> PageSplit:
    """Cut ``page``'s prints into files named after ``target`` (module notes). ``rects``:
    the prints' rectangles in the page's pixels, as a user settled them; None: found
    here. ``stopped()`` is asked before each print (a cancel): the prints not yet cut are
    left out. Never raises for a bad page or a failed write: the result says why."""
    page, target = Path(page), Path(target)
    result = PageSplit(page)
    try:
        photo = read_photo(page)
    except ImageReadError as exc:
        result.error = exc.reason
        return result
    except MemoryError:
        result.error = "not enough memory to read the page"
        return result
    h, w = photo.rgb.shape[:2]
    try:
        analysis = find_prints(photo.rgb) if rects is None else \
            PageAnalysis(w, h, list(rects), PRINTS if rects else EMPTY)
    except Exception as exc:  # a fault of ours on one page must not end the batch
        result.error = f"could not find its prints ({exc.__class__.__name__}: {exc})"
        return result
    result.analysis = analysis
    suffix = options.suffix or output_suffix(page.suffix)
    source = page.resolve()
    for index, rect in enumerate(analysis.prints, 1):
        if stopped():
            break
        path = print_path(target, index, suffix)
        if path.resolve() == source or path.resolve() in options.keep:
            what = "the page itself" if path.resolve() == source else "another page"
            result.error = f"print {index} would be written over {what} ({path})"
            return result
        if path.exists() and not options.overwrite:
            result.prints.append(PrintFile(index, path, rect, SKIPPED))
            continue
        if path.exists() and maybe_an_original(path, page):
            result.prints.append(PrintFile(index, path, rect, KEPT))
            continue
        rgb = cut_print(photo.rgb, rect)
        alpha = cut_print(photo.alpha, rect) if photo.alpha is not None else None
        notes: list[str] = []
        if options.restore.any:
            rgb, notes = restore_print(rgb, options.restore)
        try:
            write_photo(path, np.ascontiguousarray(rgb), alpha=alpha, bit_depth=photo.bit_depth,
                        gray=photo.one_channel, exif=photo.exif, icc=photo.icc,
                        quality=options.quality)
        except OSError as exc:  # its text names the hidden temporary file, not the print
            result.error = f"could not write {path}: {exc.strerror or exc}"
            return result
        except ValueError as exc:
            result.error = f"could not write {path}: {exc}"
            return result
        result.prints.append(PrintFile(index, path, rect, WRITTEN, notes))
    return result
