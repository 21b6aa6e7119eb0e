"""The Colorize tab: open a photo, compare original and colour, tune, save."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider,
                               QStackedWidget, QToolButton, QVBoxLayout, QWidget, QSplitter)

from colorgui.image_view import ImageView, SplitView
from colorgui.qt_images import to_qimage


class ColorizeTab(QWidget):
    """Side-by-side (synchronised zoom/pan) or split before/after view of one photo."""

    openRequested = Signal()
    saveRequested = Signal()
    saveAsRequested = Signal()
    filesDropped = Signal(list)
    modelChosen = Signal(str)  # path of the chosen model

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.result = None  # the current ColorizeResult
        self.saturation = 1.0

        self.original_view = ImageView("Drop a black-and-white photo here\nor use File ▸ Open")
        self.colour_view = ImageView("The colorized photo appears here")
        self.original_view.viewChanged.connect(self.colour_view.follow)
        self.colour_view.viewChanged.connect(self.original_view.follow)
        for v in (self.original_view, self.colour_view):
            v.filesDropped.connect(self.filesDropped)
        side = QSplitter(Qt.Orientation.Horizontal)
        side.addWidget(self.original_view)
        side.addWidget(self.colour_view)
        self.split_view = SplitView()
        self.stack = QStackedWidget()
        self.stack.addWidget(side)
        self.stack.addWidget(self.split_view)

        bar = QHBoxLayout()
        self.open_button = QPushButton("Open…")
        self.open_button.clicked.connect(self.openRequested)
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.saveRequested)
        self.save_as_button = QPushButton("Save As…")
        self.save_as_button.clicked.connect(self.saveAsRequested)
        self.mode = QComboBox()
        self.mode.addItems(["Side by side", "Split"])
        self.mode.currentIndexChanged.connect(self.stack.setCurrentIndex)
        fit, actual = QToolButton(text="Fit"), QToolButton(text="100%")
        fit.clicked.connect(self.fit)
        actual.clicked.connect(self.actual_size)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 200)
        self.slider.setValue(100)
        self.slider.setFixedWidth(160)
        self.slider.valueChanged.connect(self._saturation_changed)
        self.saturation_label = QLabel("100%")
        self.model_box = QComboBox()
        self.model_box.setMinimumWidth(180)
        self.model_box.activated.connect(lambda i: self.modelChosen.emit(self.model_box.itemData(i)))
        for w in (self.open_button, self.save_button, self.save_as_button):
            bar.addWidget(w)
        bar.addSpacing(12)
        bar.addWidget(QLabel("View:"))
        bar.addWidget(self.mode)
        bar.addWidget(fit)
        bar.addWidget(actual)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Saturation:"))
        bar.addWidget(self.slider)
        bar.addWidget(self.saturation_label)
        bar.addStretch(1)
        bar.addWidget(QLabel("Model:"))
        bar.addWidget(self.model_box)
        self.status = QLabel("")
        self.status.setObjectName("colorizeStatus")

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.status)
        self._render_timer = QTimer(self, singleShot=True, interval=0)
        self._render_timer.timeout.connect(self._render)
        self._update_buttons()

    def set_models(self, entries, current: str) -> None:
        self.model_box.clear()
        for e in entries:
            self.model_box.addItem(e.name, str(e.path))
            if str(e.path) == current:
                self.model_box.setCurrentIndex(self.model_box.count() - 1)

    def show_busy(self, path: str) -> None:
        self.status.setText(f"Colorizing {Path(path).name}…")

    def show_result(self, result) -> None:
        self.result = result
        w, h = result.size
        self.original_view.set_image(to_qimage(result.original), (w, h))
        self._render()
        self.status.setText(f"{Path(result.path).name} — {w}×{h}")
        self._update_buttons()

    def show_error(self, text: str) -> None:
        self.status.setText(text)

    def _saturation_changed(self, value: int) -> None:
        self.saturation = value / 100.0
        self.saturation_label.setText(f"{value}%")
        self._render_timer.start()

    def _render(self) -> None:
        """Re-render the colour preview at the current saturation (no network)."""
        if self.result is None:
            return
        from model import color

        image = to_qimage(color.compose(self.result.L, self.result.ab, self.saturation))
        self.colour_view.set_image(image, self.result.size, keep_view=True)
        if not self.original_view.fitted:
            c = self.original_view.centre()
            self.colour_view.follow(self.original_view.scale_factor(), c.x(), c.y())
        self.split_view.set_images(to_qimage(self.result.original), image)

    def fit(self) -> None:
        self.original_view.fit()
        self.colour_view.fit()

    def actual_size(self) -> None:
        self.original_view.actual_size()

    def _update_buttons(self) -> None:
        has = self.result is not None
        self.save_button.setEnabled(has)
        self.save_as_button.setEnabled(has)
