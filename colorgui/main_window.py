"""The main window: wires the tabs, the worker, the menus and the settings together.
Opening and saving photos are ``colorgui.window_files.FileActions``, mixed in."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QObject, QTimer, Slot
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QMainWindow, QMessageBox, QTabWidget

from colorgui.batch_tab import BatchTab
from colorgui.colorize_tab import ColorizeTab
from colorgui.hints.session import HintSession
from colorgui.settings import Settings
from colorgui.train_tab import TrainTab
from colorgui.jobs import Job, Request
from colorgui.requests import Batch, Colorize, FineTune, Scan
from colorgui.window_files import BMP_UNMARKED, FileActions
from colorgui.worker import WorkerHost
from model.batch import BatchSettings
from model.store.registry import BUNDLED_NAME

PREPARING = "Preparing the model for this CPU (one time only)…"


def preferences_shortcut() -> QKeySequence:
    """The platform's Preferences key (Cmd+, on macOS); Linux and Windows have none, so
    Ctrl+, as in most applications there."""
    standard = QKeySequence.keyBindings(QKeySequence.StandardKey.Preferences)
    return standard[0] if standard else QKeySequence("Ctrl+,")


def apply_theme(app: QApplication, theme: str) -> None:
    if theme == "dark":
        import logging

        import qdarkstyle

        logging.getLogger("qdarkstyle").setLevel(logging.WARNING)  # no "QSS loaded" chatter
        app.setStyleSheet(qdarkstyle.load_stylesheet(qt_api="pyside6"))
    else:
        app.setStyleSheet("")


def app_icon() -> QIcon:
    """The application icon at every rendered size (the window, task bar and dialogs)."""
    from resources import ICON_SIZES, ICONS

    icon = QIcon()
    for size in ICON_SIZES:
        icon.addFile(str(ICONS / f"colorgui-{size}.png"))
    return icon


class _CurrentJob(QObject):
    """Passes the replies of the window's current job of one kind on to ``slot``, without
    the job id, and drops those of a superseded job (a late failure pops no dialog). It
    lives on the GUI thread, as the host's signals are emitted there."""

    def __init__(self, window: "MainWindow", kind: type[Request], slot):
        super().__init__(window)
        self.window, self.kind, self.slot = window, kind, slot

    def pass_on(self, job_id: int, *reply) -> None:
        if self.window.is_current(self.kind, job_id):
            self.slot(*reply)


class MainWindow(FileActions, QMainWindow):
    def __init__(self, settings: Settings | None = None):
        super().__init__()
        self.settings = settings or Settings()
        self.setWindowTitle("colorgui")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.resize(1280, 800)
        self.host: WorkerHost | None = None
        self.jobs: dict[type[Request], Job] = {}  # the latest job of each kind: its replies count
        self._model_desc = "loading model…"
        self._prepared = 0  # networks exported for this CPU during this load
        self._closed = False

        self.colorize_tab = ColorizeTab()
        self.batch_tab = BatchTab(self.settings)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.colorize_tab, "Colorize")
        self.train_tab = TrainTab(self.settings)
        self.tabs.addTab(self.batch_tab, "Batch")
        self.tabs.addTab(self.train_tab, "Train")
        self.setCentralWidget(self.tabs)
        self.hint_session = HintSession(self)  # the hint tool's jobs and stored edits
        self.jobs_label = QLabel("")  # what runs and what waits
        self.device_label = QLabel("")
        # a line between what runs and the model, shown while something runs
        self.jobs_separator = QFrame(frameShape=QFrame.Shape.VLine, visible=False)
        # a plain line in the theme's own mid colour: the sunken default drew nothing on
        # the dark theme
        self.jobs_separator.setStyleSheet("QFrame { border: none; border-left: 1px solid "
                                          "palette(mid); margin: 4px 2px; }")
        for widget in (self.jobs_label, self.jobs_separator, self.device_label):
            self.statusBar().addPermanentWidget(widget)

        t = self.colorize_tab
        t.openRequested.connect(self.open_dialog)
        t.saveRequested.connect(self.save)
        t.saveAsRequested.connect(self.save_as)
        t.filesDropped.connect(self.open_paths)
        t.modelChosen.connect(self.choose_model)
        t.vividChanged.connect(self._vivid_changed)
        b = self.batch_tab
        b.startRequested.connect(self.start_batch)
        b.pauseRequested.connect(self._pause_batch)
        b.cancelRequested.connect(self._cancel_batch)
        b.openRequested.connect(self._open_from_batch)
        tr = self.train_tab
        tr.scanRequested.connect(self._scan_training_folders)
        tr.startRequested.connect(self.start_fine_tune)
        tr.cancelRequested.connect(self._cancel_fine_tune)
        tr.saveRequested.connect(self.save_fine_tuned)
        self._build_menus()
        self._restore_layout()
        self._refresh_models()

    # ----- start-up: the worker (and torch) come after the window is on screen
    def start_worker(self) -> None:
        if self.host is not None or self._closed:
            return
        self.host = h = WorkerHost(self)
        self.hint_session.attach(h)  # first: it stores a photo's edits before a new result
        # the host's signals are emitted on this (the GUI) thread; a job's replies reach
        # its tab only while it is the latest job of its kind
        h.modelLoaded.connect(self._model_loaded)
        h.modelFailed.connect(self._model_failed)
        h.modelVivid.connect(self.colorize_tab.set_vivid)
        h.preparing.connect(self._preparing)
        h.notice.connect(self._notice)
        h.jobStarted.connect(self._show_jobs)
        h.jobEnded.connect(self._job_ended)
        h.saved.connect(self._saved)
        h.saveFailed.connect(self._save_failed)
        bt, tr = self.batch_tab, self.train_tab
        for signal, kind, slot in (
                (h.colorized, Colorize, self.colorize_tab.show_result),
                (h.failed, Colorize, self._colorize_failed),
                (h.batchItem, Batch, bt.set_state), (h.batchFinished, Batch, bt.finished),
                (h.scanned, Scan, tr.show_scan), (h.jobMessage, FineTune, tr.show_message),
                (h.jobProgress, FineTune, tr.show_step), (h.trainEpoch, FineTune, tr.show_epoch),
                (h.trainFinished, FineTune, tr.finished),
                (h.trainFailed, FineTune, self._train_failed)):
            signal.connect(_CurrentJob(self, kind, slot).pass_on)
        h.load(self.settings.model_path, self.settings.device)

    def _submit(self, request: Request) -> Job:
        """Start the worker if needed and queue a job that supersedes the last of its
        kind (cancelled if it has not run yet, where its kind says so; its replies are
        dropped)."""
        self.start_worker()
        previous = self.jobs.get(type(request))
        if previous is not None and request.superseded:
            previous.cancel()
        job = self.jobs[type(request)] = self.host.submit(request)
        self._show_jobs()
        return job

    def is_current(self, kind: type[Request], job_id: int) -> bool:
        job = self.jobs.get(kind)
        return job is not None and job.id == job_id

    @Slot()
    def _show_jobs(self, *_) -> None:
        self.jobs_label.setText(self.host.describe() if self.host else "")
        self.jobs_separator.setVisible(bool(self.jobs_label.text()))

    @Slot(int)
    def _job_ended(self, job_id: int) -> None:
        self._show_jobs()
        # a fine-tune prepares its new model's graph: its words go when the job does
        self._done_preparing()
        if self.is_current(FineTune, job_id) and self.train_tab.running:
            self.train_tab.failed("cancelled before it started")  # skipped while queued

    @Slot(str)
    def _notice(self, text: str) -> None:
        self.statusBar().showMessage(text, 15000)

    def showEvent(self, event):
        super().showEvent(event)
        QTimer.singleShot(0, self.start_worker)

    # ----- menus
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._add_action(file_menu, "&Open…", self.open_dialog, QKeySequence.StandardKey.Open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.save_actions = (
            self._add_action(file_menu, "&Save", self.save, QKeySequence.StandardKey.Save),
            self._add_action(file_menu, "Save &As…", self.save_as,
                             QKeySequence.StandardKey.SaveAs))
        for action in self.save_actions:  # nothing to save until a photo is shown
            action.setEnabled(False)
            self.colorize_tab.resultShown.connect(lambda _, a=action: a.setEnabled(True))
        file_menu.addSeparator()
        self._add_action(file_menu, "Add &Reference Photo…", self.hint_session.memory.add_dialog,
                         QKeySequence("Ctrl+R"))
        file_menu.addSeparator()
        self._add_action(file_menu, "&Preferences…", self.preferences, preferences_shortcut())
        file_menu.addSeparator()
        self._add_action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.colorize_tab.hint_tool.fill_edit_menu(self.menuBar().addMenu("&Edit"))
        view_menu = self.menuBar().addMenu("&View")
        self.dark_action = self._add_action(view_menu, "&Dark theme", self._toggle_theme)
        self.dark_action.setCheckable(True)
        self.dark_action.setChecked(self.settings.theme == "dark")
        help_menu = self.menuBar().addMenu("&Help")
        self._add_action(help_menu, "&About colorgui", self.about)
        self._refresh_recent()

    def _add_action(self, menu, text, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _refresh_models(self) -> None:
        from model.store.registry import list_models

        self.colorize_tab.set_models(list_models(), self.settings.model_path)
        self.train_tab.set_base(self.colorize_tab.model_box.currentText())

    def preferences(self) -> None:
        from colorgui.settings_dialog import SettingsDialog

        cuda = self.host is not None and self.host.worker.cuda_available
        dialog = SettingsDialog(self.settings, cuda, self)
        if dialog.exec():
            device_changed = dialog.apply()
            apply_theme(QApplication.instance(), self.settings.theme)
            self.dark_action.setChecked(self.settings.theme == "dark")
            if device_changed and self.host is not None:
                self.host.load(self.settings.model_path, self.settings.device)

    def _toggle_theme(self, checked: bool) -> None:
        self.settings.theme = "dark" if checked else "light"
        apply_theme(QApplication.instance(), self.settings.theme)

    # ----- colorizing again (opening and saving: FileActions)
    @Slot(float)
    def _vivid_changed(self, vivid: float) -> None:
        """The Vivid slider came to rest: colorize the photo again with the new value."""
        result = self.colorize_tab.result
        if result is not None:
            self.colorize_tab.show_busy(result.path)
            self._submit(Colorize(result.path, vivid, self.hint_session.edits()))

    def _colorize_failed(self, path: str, reason: str) -> None:
        self.settings.forget_recent([path])  # (it was listed as it was asked for)
        self._refresh_recent()
        self.colorize_tab.show_error(f"Could not colorize {Path(path).name}: {reason}")
        self.error(f"Could not colorize {path}", reason)

    # ----- batch
    def start_batch(self, rows: list, overwrite: bool) -> None:
        self.settings.batch_output_dir = self.batch_tab.output_edit.text().strip()
        if self._unmarked(dst for _, _, dst in rows):
            self.statusBar().showMessage(BMP_UNMARKED, 15000)
        album_memory = self.batch_tab.album_memory.isChecked()
        self.settings.batch_album_memory = album_memory
        self._submit(Batch(rows, BatchSettings(
            saturation=None, vivid=self.colorize_tab.vivid, quality=self.settings.jpeg_quality,
            overwrite=overwrite, provenance=self.settings.provenance,
            album_memory=album_memory)))

    def _pause_batch(self, paused: bool) -> None:
        if Batch in self.jobs:
            self.jobs[Batch].pause(paused)
            self._show_jobs()

    def _cancel_batch(self) -> None:
        if Batch in self.jobs:
            self.jobs[Batch].cancel()
            self._show_jobs()  # a paused batch wakes to stop

    def _open_from_batch(self, path: str) -> None:
        self.open_paths([path])  # which brings the Colorize tab forward

    # ----- fine-tuning
    def _scan_training_folders(self, folders: list) -> None:
        self._submit(Scan(folders))

    def start_fine_tune(self, folders: list) -> None:
        self._submit(FineTune(folders, self.settings.model_path,
                              self.train_tab.options(self.settings.device)))

    def _cancel_fine_tune(self) -> None:
        if FineTune in self.jobs:
            self.jobs[FineTune].cancel()

    def _train_failed(self, reason: str) -> None:
        self.train_tab.failed(reason)
        self.error("Fine-tuning failed", reason)

    def save_fine_tuned(self, checkpoint: str, name: str) -> None:
        from model.training.finetune import install_model
        from model.store.registry import safe_model_filename, user_models_dir

        try:
            target = user_models_dir() / safe_model_filename(name)
            replace = target.exists()
            if replace and QMessageBox.question(
                    self, "Replace model?", f"A model called {target.stem} exists. Replace it?"
            ) != QMessageBox.StandardButton.Yes:
                return
            target = install_model(checkpoint, name, replace=replace)
        except (OSError, ValueError) as exc:
            self.error(f"Could not save the model {name!r}", str(exc))
            return
        self._refresh_models()
        self.statusBar().showMessage(f"Saved model {target.stem}: pick it in the Colorize tab", 8000)

    # ----- models
    def choose_model(self, path: str) -> None:
        self.settings.model_path = path
        self.train_tab.set_base(self.colorize_tab.model_box.currentText())
        self._model_desc = "loading model…"
        self._update_status()
        self.host.load(path, self.settings.device)
        result = self.colorize_tab.result
        if result is not None:
            # at the new model's own Vivid, with the hints if it takes them
            self._submit(Colorize(result.path, None, self.hint_session.edits()))

    @Slot(str, str, float)
    def _preparing(self, name: str, stage: str, seconds: float) -> None:
        """A network is being exported for this CPU: the first use's long wait."""
        if stage == "done":
            self._prepared += 1
        ready = f"{self._prepared} network{'s' if self._prepared != 1 else ''} ready"
        now = f"now {name}" if stage == "start" else f"{name} took {seconds:.1f} s"
        self.statusBar().showMessage(f"{PREPARING} {ready}, {now}")

    def _done_preparing(self) -> None:
        if self.statusBar().currentMessage().startswith(PREPARING):
            self.statusBar().clearMessage()
        self._prepared = 0

    @Slot(str, str, str)
    def _model_loaded(self, path: str, description: str, device: str) -> None:
        self._done_preparing()
        self._model_desc = description
        box = self.colorize_tab.model_box
        for i in range(box.count()):  # the picker shows the model in use (also after a fallback)
            if Path(box.itemData(i)).resolve() == Path(path).resolve():
                box.setCurrentIndex(i)
                # in the picker's words, not the weights' file name
                name = box.itemText(i).replace(f"{BUNDLED_NAME}: ", "bundled ")
                self._model_desc = f"{name} on {description.rpartition(' on ')[2]}"
        self._update_status()

    @Slot(str, str)
    def _model_failed(self, path: str, reason: str) -> None:
        self._done_preparing()
        self.error(f"Could not load the model {path or '(bundled)'}", reason)
        if path:  # fall back to the bundled model
            self.settings.model_path = ""
            self.host.load("", self.settings.device)

    def _update_status(self) -> None:
        self.device_label.setText(f"Model: {self._model_desc}")

    # ----- the rest
    def error(self, title: str, reason: str) -> None:
        QMessageBox.critical(self, "colorgui", f"{title}\n\n{reason}")

    def about(self) -> None:
        from colorgui.about_dialog import AboutDialog

        AboutDialog(self.settings.model_path, self._model_desc, self).exec()

    def _restore_layout(self) -> None:
        geometry = self.settings.q.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        self.tabs.setCurrentIndex(self.settings._get("window/tab", 0, int))
        self.colorize_tab.mode.setCurrentIndex(self.settings._get("window/view_mode", 0, int))

    def closeEvent(self, event):
        if self.host is not None and self.host.busy():
            answer = QMessageBox.question(
                self, "Work in progress", "colorgui is still working. Stop and quit?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.settings.q.setValue("window/geometry", self.saveGeometry())
        self.settings.q.setValue("window/tab", self.tabs.currentIndex())
        self.settings.q.setValue("window/view_mode", self.colorize_tab.mode.currentIndex())
        self.settings.sync()
        self.hint_session.flush()
        self._closed = True
        if self.host is not None:
            self.host.shutdown()
        event.accept()
