"""The Train tab: fine-tune the selected model on the user's own colour photos. In the
lean build (no torch) it holds one sentence instead: what fine-tuning needs, and where to
get it."""

from __future__ import annotations

import html
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDoubleSpinBox, QFormLayout,
                               QFrame, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QProgressBar, QPushButton, QScrollArea, QSpinBox,
                               QTableWidget, QTableWidgetItem, QToolButton, QVBoxLayout,
                               QWidget, QHeaderView)

from colorgui.file_dialogs import dropped_paths, existing_folder
from colorgui.qt_images import to_qimage
from colorgui.settings import Settings
from model.nets import lean
from model.progress import TRAINING, format_seconds
from model.training.plan import plan_line, what_to_expect

LEFT_WIDTH = 360   # fixed: a long progress line wraps instead of widening the panel
EXAMPLE_SIDE = 88  # the before/after thumbnails, in a scroll area: they never grow the window
MEASURES = ("<p><b>PSNR</b> (peak signal-to-noise ratio, in dB) says how close the colours "
            "come to the true photo's: higher is closer, and +1 dB is a clear step.</p>"
            "<p><b>Colourfulness</b> says how bold the colours are, as a share of the true "
            "photos'; <b>ΔCF</b> is how far it is from theirs (0 is right; a model that "
            "plays safe with beige and brown has a large ΔCF).</p>"
            "<p>Both are measured on photos held out of the fine-tune.</p>")
# how long a family lets it run: seconds of training, None: until it stops improving
BUDGETS = (("About 5 minutes", 300.0), ("About 15 minutes", 900.0),
           ("Until it stops improving", None))


def _step_axis():
    """The loss plot's step axis, ticked at whole steps only: there is no half step."""
    import pyqtgraph as pg

    class StepAxis(pg.AxisItem):
        def tickSpacing(self, minVal, maxVal, size):
            levels = super().tickSpacing(minVal, maxVal, size)
            return [(spacing, offset) for spacing, offset in levels if spacing >= 1] or [(1, 0)]

    return StepAxis("bottom")


class TrainTab(QWidget):
    scanRequested = Signal(list)
    startRequested = Signal(list)           # folders
    cancelRequested = Signal()
    saveRequested = Signal(str, str)        # checkpoint, name

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.running = False
        self.usable = 0
        self.outcome = None
        self._t0 = 0.0
        self.cancelling = False  # Cancel was pressed; the run has not ended yet
        self._first_step: tuple[int, float] | None = None  # (step, time) training began
        self.unavailable = lean.fine_tuning_unavailable()
        if self.unavailable:  # the lean build: no controls that could not work
            self._explain(self.unavailable)
            return

        self.folders = QListWidget()
        self.setAcceptDrops(True)  # folders dropped anywhere on the tab join "Your photos"
        self.folders.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.folders.setMaximumHeight(110)
        add, remove = QPushButton("Add folder…"), QPushButton("Remove")
        add.clicked.connect(self._add_folder_dialog)
        remove.clicked.connect(self._remove_selected)
        self.scan_label = QLabel("Add folders of your own colour photos to fine-tune on.")
        self.scan_label.setWordWrap(True)
        self.plan_label = QLabel("")  # who trains and who judges, before the run
        self.plan_label.setWordWrap(True)

        self.budget = QComboBox()
        for text, _ in BUDGETS:
            self.budget.addItem(text)
        self.expect_label = QLabel("")  # what this much time does with this many photos
        self.expect_label.setWordWrap(True)
        self.base_label = QLabel("")  # the model a run starts from
        self.base_label.setWordWrap(True)
        # the settings a family need not touch: the budget above decides; the values are
        # those of `colorgui train` (on 719 flower photos, 10 minutes: +2.96 ± 0.50 dB)
        self.epochs = QSpinBox(minimum=1, maximum=1000, value=200)
        self.lr = QDoubleSpinBox(decimals=5, minimum=1e-5, maximum=1e-2, singleStep=1e-4,
                                 value=1e-3)
        self.batch = QSpinBox(minimum=1, maximum=256, value=20)
        self.val_share = QSpinBox(minimum=5, maximum=50, value=10, suffix=" %")
        self.patience = QSpinBox(minimum=1, maximum=100, value=3, suffix=" passes")
        form = QFormLayout()
        form.addRow("At most, epochs:", self.epochs)
        form.addRow("Learning rate:", self.lr)
        form.addRow("Batch size:", self.batch)
        # in the panel's 360 px the longest label was cut ("…to choose and tc")
        self.val_share.setToolTip("The share of your photos held out to choose the best "
                                  "moment to stop, and as many again to judge the result")
        self.patience.setToolTip("Stop after this many passes over the photos without gain")
        form.addRow("Held out, each:", self.val_share)
        form.addRow("Stop after no gain for:", self.patience)
        self.advanced = QWidget()
        self.advanced.setLayout(form)
        self.advanced.setVisible(False)
        self.advanced_button = QToolButton(text="Advanced", checkable=True)
        self.advanced_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_button.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_button.setAutoRaise(True)
        self.advanced_button.toggled.connect(self._show_advanced)
        self.budget.currentIndexChanged.connect(self._update_plan)
        for spin in (self.val_share, self.patience, self.epochs):
            spin.valueChanged.connect(self._update_plan)

        self.start_button = QPushButton("Fine-tune")
        self.cancel_button = QPushButton("Cancel")
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self._cancel)
        self.progress = QProgressBar()
        self.progress_label = QLabel("")
        self.progress_label.setWordWrap(True)

        import pyqtgraph as pg

        self.plot = pg.PlotWidget(background=None, axisItems={"bottom": _step_axis()})
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "loss")
        self.plot.addLegend(offset=(-10, 10))  # top right: the curves start top left
        self.plot.setMinimumHeight(160)
        # room above the top tick's label, which the plot's edge cut in half
        self.plot.getPlotItem().layout.setContentsMargins(0, 10, 10, 6)
        self.train_curve = self.plot.plot([], [], pen=pg.mkPen("#5bc0de", width=1), name="training")
        self.val_curve = self.plot.plot([], [], pen=pg.mkPen("#f0ad4e", width=2), symbol="o",
                                        symbolSize=6, name="validation")
        self._steps: list[int] = []
        self._losses: list[float] = []
        self._val: list[tuple[int, float]] = []
        self._stale = 0  # passes since the best

        self.results = QTableWidget(0, 6)
        # two-line titles: on one line they took the room of the names, which showed as
        # "od" in an 800 px window
        self.results.setHorizontalHeaderLabels(["model", "PSNR\ndB", "RMSE\na/b", "SSIM",
                                                "colour-\nfulness", "ΔCF"])
        # the numbers take what they need and the name the rest: at a default 100 px each
        # the six columns scrolled sideways in a 900 px window
        header = self.results.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.results.verticalHeader().setVisible(False)
        self.results.setMinimumHeight(120)
        self.results.setMaximumHeight(140)
        self.results.setToolTip(MEASURES)
        self.verdict = QLabel("")  # the comparison in plain words
        self.verdict.setWordWrap(True)
        self.verdict.setToolTip(MEASURES)
        examples = QWidget()
        self.examples = QGridLayout(examples)
        self.examples.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidget(examples)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Name for the fine-tuned model")
        self.save_button = QPushButton("Save model")
        self.save_button.clicked.connect(self._save)

        left = QVBoxLayout()
        folders_box = QGroupBox("Your photos")
        fl = QVBoxLayout(folders_box)
        fl.addWidget(self.folders)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        fl.addLayout(row)
        fl.addWidget(self.scan_label)
        fl.addWidget(self.plan_label)
        left.addWidget(folders_box)
        options_box = QGroupBox("Fine-tuning")
        ol = QVBoxLayout(options_box)
        row = QHBoxLayout()
        row.addWidget(QLabel("Time:"))
        row.addWidget(self.budget, 1)
        ol.addLayout(row)
        ol.addWidget(self.base_label)
        ol.addWidget(self.expect_label)
        ol.addWidget(self.advanced_button)
        ol.addWidget(self.advanced)
        row = QHBoxLayout()
        row.addWidget(self.start_button)
        row.addWidget(self.cancel_button)
        ol.addLayout(row)
        ol.addWidget(self.progress)
        ol.addWidget(self.progress_label)
        left.addWidget(options_box)
        left.addStretch(1)

        right = QVBoxLayout()
        right.addWidget(self.plot, 1)
        result_box = QGroupBox("Before and after, on the held-out photos")
        rl = QVBoxLayout(result_box)
        rl.addWidget(self.verdict)
        rl.addWidget(self.results)
        rl.addWidget(scroll, 1)
        row = QHBoxLayout()
        row.addWidget(self.name_edit, 1)
        row.addWidget(self.save_button)
        rl.addLayout(row)
        right.addWidget(result_box, 2)  # room for the examples

        layout = QHBoxLayout(self)
        left_widget = QWidget()
        left_widget.setLayout(left)
        # in a short window the panel scrolls: squeezed, the Advanced settings were 1 px tall
        self.left_scroll = QScrollArea()
        self.left_scroll.setWidget(left_widget)
        self.left_scroll.setWidgetResizable(True)
        self.left_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.left_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        left_widget.setFixedWidth(LEFT_WIDTH)
        bar = self.left_scroll.verticalScrollBar().sizeHint().width()
        self.left_scroll.setFixedWidth(LEFT_WIDTH + bar)
        layout.addWidget(self.left_scroll)
        layout.addLayout(right, 1)
        self._update_buttons()

    def _explain(self, reason: str) -> None:
        """The lean build's tab: the sentence, its address a link (selectable, to copy)."""
        # a blue that reads on the dark theme's and the light theme's background alike
        link = f'<a href="{lean.HOME}" style="color: #3daee9">{lean.HOME}</a>'
        text = html.escape(reason).replace(lean.HOME, link)
        self.notice = QLabel(f"<p>{text}</p>")
        self.notice.setWordWrap(True)
        self.notice.setOpenExternalLinks(True)
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.notice.setMaximumWidth(520)  # a paragraph, not one line across the window
        row = QHBoxLayout()  # no alignment flag: the label then gets the height its wrap needs
        row.addStretch(1)
        row.addWidget(self.notice, 2)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(2)

    # ----- folders
    def folder_list(self) -> list[str]:
        return [self.folders.item(i).text() for i in range(self.folders.count())]

    def add_folders(self, folders: list[str]) -> None:
        for f in folders:
            if Path(f).is_dir() and f not in self.folder_list():
                self.folders.addItem(f)
        self._rescan()

    def _remove_selected(self) -> None:
        for item in self.folders.selectedItems():
            self.folders.takeItem(self.folders.row(item))
        self._rescan()

    def _rescan(self) -> None:
        self.usable = 0
        self._update_plan()
        folders = self.folder_list()
        if folders:
            self.scan_label.setText("Counting usable photos…")
            self.scanRequested.emit(folders)
        else:
            self.scan_label.setText("Add folders of your own colour photos to fine-tune on.")
        self._update_buttons()

    def show_scan(self, report) -> None:
        self.usable = len(report.usable)
        lines = [f"{self.usable} usable colour photos."]
        if report.grayscale:
            lines.append(f"Skipped {len(report.grayscale)} already black-and-white "
                         f"(nothing to learn colour from).")
        if report.unreadable:
            shown = "; ".join(f"{p.name}: {r}" for p, r in report.unreadable[:3])
            more = f" and {len(report.unreadable) - 3} more" if len(report.unreadable) > 3 else ""
            lines.append(f"Skipped {len(report.unreadable)} unreadable ({shown}{more}).")
        self.scan_label.setText("\n".join(lines))
        self._update_plan()
        self._update_buttons()

    def set_base(self, name: str) -> None:
        """The model a run starts from: the one chosen on the Colorize tab (a run after
        another fine-tune went on from that one, without a word)."""
        if not self.unavailable:  # (the lean build has no runs)
            self.base_label.setText(f"Starts from: {name} (the model chosen on the Colorize "
                                    f"tab)")

    def _update_plan(self) -> None:
        """The lines before the run: who trains and who judges; what to expect."""
        if not self.usable:
            self.plan_label.setText("")
            self.expect_label.setText("")
            return
        share = self.val_share.value() / 100
        self.plan_label.setText(plan_line(self.usable, share, share))
        budget = BUDGETS[self.budget.currentIndex()][1]
        self.expect_label.setText(what_to_expect(self.usable, budget, share, share,
                                                 self.patience.value(), self.epochs.value()))

    def _show_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_button.setArrowType(Qt.ArrowType.DownArrow if shown
                                          else Qt.ArrowType.RightArrow)

    # ----- running
    def options(self, device: str):
        from model.training.train import FitOptions

        share = self.val_share.value() / 100
        # the photos decoded once into memory: 3× the pace on a CPU, and a family's folder
        # is small (about 100 MB per 1,000 photos at 160 px)
        return FitOptions(epochs=self.epochs.value(), lr=self.lr.value(),
                          batch_size=self.batch.value(), val_share=share, judge_share=share,
                          time_limit=BUDGETS[self.budget.currentIndex()][1],
                          patience=self.patience.value(), group_duplicates=True,
                          in_memory=True, device=device, crop=128, checkpoint_every=200,
                          resume=False)

    def start(self) -> None:
        self.running, self.outcome, self.cancelling = True, None, False
        self._steps, self._losses, self._val = [], [], []
        self._stale = 0
        self.train_curve.setData([], [])
        self.val_curve.setData([], [])
        self.results.setRowCount(0)
        self.verdict.setText("")
        self._clear_examples()
        self._t0 = time.monotonic()
        self._first_step = None
        self.progress.setRange(0, 0)
        self.progress_label.setText("Preparing…")
        self._update_buttons()
        self.startRequested.emit(self.folder_list())

    def show_message(self, text: str) -> None:
        if not self.cancelling:  # "Cancelling…" stays until the run has ended
            self.progress_label.setText(text)

    def show_step(self, stage: str, step: int, total: int, loss: float) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(step)
        if stage != TRAINING:  # the branch outputs are being computed: no loss yet
            return
        self._steps.append(step)
        self._losses.append(loss)
        if len(self._steps) % 5 == 0 or step == total:
            self.train_curve.setData(self._steps, self._smoothed())
        # the pace since training began (not since Start: the photos were being read),
        # over the end ``fit`` projects from its time budget
        now = time.monotonic()
        if self._first_step is None or step < self._first_step[0]:
            self._first_step = (step, now)
        first, since = self._first_step
        left = (now - since) / (step - first) * (total - step) if step > first else None
        about = f"about {format_seconds(left)} left" if left is not None else "timing the pace…"
        # ``total`` is the time budget's end until a pass brings no gain, then the end of
        # the patience (``RunState.projected_total``)
        stalled = self._stale > 0  # no gain since the best (the base model's, too)
        when = "unless the next pass improves" if stalled else "sooner if it stops improving"
        if not self.cancelling:
            self.progress_label.setText(f"Step {step} of {total} — loss {loss:.4f} — {about} "
                                        f"({when})")

    def _smoothed(self) -> list[float]:
        """The mean of each step's loss and the 9 before it (fewer at the start): a
        centred window padded with zeros bent both ends of the curve down by half."""
        losses = np.asarray(self._losses, np.float64)
        sums = np.concatenate([[0.0], np.cumsum(losses)])
        end = np.arange(1, len(losses) + 1)
        start = np.maximum(0, end - 10)
        return list((sums[end] - sums[start]) / (end - start))

    def show_epoch(self, record: dict) -> None:
        self._stale = record.get("stale", 0)
        self._val.append((record["step"], record["val_loss"]))
        self.val_curve.setData([s for s, _ in self._val], [v for _, v in self._val])

    def finished(self, outcome) -> None:
        self.running, self.outcome = False, outcome
        # the curve is drawn every 5th step: the steps since the last draw, drawn now
        self.train_curve.setData(self._steps, self._smoothed())
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        if not outcome.best:
            state = ("Cancelled before the first checkpoint" if outcome.cancelled
                     else "No checkpoint was written")
        elif outcome.base_kept:
            state = (f"{'Cancelled' if outcome.cancelled else 'Done'}; no pass beat the base "
                     f"model, so there is nothing new to save")
        elif outcome.cancelled:
            state = "Cancelled; kept the best checkpoint so far"
        else:
            state = "Done"
        self.progress_label.setText(f"{state}: {outcome.steps} steps in "
                                    f"{format_seconds(time.monotonic() - self._t0)}.")
        self.verdict.setText(outcome.summary)
        self.results.setRowCount(0)
        for r in outcome.rows:
            row = self.results.rowCount()
            self.results.insertRow(row)
            for col, text in enumerate([r.name, f"{r.psnr:.2f}", f"{r.rmse_ab:.4f}",
                                        f"{r.ssim:.4f}", f"{r.cf:.1f} ({r.cf_ratio:.0%})",
                                        f"{r.delta_cf:.1f}"]):
                item = QTableWidgetItem(text)
                if col == 0:  # the name stretches and may be cut: whole, with the measures
                    item.setToolTip(f"<p><b>{html.escape(text)}</b></p>{MEASURES}")
                self.results.setItem(row, col, item)
        self._clear_examples()
        for col, title in enumerate(["black-and-white", "before", "after", "original"]):
            self.examples.addWidget(QLabel(title, alignment=Qt.AlignmentFlag.AlignCenter), 0, col)
        for row, images in enumerate(outcome.examples, start=1):
            for col, img in enumerate(images):
                label = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
                label.setPixmap(QPixmap.fromImage(to_qimage(img)).scaledToHeight(
                    EXAMPLE_SIDE, Qt.TransformationMode.SmoothTransformation))
                self.examples.addWidget(label, row, col)
        self._update_buttons()

    def failed(self, reason: str) -> None:
        self.running = False
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress_label.setText(f"Fine-tuning failed: {reason}")
        self._update_buttons()

    def _clear_examples(self) -> None:
        while self.examples.count():
            w = self.examples.takeAt(0).widget()
            if w is not None:
                w.deleteLater()

    def _cancel(self) -> None:
        """Said at once: the run stops at its next step, and then still keeps and scores
        its best checkpoint (seconds on a CPU)."""
        self.cancelling = True
        self.cancel_button.setEnabled(False)
        self.progress_label.setText("Cancelling: keeping the best checkpoint so far…")
        self.cancelRequested.emit()

    def _save(self) -> None:
        if self.outcome is not None and self.name_edit.text().strip():
            self.saveRequested.emit(self.outcome.best, self.name_edit.text().strip())

    def _update_buttons(self) -> None:
        self.start_button.setEnabled(not self.running and self.usable >= 2)
        self.cancel_button.setEnabled(self.running and not self.cancelling)
        self.save_button.setEnabled(not self.running and self.outcome is not None
                                    and bool(self.outcome.best) and not self.outcome.base_kept)

    def dragEnterEvent(self, event):
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event):
        """Folders join "Your photos" (not the window's drop, which opens a photo in the
        Colorize tab); single photos are said to be no folder."""
        folders = [p for p in dropped_paths(event) if Path(p).is_dir()]
        if folders:
            self.add_folders(folders)
        else:
            self.scan_label.setText("Drop folders of your colour photos here: fine-tuning "
                                    "learns from whole folders, not single photos.")
        event.acceptProposedAction()

    def _add_folder_dialog(self) -> None:
        folder = existing_folder(self, self.settings, "Add a folder of colour photos")
        if folder:
            self.add_folders([folder])
