"""The Batch tab: a queue of photos and folders colorized into an output folder. With
"These are album pages", what is added goes first through the review of its pages
(``colorgui.pages_dialog``), and the prints cut from them join the queue."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QProgressBar,
                               QMessageBox, QPushButton, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from colorgui.file_dialogs import OPEN_FILTER, dropped_paths, existing_folder, open_files
from model.progress import format_seconds, plural
from colorgui.settings import Settings
from model.io.files import OUTPUT_FORMATS, distinct_names

STATE_COLOURS = {"done": "#5cb85c", "failed": "#d9534f", "skipped": "#999999",
                 "running": "#5bc0de", "waiting": None, "cancelled": "#f0ad4e"}


class BatchTab(QWidget):
    """Emits ``startRequested(jobs, overwrite)`` with (row, source, target) jobs; the
    window forwards it to the worker and feeds states back through ``set_state``."""

    startRequested = Signal(list, bool)
    pauseRequested = Signal(bool)
    cancelRequested = Signal()
    openRequested = Signal(str)

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.inputs: list[str] = []      # files and folders, as the user added them
        self.print_pages: dict[str, str] = {}  # a cut print's file -> the page it is from
        self.pages_dialog = None
        self.excluded: set[str] = set()  # photos removed from inside a queued folder
        self.running = False
        self.paused = False
        self._running_row: int | None = None  # the row last colorized, while a batch runs
        self._started_at = 0.0
        self._paused_at = 0.0
        self._paused_for = 0.0  # seconds paused in this batch, left out of its pace
        self._finished = 0
        self._progress = ""  # what the progress label says, "Paused." aside

        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Photo", "State", "Output / reason"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.cellDoubleClicked.connect(self._double_clicked)
        self.table.setAcceptDrops(True)
        self.setAcceptDrops(True)

        self.add_files_button = QPushButton("Add photos…")
        self.add_folder_button = QPushButton("Add folder…")
        self.remove_button = QPushButton("Remove")
        self.clear_button = QPushButton("Clear")
        self.add_files_button.clicked.connect(self._add_files_dialog)
        self.add_folder_button.clicked.connect(self._add_folder_dialog)
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button.clicked.connect(self.clear)

        self.output_edit = QLineEdit(settings.batch_output_dir)  # not Preferences' folder
        self.output_edit.setPlaceholderText("Folder for the colorized photos")
        self.browse_button = browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_output)
        self.skip_existing = QCheckBox("Skip photos already done")
        self.skip_existing.setChecked(settings.batch_skip_existing)
        self.keep_structure = QCheckBox("Keep folder structure")
        self.keep_structure.setChecked(settings.batch_keep_structure)
        self.album_pages = QCheckBox("These are album pages")
        self.album_pages.setToolTip("Photos and folders added from now on are scanned album "
                                    "pages: their prints are found, shown for you to check, "
                                    "cut out straight and queued one by one")
        self.album_memory = QCheckBox("Keep colours consistent across each album")
        self.album_memory.setToolTip(
            "Each folder is an album: the colour hints you gave any of its photos, and its "
            "reference photos, are remembered in the folder's colorgui-album.json and "
            "carried to its other photos wherever the same thing is seen")
        self.album_memory.setChecked(settings.batch_album_memory)
        self.format_box = QComboBox()
        self.format_box.addItem("Same as input", "same")
        for value, (label, _) in OUTPUT_FORMATS.items():
            self.format_box.addItem(label, value)
        self.format_box.setCurrentIndex(max(0, self.format_box.findData(settings.batch_format)))
        # the queue shows where each photo will go: planned again as these change
        self.skip_existing.toggled.connect(self._options_changed)
        self.keep_structure.toggled.connect(self._options_changed)
        self.format_box.currentIndexChanged.connect(self._options_changed)
        self.output_edit.editingFinished.connect(self._options_changed)

        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.cancel_button = QPushButton("Cancel")
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.progress = QProgressBar()
        self.progress_label = QLabel("Add photos or folders to the queue.")

        top = QHBoxLayout()
        for w in (self.add_files_button, self.add_folder_button, self.remove_button,
                  self.clear_button):
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(self.album_pages)
        out = QHBoxLayout()
        out.addWidget(QLabel("Save to:"))
        out.addWidget(self.output_edit, 1)
        out.addWidget(browse)
        out.addWidget(QLabel("Format:"))
        out.addWidget(self.format_box)
        options = QHBoxLayout()
        for box in (self.skip_existing, self.keep_structure, self.album_memory):
            options.addWidget(box)
        options.addStretch(1)
        run = QHBoxLayout()
        run.addWidget(self.start_button)
        run.addWidget(self.pause_button)
        run.addWidget(self.cancel_button)
        run.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(out)
        layout.addLayout(options)
        layout.addLayout(run)
        layout.addWidget(self.progress_label)
        self._update_buttons()

    # ----- the queue
    def add_paths(self, paths: list[str]) -> None:
        if self.running:  # (a drop on the window while it runs): the rows are the run's
            self.progress_label.setText("Wait for the batch to end to add photos.")
            return
        if self.album_pages.isChecked():
            self.review_pages(paths)
            return
        from model.io.imageio import is_photo_file

        # a folder holds only its photos (list_images); a file is named outright, so one
        # that no decoder knows is said here rather than failed at its turn
        left_out = [p for p in paths if Path(p).is_file() and not is_photo_file(p)]
        for p in paths:
            if p not in self.inputs and p not in left_out and Path(p).exists():
                self.inputs.append(p)
        self.refresh_plan()
        if left_out:
            self.progress_label.setText(
                f"{self.progress_label.text()} Left out, not a photo: "
                f"{', '.join(Path(p).name for p in left_out)}.")

    # ----- album pages
    def review_pages(self, paths: list[str]) -> None:
        """Open the review of the pages these files and folders hold; its prints join the
        queue when the user queues them."""
        from colorgui.pages_dialog import PagesDialog
        from model.io.files import list_images

        pages = [str(p) for p in list_images(*[p for p in paths if Path(p).exists()])]
        if not pages:
            self.progress_label.setText("No pages found in what was added.")
            return
        self.pages_dialog = PagesDialog(pages, self)
        self.pages_dialog.printsReady.connect(self.add_prints)
        self.pages_dialog.failedPages.connect(self.show_failed_pages)
        self.pages_dialog.finished.connect(self._pages_dialog_closed)
        self.pages_dialog.open()

    @Slot(list)
    def add_prints(self, prints: list) -> None:
        """Queue prints cut from album pages (``pages_worker.CutPrint``)."""
        for cut in prints:
            self.print_pages[cut.path] = cut.page
            if cut.path not in self.inputs:
                self.inputs.append(cut.path)
        self.refresh_plan()

    @Slot(list)
    def show_failed_pages(self, failed: list) -> None:
        """The album pages that gave no print, after the queue's count."""
        self.progress_label.setText(" ".join([self.progress_label.text()] + [
            f"{Path(page).name}: {reason}." for page, reason in failed]))

    @Slot(int)
    def _pages_dialog_closed(self, _result: int) -> None:
        self.pages_dialog = None

    def remove_selected(self) -> None:
        for row in {i.row() for i in self.table.selectedIndexes()}:
            source = self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)
            if source in self.inputs:
                self.inputs.remove(source)
            else:  # a photo found inside a queued folder
                self.excluded.add(source)
        self.refresh_plan()

    def clear(self) -> None:
        self.inputs, self.excluded, self.print_pages = [], set(), {}
        self.refresh_plan()

    def _options_changed(self) -> None:
        """Kept for the next start, and the queue planned again (not while it runs)."""
        s = self.settings
        s.batch_output_dir = self.output_edit.text().strip()  # kept before a start too
        s.batch_format = self.format_box.currentData()
        s.batch_keep_structure = self.keep_structure.isChecked()
        s.batch_skip_existing = self.skip_existing.isChecked()
        if self.inputs and not self.running:
            self.refresh_plan()

    def output_format(self) -> str | None:
        value = self.format_box.currentData()
        return None if value == "same" else value

    def plan(self):
        from model.batch import plan_jobs

        # no folder yet: planned without one (Start asks for it), never the folder the app
        # was started in
        out = self.save_to()
        jobs, refused = plan_jobs(self.inputs, out, self.output_format(),
                                  self.keep_structure.isChecked())
        if self.output_format() is None:  # a print cut from a page: in the page's format
            from model.io.imageio import output_suffix

            for job in jobs:
                page = self.print_pages.get(str(job.source))
                if page is not None:
                    job.target = job.target.with_suffix(output_suffix(Path(page).suffix))
        return [j for j in jobs if str(j.source) not in self.excluded], refused

    def refresh_plan(self) -> list:
        """List every photo the queue's files and folders hold, with its state; returns
        the jobs, in table order."""
        jobs, refused = self.plan() if self.inputs else ([], [])
        self.table.setRowCount(0)
        rows = [(j.source, "waiting", "") for j in jobs] + [(p, "failed", r) for p, r in refused]
        # a flattened folder may hold two photos of one name: each row says which it is
        names = distinct_names([source for source, _, _ in rows])
        for (source, state, detail), name in zip(rows, names):
            self._add_row(str(source), name, state, detail)
        self.progress.setValue(0)
        self.progress_label.setText(f"{plural(len(jobs), 'photo')} in the queue." if jobs else
                                    "Add photos or folders to the queue.")
        self._update_buttons()
        return jobs

    def _add_row(self, source: str, name: str, state: str, detail: str) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        item = QTableWidgetItem(name)
        item.setData(Qt.ItemDataRole.UserRole, source)
        item.setToolTip(source)
        self.table.setItem(row, 0, item)
        self.table.setItem(row, 1, QTableWidgetItem(state))
        self.table.setItem(row, 2, QTableWidgetItem(detail))
        self.set_state(row, state, detail)

    def state(self, row: int) -> str:
        return self.table.item(row, 1).text()

    def set_state(self, row: int, state: str, detail: str) -> None:
        self.table.item(row, 1).setText(state)
        colour = STATE_COLOURS.get(state)
        if colour:
            self.table.item(row, 1).setForeground(QColor(colour))
        if detail:
            self.table.item(row, 2).setText(detail)
            self.table.item(row, 2).setToolTip(detail)
        if state == "running":
            # the photo in hand stays in view down a long queue, unless the user has
            # scrolled away from the one before (to a failed row, say)
            if self._running_row is None or self._in_view(self._running_row):
                self.table.scrollToItem(self.table.item(row, 0))
            self._running_row = row
        if self.running and state in ("done", "skipped", "failed"):
            self._finished += 1
            self._show_progress(self.table.item(row, 0).text())

    def _in_view(self, row: int) -> bool:
        return self.table.viewport().rect().intersects(
            self.table.visualItemRect(self.table.item(row, 0)))

    # ----- running
    def save_to(self) -> str | None:
        """The Save to folder as typed, ``~`` expanded; None while empty."""
        text = self.output_edit.text().strip()
        return str(Path(text).expanduser()) if text else None

    def start(self) -> None:
        if not self.save_to():
            self._browse_output()
            if not self.save_to():
                return
        from model.io.files import unwritable_folder

        folder = self.save_to()
        if not Path(folder).is_absolute():
            problem = (f"{folder} is not a whole folder path: where it lies would depend on "
                       f"the folder colorgui was started from")
        else:
            problem = unwritable_folder(folder)
        if problem:  # said once, not by every photo after it was colorized
            QMessageBox.warning(self, "Cannot save there", f"{problem}. Choose another folder.")
            return
        jobs = self.refresh_plan()  # the output folder may have changed since the last plan
        if not jobs:
            return
        self.running, self.paused, self._running_row = True, False, None
        self._finished, self._total = 0, len(jobs)
        self._started_at, self._paused_for = time.monotonic(), 0.0
        self._progress = f"0 of {len(jobs)} done"
        self.progress.setRange(0, len(jobs))
        self._update_buttons()
        self.startRequested.emit([(i, str(j.source), str(j.target)) for i, j in enumerate(jobs)],
                                 not self.skip_existing.isChecked())

    def _show_progress(self, current: str) -> None:
        now = time.monotonic()
        paused = self._paused_for + (now - self._paused_at if self.paused else 0.0)
        elapsed = now - self._started_at - paused
        self.progress.setValue(self._finished)
        rate = self._finished / elapsed if elapsed > 0 else 0.0
        left = (self._total - self._finished) / rate if rate > 0 else 0.0
        self._progress = (f"{self._finished} of {self._total} — {current} — {rate:.2f} "
                          f"photos/s — about {format_seconds(left)} left")
        self._show_label()

    def _show_label(self) -> None:
        self.progress_label.setText(("Paused. " if self.paused else "") + self._progress)

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        if self.paused:
            self._paused_at = time.monotonic()
        else:
            self._paused_for += time.monotonic() - self._paused_at
        self.pause_button.setText("Resume" if self.paused else "Pause")
        self.pauseRequested.emit(self.paused)
        self._show_label()

    def finished(self, done: int, skipped: int, failed: int, cancelled: bool) -> None:
        self.running, self.paused = False, False
        self.pause_button.setText("Pause")
        left = "cancelled" if cancelled else "waiting"  # rows the batch never finished
        for row in range(self.table.rowCount()):
            if self.state(row) in ("running", "waiting"):
                self.set_state(row, left, "")
        verb = "Cancelled" if cancelled else "Finished"
        self.progress_label.setText(f"{verb}: {done} colorized, {skipped} skipped, {failed} failed.")
        self._update_buttons()

    def _update_buttons(self) -> None:
        idle = not self.running
        # what the run was planned with: a format changed mid-run was shown and saved but
        # not used
        for w in (self.add_files_button, self.add_folder_button, self.remove_button,
                  self.clear_button, self.output_edit, self.browse_button, self.format_box,
                  self.skip_existing, self.keep_structure, self.album_pages,
                  self.album_memory):
            w.setEnabled(idle)
        self.start_button.setEnabled(idle and self.table.rowCount() > 0)
        self.pause_button.setEnabled(self.running)
        self.cancel_button.setEnabled(self.running)

    def _double_clicked(self, row: int, _column: int) -> None:
        if self.state(row) == "done":
            self.openRequested.emit(self.table.item(row, 0).data(Qt.ItemDataRole.UserRole))

    # ----- dialogs and drops
    def _add_files_dialog(self) -> None:
        self.add_paths(open_files(self, self.settings, "Add photos", OPEN_FILTER))

    def _add_folder_dialog(self) -> None:
        folder = existing_folder(self, self.settings, "Add a folder of photos")
        if folder:
            self.add_paths([folder])

    def _browse_output(self) -> None:
        folder = existing_folder(self, self.settings, "Save colorized photos to")
        if folder:
            self.output_edit.setText(folder)
            self._options_changed()

    def dragEnterEvent(self, event):
        if event.mimeData().hasUrls() and not self.running:
            event.acceptProposedAction()

    def dropEvent(self, event):
        self.add_paths(dropped_paths(event))
        event.acceptProposedAction()
