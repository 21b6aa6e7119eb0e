"""The window keeps its size and every label whole, whatever the tabs show."""

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QWidget

from colorgui.main_window import apply_theme
from colorgui.jobs import TrainOutcome
from model.training.evaluate import EvalRow
from model.progress import FEATURES, TRAINING
from model.store.registry import ModelEntry


def outcome() -> TrainOutcome:
    rows = [EvalRow(name, 3, psnr, 0.1, 0.9, 10.0, cf, 40.0, (psnr,) * 3)
            for name, psnr, cf in (("gray baseline (a=b=0)", 22.0, 0.0),
                                   ("before (base model)", 23.0, 20.0),
                                   ("after (fine-tuned)", 24.0, 30.0))]
    image = np.random.default_rng(0).random((256, 256, 3), dtype=np.float32)
    return TrainOutcome("best.safetensors", False, 100, rows, [(image,) * 4] * 3, 3,
                        "Closer to the true colours than the base model: +1.0 dB on 3 "
                        "held-out photos; colourfulness 75% of the true photos' (base "
                        "model: 50%).")


def test_a_finished_fine_tune_does_not_grow_the_window(window, qtbot):
    window.tabs.setCurrentWidget(window.train_tab)
    window.resize(800, 600)
    qtbot.waitUntil(lambda: window.size().height() == 600)
    window.train_tab.finished(outcome())  # three rows of before/after examples
    QApplication.processEvents()
    qtbot.wait(50)  # a layout change resizes a window only once its events are processed
    assert (window.width(), window.height()) == (800, 600)


def test_the_left_panel_keeps_its_width_while_training(window, qtbot):
    tab = window.train_tab
    window.tabs.setCurrentWidget(tab)
    left = tab.layout().itemAt(0).widget()
    QApplication.processEvents()
    width = left.width()
    tab.show_message("Computing the pretrained networks' outputs for 1,234 photos…")
    tab.show_step(FEATURES, 3, 10, float("nan"))
    tab._t0 -= 1
    tab.show_step(TRAINING, 3, 12000, 0.012345)
    tab.show_step(TRAINING, 4, 12000, 0.012345)
    QApplication.processEvents()
    assert left.width() == width
    # (offscreen fonts are small, so the long lines fit either way: the width is fixed, so
    # a real desktop's larger font wraps them instead of widening the panel)
    assert left.minimumWidth() == left.maximumWidth() == width
    assert tab.progress_label.wordWrap()


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_every_control_of_the_colorize_tab_is_whole_at_800_px(window, qtbot, theme):
    apply_theme(QApplication.instance(), theme)
    tab = window.colorize_tab
    tab.set_models([ModelEntry("Bundled model: paper model (hybrid v1)", "a", True),
                    ModelEntry("Bundled model: scene-aware (spatial Lite0 U-Net)", "b", True)],
                   "b")
    window.resize(800, 600)
    qtbot.waitUntil(lambda: window.width() == 800)
    QApplication.processEvents()
    squeezed = [(w.__class__.__name__, getattr(w, "currentText", getattr(w, "text", str))())
                for w in tab.findChildren(QWidget)
                if isinstance(w, (QComboBox, QLabel)) and w.isVisible()
                and w.width() < w.sizeHint().width()]
    assert squeezed == []
    assert tab.mode.width() >= tab.mode.fontMetrics().horizontalAdvance("Side by side") + 20
    assert tab.model_box.width() >= tab.model_box.fontMetrics().horizontalAdvance(
        "Bundled model: scene-aware (spatial Lite0 U-Net)") + 20


def test_the_train_tabs_settings_keep_their_height_in_a_short_window(window, qtbot):
    """At 900×600 with Advanced open, its number boxes were squeezed to 1 px tall: the
    panel now scrolls instead."""
    from PySide6.QtWidgets import QAbstractSpinBox

    from model.training.data import ScanReport
    from pathlib import Path

    tab = window.train_tab
    window.tabs.setCurrentWidget(tab)
    tab.show_scan(ScanReport(usable=[Path(f"{i}.jpg") for i in range(60)]))
    tab.advanced_button.setChecked(True)
    window.resize(900, 600)
    qtbot.waitUntil(lambda: window.height() == 600)
    QApplication.processEvents()
    boxes = [w for w in tab.advanced.findChildren(QAbstractSpinBox) if w.isVisible()]
    assert boxes and all(b.height() >= b.minimumSizeHint().height() for b in boxes)
    assert tab.expect_label.height() >= tab.expect_label.heightForWidth(tab.expect_label.width())


def finished_table(window, qtbot, width: int):
    """The Train tab's before-and-after table of a finished fine-tune, ``width`` px wide."""
    tab = window.train_tab
    window.tabs.setCurrentWidget(tab)
    window.resize(width, 600)
    qtbot.waitUntil(lambda: window.width() == width)
    tab.finished(outcome())
    QApplication.processEvents()
    return tab.results


def test_the_before_and_after_table_fits_its_columns_at_900_px(window, qtbot):
    """At 900×600 its six columns, at a default 100 px each, scrolled sideways."""
    table = finished_table(window, qtbot, 900)
    assert table.horizontalScrollBar().maximum() == 0
    header = table.horizontalHeader()
    for col in range(1, table.columnCount()):  # every number and its title whole
        width = max(table.fontMetrics().horizontalAdvance(table.item(r, col).text())
                    for r in range(table.rowCount()))
        assert header.sectionSize(col) >= width


def test_the_before_and_after_table_keeps_room_for_the_names_at_800_px(window, qtbot):
    """On one line the titles took the names' room: "od" was all a name showed."""
    table = finished_table(window, qtbot, 800)
    header = table.horizontalHeader()
    assert table.horizontalScrollBar().maximum() == 0
    assert header.sectionSize(0) == max(header.sectionSize(c) for c in range(table.columnCount()))
    assert "gray baseline (a=b=0)" in table.item(0, 0).toolTip()  # whole, where cut short
    assert table.item(0, 1).toolTip() == ""  # a number's cell says what the measures are
