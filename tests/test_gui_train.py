"""The Train tab, driven offscreen: a real (tiny) fine-tune from start to the picker."""

from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtWidgets import QMessageBox

from colorgui.jobs import SignalProgress
from model.progress import FEATURES, TRAINING, Progress
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
    # before the run: who trains and who judges, and what the time budget does
    assert tab.plan_label.text().startswith("About 9 of your photos will train and 1 will both")
    assert "(the most set under Advanced) take about 2:30 of the 5:00" in tab.expect_label.text()
    tab.epochs.setValue(1)  # (an upper bound under Advanced: the budget decides)
    tab.batch.setValue(4)
    with qtbot.waitSignal(window.host.trainFinished, timeout=120_000) as done:
        tab.start_button.click()
    outcome = done.args[1]
    qtbot.waitUntil(lambda: not tab.running)
    assert not outcome.cancelled and outcome.steps > 0 and outcome.val_photos >= 1
    names = [tab.results.item(r, 0).text() for r in range(tab.results.rowCount())]
    assert names == ["gray baseline (a=b=0)", "before (base model)", "after (fine-tuned)"]
    assert len(tab._val) == 1 and tab.save_button.isEnabled()
    # the comparison in plain words (model.training.finetune.Comparison.summary), explained by a tooltip
    assert outcome.summary and tab.verdict.text() == outcome.summary
    assert any(words in outcome.summary for words in ("true colours", "Worse than the base"))
    assert "better on " in outcome.summary
    assert f" of {outcome.val_photos} of your photos" in outcome.summary
    assert "reads a little high" in outcome.summary  # 10 photos: too few to keep apart
    assert "it stopped because it made the 1 pass over the photos it was allowed" in outcome.summary
    assert "PSNR" in tab.verdict.toolTip() and "Colourfulness" in tab.verdict.toolTip()
    tab.name_edit.setText("Grandma's album")
    tab.save_button.click()
    picker = window.colorize_tab.model_box
    assert "Grandma_s album" in [picker.itemText(i) for i in range(picker.count())]


def test_cancel_keeps_the_best_checkpoint(window, qtbot, own_photos):
    from model.store.registry import user_models_dir

    earlier = user_models_dir().parent / "runs" / "20260101-120000"  # a run no one saved
    earlier.mkdir(parents=True)
    (earlier / "best.safetensors").write_bytes(b"33 MB, say")
    tab = window.train_tab
    tab.add_folders([str(own_photos)])
    qtbot.waitUntil(lambda: tab.usable > 0, timeout=60_000)
    tab.epochs.setValue(200)
    tab.batch.setValue(2)
    # 9 photos train in passes of 5 steps: at step 7 the first pass has been validated (a
    # cancel in the first pass keeps the base model, which no pass has beaten yet)
    with qtbot.waitSignal(window.host.jobProgress, timeout=60_000,
                          check_params_cb=lambda job, stage, step, total, loss:
                          stage == TRAINING and step >= 7):
        tab.start_button.click()
    said = []  # what the tab says the moment Cancel is pressed, before the run has ended
    tab.cancel_button.clicked.connect(
        lambda: said.append((tab.progress_label.text(), tab.cancel_button.isEnabled())))
    with qtbot.waitSignal(window.host.trainFinished, timeout=120_000) as done:
        tab.cancel_button.click()
    assert said == [("Cancelling: keeping the best checkpoint so far…", False)]
    outcome = done.args[1]
    qtbot.waitUntil(lambda: not tab.running)
    assert outcome.cancelled and 7 <= outcome.steps < 200 and not outcome.base_kept
    assert Path(outcome.best).name == "best.safetensors" and Path(outcome.best).is_file()
    assert "Cancelled; kept the best" in tab.progress_label.text() and tab.save_button.isEnabled()
    # the user's data folder keeps only this run's best: not its resume point, nor the
    # earlier run the tab can no longer offer to save
    assert not (Path(outcome.best).parent / "last.safetensors").exists()
    assert not earlier.exists()


def test_cancel_while_computing_branch_outputs_offers_no_model_to_save(window, qtbot, own_photos,
                                                                      monkeypatch):
    real_changed = SignalProgress.changed

    def cancel_in_feature_phase(progress):  # on the worker thread, before training starts
        real_changed(progress)
        if progress.stage == FEATURES:
            progress.cancel()

    monkeypatch.setattr(SignalProgress, "changed", cancel_in_feature_phase)
    tab = window.train_tab
    tab.add_folders([str(own_photos)])
    qtbot.waitUntil(lambda: tab.usable > 0, timeout=60_000)
    with qtbot.waitSignal(window.host.trainFinished, timeout=120_000) as done:
        tab.start_button.click()
    outcome = done.args[1]
    qtbot.waitUntil(lambda: not tab.running)
    assert outcome.cancelled and outcome.steps == 0 and outcome.best == ""
    assert not tab.save_button.isEnabled()
    assert "Cancelled before the first checkpoint" in tab.progress_label.text()


def test_close_during_fine_tuning(window, qtbot, own_photos, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    tab = window.train_tab
    tab.add_folders([str(own_photos)])
    qtbot.waitUntil(lambda: tab.usable > 0, timeout=60_000)
    tab.epochs.setValue(500)
    with qtbot.waitSignal(window.host.jobProgress, timeout=60_000):
        tab.start_button.click()
    window.close()
    assert not window.host.thread.isRunning()


def test_a_family_picks_a_time_and_the_numbers_sit_under_advanced(window, qtbot):
    tab = window.train_tab
    assert not tab.advanced.isVisibleTo(tab)  # epochs, learning rate, batch: closed
    assert [tab.budget.itemText(i) for i in range(tab.budget.count())] == [
        "About 5 minutes", "About 15 minutes", "Until it stops improving"]
    assert tab.options("cpu").time_limit == 300 and tab.options("cpu").patience == 3
    tab.budget.setCurrentIndex(2)
    options = tab.options("cpu")
    assert options.time_limit is None and options.patience == 3 and options.group_duplicates
    assert options.judge_share == options.val_share == 0.1
    tab.advanced_button.click()
    assert tab.advanced.isVisibleTo(tab)


def test_the_plan_says_who_trains_and_who_judges_for_a_family_folder(window):
    from model.training.data import ScanReport

    tab = window.train_tab
    tab.show_scan(ScanReport(usable=[Path(f"{i}.jpg") for i in range(700)]))
    assert tab.plan_label.text() == ("About 560 of your photos will train, 70 will choose the "
                                     "best moment to stop and 70 will judge the result.")
    tab.budget.setCurrentIndex(1)
    assert tab.expect_label.text().startswith("15:00 is about 19 passes over your 560 training")
    tab.epochs.setValue(5)  # under Advanced: the most passes, fewer than the time allows
    assert tab.expect_label.text().startswith("5 passes over your 560 training photos (the "
                                              "most set under Advanced) take about 3:53 of "
                                              "the 15:00")


def test_a_fine_tuned_model_shows_its_bases_vivid_on_the_slider(window, qtbot, tmp_path):
    from model.training.train import FitOptions, fit
    from tests.conftest import colour_photo_folder
    from tests.test_finetune import _tiny_spatial

    base = _tiny_spatial(tmp_path, "base.safetensors", {"vivid": 0.41, "mirror": True})
    result = fit([colour_photo_folder(tmp_path / "photos", 8)], tmp_path / "run",
                 from_checkpoint=base, options=FitOptions(epochs=1, batch_size=4, crop=64,
                                                          val_share=0.25, device="cpu"))
    window.save_fine_tuned(str(result.best), "Vivid album")
    slider = window.colorize_tab.vivid_slider
    assert not slider.isEnabled()  # the tiny hybrid model has no vivid setting
    with qtbot.waitSignal(window.host.modelVivid, timeout=60_000):
        window.choose_model(str(window.colorize_tab.model_box.itemData(
            window.colorize_tab.model_box.findText("Vivid album"))))
    qtbot.waitUntil(lambda: slider.isEnabled())
    assert slider.value() == 41


def test_the_loss_curve_is_not_bent_down_at_its_ends(window):
    tab = window.train_tab
    tab._losses = [0.3] * 25  # a flat loss draws a flat line
    assert max(abs(v - 0.3) for v in tab._smoothed()) < 1e-9


def test_the_time_left_says_what_ends_the_run(window):
    from model.progress import TRAINING

    tab = window.train_tab
    tab.show_epoch({"step": 10, "val_loss": 0.30, "stale": 0})
    tab.show_step(TRAINING, 11, 100, 0.3)
    tab.show_step(TRAINING, 12, 100, 0.3)
    assert tab.progress_label.text().endswith("(sooner if it stops improving)")
    # a pass without a gain: the total is now where the patience ends
    tab.show_epoch({"step": 20, "val_loss": 0.31, "stale": 1})
    tab.show_step(TRAINING, 21, 40, 0.3)
    assert tab.progress_label.text().endswith("left (unless the next pass improves)")


def test_a_first_pass_that_does_not_beat_the_base_model_is_a_stall(window, tmp_path):
    """The first pass of a fine-tune did not beat the base model's score, the total
    dropped to where the patience ends, and the label still said "sooner if it stops
    improving"."""
    from model.training.train import FitOptions, fit
    from tests.conftest import colour_photo_folder
    from tests.test_finetune import _tiny_spatial

    records = []

    class Recorder(Progress):
        def epoch(self, record):
            records.append(record)

    base = _tiny_spatial(tmp_path, "base.safetensors", {})
    fit([colour_photo_folder(tmp_path / "photos", 12)], tmp_path / "run", None, base,
        FitOptions(epochs=1, batch_size=4, crop=32, device="cpu", val_share=0.3),
        Recorder())
    assert records[-1]["stale"] in (0, 1)  # passes since the best, the base's score included
    tab = window.train_tab
    tab.show_epoch({**records[-1], "stale": 1})  # the first pass, and no better than the base
    tab.show_step(TRAINING, 5, 9, 0.3)
    tab.show_step(TRAINING, 6, 9, 0.3)
    assert tab.progress_label.text().endswith("left (unless the next pass improves)")


def test_when_the_base_model_stays_the_best_there_is_nothing_to_save(window):
    from dataclasses import replace

    from tests.test_gui_layout import outcome

    tab = window.train_tab
    tab.finished(replace(outcome(), summary="Fine-tuning did not beat the base model on your "
                                            "photos: keep using the base model.",
                         base_kept=True))
    assert not tab.save_button.isEnabled()
    assert "Done; no pass beat the base model" in tab.progress_label.text()
    assert tab.verdict.text().startswith("Fine-tuning did not beat the base model")
    tab.finished(outcome())  # a pass that beat it: saving it is the point
    assert tab.save_button.isEnabled()


def test_the_train_tab_says_which_model_a_run_starts_from(window, monkeypatch):
    """A run after another fine-tune went on from that one without a word."""
    tab, box = window.train_tab, window.colorize_tab.model_box
    assert tab.base_label.text().startswith(f"Starts from: {box.currentText()} (")
    monkeypatch.setattr(window.host, "load", lambda path, device: None)
    assert box.count() > 1
    other = (box.currentIndex() + 1) % box.count()
    box.setCurrentIndex(other)
    box.activated.emit(other)
    assert tab.base_label.text().startswith(f"Starts from: {box.itemText(other)} (")


def test_a_run_that_ends_between_redraws_shows_its_whole_loss_curve(window):
    """The curve is redrawn every 5th step: a run cancelled at step 4 showed none, and
    its step axis was ticked 1.0, 1.5, … 4.0."""
    from tests.test_gui_layout import outcome

    tab = window.train_tab
    for step in range(1, 5):
        tab.show_step(TRAINING, step, 6, 0.3 - 0.01 * step)
    tab.finished(outcome())
    xs, _ = tab.train_curve.getData()
    assert list(xs) == [1, 2, 3, 4]
    axis = tab.plot.getAxis("bottom")
    assert all(spacing >= 1 for spacing, _ in axis.tickSpacing(1, 4, 400))


def test_a_folder_dropped_on_the_train_tab_joins_your_photos(window, qtbot, own_photos):
    """The window opened the dropped folder's first photo in the Colorize tab instead."""
    from tests.test_gui_colorize import drop

    tab = window.train_tab
    window.tabs.setCurrentWidget(tab)
    with qtbot.waitSignal(window.host.scanned, timeout=60_000):
        event = drop(tab, [own_photos])
    accepted = event.isAccepted()  # (pytest's repr of a spent event crashes)
    assert accepted and tab.folder_list() == [str(own_photos)]
    assert window.tabs.currentWidget() is tab
    drop(tab, [own_photos / "c0.jpg"])
    assert "not single photos" in tab.scan_label.text() and tab.folder_list() == [str(own_photos)]
