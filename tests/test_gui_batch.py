"""The Batch tab, driven offscreen."""

import hashlib
import time
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from PIL import Image
from tests.conftest import gradient_photo, start_batch


def album(tmp_path, n=2, corrupt=True):
    root = tmp_path / "album"
    root.mkdir()
    for i in range(n):
        Image.fromarray(gradient_photo(64, 80, i)).convert("L").save(root / f"p{i}.png")
    if corrupt:
        (root / "broken.jpg").write_bytes(b"not a jpeg at all")
    return root


def digests(folder):
    return {p: hashlib.sha1(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()}


@contextmanager
def slow_photos(window, seconds: float):
    """Each photo of a batch takes ``seconds`` longer: time to act while it runs."""
    colorizer = window.host.worker.colorizer
    real = colorizer.predict

    def slow(*a, **k):
        time.sleep(seconds)
        return real(*a, **k)

    colorizer.predict = slow
    try:
        yield
    finally:
        colorizer.predict = real


def test_batch_of_three_with_one_corrupt(window, qtbot, tmp_path):
    root = album(tmp_path)
    before = digests(root)
    tab = window.batch_tab
    tab.add_paths([str(root)])
    assert tab.table.rowCount() == 3
    tab.output_edit.setText(str(tmp_path / "out"))
    with qtbot.waitSignal(window.host.batchFinished, timeout=60_000) as done:
        tab.start_button.click()
    assert done.args[1:] == [2, 0, 1, False]
    qtbot.waitUntil(lambda: not tab.running)  # the tab has handled the end too
    states = {tab.table.item(r, 0).text(): (tab.state(r), tab.table.item(r, 2).text())
              for r in range(3)}
    assert states["broken.jpg"][0] == "failed" and "not an image" in states["broken.jpg"][1]
    assert states["p0.png"][0] == states["p1.png"][0] == "done"
    assert sorted(p.name for p in (tmp_path / "out" / "album").iterdir()) == ["p0.png", "p1.png"]
    assert digests(root) == before
    assert "2 colorized, 0 skipped, 1 failed" in tab.progress_label.text()


def test_cancel_mid_batch_leaves_no_half_files(window, qtbot, tmp_path):
    root = album(tmp_path, n=6, corrupt=False)
    tab = window.batch_tab
    tab.add_paths([str(root)])
    tab.output_edit.setText(str(tmp_path / "out"))
    colorizer = window.host.worker.colorizer
    real = colorizer.predict
    slowed = []

    def slow(*a, **k):  # a photo takes a while, so the cancel lands mid-batch
        slowed.append(1)
        time.sleep(0.3)
        return real(*a, **k)

    colorizer.predict = slow
    tab.start_button.click()
    qtbot.waitUntil(lambda: any(tab.state(r) == "done" for r in range(6)), timeout=60_000)
    with qtbot.waitSignal(window.host.batchFinished, timeout=60_000) as done:
        tab.cancel_button.click()
    n_done, _, _, cancelled = done.args[1:]
    qtbot.waitUntil(lambda: not tab.running)
    assert cancelled and 1 <= n_done < 6
    assert len(slowed) == n_done  # every photo went through the slowed step, none after
    out = sorted((tmp_path / "out" / "album").iterdir())
    assert len(out) == n_done and all(p.suffix == ".png" for p in out)  # no .part files
    assert sum(tab.state(r) == "done" for r in range(6)) == n_done
    # the rest say they were cancelled, not that they still wait
    assert sorted(tab.state(r) for r in range(6) if tab.state(r) != "done") == \
        ["cancelled"] * (6 - n_done)
    assert not tab.running and tab.start_button.isEnabled()
    # running the batch again finishes only what is missing
    colorizer.predict = real
    with qtbot.waitSignal(window.host.batchFinished, timeout=60_000) as again:
        tab.start_button.click()
    assert again.args[1:] == [6 - n_done, n_done, 0, False]


def test_a_running_batch_keeps_its_rows_and_options(window, qtbot, tmp_path):
    """A folder dropped on the window while a batch ran rebuilt the table mid-run (done
    rows said waiting, the new photos never ran); the format could be changed mid-run,
    shown and saved, but not used."""
    root = album(tmp_path, n=4, corrupt=False)
    more = tmp_path / "more"
    more.mkdir()
    Image.fromarray(gradient_photo(64, 80, 9)).save(more / "q.png")
    tab = window.batch_tab
    tab.add_paths([str(root)])
    tab.output_edit.setText(str(tmp_path / "out"))
    with slow_photos(window, 0.3), qtbot.waitSignal(window.host.batchFinished,
                                                    timeout=60_000):
        tab.start_button.click()
        qtbot.waitUntil(lambda: any(tab.state(r) == "done" for r in range(4)), timeout=60_000)
        assert not any(w.isEnabled() for w in (tab.format_box, tab.output_edit,
                                               tab.browse_button, tab.keep_structure))
        tab.add_paths([str(more)])  # as a drop on the window passes it on
        assert tab.table.rowCount() == 4 and "Wait for the batch" in tab.progress_label.text()
    qtbot.waitUntil(lambda: not tab.running)
    assert [tab.state(r) for r in range(4)] == ["done"] * 4
    assert tab.format_box.isEnabled()


def test_double_click_done_row_opens_it_in_colorize(window, qtbot, tmp_path):
    root = album(tmp_path, n=1, corrupt=False)
    tab = window.batch_tab
    tab.add_paths([str(root)])
    tab.output_edit.setText(str(tmp_path / "out"))
    with qtbot.waitSignal(window.host.batchFinished, timeout=60_000):
        tab.start_button.click()
    with qtbot.waitSignal(window.host.colorized, timeout=60_000):
        tab.table.cellDoubleClicked.emit(0, 0)
    assert window.tabs.currentWidget() is window.colorize_tab


def test_remove_and_clear(window, tmp_path):
    root = album(tmp_path, n=3, corrupt=False)
    tab = window.batch_tab
    tab.add_paths([str(root)])
    tab.table.selectRow(1)
    tab.remove_selected()
    assert tab.table.rowCount() == 2
    tab.clear()
    assert tab.table.rowCount() == 0 and not tab.start_button.isEnabled()


def test_close_during_a_batch(window, qtbot, tmp_path, monkeypatch):
    root = album(tmp_path, n=6, corrupt=False)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    start_batch(window, qtbot, root, tmp_path / "out")
    window.close()
    assert not window.host.thread.isRunning()
    leftovers = [p for p in (tmp_path / "out").rglob("*") if p.name.endswith(".part")]
    assert leftovers == []


def test_a_paused_batch_keeps_saying_so_and_its_pace_leaves_the_pause_out(window, tmp_path,
                                                                          monkeypatch):
    """The photo in hand finishes after Pause: the label said "Paused." until then, and
    then showed the pace and the time left as if the batch were running."""
    import colorgui.batch_tab as batch_tab

    now = [1000.0]
    monkeypatch.setattr(batch_tab.time, "monotonic", lambda: now[0])
    tab = window.batch_tab
    tab.add_paths([str(album(tmp_path, n=4, corrupt=False))])
    tab.running, tab._total, tab._finished, tab._started_at = True, 4, 0, now[0]
    tab.pauseRequested.disconnect()  # no batch runs: the tab alone is tried
    now[0] += 10
    tab.set_state(0, "done", "")
    assert tab.progress_label.text() == "1 of 4 — " + tab.table.item(0, 0).text() + \
        " — 0.10 photos/s — about 0:30 left"
    tab.toggle_pause()
    now[0] += 5
    tab.set_state(1, "done", "")  # the photo in hand, finished after Pause
    assert tab.progress_label.text().startswith("Paused. 2 of 4")
    now[0] += 600  # a long pause
    tab.toggle_pause()
    assert not tab.progress_label.text().startswith("Paused")
    now[0] += 5
    tab.set_state(2, "done", "")
    assert "0.20 photos/s" in tab.progress_label.text()  # 3 photos in 15 s unpaused


def test_the_queue_is_planned_again_as_its_options_change_and_they_are_kept(window, tmp_path):
    """After a run, other options left the old states and output paths in the table until
    Start; and Format, Keep folder structure and Skip existing were back to their
    defaults at the next start of the app."""
    from colorgui.batch_tab import BatchTab

    tab = window.batch_tab
    tab.add_paths([str(album(tmp_path, n=2, corrupt=False))])
    tab.set_state(0, "done", str(tmp_path / "out" / "album" / "p0.png"))
    tab.keep_structure.setChecked(False)
    assert tab.state(0) == "waiting" and tab.table.item(0, 2).text() == ""
    tab.format_box.setCurrentIndex(tab.format_box.findData("png"))
    tab.skip_existing.setChecked(False)
    tab.output_edit.setText(str(tmp_path / "colour"))  # typed, never started: kept too
    tab.output_edit.editingFinished.emit()
    again = BatchTab(window.settings)
    assert again.format_box.currentData() == "png"
    assert not again.keep_structure.isChecked() and not again.skip_existing.isChecked()
    assert again.output_edit.text() == str(tmp_path / "colour")
    again.deleteLater()


def test_two_photos_of_one_name_in_a_flattened_folder_are_told_apart(window, tmp_path):
    """Without folder structure, 1950/p0.png and 1951/p0.png were two rows both named
    "p0.png"."""
    root = tmp_path / "albums"
    for year in ("1950", "1951"):
        (root / year).mkdir(parents=True)
        Image.fromarray(gradient_photo(64, 80, 0)).convert("L").save(root / year / "p0.png")
    Image.fromarray(gradient_photo(64, 80, 1)).convert("L").save(root / "1951" / "p1.png")
    tab = window.batch_tab
    tab.keep_structure.setChecked(False)
    tab.add_paths([str(root)])
    names = sorted(tab.table.item(r, 0).text() for r in range(tab.table.rowCount()))
    assert names == [str(Path("1950", "p0.png")), str(Path("1951", "p0.png")), "p1.png"]


def test_a_folder_with_a_symbolic_link_loop_is_queued_with_the_loop_failed(window, tmp_path):
    """Naming the queue's rows resolved every path, and a loop raised out of the plan."""
    root = album(tmp_path, n=1, corrupt=False)
    (root / "loop1.jpg").symlink_to("loop2.jpg")
    (root / "loop2.jpg").symlink_to("loop1.jpg")
    tab = window.batch_tab
    tab.add_paths([str(root)])
    states = {tab.table.item(r, 0).text(): tab.state(r) for r in range(tab.table.rowCount())}
    assert states == {"p0.png": "waiting", "loop1.jpg": "failed", "loop2.jpg": "failed"}


def test_an_output_folder_that_cannot_be_written_is_said_once_before_the_start(
        window, qtbot, tmp_path, monkeypatch):
    """Each photo failed on its own after it was colorized ("File exists", five times)."""
    tab = window.batch_tab
    tab.add_paths([str(album(tmp_path, n=2, corrupt=False))])
    (tmp_path / "notes.txt").write_text("mine")
    tab.output_edit.setText(str(tmp_path / "notes.txt"))
    said = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: said.append(a[2]))
    tab.start_button.click()
    assert not tab.running and said == [f"{tmp_path / 'notes.txt'} is a file, not a folder. "
                                        f"Choose another folder."]
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_file_that_is_no_photo_is_left_out_of_the_queue_and_said(window, tmp_path):
    """notes.txt added beside a photo was counted and listed as a photo to colorize."""
    root = album(tmp_path, n=1, corrupt=False)
    (tmp_path / "notes.txt").write_text("who is who")
    tab = window.batch_tab
    tab.add_paths([str(root / "p0.png"), str(tmp_path / "notes.txt")])
    assert [tab.table.item(r, 0).text() for r in range(tab.table.rowCount())] == ["p0.png"]
    assert tab.inputs == [str(root / "p0.png")]
    assert tab.progress_label.text() == "1 photo in the queue. Left out, not a photo: notes.txt."
    # what a decoder knows is a photo, whatever its name says (the CLI tries it too)
    Image.fromarray(gradient_photo(64, 80, 3)).save(tmp_path / "scan.tga")
    Image.fromarray(gradient_photo(64, 80, 4)).save(tmp_path / "scan002", format="PNG")
    tab.add_paths([str(tmp_path / "scan.tga"), str(tmp_path / "scan002")])
    assert tab.inputs[1:] == [str(tmp_path / "scan.tga"), str(tmp_path / "scan002")]


def test_the_status_bar_says_a_paused_batch_is_paused(window, qtbot, tmp_path):
    """While paused, the status bar still said "running: batch"."""
    with slow_photos(window, 0.2):
        start_batch(window, qtbot, album(tmp_path, n=4, corrupt=False), tmp_path / "out")
        shown = [window.jobs_label.text()]
        for _ in range(2):  # Pause, then Resume
            window.batch_tab.pause_button.click()
            shown.append(window.jobs_label.text())
        with qtbot.waitSignal(window.host.batchFinished, timeout=60_000):
            window.batch_tab.cancel_button.click()
    assert shown == ["running: batch", "paused: batch", "running: batch"]


def test_an_empty_save_to_never_plans_into_the_folder_the_app_was_started_in(
        window, tmp_path, monkeypatch):
    """With Save to empty, the queue was planned into the working folder: started from
    the album's parent, the album's photos "would go into the folder itself", and a photo
    of that folder "would overwrite an input photo"."""
    monkeypatch.chdir(tmp_path)
    root = album(tmp_path, n=2, corrupt=False)
    Image.fromarray(gradient_photo(64, 80, 5)).convert("L").save(tmp_path / "a.png")
    tab = window.batch_tab
    assert tab.output_edit.text() == ""
    tab.add_paths([str(root), str(tmp_path / "a.png")])
    rows = {tab.table.item(r, 0).text(): (tab.state(r), tab.table.item(r, 2).text())
            for r in range(tab.table.rowCount())}
    assert rows == {"p0.png": ("waiting", ""), "p1.png": ("waiting", ""),
                    "a.png": ("waiting", "")}


def test_start_with_an_empty_save_to_asks_for_a_folder_and_plans_into_it(
        window, qtbot, tmp_path, monkeypatch):
    """The queue is planned without a folder while Save to is empty; Start asks for one
    and the worker gets every output inside it."""
    monkeypatch.chdir(tmp_path)
    root = album(tmp_path, n=2, corrupt=False)
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    monkeypatch.setattr("colorgui.batch_tab.existing_folder", lambda *a, **k: str(chosen))
    tab = window.batch_tab
    sent = []
    tab.startRequested.connect(lambda jobs, _again: sent.extend(jobs))
    tab.add_paths([str(root)])
    with qtbot.waitSignal(window.host.batchFinished, timeout=60_000):
        tab.start_button.click()
    assert [Path(target) for _, _, target in sent] == [chosen / "album" / "p0.png",
                                                        chosen / "album" / "p1.png"]


def test_the_table_follows_the_running_row(window, tmp_path):
    """With many rows, the row being colorized scrolled out of view."""
    tab = window.batch_tab
    window.tabs.setCurrentWidget(tab)
    tab.add_paths([str(album(tmp_path, n=40, corrupt=False))])
    last = tab.table.item(39, 0)
    assert not tab._in_view(39)
    tab.set_state(38, "running", "")  # as the window passes the worker's word on
    assert tab._in_view(38)
    tab.set_state(38, "done", "")
    tab.set_state(39, "running", "")
    assert tab.table.viewport().rect().contains(tab.table.visualItemRect(last))
    # once the user has scrolled away (to look at a failed row), the table stays there
    tab.table.scrollToTop()
    tab.set_state(39, "done", "")
    tab.set_state(0, "running", "")
    tab.set_state(0, "done", "")
    tab.table.scrollToItem(tab.table.item(10, 0))
    top = tab.table.verticalScrollBar().value()
    tab.set_state(1, "running", "")  # row 0 (the one before) is still in view: follow
    tab.table.scrollToItem(last)
    top = tab.table.verticalScrollBar().value()
    tab.set_state(2, "running", "")  # row 1 scrolled out of view by the user: stay
    assert tab.table.verticalScrollBar().value() == top


def test_a_save_to_that_is_no_whole_path_is_said_and_a_home_path_is_taken(
        window, qtbot, tmp_path, monkeypatch):
    """A typed "colour" went into the folder the app was started from, wherever that was;
    "~/colour" into a folder named "~" there."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    tab = window.batch_tab
    tab.add_paths([str(album(tmp_path, n=1, corrupt=False))])
    said = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: said.append(a[2]))
    tab.output_edit.setText("colour")
    tab.start_button.click()
    assert not tab.running and said and said[0].startswith("colour is not a whole folder path")
    tab.output_edit.setText("~/colour")
    with qtbot.waitSignal(window.host.batchFinished, timeout=60_000):
        tab.start_button.click()
    assert (tmp_path / "home" / "colour" / "album" / "p0.png").is_file()
    assert not (tmp_path / "~").exists() and not (tmp_path / "colour").exists()
