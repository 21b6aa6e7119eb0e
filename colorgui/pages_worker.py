"""The album pages' own worker: finding a page's prints, previewing a print restored, and
cutting the prints a user settled on into files. It lives on a thread of its own (the
review dialog owns it), takes requests by queued signals and answers with plain data by
signals, which arrive on the GUI thread in the dialog's slots. It never touches a widget.

Page analysis takes about a second a page on a CPU (docs/album-pages.md), too long for
the GUI thread; it needs no model, so it does not wait behind the colorizing worker.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot
from shiboken6 import isValid

log = logging.getLogger(__name__)

# the page shown in the review dialog: this many pixels on its long side at most
PREVIEW_SIDE = 1600


@dataclass
class PageReview:
    """A page as the review dialog shows it (plain data, made on the worker thread)."""

    path: str
    width: int = 0
    height: int = 0
    preview: np.ndarray | None = None   # uint8 RGB, long side at most PREVIEW_SIDE
    rects: list = field(default_factory=list)   # model.album.rect.PrintRect, page pixels
    verdict: str = ""
    message: str = ""
    error: str | None = None

    @property
    def scale(self) -> float:
        """Preview pixels per page pixel."""
        return self.preview.shape[1] / self.width if self.preview is not None and self.width else 1.0


@dataclass
class CutPrint:
    path: str          # the print's file, ready to colorize
    page: str          # the page it came from
    index: int


def prints_folder(page: str) -> Path:
    """Where a page's cut prints go: the user cache (they can be cut again), one folder
    per page (its path and size), so that two pages of the same name never meet."""
    from model.io.places import cache_root

    p = Path(page)
    try:
        stamp = f"{p.resolve()}|{p.stat().st_size}|{p.stat().st_mtime_ns}"
    except OSError:
        stamp = str(p)
    digest = hashlib.sha1(stamp.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return cache_root() / "album-prints" / f"{p.stem}-{digest}"


class PageWorker(QObject):
    """Runs on its own thread (``PageThread``); its slots are called by queued signals."""

    analysed = Signal(int, object)         # page index, PageReview
    previewed = Signal(int, object, str)   # request id, before|after image (float RGB), notes
    cutProgress = Signal(int, int)         # pages cut, pages in all
    cutDone = Signal(object, list)         # [CutPrint], [(page, reason)]

    def __init__(self):
        super().__init__()
        self._cancel = threading.Event()
        self._cache: dict[str, np.ndarray] = {}  # the last page read, for previews

    def cancel(self) -> None:  # called from the GUI thread: a plain flag
        self._cancel.set()

    def _read(self, path: str) -> np.ndarray:
        from model.io.imageio import read_photo

        if path not in self._cache:
            self._cache.clear()  # one page at a time: a 600 dpi page is 400 MB
            self._cache[path] = read_photo(path).rgb
        return self._cache[path]

    @Slot(int, str)
    def analyse(self, index: int, path: str) -> None:
        from model.album.pages import find_prints
        from model.io.imageio import ImageReadError

        review = PageReview(path)
        if self._cancel.is_set():
            return
        try:
            rgb = self._read(path)
            analysis = find_prints(rgb)
        except ImageReadError as exc:
            review.error = exc.reason
        except MemoryError:
            review.error = "not enough memory to read the page"
        else:
            h, w = rgb.shape[:2]
            scale = min(1.0, PREVIEW_SIDE / max(h, w))
            small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                               interpolation=cv2.INTER_AREA)
            review.width, review.height = w, h
            review.preview = np.clip(np.rint(small * 255), 0, 255).astype(np.uint8)
            review.rects, review.verdict = list(analysis.prints), analysis.verdict
            review.message = analysis.message
        self.analysed.emit(index, review)

    @Slot(int, str, object, bool, bool)
    def preview(self, request: int, path: str, rect, tone: bool, dust: bool) -> None:
        """A print cut from its page, before and after restoring, side by side."""
        from model.album.cut import cut_print
        from model.album.restore import RestoreOptions, restore_print
        from model.album.tone import before_after
        from model.io.imageio import ImageReadError

        try:
            cut = cut_print(self._read(path), rect)
        except (ImageReadError, MemoryError) as exc:
            self.previewed.emit(request, None, str(exc))
            return
        # restored at preview size: what the eye sees of it, in a fraction of the time
        scale = min(1.0, 900 / max(cut.shape[:2]))
        if scale < 1.0:
            cut = cv2.resize(cut, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        restored, notes = restore_print(cut, RestoreOptions(tone=tone, dust=dust))
        self.previewed.emit(request, before_after(cut, restored), "; ".join(notes))

    @Slot(object, bool, bool)
    def cut(self, pages: list, tone: bool, dust: bool) -> None:
        """Cut each (page, rects) into lossless PNG prints (the page's bit depth, EXIF
        and ICC kept), restored as asked, in the page's ``prints_folder``."""
        from model.album.prints import SplitOptions, split_page
        from model.album.restore import RestoreOptions
        from model.memory.album import note_page

        options = SplitOptions(suffix=".png", overwrite=True,
                               restore=RestoreOptions(tone=tone, dust=dust))
        self._cache.clear()
        done, failed = [], []
        for n, (page, rects) in enumerate(pages):
            if self._cancel.is_set():
                break
            folder = prints_folder(page)
            try:
                result = split_page(page, folder / Path(page).name, options, rects,
                                    stopped=self._cancel.is_set)
            except Exception as exc:  # MemoryError restoring a print: the dialog waits on
                # cutDone, with its page locked
                failed.append((page, f"could not cut its prints ({exc.__class__.__name__}: "
                                     f"{exc})"))
                self.cutProgress.emit(n + 1, len(pages))
                continue
            done += [CutPrint(str(p.path), page, p.index) for p in result.prints]
            if result.error:
                failed.append((page, result.error))
            elif result.prints:  # their album is the page's (its folder's memory)
                try:
                    note_page(folder, page)
                except OSError as exc:
                    log.warning("the prints of %s will not share its album: %s", page, exc)
            self.cutProgress.emit(n + 1, len(pages))
        # cancelled: the prints cut so far stay in the cache (whole files, where the next
        # cut of the page writes again), and the dialog queues none of them
        self.cutDone.emit(done, failed)


class PageThread(QObject):
    """The worker and its thread: started on creation, stopped by ``stop``."""

    analyseRequested = Signal(int, str)
    previewRequested = Signal(int, str, object, bool, bool)
    cutRequested = Signal(object, bool, bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName("album pages")
        self.worker = PageWorker()
        self.worker.moveToThread(self.thread)
        self.analyseRequested.connect(self.worker.analyse)
        self.previewRequested.connect(self.worker.preview)
        self.cutRequested.connect(self.worker.cut)
        self.thread.start()
        if parent is not None:  # its owner destroyed without ``stop`` (a window closed)
            thread, worker = self.thread, self.worker
            parent.destroyed.connect(lambda *_: _stopped(thread, worker))

    def stop(self) -> None:
        _stopped(self.thread, self.worker)


# a print being restored when its dialog closed: the thread ends after it, unseen
_FINISHING: set = set()
STOP_WAIT_MS = 2000


def _stopped(thread: QThread, worker: PageWorker) -> None:
    """Ask the worker to stop and end the thread's loop; wait for the print in hand for
    at most ``STOP_WAIT_MS`` (cleaning a 600 dpi print's dust takes up to 100 s, too long
    to freeze the window for), then let the thread finish on its own, kept until it has."""
    pair = (thread, worker)
    if pair in _FINISHING or not (isValid(thread) and thread.isRunning()):
        return  # stopped already (a dialog closed, then destroyed)
    # kept before it is told to stop: it may end between a wait's time-out and this
    _FINISHING.add(pair)
    thread.finished.connect(lambda: _FINISHING.discard(pair))  # a set, no widget
    worker.cancel()
    thread.quit()
    if thread.wait(STOP_WAIT_MS):
        _FINISHING.discard(pair)


def wait_for_finishing() -> None:
    """At the app's end: the threads still finishing a print (a QThread destroyed while
    it runs aborts the process)."""
    for thread, _ in list(_FINISHING):
        if isValid(thread):
            thread.wait()
