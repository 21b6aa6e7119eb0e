"""The desktop app's Colorize tab, driven offscreen through pytest-qt."""

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox

from colorgui.main_window import MainWindow
from colorgui.settings import Settings
from colorgui.requests import Colorize, Save
from model.io.imageio import read_photo
from tests.conftest import gradient_photo, open_and_wait


@pytest.fixture
def gray_photo(tmp_path):
    path = tmp_path / "old photo.png"
    Image.fromarray(gradient_photo(90, 120).mean(axis=2).astype(np.uint8)).save(path)
    return path


def drop(widget, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    event.ignore()  # as Qt hands it over: taken only where the widget accepts it
    widget.dropEvent(event)
    return event


def test_a_photo_dropped_on_the_window_is_accepted_and_opened(window, qtbot, gray_photo):
    """The window opened it but never accepted the drop: a file manager showed the drag
    as refused."""
    with qtbot.waitSignal(window.host.colorized, timeout=60_000):
        event = drop(window, [gray_photo])
    accepted = event.isAccepted()  # (pytest's repr of a spent event crashes)
    assert accepted


def test_drop_a_photo_fills_both_viewers(window, qtbot, gray_photo):
    tab = window.colorize_tab
    with qtbot.waitSignal(window.host.colorized, timeout=60_000):
        drop(tab.original_view, [gray_photo])
    qtbot.waitUntil(lambda: tab.colour_view.has_image())
    assert tab.original_view.has_image() and tab.result.size == (120, 90)
    assert "old photo.png" in tab.status.text()
    assert str(gray_photo) in window.settings.recent_files()


def test_saturation_slider_rerenders_without_the_network(window, qtbot, gray_photo, monkeypatch):
    tab = window.colorize_tab
    open_and_wait(window, qtbot, gray_photo)
    calls = []
    monkeypatch.setattr(window.host, "submit", lambda *a: calls.append(a))
    tab.slider.setValue(0)
    qtbot.waitUntil(lambda: tab.saturation == 0.0)
    qtbot.wait(50)
    assert calls == []
    img = tab.colour_view._item.pixmap().toImage()
    c = img.pixelColor(60, 45)
    assert abs(c.red() - c.green()) <= 2 and abs(c.green() - c.blue()) <= 2  # gray at 0%


def test_a_photo_without_edits_opens_at_its_own_saturation(window, qtbot, gray_photo,
                                                           tmp_path):
    tab = window.colorize_tab
    open_and_wait(window, qtbot, gray_photo)
    tab.slider.setValue(140)
    qtbot.waitUntil(lambda: tab.saturation == pytest.approx(1.4))
    other = tmp_path / "another photo.png"
    Image.fromarray(gradient_photo(90, 120, 7).mean(axis=2).astype(np.uint8)).save(other)
    open_and_wait(window, qtbot, other)
    assert tab.saturation == pytest.approx(1.0) and tab.saturation_label.text() == "100%"
    open_and_wait(window, qtbot, gray_photo)  # its own 140% is kept with its edits
    qtbot.waitUntil(lambda: tab.saturation == pytest.approx(1.4), timeout=5000)


def test_both_viewers_go_on_fitting_the_window_as_it_is_resized(window, qtbot, gray_photo):
    tab = window.colorize_tab
    open_and_wait(window, qtbot, gray_photo)
    for size in ((1300, 900), (900, 600), (1500, 1000)):
        window.resize(*size)
        qtbot.wait(50)
        for view in (tab.original_view, tab.colour_view):
            assert view.fitted
            shown = view.mapFromScene(view.sceneRect()).boundingRect()
            port = view.viewport().rect()
            # the whole photo shows, and it fills the viewer's width or its height
            assert port.adjusted(-2, -2, 2, 2).contains(shown)
            assert max(shown.width() / port.width(), shown.height() / port.height()) > 0.9


def test_save_keeps_size_and_never_touches_the_original(window, qtbot, gray_photo):
    before = gray_photo.read_bytes()
    open_and_wait(window, qtbot, gray_photo)
    with qtbot.waitSignal(window.host.saved, timeout=60_000) as saved:
        window.save()
    out = saved.args[1]
    assert out.endswith("old photo_colorized.png")
    assert read_photo(out).size == (120, 90)
    assert gray_photo.read_bytes() == before


def test_saving_over_the_original_needs_confirmation(window, qtbot, gray_photo, monkeypatch):
    before = gray_photo.read_bytes()
    open_and_wait(window, qtbot, gray_photo)
    answers = []

    def answer(*a, **k):
        answers.append(a[1])
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "warning", answer)
    window._save_to(gray_photo)
    assert answers == ["Overwrite the original?"]
    assert Save not in window.jobs and not window.host.busy()  # no save was queued
    assert gray_photo.read_bytes() == before


@pytest.fixture
def broken(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"garbage")
    return bad


def record_errors(window, monkeypatch) -> list:
    """The window's error dialogs, as (title, reason) instead of a modal message box."""
    errors = []
    monkeypatch.setattr(window, "error", lambda title, reason: errors.append((title, reason)))
    return errors


def test_a_broken_file_shows_an_error_and_the_app_goes_on(window, qtbot, broken, gray_photo,
                                                          monkeypatch):
    errors = record_errors(window, monkeypatch)
    window.open_paths([str(broken)])
    qtbot.waitUntil(lambda: len(errors) > 0, timeout=60_000)
    assert "broken.jpg" in errors[0][0] and "not an image" in errors[0][1]
    open_and_wait(window, qtbot, gray_photo)


def test_a_superseded_request_that_fails_shows_no_error(window, qtbot, broken, gray_photo,
                                                         monkeypatch):
    errors = record_errors(window, monkeypatch)
    window.open_paths([str(broken)])
    first = window.jobs[Colorize]
    open_and_wait(window, qtbot, gray_photo)  # the user opened another photo meanwhile
    qtbot.waitUntil(lambda: not window.host.busy())
    window.host.failed.emit(first.id, str(broken), "not an image")  # had it run, failed late
    assert errors == [] and "old photo.png" in window.colorize_tab.status.text()


def test_close_while_working_stops_the_worker_cleanly(window, qtbot, gray_photo, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    window.open_paths([str(gray_photo)])
    assert window.host.busy()
    window.close()
    assert not window.host.thread.isRunning()


def test_a_bad_model_falls_back_to_the_bundled_one(qtbot, tmp_path, monkeypatch):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    settings = Settings(tmp_path / "c.ini")
    settings.model_path = str(bad)
    settings.device = "cpu"
    errors = []
    win = MainWindow(settings)
    qtbot.addWidget(win)
    monkeypatch.setattr(win, "error", lambda title, reason: errors.append((title, reason)))
    win.start_worker()
    with qtbot.waitSignal(win.host.modelLoaded, timeout=120_000) as loaded:
        pass
    assert "bad.safetensors" in errors[0][0] + errors[0][1]
    from resources import BUNDLED_MODEL

    assert loaded.args[0].endswith(BUNDLED_MODEL.name)
    # the status bar names the model as the picker does, not by its weights' file
    box = win.colorize_tab.model_box
    label = box.currentText().split(": ", 1)[1]  # "Bundled model: scene-aware (…)"
    assert win.device_label.text() == f"Model: bundled {label} on CPU"
    assert BUNDLED_MODEL.name not in win.device_label.text()
    win.close()


def test_preferences_are_remembered(window, qtbot, monkeypatch, tmp_path):
    from colorgui.settings_dialog import SettingsDialog

    def accept_with_changes(dialog):
        dialog.output_dir.setText(str(tmp_path / "colour"))
        dialog.output_format.setCurrentIndex(dialog.output_format.findData("jpg"))
        dialog.theme.setCurrentIndex(dialog.theme.findData("light"))
        return True

    monkeypatch.setattr(SettingsDialog, "exec", accept_with_changes)
    window.preferences()
    again = Settings(window.settings.q.fileName())
    assert again.output_dir == str(tmp_path / "colour") and again.output_format == "jpg"
    assert again.theme == "light" and not window.dark_action.isChecked()
    # Preferences' folder is for single photos; the Batch tab keeps its own "Save to"
    assert window.batch_tab.output_edit.text() == ""


def test_window_size_tab_and_view_mode_are_remembered(qtbot, tmp_path, tiny_checkpoint):
    settings = Settings(tmp_path / "layout.ini")
    settings.model_path, settings.device = str(tiny_checkpoint), "cpu"
    first = MainWindow(settings)
    qtbot.addWidget(first)
    first.show()
    first.resize(first.width(), 560)
    first.tabs.setCurrentIndex(1)
    first.colorize_tab.mode.setCurrentIndex(1)
    first.close()
    second = MainWindow(Settings(tmp_path / "layout.ini"))
    qtbot.addWidget(second)
    # (the offscreen screen is 800 px wide, so Qt clamps the restored width; not the height)
    assert second.height() == 560
    assert second.tabs.currentIndex() == 1 and second.colorize_tab.mode.currentIndex() == 1


def test_the_zoom_buttons_are_off_in_split_view_which_always_fits(window):
    """Fit and 100% did nothing in Split view (it always fits the window)."""
    tab = window.colorize_tab
    assert tab.fit_button.isEnabled() and tab.actual_button.isEnabled()
    tab.mode.setCurrentIndex(1)
    assert not tab.fit_button.isEnabled() and not tab.actual_button.isEnabled()
    assert tab.stack.currentIndex() == 1
    tab.mode.setCurrentIndex(0)
    assert tab.fit_button.isEnabled() and tab.actual_button.isEnabled()


@pytest.mark.parametrize("key", ["", "spatial", "paper"])
def test_about_shows_version_model_card_and_licences(qtbot, key):
    from colorgui import __version__
    from colorgui.about_dialog import AboutDialog
    from resources import BUNDLED_MODEL, BUNDLED_MODELS

    path = BUNDLED_MODELS[key] if key else BUNDLED_MODEL  # "": the default
    dialog = AboutDialog(str(path) if key else "", f"{path.name} on CPU")
    qtbot.addWidget(dialog)
    text = dialog.text.toPlainText()
    assert f"{path.stem} (bundled model)" in text and "Apache-2.0" in text
    assert "EfficientNet-Lite" in text
    assert f"colorgui {__version__}" in dialog.header.text()
    assert "on CPU" in dialog.header.text()


@pytest.mark.parametrize("key", ["spatial", "paper"])
def test_about_shows_one_licence_section_and_no_build_machine_details(qtbot, key):
    from colorgui.about_dialog import AboutDialog
    from resources import BUNDLED_MODELS

    dialog = AboutDialog(str(BUNDLED_MODELS[key]), f"{key} on CPU")
    qtbot.addWidget(dialog)
    text = dialog.text.toPlainText()
    assert text.count("Licences") == 1
    assert "research data and are not redistributed" in text  # the card's licence words
    for detail in ("../shared", "GPU machine", "upload", "build machine", "build\nmachine"):
        assert detail not in text


def test_about_shows_no_sideways_scroll_bar_with_nothing_to_scroll(qtbot):
    """The card's tables came out a pixel wider than the view: a stray scroll bar."""
    from colorgui.about_dialog import AboutDialog

    dialog = AboutDialog("", "spatial on CPU")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert not dialog.text.horizontalScrollBar().isVisible()


def test_about_shows_the_card_of_the_bundled_model_in_use(qtbot, tmp_path, monkeypatch):
    import resources
    from colorgui.about_dialog import AboutDialog

    weights = tmp_path / "colorgui-spatial.safetensors"
    weights.write_bytes(b"")
    weights.with_suffix(".md").write_text(
        "# colorgui-spatial (bundled model)\n\nA U-Net.\n\n## Training\n\n"
        "<!-- filled in later -->\n\n- Data: `../shared/data/train`, the GPU machine.\n\n"
        "## Licences\n\nMIT.\n", encoding="utf-8")
    monkeypatch.setitem(resources.BUNDLED_MODELS, "spatial", weights)
    dialog = AboutDialog(str(weights), "colorgui-spatial.safetensors on CPU")
    qtbot.addWidget(dialog)
    text = dialog.text.toPlainText()
    assert "colorgui-spatial (bundled model)" in text and "A U-Net." in text
    assert "Training" not in text and "shared" not in text and "filled in" not in text
    assert text.count("Licences") == 1


def test_about_summarises_a_fine_tuned_model(qtbot, tiny_checkpoint):
    from colorgui.about_dialog import model_card_text

    text = model_card_text(str(tiny_checkpoint))
    assert text.startswith("# tiny") and "random_0, random_1" in text


def test_window_has_the_application_icon(window):
    sizes = {s.width() for s in window.windowIcon().availableSizes()}
    assert {16, 32, 256} <= sizes


def test_a_gpu_fallback_warning_reaches_the_status_bar(window, qtbot, monkeypatch, tmp_path):
    import torch

    colorizer = window.host.worker.colorizer
    real, calls = colorizer._forward, []

    def out_of_memory_once(Ls, hints, vivid):  # as if on a GPU that cannot take even one photo
        calls.append(len(Ls))
        if len(calls) == 1:
            colorizer.device = torch.device("cuda")
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(Ls, hints, vivid)

    monkeypatch.setattr(colorizer, "_forward", out_of_memory_once)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: None)
    photo = tmp_path / "p.png"
    Image.fromarray(gradient_photo(40, 40)).save(photo)
    with qtbot.waitSignal(window.host.colorized, timeout=60_000):
        window.open_paths([str(photo)])
    qtbot.waitUntil(lambda: "continuing on the CPU" in window.statusBar().currentMessage())


def test_garbage_is_collected_on_the_gui_thread_while_the_worker_lives(window, qtbot):
    """Automatic collection is off while the worker thread exists (it crashed PySide when
    it ran there); the GUI thread still frees reference cycles, and closing the window
    turns automatic collection back on."""
    import gc
    import threading
    import weakref

    class Node:
        pass

    assert not gc.isenabled()
    freed_on = []
    node = Node()
    node.self = node  # a cycle: only the cyclic collector frees it
    weakref.finalize(node, lambda: freed_on.append(threading.current_thread()))
    del node
    alive = [Node() for _ in range(gc.get_threshold()[0] + 1)]  # past the first threshold
    qtbot.waitUntil(lambda: bool(freed_on), timeout=5000)
    del alive
    assert freed_on == [threading.main_thread()]
    window.close()
    assert gc.isenabled()


def test_a_photo_in_colour_is_said_to_be_so_when_it_opens(window, qtbot, tmp_path, gray_photo):
    """Its colours were replaced by the model's without a word."""
    from skimage import data

    colour = tmp_path / "colour.png"
    Image.fromarray(data.astronaut()).save(colour)
    open_and_wait(window, qtbot, colour)
    assert "in colour already" in window.colorize_tab.status.text()
    open_and_wait(window, qtbot, gray_photo)
    assert "in colour" not in window.colorize_tab.status.text()


def test_100_percent_shows_the_photos_own_pixels_not_the_blown_up_preview(window, qtbot,
                                                                          tmp_path):
    """The views held a 1280 px preview: at 100% a 2600 px scan's fine detail (a
    one-pixel checker) was a blur."""
    from model import color

    h, w = 1400, 2600
    checker = (np.indices((h, w)).sum(0) % 2 * 120 + 60).astype(np.uint8)
    path = tmp_path / "scan.png"
    Image.fromarray(checker).save(path)
    open_and_wait(window, qtbot, path)
    tab = window.colorize_tab
    tab.actual_button.click()
    for view in (tab.original_view, tab.colour_view):
        qtbot.waitUntil(view._detail.isVisible, timeout=5000)
    for view in (tab.original_view, tab.colour_view):
        detail = view._detail
        assert view.magnified() and detail.isVisible()
        image = detail.pixmap().toImage()
        x0, y0 = int(detail.pos().x()), int(detail.pos().y())
        seen = view.mapToScene(view.viewport().rect()).boundingRect()
        assert detail.boundingRect().width() >= seen.width() - 2  # the whole view
        row = [image.pixelColor(x, 5).lightness() for x in range(40)]
        # the checker itself: neighbours 120 levels apart, as in the scan (the preview: ~0)
        assert min(abs(a - b) for a, b in zip(row, row[1:])) > 80
        assert (checker[y0 + 5, x0] < 128) == (row[0] < 128)  # in its place
    # the colour view's detail is the full lightness with the preview's colours
    key = tab.colour_view._detail.pixmap().cacheKey()
    tab.slider.setValue(150)
    qtbot.waitUntil(lambda: tab.colour_view._detail.pixmap().cacheKey() != key)
    image = tab.colour_view._detail.pixmap().toImage()
    x0, y0 = int(tab.colour_view._detail.pos().x()), int(tab.colour_view._detail.pos().y())
    box = (x0, y0, x0 + image.width(), y0 + image.height())
    want = color.to_uint8(color.compose(tab.result.full_L[y0:box[3], x0:box[2]],
                                        color.region_of(tab.ab, tab.result.size, box), 1.5))
    got = np.array([[image.pixelColor(x, y).getRgb()[:3] for x in range(8)] for y in range(8)])
    assert np.abs(got.astype(int) - want[:8, :8]).max() <= 1
    # a view made wider (its splitter moved, the hint panel or the window) is drawn whole
    # again: the new strip showed the blown-up preview until the next pan
    view, splitter = tab.colour_view, tab.stack.widget(0)
    whole = sum(splitter.sizes())
    splitter.setSizes([whole - 200, 200])  # narrower: a small pan draws it again
    key = view._detail.pixmap().cacheKey()
    view.horizontalScrollBar().setValue(view.horizontalScrollBar().value() + 5)
    qtbot.waitUntil(lambda: view._detail.pixmap().cacheKey() != key, timeout=5000)
    splitter.setSizes([200, whole - 200])  # and wider
    qtbot.waitUntil(lambda: view._detail.boundingRect().width() * view._detail.scale()
                    >= view.mapToScene(view.viewport().rect()).boundingRect().width() - 2
                    and view._detail.pos().x() <= view.mapToScene(0, 0).x() + 1, timeout=5000)
    tab.fit()  # fitted again, nothing is magnified: the preview alone
    qtbot.waitUntil(lambda: not tab.colour_view._detail.isVisible(), timeout=5000)


def test_the_save_menu_items_wait_for_a_photo(window, qtbot, gray_photo):
    """File > Save and Save As were on offer with no photo, and did nothing."""
    assert not any(a.isEnabled() for a in window.save_actions)
    open_and_wait(window, qtbot, gray_photo)
    assert all(a.isEnabled() for a in window.save_actions)
