"""The Batch tab's album pages, driven offscreen: the review dialog finds the prints off
the GUI thread, the user moves, turns, adds and removes rectangles, sees a print before
and after restoring, and the prints are cut, queued and colorized."""

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from skimage import data

from colorgui.pages_dialog import PagesDialog
from model import color
from model.album.synthetic import album_page, blank_page
from model.io.imageio import write_photo
from model.memory.album import FILE_NAME, album_of


def page_file(folder: Path, name="page.png", seed=1) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    photos = [color.from_uint8(x) for x in (data.astronaut(), data.chelsea(), data.coffee())]
    page = album_page(photos, "cream", np.random.default_rng(seed), 80, pale_edge=False)
    path = folder / name
    write_photo(path, page.rgb)
    return path


def open_review(qtbot, pages: list) -> PagesDialog:
    dialog = PagesDialog([str(p) for p in pages])
    qtbot.addWidget(dialog)
    # the dialog's own signals: a worker's, emitted on its thread, would stop the wait's
    # timer from there
    with qtbot.waitSignals([dialog.pageReviewed] * len(pages), timeout=60_000):
        dialog.show()
    return dialog


def drag(view, start, end) -> None:
    """Press at ``start``, move to ``end`` and let go, as a hand on the mouse would."""
    port = view.viewport()
    QTest.mousePress(port, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for t in (0.25, 0.5, 0.75, 1.0):
        QTest.mouseMove(port, start + (end - start) * t)
    QTest.mouseRelease(port, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


def test_the_review_shows_each_print_found_over_its_page(qtbot, tmp_path):
    dialog = open_review(qtbot, [page_file(tmp_path)])
    assert len(dialog.view.items_()) == 3
    assert "3 prints found" in dialog.page_list.item(0).text()
    assert dialog.queue_button.isEnabled() and dialog.queue_button.text() == "Queue 3 prints"
    # the whole page and the margin for its handles fit: nothing to scroll
    for size in ((900, 700), (700, 500)):
        dialog.resize(*size)
        qtbot.wait(20)
        view = dialog.view
        assert view.horizontalScrollBar().maximum() == view.verticalScrollBar().maximum() == 0
    dialog.reject()


def test_a_rectangle_dragged_by_hand_moves_on_the_page(qtbot, tmp_path):
    dialog = open_review(qtbot, [page_file(tmp_path)])
    item = dialog.view.items_()[0]
    before = dialog.view.rect_of(item)
    start = dialog.view.mapFromScene(item.pos())
    drag(dialog.view, start, start + QPoint(30, 20))
    after = dialog.view.rect_of(item)
    assert after.cx > before.cx + 10 and after.cy > before.cy + 5
    assert (after.width, after.height) == (before.width, before.height)
    dialog.reject()


def test_a_rectangle_cannot_be_dragged_off_the_page(qtbot, tmp_path):
    """Dragged off, it was drawn nowhere, so it could not be removed, and it was cut and
    colorized as a blank photo."""
    dialog = open_review(qtbot, [page_file(tmp_path)])
    view = dialog.view
    item = view.items_()[0]
    start = view.mapFromScene(item.pos())
    drag(view, start, start + QPoint(3000, 2000))
    rect, page = view.rect_of(item), view._pixmap.boundingRect()
    s = view.scale_to_page  # its centre a quarter of its size inside: most of it on the page
    assert rect.width / 4 - 1 <= rect.cx <= page.width() / s - rect.width / 4 + 1
    assert rect.height / 4 - 1 <= rect.cy <= page.height() / s - rect.height / 4 + 1
    assert view.viewport().rect().contains(view.mapFromScene(item.pos()))  # still seen
    for _ in range(1000):  # nor nudged off with the keys
        item.keyPressEvent(_key(Qt.Key.Key_Left))
    assert view.rect_of(item).cx >= view.rect_of(item).width / 4 - 1
    dialog.reject()


def _key(key):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QKeyEvent

    return QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier)


def test_rectangles_are_turned_removed_and_added(qtbot, tmp_path):
    dialog = open_review(qtbot, [page_file(tmp_path)])
    item = dialog.view.items_()[0]
    item.setSelected(True)
    angle = dialog.view.rect_of(item).angle
    dialog.right_button.click()
    assert abs(dialog.view.rect_of(item).angle - (angle + 0.5)) < 1e-6
    dialog.remove_button.click()
    assert len(dialog.view.items_()) == 2 and dialog.queue_button.text() == "Queue 2 prints"
    dialog.add_button.click()
    assert len(dialog.view.items_()) == 3
    dialog.redo_button.click()  # back to what was found
    assert len(dialog.view.items_()) == 3
    dialog.reject()


def test_the_selected_print_is_shown_before_and_after_restoring(qtbot, tmp_path):
    dialog = open_review(qtbot, [page_file(tmp_path)])
    dialog.view.items_()[1].setSelected(True)
    with qtbot.waitSignal(dialog.previewShown, timeout=60_000):
        dialog.tone_box.setChecked(True)
    assert not dialog.before_after.pixmap().isNull()
    assert "tone" in dialog.restore_note.text()
    for size in ((800, 560), (1400, 900)):  # it keeps fitting as the dialog is resized
        dialog.resize(*size)
        qtbot.wait(20)
        shown, room = dialog.before_after.pixmap().size(), dialog.before_after.contentsRect()
        assert shown.width() <= room.width() and shown.height() <= room.height()
        assert shown.width() >= room.width() - 2 or shown.height() >= room.height() - 2
    dialog.reject()


def test_another_page_does_not_show_the_last_pages_print(qtbot, tmp_path):
    from colorgui.pages_dialog import NO_PRINT

    dialog = open_review(qtbot, [page_file(tmp_path), page_file(tmp_path, "two.png", seed=2)])
    dialog.view.items_()[0].setSelected(True)
    with qtbot.waitSignal(dialog.previewShown, timeout=60_000):
        dialog.tone_box.setChecked(True)
    dialog.page_list.setCurrentRow(1)  # nothing selected there yet
    qtbot.waitUntil(lambda: dialog.before_after.text() == NO_PRINT, timeout=5000)
    assert dialog.before_after.pixmap().isNull() and dialog.restore_note.text() == ""
    dialog.reject()


def test_a_bad_page_and_an_empty_page_say_so(qtbot, tmp_path):
    good = page_file(tmp_path)
    broken = tmp_path / "broken.png"
    broken.write_bytes(good.read_bytes()[:2000])
    blank = tmp_path / "blank.png"
    write_photo(blank, blank_page("black", np.random.default_rng(0), 80).rgb)
    dialog = open_review(qtbot, [broken, blank])
    assert "failed:" in dialog.page_list.item(0).text()
    assert "no photo found" in dialog.page_list.item(1).text()
    assert not dialog.queue_button.isEnabled()
    dialog.reject()


def test_album_pages_in_the_batch_tab_are_reviewed_cut_queued_and_colorized(window, qtbot,
                                                                          tmp_path):
    page = page_file(tmp_path / "scans")
    before = page.read_bytes()
    write_photo(tmp_path / "scans" / "zz blank.png",
                blank_page("black", np.random.default_rng(0), 80).rgb)
    tab = window.batch_tab
    tab.output_edit.setText(str(tmp_path / "out"))
    tab.album_pages.setChecked(True)
    tab.add_paths([str(page.parent)])
    dialog = tab.pages_dialog
    qtbot.waitUntil(lambda: len(dialog.reviews) == 2, timeout=60_000)
    dialog.page_list.setCurrentRow(0)
    item = dialog.view.items_()[0]
    start = dialog.view.mapFromScene(item.pos())
    drag(dialog.view, start, start + QPoint(4, 3))
    with qtbot.waitSignal(dialog.printsReady, timeout=60_000) as cut:
        dialog.queue_button.click()
    assert len(cut.args[0]) == 3 and all(Path(c.path).is_file() for c in cut.args[0])
    qtbot.waitUntil(lambda: tab.table.rowCount() == 3)
    assert [tab.table.item(r, 0).text() for r in range(3)] == \
        ["page_01.png", "page_02.png", "page_03.png"]
    # the page that gave no print is said beside the count (the count replaced it)
    assert tab.progress_label.text() == \
        "3 photos in the queue. zz blank.png: no photo found on the page."
    tab.album_memory.setChecked(True)
    with qtbot.waitSignal(window.host.batchFinished, timeout=120_000) as done:
        tab.start_button.click()
    assert done.args[1:] == [3, 0, 0, False]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == \
        ["page_01.png", "page_02.png", "page_03.png"]
    assert page.read_bytes() == before
    # the prints lie in the app's cache, one folder per page; their album is the pages'
    # folder, where its memory is kept (each page was an album of its own, out of sight)
    assert {album_of(c.path) for c in cut.args[0]} == {page.parent}
    assert (page.parent / FILE_NAME).is_file()
    assert not (Path(cut.args[0][0].path).parent / FILE_NAME).exists()


def test_the_number_on_each_rectangle_is_its_prints_number_in_the_file_names(qtbot,
                                                                             tmp_path):
    """Prints are written in reading order (``_01`` top left); a rectangle added in the
    middle of the page was labelled 3 and written as ``_02``."""
    dialog = open_review(qtbot, [page_file(tmp_path)])
    view = dialog.view
    dialog.add_button.click()  # in the page's middle
    item = view.items_()[0]
    start = view.mapFromScene(item.pos())
    drag(view, start, start + QPoint(0, 60))  # and one moved down
    order = view.rects()
    assert len(order) == 4
    for item in view.items_():
        shown = order[item.number - 1]
        mine = view.rect_of(item)
        assert (round(shown.cx, 3), round(shown.cy, 3)) == (round(mine.cx, 3), round(mine.cy, 3))
    assert sorted(i.number for i in view.items_()) == [1, 2, 3, 4]
    dialog.reject()


def test_cancel_while_prints_are_cut_returns_at_once_and_queues_nothing(qtbot, tmp_path,
                                                                        monkeypatch):
    """Cancel while a 600 dpi page's prints were restored froze the window for 100 s,
    and then queued the prints all the same."""
    import threading

    import colorgui.pages_worker as pages_worker
    import model.album.prints as prints
    from colorgui.pages_worker import prints_folder

    started, release = threading.Event(), threading.Event()

    def held(rgb, options):  # a large print's dust being cleaned, on the pages' thread
        started.set()
        release.wait(30)
        return rgb, []

    monkeypatch.setattr(prints, "restore_print", held)
    monkeypatch.setattr(pages_worker, "STOP_WAIT_MS", 50)
    page = page_file(tmp_path)
    dialog = open_review(qtbot, [page])
    queued = []
    dialog.printsReady.connect(queued.append)
    dialog.tone_box.setChecked(True)
    dialog.queue()
    assert started.wait(30)
    assert not dialog.view.isEnabled() and not dialog.add_button.isEnabled()  # cut as shown
    dialog.reject()  # returns while the print in hand is still being restored
    finishing = [thread for thread, _ in pages_worker._FINISHING]
    assert dialog.pages_thread.thread in finishing and dialog.pages_thread.thread.isRunning()
    release.set()
    qtbot.waitUntil(lambda: not pages_worker._FINISHING, timeout=30_000)
    assert queued == []
    # it stopped after the print in hand: the page's other two were never cut
    assert len(list(prints_folder(str(page)).glob("*.png"))) == 1


def test_the_keyboard_selects_a_print_and_the_tools_follow_the_selection(qtbot, tmp_path):
    """Tab into the page selected no rectangle, so [ ] and Delete did nothing without a
    mouse; Remove and Turn were on offer with nothing selected; and the dialog's fixed
    1280×860 ran off a 1366×768 screen."""
    dialog = open_review(qtbot, [page_file(tmp_path)])
    room = dialog.screen().availableGeometry()
    assert dialog.width() <= room.width() and dialog.height() <= room.height()
    dialog.view.scene().clearSelection()
    assert not dialog.remove_button.isEnabled() and not dialog.left_button.isEnabled()
    dialog.activateWindow()
    dialog.view.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: dialog.view.selected() is not None)
    assert dialog.remove_button.isEnabled() and dialog.right_button.isEnabled()
    QTest.keyClick(dialog.view.viewport(), Qt.Key.Key_Delete)
    assert len(dialog.view.items_()) == 2
    dialog.reject()
