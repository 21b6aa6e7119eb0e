"""File dialogs that open in the folder the user last picked from (remembered in the
settings), not in the folder colorgui happened to be started from; and the files of a
drag and drop."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from colorgui.settings import Settings
from model.io.files import IMAGE_SUFFIXES

# what File ▸ Open and the Batch tab's Add offer: every suffix colorgui reads
OPEN_FILTER = ("Images (" + " ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES)) + ");;All files (*)")


def dropped_paths(event) -> list[str]:
    """The local files and folders of a drag-and-drop event (remote URLs are left out)."""
    return [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]


class FileDropTarget:
    """Mixed into a widget with a ``filesDropped`` signal (``Signal(list)``): files and
    folders dragged onto it are accepted and emitted as local paths."""

    def dragEnterEvent(self, event):
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragMoveEvent(self, event):
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event):
        paths = dropped_paths(event)
        if paths:
            self.filesDropped.emit(paths)
            event.acceptProposedAction()


def start_folder(settings: Settings) -> str:
    """The last folder used, while it exists; else the home folder."""
    folder = settings.last_folder
    return folder if folder and Path(folder).is_dir() else str(Path.home())


def open_files(parent: QWidget, settings: Settings, caption: str, filters: str) -> list[str]:
    paths, _ = QFileDialog.getOpenFileNames(parent, caption, start_folder(settings), filters)
    if paths:
        settings.last_folder = str(Path(paths[0]).parent)
    return paths


def existing_folder(parent: QWidget, settings: Settings, caption: str) -> str:
    """A folder the user picked ("" if none); its parent is remembered, so the next
    dialog opens beside it."""
    folder = QFileDialog.getExistingDirectory(parent, caption, start_folder(settings))
    if folder:
        settings.last_folder = str(Path(folder).parent)
    return folder
