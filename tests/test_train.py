import math

import numpy as np
import pytest
from PIL import Image

from model.training.branch_cache import BranchCache
from model.store.checkpoint import load_checkpoint
from model.progress import Progress
from model.training.train import BEST, LAST, FitOptions, fit
from tests.conftest import colour_photo_folder, tiny_config


@pytest.fixture
def train_folder(tmp_path):
    root = colour_photo_folder(tmp_path / "photos", 24, 40, 40)
    (root / "broken.png").write_bytes(b"not a png")
    Image.fromarray(np.full((40, 40), 100, np.uint8)).save(root / "gray.png")
    return root


def options(**kw):
    base = dict(epochs=1, batch_size=4, crop=32, lr=3e-3, val_share=0.2, device="cpu",
                checkpoint_every=5)
    base.update(kw)
    return FitOptions(**base)


def test_training_lowers_the_loss_and_skips_bad_files(train_folder, tmp_path):
    messages = []

    class Log(Progress):
        def message(self, text):
            messages.append(text)

    result = fit([train_folder], tmp_path / "run", tiny_config(), options=options(epochs=6),
                 progress=Log(), cache=BranchCache(tmp_path / "cache"))
    losses = [h["train_loss"] for h in result.history]
    assert len(losses) == 6 and losses[-1] < 0.8 * losses[0]
    assert any("skipped 1 unreadable and 1 already-grayscale" in m for m in messages)
    net, meta = load_checkpoint(result.out_dir / LAST)
    assert meta["data"]["train_photos"] + meta["data"]["val_photos"] == 24
    per_epoch = math.ceil(meta["data"]["train_photos"] / 4)
    assert meta["step"] == result.steps == 6 * per_epoch


def test_branch_outputs_are_cached(train_folder, tmp_path):
    cache_dir = tmp_path / "cache"
    fit([train_folder], tmp_path / "a", tiny_config(), options=options(max_steps=1),
        cache=BranchCache(cache_dir))
    assert (cache_dir / "random_0.safetensors").is_file()
    messages = []

    class Log(Progress):
        def message(self, text):
            messages.append(text)

    fit([train_folder], tmp_path / "b", tiny_config(), options=options(max_steps=1),
        progress=Log(), cache=BranchCache(cache_dir))
    assert not any("computing pretrained-branch outputs" in m for m in messages)


def test_resume_continues_from_last_checkpoint(train_folder, tmp_path):
    out, cache = tmp_path / "run", BranchCache(tmp_path / "cache")
    first = fit([train_folder], out, tiny_config(), options=options(epochs=2, max_steps=7),
                cache=cache)
    assert first.steps == 7 and (out / LAST).is_file()
    _, meta = load_checkpoint(out / LAST)
    assert meta["step"] == 7
    second = fit([train_folder], out, tiny_config(), options=options(epochs=3), cache=cache)
    per_epoch = math.ceil(meta["data"]["train_photos"] / 4)
    assert second.steps == 3 * per_epoch  # counted on from step 7, not from 0
    assert [h["epoch"] for h in second.history] == [1, 2, 3]


def test_cancel_stops_and_keeps_a_checkpoint(train_folder, tmp_path):
    class CancelAfter(Progress):
        def step(self, step, total, loss):
            if step == 3:
                self.cancel()

    result = fit([train_folder], tmp_path / "run", tiny_config(),
                 options=options(epochs=50), progress=CancelAfter(),
                 cache=BranchCache(tmp_path / "cache"))
    assert result.cancelled and result.steps == 3
    assert (tmp_path / "run" / LAST).is_file() and (tmp_path / "run" / BEST).is_file()


def test_fine_tune_starts_from_a_checkpoint(train_folder, tmp_path, tiny_checkpoint):
    result = fit([train_folder], tmp_path / "ft", from_checkpoint=tiny_checkpoint,
                 options=options(max_steps=2), cache=BranchCache(tmp_path / "cache"))
    net, meta = load_checkpoint(result.best)
    assert meta["base_model"] == str(tiny_checkpoint)
    base, _ = load_checkpoint(tiny_checkpoint)
    assert net.config == base.config


def test_no_usable_photos_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no usable colour photos"):
        fit([tmp_path / "empty"], tmp_path / "run", tiny_config(), options=options())


def test_colour_weights_favour_rare_colours_and_average_one(train_folder):
    import torch

    from model.nets.spatial import ab_bins
    from model.training.losses import colour_weights, rebalanced_loss
    from model.nets.network import paper_loss

    paths = sorted(train_folder.glob("[0-9]*.png"))
    w = colour_weights(paths, 0.5)
    gray_bin = ab_bins(torch.zeros(1, 2, 1, 1)).item()
    assert w.max() > w[gray_bin]  # the commonest colour (near gray) weighs least
    pred, target = torch.zeros(1, 2, 4, 4), torch.full((1, 2, 4, 4), 0.1)
    assert torch.isclose(rebalanced_loss(pred, target, torch.ones_like(w)), paper_loss(pred, target))


def test_rebalanced_training_runs(train_folder, tmp_path):
    result = fit([train_folder], tmp_path / "run", tiny_config(),
                 options=options(max_steps=2, rebalance=0.5), cache=BranchCache(tmp_path / "c"))
    assert result.steps == 2


def test_time_limit_counts_training_not_validation(train_folder, tmp_path):
    """A budget of 1.2 s trains about 1.2 s, even when each epoch's end takes longer than
    its training (it once stopped an epoch early: 100 s of budget trained 90)."""
    import time

    class Slow(Progress):
        def step(self, step, total, loss):
            time.sleep(0.05)          # training time: counts

        def epoch(self, record):
            time.sleep(0.6)           # after the epoch: does not count

    result = fit([train_folder], tmp_path / "run", tiny_config(),
                 options=options(epochs=100, time_limit=1.2), progress=Slow(),
                 cache=BranchCache(tmp_path / "cache"))
    _, meta = load_checkpoint(result.out_dir / LAST)
    assert meta["train_seconds"] >= 1.1, result.history
    assert len(result.history) >= 2


def test_photos_that_all_fail_to_decode_are_a_clear_error_not_a_crash(tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    for i in range(4):
        (folder / f"{i}.png").write_bytes(b"not a png at all")
    config = tiny_config(branches=(), fusion="none")
    with pytest.raises(ValueError, match="none of the .* training photos could be read"):
        fit([folder], tmp_path / "run", config, options=options(check_files=False, val_share=0))


def test_cancel_before_training_names_no_checkpoint(train_folder, tmp_path):
    class CancelAtOnce(Progress):
        def message(self, text):
            self.cancel()

    result = fit([train_folder], tmp_path / "run", tiny_config(), options=options(),
                 progress=CancelAtOnce(), cache=BranchCache(tmp_path / "cache"))
    assert result.cancelled and result.best is None
    assert not list((tmp_path / "run").glob("*.safetensors"))


def test_the_tqdm_bar_takes_a_new_end_without_starting_over():
    import io

    from model.progress import TqdmProgress

    with TqdmProgress(file=io.StringIO()) as progress:
        progress.step(1, 33000, 0.5)
        bar = progress.bar
        progress.step(2, 40, 0.4)  # the end the time budget allows, at the pace so far
        assert progress.bar is bar and (bar.n, bar.total) == (2, 40)


def test_the_bars_time_left_is_the_time_budgets_within_20_percent(train_folder, tmp_path):
    """A 10-minute run once started with 33 min 58 s left: the bar counted the epochs'
    steps. Now it counts to the end the budget allows, so what it says is left is."""
    import io
    import time

    from model.progress import TqdmProgress

    said = []

    class Paced(TqdmProgress):
        def step(self, step, total, loss):
            time.sleep(0.02)  # a steady pace, whatever else the machine does
            super().step(step, total, loss)
            d = self.bar.format_dict
            rate = (d["n"] - d["initial"]) / d["elapsed"] if d["elapsed"] else 0
            if rate:
                said.append((time.monotonic(), (d["total"] - d["n"]) / rate))

    with Paced(file=io.StringIO()) as progress:
        fit([train_folder], tmp_path / "run", tiny_config(),
            options=options(epochs=1000, time_limit=3.0), progress=progress,
            cache=BranchCache(tmp_path / "cache"))
    start, end = said[0][0], said[-1][0]  # the bar's first and last training step
    errors = [abs(left - (end - t)) / (end - t) for t, left in said
              if start + 0.25 * (end - start) < t < end - 0.5]
    assert errors and max(errors) < 0.2, max(errors)
