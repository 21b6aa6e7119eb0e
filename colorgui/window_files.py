"""The window's File side: opening photos (the Open dialog, Open Recent, drag and drop)
and saving the colorized result. ``FileActions`` is mixed into
``colorgui.main_window.MainWindow``, which owns the tabs, the settings and ``_submit``."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QFileDialog, QMessageBox

from colorgui.file_dialogs import OPEN_FILTER, dropped_paths, open_files
from colorgui.requests import Colorize, Save
from model.io.files import OUTPUT_FORMATS

BMP_UNMARKED = "BMP holds no metadata, so a BMP output does not say its colours are AI's; PNG does"

SAVE_FILTERS = {f".{fmt}": f"{label} image (" + " ".join(f"*{s}" for s in (f".{fmt}", *aliases)) + ")"
                for fmt, (label, aliases) in OUTPUT_FORMATS.items()}


def save_filter(name: str) -> str:
    """The Save As filter that matches the file name's suffix (PNG where none does)."""
    suffix = Path(name).suffix.lower()
    suffix = next((f".{fmt}" for fmt, (_, aliases) in OUTPUT_FORMATS.items()
                   if suffix in aliases), suffix)
    return SAVE_FILTERS.get(suffix, SAVE_FILTERS[".png"])


def with_filter_suffix(name: str, chosen_filter: str) -> str:
    """A name typed without a suffix colorgui writes (none, .gif, .1950) gets the chosen
    filter's after it: c.gif was written as a PNG under its GIF name."""
    written = {s for fmt, (_, aliases) in OUTPUT_FORMATS.items() for s in (f".{fmt}", *aliases)}
    if Path(name).suffix.lower() in written:
        return name
    return name + next((s for s, f in SAVE_FILTERS.items() if f == chosen_filter), ".png")


def nothing_to_open(paths: list[str]) -> str:
    """Why none of ``paths`` could be opened (a file named outright is always tried), in
    words that fit a file or a folder."""
    return "\n".join(f"The folder {p} holds no photos." if Path(p).is_dir()
                     else f"{p} is not there (moved, renamed or deleted?)." for p in paths)


class FileActions:
    """Opening and saving, as methods of the main window (a ``QMainWindow``): their
    slots are the window's, on the GUI thread."""

    # ----- Open Recent
    def _refresh_recent(self) -> None:
        """Open Recent lists the photos that are still there, and forgets the rest."""
        recent = self.settings.recent_files()
        self.settings.forget_recent([p for p in recent if not Path(p).is_file()])
        recent = self.settings.recent_files()
        self.recent_menu.clear()
        for path in recent:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.open_recent(p))
        self.recent_menu.setEnabled(bool(recent))

    def open_recent(self, path: str) -> None:
        if Path(path).is_file():
            self.open_paths([path])
            return
        self._refresh_recent()  # forgets it
        self.error(f"{Path(path).name} is no longer there",
                   f"{path} was moved, renamed or deleted, so it is gone from Open Recent.")

    # ----- opening
    def open_dialog(self) -> None:
        paths = open_files(self, self.settings, "Open photos", OPEN_FILTER)
        if paths:
            self.open_paths(paths)

    def open_paths(self, paths: list[str]) -> None:
        """Open the first photo among files/folders (dropped, picked or recent)."""
        from model.io.files import list_images  # no torch on the GUI thread

        photos = list_images(*[p for p in paths if Path(p).exists()])
        if not photos:
            self.error("Nothing to open", nothing_to_open(paths))
            return
        path = str(photos[0].absolute())
        self.tabs.setCurrentWidget(self.colorize_tab)  # from any tab: where it will show
        self.colorize_tab.show_busy(path)
        self.hint_session.flush()  # the worker looks the photo's edits up
        self._submit(Colorize(path, self.colorize_tab.vivid))
        self.settings.add_recent(path)
        self._refresh_recent()

    def dragEnterEvent(self, event):
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event):
        paths = dropped_paths(event)
        if paths:
            event.acceptProposedAction()  # (a file manager shows a refused drag otherwise)
        if paths and self.tabs.currentWidget() is self.batch_tab:
            self.batch_tab.add_paths(paths)
        elif paths:
            self.open_paths(paths)

    # ----- saving
    def _default_target(self, result) -> Path:
        from model.io.imageio import output_suffix
        from model.output import saved_name

        src = Path(result.path)
        folder = Path(self.settings.output_dir) if self.settings.output_dir else src.parent
        fmt = self.settings.output_format
        suffix = output_suffix(src.suffix) if fmt == "same" else f".{fmt}"
        return folder / saved_name(src, suffix)

    def save(self) -> None:
        result = self.colorize_tab.result
        if result is not None:
            self._save_to(self._default_target(result))

    def save_as(self) -> None:
        result = self.colorize_tab.result
        if result is None:
            return
        suggested = str(self._default_target(result))
        target, chosen = QFileDialog.getSaveFileName(self, "Save colorized photo", suggested,
                                                     ";;".join(SAVE_FILTERS.values()),
                                                     save_filter(suggested))
        if target:
            self._save_to(Path(with_filter_suffix(target, chosen)))

    def _save_to(self, target: Path) -> None:
        result = self.colorize_tab.result
        if target.resolve() == Path(result.path).resolve():
            answer = QMessageBox.warning(
                self, "Overwrite the original?",
                f"{target.name} is the original photo. Replace it with the colorized "
                "version? The black-and-white original will be lost.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel)
            if answer != QMessageBox.StandardButton.Yes:
                return
        self._submit(Save(result, str(target), self.colorize_tab.saturation,
                          self.settings.jpeg_quality, self.hint_session.edits(),
                          self.settings.provenance))

    @Slot(int, str)
    def _saved(self, job_id: int, path: str) -> None:
        unmarked = self._unmarked([path])
        self.statusBar().showMessage(f"Saved {path}" + (f" ({BMP_UNMARKED})" if unmarked else ""),
                                     15000 if unmarked else 8000)

    def _unmarked(self, targets) -> bool:
        """Whether some of these outputs should say their colours are AI's and cannot."""
        return self.settings.provenance and any(Path(t).suffix.lower() == ".bmp" for t in targets)

    @Slot(int, str, str)
    def _save_failed(self, job_id: int, path: str, reason: str) -> None:
        self.error(f"Could not save {path}", reason)
