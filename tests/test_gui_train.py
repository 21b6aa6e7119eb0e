"""The Train tab, driven offscreen: a real (tiny) fine-tune from start to the picker."""

import pytest
from PIL import Image
from PySide6.QtWidgets import QMessageBox

from tests.conftest import gradient_photo


@pytest.fixture
def own_photos(tmp_path):
    root = tmp_path / "my colour photos"
    root.mkdir()
    for i in range(10):
        Image.fromarray(gradient_photo(48, 56, i)).save(root / f"c{i}.jpg", quality=95)
    Image.fromarray(gradient_photo(48, 56).mean(axis=2).astype("uint8")).save(root / "bw.png")
    (root / "bad.png").write_bytes(b"\x89PNG broken")
    return root


def test_scan_then_fine_tune_one_epoch_and_pick_the_new_model(window, qtbot, own_photos):
    tab = window.train_tab
    tab.add_folders([str(own_photos)])
    qtbot.waitUntil(lambda: tab.usable > 0, timeout=60_000)
    assert "10 usable" in tab.scan_label.text()
    assert "1 already black-and-white" in tab.scan_label.text()
    assert "1 unreadable (bad.png" in tab.scan_label.text()
    tab.epochs.setValue(1)
    tab.batch.setValue(4)
    with qtbot.waitSignal(window.host.worker.trainFinished, timeout=120_000) as done:
        tab.start_button.click()
    outcome = done.args[0]
    qtbot.waitUntil(lambda: not tab.running)
    assert not outcome.cancelled and outcome.steps > 0 and outcome.val_photos >= 1
    names = [tab.results.item(r, 0).text() for r in range(tab.results.rowCount())]
    assert names == ["gray baseline (a=b=0)", "before (base model)", "after (fine-tuned)"]
    assert len(tab._val) == 1 and tab.save_button.isEnabled()
    tab.name_edit.setText("Grandma's album")
    tab.save_button.click()
    picker = window.colorize_tab.model_box
    assert "Grandma_s album" in [picker.itemText(i) for i in range(picker.count())]


def test_cancel_keeps_the_best_checkpoint(window, qtbot, own_photos):
    tab = window.train_tab
    tab.add_folders([str(own_photos)])
    qtbot.waitUntil(lambda: tab.usable > 0, timeout=60_000)
    tab.epochs.setValue(200)
    tab.batch.setValue(2)
    window.host.worker.trainStep.connect(
        lambda step, total, loss: window.host.cancel() if step == 3 else None)
    with qtbot.waitSignal(window.host.worker.trainFinished, timeout=120_000) as done:
        tab.start_button.click()
    outcome = done.args[0]
    qtbot.waitUntil(lambda: not tab.running)
    assert outcome.cancelled and outcome.steps < 200
    assert outcome.best.endswith("best.safetensors")
    assert "Cancelled" in tab.progress_label.text()


def test_close_during_fine_tuning(window, qtbot, own_photos, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    tab = window.train_tab
    tab.add_folders([str(own_photos)])
    qtbot.waitUntil(lambda: tab.usable > 0, timeout=60_000)
    tab.epochs.setValue(500)
    with qtbot.waitSignal(window.host.worker.trainStep, timeout=60_000):
        tab.start_button.click()
    window.close()
    assert not window.host.thread.isRunning()
