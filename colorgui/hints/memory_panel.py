"""The colour memory's panel, under the hint panel: the photo's reference photos (a drop
target for colour photos), their strength, the album's memory, and "where should I
click?". It only emits what the user asks and shows what it is given
(``colorgui.hints.memory_session`` does the rest)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QSlider, QVBoxLayout, QWidget)

from colorgui.file_dialogs import FileDropTarget
from colorgui.hints.panel import PANEL_WIDTH, _heading
from model.memory.reference import REFERENCE_TEST

STRENGTH_DELAY_MS = 300  # the strength slider matches again once it rests
DROP_TEXT = "Drop colour photos here to lend their colours"


class DropButton(FileDropTarget, QPushButton):
    """A button that photos can also be dropped on (Reference…)."""

    filesDropped = Signal(list)

    def __init__(self, text: str, parent: QWidget | None = None):
        super().__init__(text, parent)
        self.setAcceptDrops(True)


class ReferenceList(FileDropTarget, QListWidget):
    """The reference photos by name (the full path as a tooltip); colour photos dropped
    on it are added."""

    filesDropped = Signal(list)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setDragDropMode(QListWidget.DragDropMode.DropOnly)
        self.setMaximumHeight(84)
        self.setToolTip(DROP_TEXT)

    def paintEvent(self, event):
        super().paintEvent(event)
        if self.count() == 0:  # say what it is for while empty
            from PySide6.QtGui import QPainter

            painter = QPainter(self.viewport())
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.viewport().rect().adjusted(4, 4, -4, -4),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, DROP_TEXT)


class MemoryPanel(QWidget):
    addRequested = Signal()
    filesDropped = Signal(list)          # paths dropped on the list
    removeRequested = Signal(str)        # a reference's path
    strengthChanged = Signal(float)      # 0..1, once the slider rests
    albumToggled = Signal(bool)
    forgetRequested = Signal()           # the selected carried hint, from the memory everywhere
    placesToggled = Signal(bool)         # "where should I click?"
    doubtToggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFixedWidth(PANEL_WIDTH)
        self.setObjectName("memoryPanel")
        self.references = ReferenceList()
        self.references.filesDropped.connect(self.filesDropped)
        self.references.currentRowChanged.connect(self._update_buttons)
        self.add_button = DropButton("Reference…")
        self.add_button.setToolTip("Colour photos of the same people or places (or drop them "
                                   "here): their colours become hints (squares) where they match")
        self.add_button.clicked.connect(self.addRequested)
        self.add_button.filesDropped.connect(self.filesDropped)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self._remove)
        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(0, 100)
        self.strength.setValue(100)
        self.strength.setToolTip(
            "How much the reference photos weigh against the model. A reference that shows "
            "little of this photo (another day's photo of the same people, in another light) "
            f"weighs at most {REFERENCE_TEST.trust_max:.0%} of it; one of the photo's own "
            "scene weighs all of it.")
        self.strength_label = QLabel("100%")
        self.strength.valueChanged.connect(self._strength_moved)
        self._strength_timer = QTimer(self, singleShot=True, interval=STRENGTH_DELAY_MS)
        self._strength_timer.timeout.connect(self._strength_rested)
        self.album = QCheckBox("Keep colours consistent\nacross this album (folder)")
        self.album.setToolTip("Your hints on any photo of this folder are remembered and "
                              "carried (diamonds) to its other photos where the same thing "
                              "matches; kept in colorgui-album.json beside the photos")
        self.album.toggled.connect(self.albumToggled)
        self.forget_button = QPushButton("Forget everywhere")
        self.forget_button.setToolTip("Remove the selected carried hint from the album's "
                                      "memory, for every photo (Delete drops it here only)")
        self.forget_button.clicked.connect(self.forgetRequested)
        self.places = QCheckBox("Where should I click?")
        self.places.setToolTip("Show the places where a hint would change the photo most")
        self.places.toggled.connect(self._places_toggled)
        self.doubt = QCheckBox("Show the model's doubt")
        self.doubt.toggled.connect(self.doubtToggled)

        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        strength = QHBoxLayout()
        strength.addWidget(QLabel("Strength:"))
        strength.addWidget(self.strength, 1)
        strength.addWidget(self.strength_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(_heading("Reference photos"))
        layout.addWidget(self.references)
        layout.addLayout(buttons)
        layout.addLayout(strength)
        layout.addSpacing(6)
        layout.addWidget(_heading("Album"))
        layout.addWidget(self.album)
        layout.addWidget(self.forget_button)
        layout.addSpacing(6)
        layout.addWidget(self.places)
        layout.addWidget(self.doubt)
        self.set_forget_enabled(False)
        self.doubt.setEnabled(False)
        self._update_buttons()

    # ----- what it shows
    def set_references(self, paths: list[str]) -> None:
        self.references.clear()
        for path in paths:
            item = QListWidgetItem(Path(path).name)
            item.setToolTip(path)
            item.setData(Qt.ItemDataRole.UserRole, path)
            self.references.addItem(item)
        self._update_buttons()

    def set_strength(self, value: float) -> None:
        """Move the slider without matching again."""
        self._strength_timer.stop()
        self.strength.blockSignals(True)
        self.strength.setValue(round(value * 100))
        self.strength.blockSignals(False)
        self.strength_label.setText(f"{self.strength.value()}%")

    def set_album(self, on: bool) -> None:
        """Check the album box without asking for anything."""
        self.album.blockSignals(True)
        self.album.setChecked(on)
        self.album.blockSignals(False)

    def set_forget_enabled(self, enabled: bool) -> None:
        self.forget_button.setEnabled(enabled)

    # ----- the user's gestures
    def _remove(self) -> None:
        item = self.references.currentItem()
        if item is not None:
            self.removeRequested.emit(item.data(Qt.ItemDataRole.UserRole))

    def _strength_moved(self, value: int) -> None:
        self.strength_label.setText(f"{value}%")
        self._strength_timer.start()

    def _strength_rested(self) -> None:
        self.strengthChanged.emit(self.strength.value() / 100)

    def _places_toggled(self, on: bool) -> None:
        self.doubt.setEnabled(on)
        self.placesToggled.emit(on)

    def _update_buttons(self, *_) -> None:
        self.remove_button.setEnabled(self.references.currentItem() is not None)
