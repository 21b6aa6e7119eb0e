"""Files and folders in the app: Open Recent, where things are saved, the file dialogs."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QFileDialog

from tests.conftest import gradient_photo, open_and_wait


@pytest.fixture
def gray_photo(tmp_path):
    path = tmp_path / "photos" / "astronaut.png"
    path.parent.mkdir()
    Image.fromarray(gradient_photo(48, 64).mean(axis=2).astype(np.uint8)).save(path)
    return path


def recent_menu_entries(window) -> list[str]:
    return [a.text() for a in window.recent_menu.actions()]


def test_open_recent_remembers_a_relative_path_as_absolute(window, qtbot, gray_photo,
                                                           monkeypatch):
    monkeypatch.chdir(gray_photo.parent.parent)
    window.open_paths(["photos/astronaut.png"])
    qtbot.waitUntil(lambda: window.colorize_tab.result is not None, timeout=60_000)
    assert window.settings.recent_files() == [str(gray_photo)]
    assert recent_menu_entries(window) == [str(gray_photo)]
    assert window.colorize_tab.result.path == str(gray_photo)


@pytest.mark.parametrize("tab", ["batch_tab", "train_tab"])
def test_a_photo_opened_from_another_tab_shows_the_colorize_tab(window, qtbot, gray_photo,
                                                                 tab):
    """File > Open, Open Recent or a photo given at start-up, while the Batch or Train tab
    is in front: the photo opened in the hidden Colorize tab and nothing seemed to happen."""
    window.tabs.setCurrentWidget(getattr(window, tab))
    open_and_wait(window, qtbot, gray_photo)
    assert window.tabs.currentWidget() is window.colorize_tab


def test_a_file_that_could_not_be_opened_is_not_kept_in_open_recent(window, qtbot, gray_photo,
                                                                     tmp_path, monkeypatch):
    errors = []
    monkeypatch.setattr(window, "error", lambda title, reason: errors.append(reason))
    open_and_wait(window, qtbot, gray_photo)
    broken = tmp_path / "notes.png"
    broken.write_text("not a photo")
    window.open_paths([str(broken)])
    qtbot.waitUntil(lambda: bool(errors), timeout=60_000)
    assert window.settings.recent_files() == [str(gray_photo)]
    assert recent_menu_entries(window) == [str(gray_photo)]


def test_open_recent_forgets_a_photo_that_is_gone_and_says_so(window, qtbot, gray_photo,
                                                             monkeypatch):
    errors = []
    monkeypatch.setattr(window, "error", lambda title, reason: errors.append((title, reason)))
    open_and_wait(window, qtbot, gray_photo)
    gray_photo.unlink()
    window.recent_menu.actions()[0].trigger()
    assert errors == [("astronaut.png is no longer there",
                       f"{gray_photo} was moved, renamed or deleted, so it is gone from "
                       "Open Recent.")]
    assert window.settings.recent_files() == [] and recent_menu_entries(window) == []
    assert not window.recent_menu.isEnabled()


def test_a_missing_file_is_named_as_a_file_not_a_folder(window, monkeypatch, tmp_path):
    errors = []
    monkeypatch.setattr(window, "error", lambda title, reason: errors.append((title, reason)))
    window.open_paths([str(tmp_path / "gone.png")])
    (tmp_path / "empty").mkdir()
    window.open_paths([str(tmp_path / "empty")])
    reasons = [reason for _, reason in errors]
    assert reasons[0] == f"{tmp_path / 'gone.png'} is not there (moved, renamed or deleted?)."
    assert reasons[1] == f"The folder {tmp_path / 'empty'} holds no photos."
    assert not any("No photos found in" in r for r in reasons)


def test_a_batch_leaves_the_preferences_output_folder_alone(window, qtbot, gray_photo,
                                                           tmp_path):
    tab = window.batch_tab
    tab.add_paths([str(gray_photo.parent)])
    tab.output_edit.setText(str(tmp_path / "batch out"))
    with qtbot.waitSignal(window.host.batchFinished, timeout=60_000):
        tab.start_button.click()
    assert window.settings.output_dir == ""  # single photos are still saved beside the original
    assert window.settings.batch_output_dir == str(tmp_path / "batch out")
    open_and_wait(window, qtbot, gray_photo)
    with qtbot.waitSignal(window.host.saved, timeout=60_000) as saved:
        window.save()
    assert Path(saved.args[1]).parent == gray_photo.parent


def save_as_dialog(window, monkeypatch, answer=("", "")) -> list:
    """What Save As asks the file dialog, answering ``answer``."""
    asked = []

    def dialog(parent, caption, start, filters, selected=""):
        asked.append((start, selected))
        return answer

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    return asked


@pytest.mark.parametrize("fmt, suffix, chosen", [("jpg", ".jpg", "JPEG image (*.jpg *.jpeg)"),
                                                 ("tif", ".tif", "TIFF image (*.tif *.tiff)"),
                                                 ("same", ".png", "PNG image (*.png)")])
def test_save_as_offers_the_filter_that_matches_the_name(window, qtbot, gray_photo, monkeypatch,
                                                        fmt, suffix, chosen):
    window.settings.output_format = fmt
    open_and_wait(window, qtbot, gray_photo)
    asked = save_as_dialog(window, monkeypatch)
    window.save_as()
    assert asked == [(str(gray_photo.parent / f"astronaut_colorized{suffix}"), chosen)]


def test_save_as_gives_a_bare_name_the_chosen_filters_suffix(window, qtbot, gray_photo,
                                                           monkeypatch, tmp_path):
    open_and_wait(window, qtbot, gray_photo)
    save_as_dialog(window, monkeypatch, (str(tmp_path / "mine"), "JPEG image (*.jpg *.jpeg)"))
    with qtbot.waitSignal(window.host.saved, timeout=60_000) as saved:
        window.save_as()
    assert saved.args[1] == str(tmp_path / "mine.jpg") and (tmp_path / "mine.jpg").is_file()


def test_file_dialogs_open_in_the_last_folder_used_not_the_working_one(window, monkeypatch,
                                                                      gray_photo, tmp_path):
    from colorgui.settings import Settings

    monkeypatch.chdir(tmp_path)
    starts = []

    def pick(parent, caption, start, *rest):
        starts.append(start)
        return [str(gray_photo)], ""

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", pick)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        lambda parent, caption, start, *rest: starts.append(start) or "")
    monkeypatch.setattr(window, "open_paths", lambda paths: None)
    window.open_dialog()
    window.batch_tab._add_folder_dialog()
    window.train_tab._add_folder_dialog()
    assert starts == [str(Path.home()), str(gray_photo.parent), str(gray_photo.parent)]
    assert Settings(window.settings.q.fileName()).last_folder == str(gray_photo.parent)


def test_preferences_has_a_shortcut(window):
    action = next(a for a in window.menuBar().actions()[0].menu().actions()
                  if a.text() == "&Preferences…")
    assert not action.shortcut().isEmpty()


def test_a_photo_saved_as_bmp_is_said_to_carry_no_ai_marking(window):
    window.settings.provenance = True
    window._saved(1, "/photos/a_colorized.bmp")
    assert "BMP holds no metadata" in window.statusBar().currentMessage()
    window._saved(2, "/photos/a_colorized.png")
    assert window.statusBar().currentMessage() == "Saved /photos/a_colorized.png"


def test_a_batch_to_bmp_is_said_to_carry_no_ai_marking_as_it_starts(window, monkeypatch):
    monkeypatch.setattr(window, "_submit", lambda request: None)
    window.settings.provenance = True
    window.start_batch([(0, "/photos/a.png", "/out/a.bmp")], False)
    assert "BMP holds no metadata" in window.statusBar().currentMessage()


def test_save_as_gives_a_name_colorgui_cannot_write_the_chosen_formats_suffix():
    """c.gif was written as a PNG under its GIF name."""
    from colorgui.window_files import SAVE_FILTERS, with_filter_suffix

    jpeg = SAVE_FILTERS[".jpg"]
    assert [with_filter_suffix(n, jpeg) for n in ("c.gif", "c", "grandma.1950", "c.JPEG",
                                                  "c.tif", "c.png")] == \
        ["c.gif.jpg", "c.jpg", "grandma.1950.jpg", "c.JPEG", "c.tif", "c.png"]
