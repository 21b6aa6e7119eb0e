"""Jobs and their progress: each request is a job with its own cancel and pause
(``model.progress.Progress``), and each Cancel button cancels its own job."""

import io
import threading
import time

import numpy as np
from PIL import Image

from model.batch import BatchReport, plan_jobs, run_jobs
from model.training.branch_cache import BranchCache
from model.progress import FEATURES, TRAINING, Progress, TqdmProgress
from model.training.train import FitOptions, fit
from tests.conftest import gradient_photo, start_batch, tiny_config


def test_a_paused_job_waits_between_steps_until_resumed_or_cancelled():
    progress = Progress()
    progress.pause()
    stopped = []
    waiter = threading.Thread(target=lambda: stopped.append(progress.should_stop()))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive() and progress.paused  # blocked while paused
    progress.pause(False)
    waiter.join(5)
    assert stopped == [False]
    progress.pause()
    waiter = threading.Thread(target=lambda: stopped.append(progress.should_stop()))
    waiter.start()
    progress.cancel()  # wakes the paused job, which stops
    waiter.join(5)
    assert stopped == [False, True]
    progress.pause()  # a pause after the cancel must not block the job for ever
    assert not progress.paused and progress.should_stop()


def test_fit_reports_its_stages_through_the_progress_type(tmp_path):
    """model.progress.Progress is what model.training.train.fit calls, as it is."""
    root = tmp_path / "photos"
    root.mkdir()
    for i in range(6):
        Image.fromarray(gradient_photo(40, 40, i)).save(root / f"{i}.png")
    seen, epochs = [], []

    class Recorder(Progress):
        def changed(self):
            seen.append((self.stage, self.at, self.total))

        def epoch(self, record):
            epochs.append(record)

    progress = Recorder()
    result = fit([root], tmp_path / "run", tiny_config(), progress=progress,
                 options=FitOptions(epochs=1, batch_size=2, crop=32, val_share=0.2,
                                    device="cpu"), cache=BranchCache(tmp_path / "cache"))
    stages = [stage for stage, _, _ in seen]
    assert stages[0] == FEATURES and stages[-1] == TRAINING
    assert stages == sorted(stages, key=[FEATURES, TRAINING].index)  # features come first
    assert seen[-1][1:] == (result.steps, result.steps) and len(epochs) == 1
    assert progress.text.startswith("epoch 1:")  # the last message


def test_the_tqdm_face_draws_a_bar_per_stage_and_writes_messages():
    out = io.StringIO()
    with TqdmProgress(file=out) as progress:
        progress.message("computing branch outputs")
        progress.step(4, 4, float("nan"))
        progress.step(1, 3, 0.5)
        progress.step(3, 3, 0.25)
    text = out.getvalue()
    assert "computing branch outputs" in text and "4/4" in text
    assert "3/3" in text and "loss=0.2500" in text


def test_a_log_record_during_a_bar_is_written_above_it_on_its_own_line(capsys):
    import logging
    import sys

    handler = logging.StreamHandler(sys.stderr)  # as the CLI's logging.basicConfig
    logging.getLogger().addHandler(handler)
    try:
        with TqdmProgress() as progress:
            progress.step(0, 2, float("nan"))
            logging.getLogger("model.batch").warning("reference not used: x.png")
            progress.step(1, 2, float("nan"))
    finally:
        logging.getLogger().removeHandler(handler)
    err = capsys.readouterr().err
    assert "reference not used: x.png\n" in err and "]reference not used" not in err


class SlowColorizer:
    def __init__(self):
        self.calls = 0

    def predict(self, rgb, hints=None, vivid=None):
        from model import color
        from model.colorizer import Prediction

        self.calls += 1
        time.sleep(0.05)
        return Prediction(color.luminance(rgb), np.zeros(rgb.shape[:2] + (2,), np.float32))


def test_a_batch_cancelled_through_its_progress_stops_before_the_next_photo(tmp_path):
    for i in range(5):
        Image.fromarray(gradient_photo(16, 16, i)).save(tmp_path / f"p{i}.png")
    jobs, _ = plan_jobs(sorted(tmp_path.glob("p*.png")), tmp_path / "out")
    progress = Progress()

    def on_item(job, state, reason):
        if progress.at == 2:
            progress.cancel()

    report = run_jobs(jobs, SlowColorizer(), progress=progress,
                      report=BatchReport(on_item=on_item, progress=progress, total=len(jobs)))
    assert len(report.done) == 2 and (progress.at, progress.total) == (2, 5)
    assert len(list((tmp_path / "out").iterdir())) == 2


def test_each_cancel_button_cancels_its_own_job(window, qtbot, tmp_path):
    """A fine-tune waits behind a batch; the Train tab's Cancel drops the fine-tune and
    the batch goes on to the end."""
    album, colour = tmp_path / "album", tmp_path / "colour"
    album.mkdir()
    colour.mkdir()
    for i in range(4):
        Image.fromarray(gradient_photo(32, 32, i).mean(axis=2).astype(np.uint8)).save(
            album / f"p{i}.png")
        Image.fromarray(gradient_photo(48, 56, i)).save(colour / f"c{i}.jpg")
    colorizer = window.host.worker.colorizer
    real = colorizer.predict
    gate, held = threading.Event(), threading.Event()

    def waits_for_the_test(*a, **k):  # the batch holds the worker until the test is ready
        held.set()
        gate.wait(30)
        return real(*a, **k)

    colorizer.predict = waits_for_the_test
    train = window.train_tab
    with qtbot.waitSignal(window.host.scanned, timeout=60_000):
        train.add_folders([str(colour)])
    start_batch(window, qtbot, album, tmp_path / "out")
    assert held.wait(30)  # the batch is on its first photo, holding the worker
    train.start_button.click()
    qtbot.waitUntil(lambda: window.jobs_label.text() == "running: batch; queued: fine-tune")
    assert not window.jobs_separator.isHidden()  # set apart from the model's name
    train.cancel_button.click()
    gate.set()
    with qtbot.waitSignal(window.host.batchFinished, timeout=60_000) as finished:
        pass
    assert finished.args[1:] == [4, 0, 0, False]  # the batch was not cancelled
    qtbot.waitUntil(lambda: not window.host.busy(), timeout=60_000)
    assert not train.running and "cancelled before it started" in train.progress_label.text()
    assert window.jobs_label.text() == "" and window.jobs_separator.isHidden()
