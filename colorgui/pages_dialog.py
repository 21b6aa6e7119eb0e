"""The review of album pages before their prints are queued: each page with the
rectangles found over it, to be moved, turned, added or removed; whether to restore the
prints' tone or clean their dust, with the selected print shown before and after; then
the prints cut (off the GUI thread) and handed to the Batch tab.

The page work runs on the dialog's own ``pages_worker.PageThread``; its answers come by
signal to the dialog's slots, on the GUI thread. ``printsReady(prints)`` gives the cut
prints (``pages_worker.CutPrint``) once they are written.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QHBoxLayout, QLabel,
                               QListWidget, QListWidgetItem, QProgressBar, QPushButton,
                               QSplitter, QVBoxLayout, QWidget)

from colorgui.pages_view import PageView
from colorgui.pages_worker import PageReview, PageThread
from colorgui.qt_images import to_qimage


EDITING = ("Drag a rectangle to move it, a corner to resize it, the round handle to turn "
           "it; Delete removes it.")
NO_PRINT = "Select a print to see it before and after restoring."


class FittedPicture(QLabel):
    """A picture that keeps fitting the label as it is resized (a pixmap scaled once was
    cut off when the dialog was made smaller), or a line of text."""

    def __init__(self, text: str):
        super().__init__(text)
        self._picture: QPixmap | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)

    def set_picture(self, pixmap: QPixmap) -> None:
        self._picture = pixmap
        self._fit()

    def clear_picture(self, text: str) -> None:
        self._picture = None
        self.clear()
        self.setText(text)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self._picture is not None:
            self.setPixmap(self._picture.scaled(self.contentsRect().size(),
                                                Qt.AspectRatioMode.KeepAspectRatio,
                                                Qt.TransformationMode.SmoothTransformation))


class PagesDialog(QDialog):
    printsReady = Signal(list)   # [CutPrint]
    failedPages = Signal(list)   # [(page, reason)]
    pageReviewed = Signal(int)   # a page's prints were found (on the GUI thread)
    previewShown = Signal()      # the selected print's before and after is shown

    def __init__(self, pages: list[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Album pages: check the prints found")
        # 1280×860 at most, within the screen: a 1366×768 laptop (or a desktop at twice
        # the scale) lost the tools and the Queue and Cancel buttons below its edge
        screen = (parent.screen() if parent is not None else QGuiApplication.primaryScreen())
        room = screen.availableGeometry() if screen is not None else None
        self.resize(min(1280, int(0.95 * room.width())) if room else 1280,
                    min(860, int(0.9 * room.height())) if room else 860)
        self.pages = list(pages)
        self.reviews: dict[int, PageReview] = {}
        self.edited: dict[int, list] = {}   # page index -> rectangles as the user left them
        self.current = -1   # the page selected in the list
        self.shown = -1     # the page whose rectangles the view holds
        self._preview_request = 0
        self.cutting = False
        self.closed = False  # Cancel (or the cut's end) closed it

        self.page_list = QListWidget()
        self.page_list.setWordWrap(True)  # a page's name and what was found on it, whole
        self.page_list.setSpacing(3)      # pages of two lines each, told apart
        self.page_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for path in self.pages:
            item = QListWidgetItem(f"{Path(path).name}\nfinding the prints…")
            item.setToolTip(path)
            self.page_list.addItem(item)
        self.page_list.currentRowChanged.connect(self.show_page)

        self.view = PageView()
        self.view.rectsChanged.connect(self._rects_changed)
        self.view.selectionMoved.connect(self._schedule_preview)
        self.view.selectionMoved.connect(self._update_tools)
        self.page_note = QLabel("")
        self.page_note.setWordWrap(True)

        self.add_button = QPushButton("Add print")
        self.remove_button = QPushButton("Remove")
        self.left_button = QPushButton("Turn ⟲ 0.5°")
        self.right_button = QPushButton("Turn ⟳ 0.5°")
        self.redo_button = QPushButton("Find again")
        self.add_button.clicked.connect(lambda: self.view.add_rect())
        self.remove_button.clicked.connect(self.view.remove_selected)
        self.left_button.clicked.connect(lambda: self.view.turn_selected(-0.5))
        self.right_button.clicked.connect(lambda: self.view.turn_selected(0.5))
        self.redo_button.clicked.connect(self._find_again)
        self.tone_box = QCheckBox("Restore faded tone")
        self.tone_box.setToolTip("Stretch a faded print's levels and remove a sepia or "
                                 "yellow cast, before colouring")
        self.dust_box = QCheckBox("Clean dust and scratches")
        self.dust_box.setToolTip("Fill in small specks and thin scratches from around them")
        self.tone_box.toggled.connect(self._schedule_preview)
        self.dust_box.toggled.connect(self._schedule_preview)
        self.before_after = FittedPicture(NO_PRINT)
        self.before_after.setMinimumSize(160, 100)
        self.restore_note = QLabel("")
        self.restore_note.setWordWrap(True)

        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.buttons = QDialogButtonBox()
        self.queue_button = self.buttons.addButton("Queue prints",
                                                   QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.queue)
        self.buttons.rejected.connect(self.reject)

        tools = QVBoxLayout()
        for w in (self.add_button, self.remove_button, self.left_button, self.right_button,
                  self.redo_button):
            tools.addWidget(w)
        tools.addSpacing(12)
        tools.addWidget(self.tone_box)
        tools.addWidget(self.dust_box)
        tools.addWidget(QLabel("Before | after:"))
        tools.addWidget(self.before_after, 1)
        tools.addWidget(self.restore_note)
        side = QWidget()
        side.setLayout(tools)
        middle = QWidget()
        centre = QVBoxLayout(middle)
        centre.setContentsMargins(0, 0, 0, 0)
        centre.addWidget(self.view, 1)
        centre.addWidget(self.page_note)
        split = QSplitter()
        split.addWidget(self.page_list)
        split.addWidget(middle)
        split.addWidget(side)
        split.setSizes([200, 760, 320])
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.progress, 1)
        bottom.addWidget(self.buttons)
        layout.addLayout(bottom)

        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(250)
        self._preview_timer.timeout.connect(self._request_preview)
        self.pages_thread = PageThread(self)
        worker = self.pages_thread.worker
        worker.analysed.connect(self.analysed)
        worker.previewed.connect(self.previewed)
        worker.cutProgress.connect(self.cut_progress)
        worker.cutDone.connect(self.cut_done)
        for index, path in enumerate(self.pages):
            self.pages_thread.analyseRequested.emit(index, path)
        self._update_buttons()

    # ----- answers from the worker (GUI thread)
    @Slot(int, object)
    def analysed(self, index: int, review: PageReview) -> None:
        self.reviews[index] = review
        item = self.page_list.item(index)
        name = Path(review.path).name
        if review.error:
            item.setText(f"{name}\nfailed: {review.error}")
            item.setForeground(Qt.GlobalColor.red)
        else:
            item.setText(f"{name}\n{review.message}")
        if self.current < 0:
            self.page_list.setCurrentRow(index)
        elif index == self.current:
            self.show_page(index)
        self._update_buttons()
        self.pageReviewed.emit(index)

    @Slot(int, object, str)
    def previewed(self, request: int, image, notes: str) -> None:
        if request != self._preview_request or image is None:
            return
        self.before_after.set_picture(QPixmap.fromImage(to_qimage(image)))
        self.restore_note.setText(notes)
        self.previewShown.emit()

    @Slot(int, int)
    def cut_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    @Slot(object, list)
    def cut_done(self, prints: list, failed: list) -> None:
        self.cutting = False
        if self.closed:
            return  # cancelled while cutting: the user wants none of them queued
        # the pages that give no print, said after the queue is planned: its count
        # replaces the queue's label
        failed = failed + [(self.pages[i], review.error or (
            "its prints were all removed in the review" if review.rects else review.message))
            for i, review in sorted(self.reviews.items()) if not self.rects_of(i)]
        self.printsReady.emit(prints)
        if failed:
            self.failedPages.emit(failed)
        self.accept()

    # ----- the user's edits
    def show_page(self, index: int) -> None:
        if index < 0:
            return
        if self.shown >= 0 and self.shown != index:  # keep the page being left as edited
            self.edited[self.shown] = self.view.rects()
        self.current = index
        review = self.reviews.get(index)
        if review is None:
            self.shown = -1
            self.view.show_page(None)
            self.page_note.setText("Finding the prints…")
            return
        self.shown = index
        shown = PageReview(**{**review.__dict__, "rects": self.edited.get(index, review.rects)})
        self.view.show_page(shown)
        found = review.message[:1].upper() + review.message[1:]
        self.page_note.setText(review.error and f"Cannot be read: {review.error}" or
                               f"{found}. {EDITING}")
        self._update_tools()
        self._schedule_preview()

    def _find_again(self) -> None:
        if self.shown >= 0:
            self.edited.pop(self.shown, None)
            self.shown = -1
            self.show_page(self.current)

    def _rects_changed(self) -> None:
        if self.shown >= 0:
            self.edited[self.shown] = self.view.rects()
            self._update_count()
        self._schedule_preview()

    def _schedule_preview(self, *_) -> None:
        self._preview_timer.start()

    def _request_preview(self) -> None:
        item = self.view.selected()
        review = self.reviews.get(self.current)
        self._preview_request += 1  # a preview still on its way is for another print
        if item is None or review is None or review.error:
            # none selected (another page, say): not the last print's before and after
            self.before_after.clear_picture(NO_PRINT)
            self.restore_note.setText("")
            return
        self.pages_thread.previewRequested.emit(self._preview_request, review.path,
                                                self.view.rect_of(item),
                                                self.tone_box.isChecked(),
                                                self.dust_box.isChecked())

    def _update_count(self) -> None:
        self.queue_button.setText(f"Queue {self.print_count()} prints")

    def print_count(self) -> int:
        return sum(len(self.rects_of(i)) for i in self.reviews)

    def rects_of(self, index: int) -> list:
        review = self.reviews[index]
        if review.error:
            return []
        if index == self.shown:
            return self.view.rects()
        return self.edited.get(index, review.rects)

    def _update_buttons(self) -> None:
        ready = len(self.reviews) == len(self.pages) and not self.cutting
        self.queue_button.setEnabled(ready and self.print_count() > 0)
        self._update_count()

    def _update_tools(self) -> None:
        """Remove and turn want a print selected; while the prints are cut nothing may
        change (a print removed then was cut all the same)."""
        editable = not self.cutting
        chosen = editable and self.view.selected() is not None
        for widget in (self.view, self.page_list, self.add_button, self.redo_button,
                       self.tone_box, self.dust_box):
            widget.setEnabled(editable)
        for widget in (self.remove_button, self.left_button, self.right_button):
            widget.setEnabled(chosen)

    def queue(self) -> None:
        """Cut every page's prints, as they stand now, off the GUI thread."""
        pages = [(self.pages[i], self.rects_of(i)) for i in sorted(self.reviews)
                 if self.rects_of(i)]
        if not pages or self.cutting:
            return
        self.cutting = True
        self.queue_button.setEnabled(False)
        self._update_tools()
        self.progress.setVisible(True)
        self.progress.setRange(0, len(pages))
        self.progress.setValue(0)  # a bar at -1 shows no words: "0 of N" from the start
        self.progress.setFormat("Cutting the prints: %v of %m pages done")
        self.pages_thread.cutRequested.emit(pages, self.tone_box.isChecked(),
                                            self.dust_box.isChecked())

    def done(self, result: int) -> None:
        self.closed = True
        self.pages_thread.stop()
        super().done(result)
