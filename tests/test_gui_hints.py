"""The hint tool on the Colorize tab, driven offscreen with a tiny random-weight spatial
model (it takes colour hints and has a class head)."""

import shutil
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QWidget

from colorgui.hints.jobs import Recolor, edit_store
from model import color
from model.store.checkpoint import save_checkpoint
from model.hints import Hint
from model.io.imageio import read_photo
from model.nets.network import HybridNet
from model.io.provenance import read_provenance
from model.io.sidecar import content_hash, read_edits, sidecar_path
from tests.conftest import gradient_photo, open_and_wait, tiny_config

BLUE = (20.0, -60.0)


@pytest.fixture
def gray_photo(tmp_path):
    """A dark gradient with a bright band right of x = 80: an edge a hint must not cross."""
    path = tmp_path / "grandmother.png"
    gray = gradient_photo(90, 120).mean(axis=2) * 0.4 + np.where(np.arange(120) >= 80, 140, 0)
    Image.fromarray(gray.astype(np.uint8)).save(path)
    return path


@pytest.fixture
def tiny_checkpoint(tiny_spatial_checkpoint):
    """The ``window`` fixture, here on the tiny spatial model."""
    return tiny_spatial_checkpoint


def mouse(view, kind, x, y, button=Qt.MouseButton.LeftButton):
    """A mouse event on the viewer at (x, y) relative to the photo."""
    rect = view.sceneRect()
    pos = QPointF(view.mapFromScene(QPointF(x * rect.width(), y * rect.height())))
    types = {"press": QEvent.Type.MouseButtonPress, "move": QEvent.Type.MouseMove,
             "release": QEvent.Type.MouseButtonRelease}
    held = Qt.MouseButton.NoButton if kind == "release" else button
    event = QMouseEvent(types[kind], pos, view.viewport().mapToGlobal(pos),
                        Qt.MouseButton.NoButton if kind == "move" else button, held,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), event)


def click(view, x, y, button=Qt.MouseButton.LeftButton):
    mouse(view, "press", x, y, button)
    mouse(view, "release", x, y, button)


def wait_rendered(tab, qtbot):
    """Until the preview shows the colours of the hints the tab holds now."""
    qtbot.waitUntil(lambda: tab.shown_hints == tuple(tab.hint_tool.hints.hints), timeout=60_000)


def shown_lightness(tab) -> np.ndarray:
    """The L of what the colour viewer shows."""
    image = tab.colour_view._item.pixmap().toImage().convertToFormat(
        tab.colour_view._item.pixmap().toImage().Format.Format_RGB888)
    w, h = image.width(), image.height()
    rgb = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())[:, :3 * w]
    return color.luminance(color.from_uint8(rgb.reshape(h, w, 3)))


def add_blue_hint(window, qtbot, x=0.3, y=0.4):
    tab = window.colorize_tab
    tool = tab.hint_tool
    if not tool.action.isChecked():
        tool.action.trigger()
    before = len(tool.hints.hints)
    click(tab.colour_view, x, y)
    qtbot.waitUntil(lambda: len(tool.hints.hints) == before + 1)
    tool.panel.colourChosen.emit(*BLUE)  # a swatch or the colour dialog picked blue
    wait_rendered(tab, qtbot)


def test_a_hint_changes_the_colours_near_it_and_never_the_lightness(window, qtbot, gray_photo):
    tab = window.colorize_tab
    open_and_wait(window, qtbot, gray_photo)
    assert tab.hint_tool.action.isEnabled()
    before = tab.ab.copy()
    add_blue_hint(window, qtbot)
    hint = tab.hint_tool.hints.hints[0]
    assert (hint.a, hint.b) == BLUE and abs(hint.x - 0.3) < 0.02 and abs(hint.y - 0.4) < 0.02
    change = np.abs(tab.ab - before).sum(-1)
    assert change[30:42, 30:42].mean() > 0.005  # near the hint (36, 36 of 120×90)
    assert change[30:42, 30:42].mean() > 10 * change[75:, 100:].mean()  # across the edge: little
    assert np.abs(shown_lightness(tab) - tab.result.L).max() < 1.5  # uint8 rounding only


def test_add_recolour_move_delete_and_clear_undo_and_redo(window, qtbot, gray_photo):
    tab = window.colorize_tab
    tool = tab.hint_tool
    hints = tool.hints
    open_and_wait(window, qtbot, gray_photo)
    add_blue_hint(window, qtbot, 0.3, 0.4)
    view = tab.colour_view
    mouse(view, "press", 0.3, 0.4)  # drag the hint
    for step in range(1, 6):
        mouse(view, "move", 0.3 + 0.08 * step, 0.4 + 0.04 * step)
    mouse(view, "release", 0.7, 0.6)
    moved = hints.hints[0]
    assert abs(moved.x - 0.7) < 0.02 and abs(moved.y - 0.6) < 0.02 and (moved.a, moved.b) == BLUE
    add_blue_hint(window, qtbot, 0.2, 0.8)
    assert hints.selected == 1
    tool.delete_action.trigger()
    assert len(hints.hints) == 1 and hints.selected is None
    click(view, 0.7, 0.6, Qt.MouseButton.RightButton)  # a right-click deletes, too
    assert hints.hints == []
    stack = hints.undo_stack
    stack.undo()
    assert hints.hints == [moved]
    stack.undo()
    assert len(hints.hints) == 2
    for _ in range(2):  # the second hint's colour, the second hint
        stack.undo()
    assert hints.hints == [moved]
    stack.undo()  # the move
    assert (hints.hints[0].x, hints.hints[0].y) != (moved.x, moved.y)
    tool.undo_action.trigger()  # the recolour (Ctrl+Z)
    assert (hints.hints[0].a, hints.hints[0].b) != BLUE
    tool.redo_action.trigger()
    stack.redo()
    assert hints.hints == [moved]
    tool.clear_action.trigger()
    assert hints.hints == []
    stack.undo()
    assert hints.hints == [moved]
    wait_rendered(tab, qtbot)


def test_a_new_hint_takes_the_likeliest_colour_and_the_panel_recolours_it(
        window, qtbot, gray_photo, monkeypatch):
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QColorDialog

    tab = window.colorize_tab
    tool = tab.hint_tool
    open_and_wait(window, qtbot, gray_photo)
    tool.action.trigger()
    with qtbot.waitSignal(window.host.suggested, timeout=60_000) as suggested:
        click(tab.colour_view, 0.6, 0.5)
    likeliest = suggested.args[1].colours[0]
    hint = tool.hints.hints[0]
    assert (hint.a, hint.b) == pytest.approx(likeliest[:2])
    assert len(tool.panel.suggestions.buttons) == len(suggested.args[1].colours)
    assert tool.hints.undo_stack.count() == 1  # the colour came within the add's own step

    chosen = QColor(40, 90, 200)
    monkeypatch.setattr(QColorDialog, "getColor", lambda *a, **k: chosen)
    tool.panel.more_button.click()
    _, a, b = color.rgb_to_lab(np.array([[[40, 90, 200]]], np.float32) / 255)[0, 0]
    assert (tool.hints.hints[0].a, tool.hints.hints[0].b) == pytest.approx((a, b), abs=0.01)
    tool.panel.suggestions.buttons[-1].click()  # a suggestion swatch
    assert (tool.hints.hints[0].a, tool.hints.hints[0].b) == pytest.approx(
        suggested.args[1].colours[-1][:2])
    assert tool.hints.undo_stack.count() == 3
    wait_rendered(tab, qtbot)


def test_the_undo_actions_are_in_the_edit_menu_with_their_shortcuts(window):
    edit = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    texts = {a.text().split(" ")[0]: a for a in edit.actions()}
    assert texts["&Undo"].shortcut().toString() == "Ctrl+Z"
    assert texts["&Redo"].shortcut().toString() == "Ctrl+Shift+Z"
    assert texts["Hints"].shortcut().toString() == "H" and texts["Hints"].isCheckable()
    assert "Clear" in texts and "Delete" in texts


def test_the_keys_h_delete_and_ctrl_z(window, qtbot, gray_photo):
    tab = window.colorize_tab
    tool = tab.hint_tool
    open_and_wait(window, qtbot, gray_photo)
    window.activateWindow()
    tab.colour_view.setFocus()
    qtbot.waitUntil(lambda: tab.colour_view.hasFocus())
    qtbot.keyClick(tab.colour_view, Qt.Key.Key_H)
    assert tool.action.isChecked() and tool.panel.isVisible()
    add_blue_hint(window, qtbot)
    qtbot.keyClick(tab.colour_view, Qt.Key.Key_Delete)
    assert tool.hints.hints == []
    qtbot.keyClick(tab.colour_view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(tool.hints.hints) == 1
    qtbot.keyClick(tab.colour_view, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert tool.hints.hints == []
    wait_rendered(tab, qtbot)


def test_a_drag_sends_only_the_latest_hints_and_ends_with_them(window, qtbot, gray_photo,
                                                               monkeypatch):
    tab = window.colorize_tab
    open_and_wait(window, qtbot, gray_photo)
    add_blue_hint(window, qtbot)
    sent = []
    real = window._submit

    def submit(request):
        if isinstance(request, Recolor):
            sent.append(request.hints)
        return real(request)

    monkeypatch.setattr(window, "_submit", submit)
    view = tab.colour_view
    mouse(view, "press", 0.3, 0.4)
    for step in range(1, 41):
        mouse(view, "move", 0.3 + 0.01 * step, 0.4)
    mouse(view, "release", 0.7, 0.4)
    wait_rendered(tab, qtbot)
    assert 1 <= len(sent) < 40  # one job at a time: the moves between were never sent
    assert sent[-1] == tuple(tab.hint_tool.hints.hints)
    assert abs(tab.shown_hints[0].x - 0.7) < 0.02


def test_hints_are_stored_and_restored_when_the_photo_is_reopened_renamed(
        window, qtbot, gray_photo, tmp_path):
    tab = window.colorize_tab
    original = gray_photo.read_bytes()
    open_and_wait(window, qtbot, gray_photo)
    add_blue_hint(window, qtbot)
    tab.slider.setValue(150)
    # as the file keeps them: positions to 6 decimals
    hints = [replace(h, x=round(h.x, 6), y=round(h.y, 6)) for h in tab.hint_tool.hints.hints]
    sha = content_hash(gray_photo)
    qtbot.waitUntil(lambda: edit_store().get(sha) is not None
                    and edit_store().get(sha).saturation == 1.5, timeout=5000)
    stored = edit_store().get(sha)
    assert stored.hints == hints and stored.photo_name == "grandmother.png"
    assert gray_photo.read_bytes() == original  # the original is never touched

    renamed = tmp_path / "elsewhere" / "scan 0042.png"
    renamed.parent.mkdir()
    shutil.copy(gray_photo, renamed)
    open_and_wait(window, qtbot, renamed)  # the same content under another name
    assert tab.hint_tool.hints.hints == hints and tab.saturation == 1.5
    assert tab.slider.value() == 150
    assert tab.result.hints == tuple(hints)  # colorized with them
    assert tab.hint_tool.hints.undo_stack.count() == 0  # a fresh history

    tab.hint_tool.clear_action.trigger()
    tab.slider.setValue(100)
    window.hint_session.flush()
    assert edit_store().get(sha) is None  # nothing left to keep: forgotten


def test_save_writes_full_resolution_colours_with_the_hints_and_a_sidecar(
        window, qtbot, gray_photo):
    tab = window.colorize_tab
    open_and_wait(window, qtbot, gray_photo)
    plain = color.compose(tab.result.full_L, tab.result.full_ab)
    add_blue_hint(window, qtbot)
    with qtbot.waitSignal(window.host.saved, timeout=60_000) as saved:
        window.save()
    out = saved.args[1]
    written = read_photo(out).rgb
    assert written.shape == (90, 120, 3)
    assert np.abs(color.luminance(written) - tab.result.full_L).max() < 1.5
    near = np.abs(color.rgb_to_lab(written) - color.rgb_to_lab(plain))[30:42, 30:42, 1:]
    assert near.mean() > 0.3  # the hint coloured the saved photo
    edits = read_edits(sidecar_path(out))
    assert edits.hints == [replace(h, x=round(h.x, 6), y=round(h.y, 6))  # as the file keeps them
                           for h in tab.hint_tool.hints.hints]
    assert edits.model == "tiny-spatial"
    assert edits.photo_sha256 == content_hash(gray_photo) and edits.photo_size == (120, 90)
    assert read_provenance(out).hints == 1  # marked as AI colour, with one hint


def test_save_leaves_the_output_unmarked_when_provenance_is_off(window, qtbot, gray_photo):
    window.settings.provenance = False
    open_and_wait(window, qtbot, gray_photo)
    with qtbot.waitSignal(window.host.saved, timeout=60_000) as saved:
        window.save()
    assert read_provenance(saved.args[1]) is None
    assert not sidecar_path(saved.args[1]).exists()  # no hints, no sidecar


def test_a_model_without_hint_channels_turns_the_tool_off_and_back(
        window, qtbot, gray_photo, tmp_path, tiny_spatial_checkpoint):
    paper = tmp_path / "paper-like.safetensors"
    save_checkpoint(paper, HybridNet(tiny_config()), {"note": "random weights, tests only"})
    tool = window.colorize_tab.hint_tool
    open_and_wait(window, qtbot, gray_photo)
    tool.action.trigger()
    assert tool.action.isChecked() and tool.panel.isVisible()
    with qtbot.waitSignal(window.host.modelLoaded, timeout=60_000):
        window.choose_model(str(paper))
    assert not tool.action.isEnabled() and not tool.action.isChecked()
    assert not tool.panel.isVisible()
    assert "takes no colour hints" in tool.button.toolTip()
    click(window.colorize_tab.colour_view, 0.5, 0.5)
    assert tool.hints.hints == []
    with qtbot.waitSignal(window.host.modelLoaded, timeout=60_000):
        window.choose_model(str(tiny_spatial_checkpoint))
    assert tool.action.isEnabled() and "click the photo" in tool.button.toolTip()
    qtbot.waitUntil(lambda: not window.host.busy(), timeout=60_000)


def test_the_hint_panel_is_whole_at_800_px(window, qtbot, gray_photo):
    tab = window.colorize_tab
    open_and_wait(window, qtbot, gray_photo)
    add_blue_hint(window, qtbot)
    window.resize(800, 600)
    qtbot.waitUntil(lambda: window.width() == 800)
    QApplication.processEvents()
    panel = tab.hint_tool.panel
    assert panel.isVisible()
    squeezed = [getattr(w, "text", str)() for w in tab.findChildren(QWidget)
                if isinstance(w, (QComboBox, QLabel)) and w.isVisible()
                and not (isinstance(w, QLabel) and w.wordWrap())
                and w.width() < w.sizeHint().width()]
    assert squeezed == []
    for label in panel.findChildren(QLabel):  # wrapped labels get the height they need
        if label.isVisible() and label.wordWrap():
            assert label.height() >= label.heightForWidth(label.width())
    assert tab.hint_tool.panel.used.buttons  # blue is used in this photo


def test_hints_given_by_hand_are_kept_in_relative_coordinates(window, qtbot, gray_photo):
    tab = window.colorize_tab
    open_and_wait(window, qtbot, gray_photo)
    tab.hint_tool.hints.add(Hint(0.5, 0.5, *BLUE))
    wait_rendered(tab, qtbot)
    assert tab.hint_tool.hints.hints[0] == Hint(0.5, 0.5, *BLUE)


def test_the_colours_used_keep_their_colour_while_no_hint_is_selected(window, qtbot,
                                                                      gray_photo):
    from PySide6.QtGui import QIcon

    tab = window.colorize_tab
    open_and_wait(window, qtbot, gray_photo)
    add_blue_hint(window, qtbot)
    tab.hint_tool.hints.select(None)
    row = tab.hint_tool.panel.used
    assert not row.isEnabled() and row.buttons  # nothing to take them yet, but shown
    image = row.buttons[0].icon().pixmap(16, 16, QIcon.Mode.Disabled).toImage()
    c = image.pixelColor(8, 8)
    assert c.blue() > c.red() + 30  # blue, not Qt's grey


def test_matched_marks_shrink_where_hundreds_crowd_a_small_view(qtbot):
    """Hundreds of matched marks at their full size hid half of a photo shown 300 px
    wide: crowded, they shrink; few, or in a large view, they keep their size, and a press
    takes one only on its mark as drawn."""
    from PySide6.QtGui import QImage

    from colorgui.hints.edits import HintSet
    from colorgui.hints.layer import AUTO_HIT, AUTO_RADIUS, HintLayer, MIN_AUTO_RADIUS
    from colorgui.image_view import ImageView
    from model.hints import REFERENCE

    view = ImageView()
    qtbot.addWidget(view)
    image = QImage(600, 400, QImage.Format.Format_RGB888)
    image.fill(0x808080)
    view.set_image(image)
    hints = HintSet()
    layer = HintLayer(hints, lambda x, y: 50.0)
    layer.attach(view)
    grid = [Hint((i + 0.5) / 24, (j + 0.5) / 16, 10.0, 20.0, origin=REFERENCE)
            for i in range(24) for j in range(16)]
    hints.hints = grid
    view.resize(320, 230)
    view.show()
    view.fit()
    small = layer.auto_radius(view)
    assert MIN_AUTO_RADIUS <= small < AUTO_RADIUS
    # beside a mark, outside what is drawn, is not the mark
    centre = layer._on_screen(view, grid[200])
    assert layer.hint_at(view, centre) == 200
    assert layer.hint_at(view, centre + QPointF(small + AUTO_HIT + 1, 0)) is None

    hints.hints = grid[:20]
    assert layer.auto_radius(view) == AUTO_RADIUS
    hints.hints = grid
    view.resize(1400, 950)
    view.fit()
    assert layer.auto_radius(view) > small


def test_h_on_another_tab_leaves_the_hint_mode_alone(window, qtbot):
    """H on the Batch tab turned the hidden Colorize tab's hint mode on."""
    tool = window.colorize_tab.hint_tool
    window.tabs.setCurrentWidget(window.batch_tab)
    window.activateWindow()
    window.batch_tab.table.setFocus()
    qtbot.waitUntil(lambda: window.batch_tab.table.hasFocus())
    qtbot.keyClick(window.batch_tab.table, Qt.Key.Key_H)
    assert not tool.action.isChecked()


def test_opening_another_photo_grays_out_undo(window, qtbot, gray_photo, tmp_path):
    """The last photo's undo step stayed on offer in Edit ▸ Undo, and did nothing."""
    tool = window.colorize_tab.hint_tool
    open_and_wait(window, qtbot, gray_photo)
    add_blue_hint(window, qtbot)
    assert tool.undo_action.isEnabled()
    other = tmp_path / "other.png"
    Image.fromarray(gradient_photo(48, 64, 3)).convert("L").save(other)
    open_and_wait(window, qtbot, other)
    assert not tool.undo_action.isEnabled() and tool.undo_action.text() == "&Undo"
