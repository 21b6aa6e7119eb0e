"""The Colorize tab: open a photo, compare original and colour, tune, save."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
                               QSlider, QStackedWidget, QToolButton, QVBoxLayout, QWidget,
                               QSplitter)

from colorgui.hints.tool import HintTool
from colorgui.image_view import ImageView, SplitView
from colorgui.qt_images import to_qimage
from model.hints import Hint

VIVID_DELAY_MS = 300  # a drag of the Vivid slider re-runs the network once, when it rests
VIVID_TIP = ("Blends the colours toward the bolder ones the model's colour-class head "
             "suggests (0%: the plain prediction). Re-colorizes the photo.")
NO_VIVID_TIP = "This model has no colour-class head, so no Vivid setting (try the spatial model)."


def _whole(widget: QWidget) -> QWidget:
    """Never squeezed below its size hint (a squeezed combo box cuts its text)."""
    widget.setSizePolicy(QSizePolicy.Policy.Fixed, widget.sizePolicy().verticalPolicy())
    return widget


def _percent_slider(maximum: int, value: int, slot) -> tuple[QSlider, QLabel]:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, maximum)
    slider.setValue(value)
    slider.setFixedWidth(120)
    label = _whole(QLabel(f"{value}%"))  # as wide as "200%", so the row does not jiggle
    label.setMinimumWidth(label.fontMetrics().horizontalAdvance("200%") + 4)
    slider.valueChanged.connect(slot)
    return slider, label


class ColorizeTab(QWidget):
    """Side-by-side (synchronised zoom/pan) or split before/after view of one photo."""

    openRequested = Signal()
    saveRequested = Signal()
    saveAsRequested = Signal()
    filesDropped = Signal(list)
    modelChosen = Signal(str)  # path of the chosen model
    vividChanged = Signal(float)  # the Vivid slider came to rest at this value (0..1)
    editsChanged = Signal()       # the user changed the hints, saturation or vivid
    previewShown = Signal()       # the colour preview shows the latest colours
    resultShown = Signal(object)  # a ColorizeResult is shown (opened, or colorized again)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.result = None  # the current ColorizeResult
        self.result_serial = 0  # counts results shown: hint replies name the one they fit
        self.ab = None  # the preview's a/b now (the hints' re-render replaces the result's)
        self.shown_hints: tuple[Hint, ...] = ()  # the hints self.ab was made with
        self.saturation = 1.0
        self.default_vivid = 0.0  # the model's own Vivid value
        self._restoring = False

        self.original_view = ImageView("Drop a black-and-white photo here\nor use File ▸ Open")
        self.colour_view = ImageView("The colorized photo appears here")
        self.original_view.detail_source = self._original_detail
        self.colour_view.detail_source = self._colour_detail
        self._original_ab = None  # the preview's own a/b (a colour photo's), for its detail
        self.original_view.viewChanged.connect(self.colour_view.follow)
        self.colour_view.viewChanged.connect(self.original_view.follow)
        for v in (self.original_view, self.colour_view):
            v.filesDropped.connect(self.filesDropped)
        self.hint_tool = t = HintTool(self, (self.original_view, self.colour_view))
        t.edited.connect(self.editsChanged)
        side = QSplitter(Qt.Orientation.Horizontal)
        side.addWidget(self.original_view)
        side.addWidget(self.colour_view)
        self.split_view = SplitView()
        self.stack = QStackedWidget()
        self.stack.addWidget(side)
        self.stack.addWidget(self.split_view)

        self.open_button = QPushButton("Open…")
        self.open_button.clicked.connect(self.openRequested)
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.saveRequested)
        self.save_as_button = QPushButton("Save As…")
        self.save_as_button.clicked.connect(self.saveAsRequested)

        self.mode = QComboBox()
        self.mode.addItems(["Side by side", "Split"])
        self.fit_button, self.actual_button = QToolButton(text="Fit"), QToolButton(text="100%")
        self.fit_button.clicked.connect(self.fit)
        self.actual_button.clicked.connect(self.actual_size)
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.slider, self.saturation_label = _percent_slider(200, 100, self._saturation_changed)
        self.vivid_slider, self.vivid_label = _percent_slider(100, 0, self._vivid_moved)
        self.vivid_caption = QLabel("Vivid:")
        self._vivid_timer = QTimer(self, singleShot=True, interval=VIVID_DELAY_MS)
        self._vivid_timer.timeout.connect(self._vivid_rested)
        self.model_box = QComboBox()
        self.model_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.model_box.activated.connect(lambda i: self.modelChosen.emit(self.model_box.itemData(i)))
        for w in (self.mode, self.model_box):
            _whole(w)

        # two rows, so that every control is whole in an 800 px wide window
        files = QHBoxLayout()
        for w in (self.open_button, self.save_button, self.save_as_button):
            files.addWidget(w)
        files.addSpacing(12)
        files.addWidget(_whole(t.button))
        files.addStretch(1)
        files.addWidget(QLabel("Model:"))
        files.addWidget(self.model_box)
        look = QHBoxLayout()
        look.addWidget(QLabel("View:"))
        look.addWidget(self.mode)
        look.addWidget(self.fit_button)
        look.addWidget(self.actual_button)
        look.addSpacing(12)
        look.addWidget(QLabel("Saturation:"))
        look.addWidget(self.slider)
        look.addWidget(self.saturation_label)
        look.addSpacing(12)
        look.addWidget(self.vivid_caption)
        look.addWidget(self.vivid_slider)
        look.addWidget(self.vivid_label)
        look.addStretch(1)
        self.status = QLabel("")
        self.status.setObjectName("colorizeStatus")

        layout = QVBoxLayout(self)
        layout.addLayout(files)
        layout.addLayout(look)
        body = QHBoxLayout()
        body.addWidget(self.stack, 1)
        body.addWidget(t.side)
        layout.addLayout(body, 1)
        layout.addWidget(self.status)
        self._render_timer = QTimer(self, singleShot=True, interval=0)
        self._render_timer.timeout.connect(self._render)
        self.set_vivid(False, 0.0)
        self._update_buttons()

    def set_models(self, entries, current: str) -> None:
        self.model_box.clear()
        for e in entries:
            self.model_box.addItem(e.name, str(e.path))
            if str(e.path) == current:
                self.model_box.setCurrentIndex(self.model_box.count() - 1)

    def set_vivid(self, available: bool, value: float) -> None:
        """A newly loaded model: whether it has a Vivid setting, and its recommended one
        (the slider moves there without re-colorizing)."""
        self._show_vivid(value)
        self.default_vivid = value
        for w in (self.vivid_caption, self.vivid_slider, self.vivid_label):
            w.setEnabled(available)
            w.setToolTip(VIVID_TIP if available else NO_VIVID_TIP)

    def _show_vivid(self, value: float) -> None:
        """Move the Vivid slider without re-colorizing."""
        self._vivid_timer.stop()
        self.vivid_slider.blockSignals(True)
        self.vivid_slider.setValue(round(value * 100))
        self.vivid_slider.blockSignals(False)
        self.vivid_label.setText(f"{self.vivid_slider.value()}%")

    @property
    def vivid(self) -> float | None:
        """The Vivid slider's value, 0..1; None for a model without the setting."""
        return self.vivid_slider.value() / 100 if self.vivid_slider.isEnabled() else None

    def _vivid_moved(self, value: int) -> None:
        self.vivid_label.setText(f"{value}%")
        self._vivid_timer.start()

    def _vivid_rested(self) -> None:
        if self.vivid is not None:
            self.vividChanged.emit(self.vivid)
            self.editsChanged.emit()

    def show_busy(self, path: str) -> None:
        self.status.setText(f"Colorizing {Path(path).name}…")

    def show_result(self, result) -> None:
        self.result = result
        self.result_serial += 1
        self.ab, self.shown_hints = result.ab, tuple(result.hints)
        if result.opened:
            self._restore(result.restored)
        w, h = result.size
        from model import color

        self._original_ab = color.normalise_ab(color.rgb_to_lab(result.original)[..., 1:])
        self.original_view.set_image(to_qimage(result.original), (w, h))
        self._render()
        note = ""
        if color.has_own_colours(result.original):  # its own colours are about to go
            note = " — in colour already: the model's colours replace its own"
        self.status.setText(f"{Path(result.path).name} — {w}×{h}{note}")
        self._update_buttons()
        self.resultShown.emit(result)

    def _restore(self, edits) -> None:
        """A photo was opened: its stored hints and saturation (none and 100% where none
        were stored: the last photo's are not this one's) and, where stored, its Vivid
        value (the worker colorized it with it)."""
        self.hint_tool.restore(edits.hints if edits is not None else [])
        self._restoring = True
        try:
            self.slider.setValue(round((edits.saturation if edits is not None else 1.0) * 100))
            if edits is not None and edits.vivid is not None and self.vivid is not None:
                self._show_vivid(edits.vivid)
        finally:
            self._restoring = False

    def show_recolor(self, reply) -> bool:
        """The preview's colours with the hints given (``colorgui.hints.jobs.Recolored``); False,
        and nothing shown, when they are for a photo no longer shown."""
        if self.result is None or reply.serial != self.result_serial:
            return False
        self.ab, self.shown_hints = reply.ab, tuple(reply.hints)
        self._render()
        return True

    def show_error(self, text: str) -> None:
        self.status.setText(text)

    def _saturation_changed(self, value: int) -> None:
        self.saturation = value / 100.0
        self.saturation_label.setText(f"{value}%")
        self._render_timer.start()
        if not self._restoring:
            self.editsChanged.emit()

    def _render(self) -> None:
        """Re-render the colour preview at the current saturation (no network)."""
        if self.result is None:
            return
        from model import color

        image = to_qimage(color.compose(self.result.L, self.ab, self.saturation))
        self.colour_view.set_image(image, self.result.size, keep_view=True)
        if not self.original_view.fitted:
            c = self.original_view.centre()
            self.colour_view.follow(self.original_view.scale_factor(), c.x(), c.y())
        self.split_view.set_images(to_qimage(self.result.original), image)
        self.previewShown.emit()

    def _detail(self, ab, saturation: float, box: tuple[int, int, int, int],
                size: tuple[int, int]):
        """The photo's full-resolution lightness in ``box``, made ``size`` (no larger),
        with the preview's colours: a/b are smooth, what zooming in shows is the
        lightness's detail."""
        if self.result is None or ab is None:
            return None
        import cv2
        from model import color

        x0, y0, x1, y1 = box
        L = self.result.full_L[y0:y1, x0:x1]
        if size != (x1 - x0, y1 - y0):
            L = cv2.resize(L, size, interpolation=cv2.INTER_AREA)
        region = color.region_of(ab, self.result.size, box, size)
        return to_qimage(color.compose(L, region, saturation))

    def _colour_detail(self, box, size):
        return self._detail(self.ab, self.saturation, box, size)

    def _original_detail(self, box, size):
        return self._detail(self._original_ab, 1.0, box, size)

    def _mode_changed(self, index: int) -> None:
        self.stack.setCurrentIndex(index)
        side_by_side = index == 0  # Split always fits the window: nothing to zoom
        for button in (self.fit_button, self.actual_button):
            button.setEnabled(side_by_side)
            button.setToolTip("" if side_by_side else "Split view always fits the window")

    def fit(self) -> None:
        self.original_view.fit()
        self.colour_view.fit()

    def actual_size(self) -> None:
        self.original_view.actual_size()

    def _update_buttons(self) -> None:
        has = self.result is not None
        self.save_button.setEnabled(has)
        self.save_as_button.setEnabled(has)

        self.hint_tool.update_actions()
