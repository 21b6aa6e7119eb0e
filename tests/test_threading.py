"""Widgets are touched on the GUI thread only: every reply of the worker thread reaches
the window through a slot that Qt runs on the GUI thread."""

import threading

import numpy as np
from PIL import Image
from PySide6.QtWidgets import QFileDialog

from model.io.imageio import read_photo
from tests.conftest import gradient_photo, open_and_wait


def test_save_twice_then_the_window_lives_on(window, qtbot, tmp_path, monkeypatch):
    """Save and Save As once crashed the app some seconds after writing: the "Saved"
    message was shown from the worker thread, which started the status bar's timer
    there."""
    photo = tmp_path / "old photo.png"
    Image.fromarray(gradient_photo(90, 120).mean(axis=2).astype(np.uint8)).save(photo)
    bar = window.statusBar()
    shown_on = []
    real_show = bar.showMessage

    def show_message(text, timeout=0):
        shown_on.append(threading.current_thread())
        real_show(text, min(timeout, 300))  # the message goes again soon: wait for that

    monkeypatch.setattr(bar, "showMessage", show_message)
    open_and_wait(window, qtbot, photo)
    with qtbot.waitSignal(window.host.saved, timeout=60_000):
        window.save()
    again = tmp_path / "again.jpg"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(again), ""))
    with qtbot.waitSignal(window.host.saved, timeout=60_000):
        window.save_as()
    qtbot.waitUntil(lambda: bar.currentMessage() == f"Saved {again}", timeout=5000)
    with qtbot.waitSignal(bar.messageChanged, timeout=5000,
                          check_params_cb=lambda message: message == ""):
        pass  # the status bar's own timer took the message away: it lives on this thread
    assert read_photo(again).size == (120, 90)
    assert (tmp_path / "old photo_colorized.png").is_file()
    assert shown_on and set(shown_on) == {threading.main_thread()}
    open_and_wait(window, qtbot, again)  # the window still works
