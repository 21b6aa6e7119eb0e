"""A fine-tune's numbers a family can trust: near-duplicates kept on one side of the
split, photos that judge the result apart from those that choose the best checkpoint, the
best checkpoint's own epoch and step, and a stop when validation stops improving."""

import math

import cv2
import numpy as np
import pytest
from PIL import Image

from model.progress import Progress
from model.store.checkpoint import read_header
from model.training.branch_cache import BranchCache
from model.training.finetune import AFTER, BEFORE, Comparison
from model.training.train import FitOptions, fit
from tests.conftest import tiny_config


def blotchy_photo(seed: int, side: int = 48) -> np.ndarray:
    """A photo of its own: smooth random blotches of colour (no two seeds alike)."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(0, 255, (5, 5, 3)).astype(np.float32)
    big = cv2.resize(small, (side, side), interpolation=cv2.INTER_CUBIC)
    return np.clip(big, 0, 255).astype(np.uint8)


def near_copy(rgb: np.ndarray, kind: int) -> np.ndarray:
    """A near-duplicate as a family's folder has them: mirrored, smaller, brighter."""
    if kind == 0:
        return rgb[:, ::-1].copy()
    if kind == 1:
        return cv2.resize(rgb, (40, 40), interpolation=cv2.INTER_AREA)
    return np.clip(rgb.astype(np.float32) * 1.08, 0, 255).astype(np.uint8)


@pytest.fixture
def folder_with_copies(tmp_path):
    """60 photos, the first 12 with a near-duplicate of their own under another name."""
    root = tmp_path / "family"
    root.mkdir()
    for i in range(60):
        rgb = blotchy_photo(i)
        Image.fromarray(rgb).save(root / f"IMG_{i:04d}.png")
        if i < 12:
            Image.fromarray(near_copy(rgb, i % 3)).save(root / f"scan {i:02d}.png")
    return root


def options(**kw):
    base = dict(epochs=1, batch_size=8, crop=32, lr=3e-3, device="cpu", checkpoint_every=1000)
    base.update(kw)
    return FitOptions(**base)


def test_the_hash_knows_a_copy_and_a_mirror_image_but_not_another_photo():
    from model.training.duplicates import near_duplicate_groups, thumbnail_hashes

    a = thumbnail_hashes(blotchy_photo(1))
    for kind in range(3):
        b = thumbnail_hashes(near_copy(blotchy_photo(1), kind))
        groups = near_duplicate_groups({"a": a, "b": b, "c": thumbnail_hashes(blotchy_photo(2))})
        assert groups == [["a", "b"]], kind


def test_near_duplicates_stay_on_one_side_and_the_judging_photos_chose_nothing(folder_with_copies,
                                                                              tmp_path):
    result = fit([folder_with_copies], tmp_path / "run", tiny_config(),
                 options=options(val_share=0.2, judge_share=0.4, group_duplicates=True),
                 cache=BranchCache(tmp_path / "cache"))
    train, select, judge = set(), set(result.select_paths), set(result.val_paths)
    train = {p for p in folder_with_copies.iterdir()} - select - judge
    assert judge and select and not judge & select  # the judges chose no checkpoint
    assert result.holdout["separate"] and result.holdout["near_duplicates"] == 24
    for i in range(12):
        pair = {folder_with_copies / f"IMG_{i:04d}.png", folder_with_copies / f"scan {i:02d}.png"}
        sides = [bool(pair & side) for side in (train, select, judge)]
        assert sum(sides) == 1, f"photo {i} and its copy were split: {pair}"
    _, meta = read_header(result.best)
    assert meta["holdout"]["judge"] == len(judge) and meta["holdout"]["groups"] == 12


def test_too_few_photos_to_keep_apart_and_the_summary_says_the_number_reads_high(tmp_path):
    root = tmp_path / "few"
    root.mkdir()
    for i in range(12):
        Image.fromarray(blotchy_photo(i)).save(root / f"{i}.png")
    result = fit([root], tmp_path / "run", tiny_config(),
                 options=options(val_share=0.25, judge_share=0.25, group_duplicates=True),
                 cache=BranchCache(tmp_path / "cache"))
    assert not result.holdout["separate"] and result.val_paths == result.select_paths
    base = [22.0, 23.0, 24.0]
    rows = [_row("gray", base), _row(BEFORE, base), _row(AFTER, [b + 1 for b in base[:2]] + [23.9])]
    optimistic = Comparison(rows, [], 3, {"holdout": result.holdout}).summary()
    assert "better on 2 of 3 of your photos" in optimistic
    assert "reads a little high" in optimistic
    apart = Comparison(rows, [], 3, {"holdout": {"separate": True, "near_duplicates": 4}})
    assert "took no part in training" in apart.summary() and "4 near-duplicate" in apart.summary()


def _row(name, psnrs):
    from model.training.evaluate import EvalRow

    return EvalRow(name, len(psnrs), float(np.mean(psnrs)), 0.1, 0.9, 10.0, 20.0, 40.0,
                   tuple(psnrs))


def test_training_stops_when_validation_stops_improving_and_says_where_the_best_came(
        folder_with_copies, tmp_path):
    # a learning rate of 0: validation never improves on the first epoch
    result = fit([folder_with_copies], tmp_path / "run", tiny_config(),
                 options=options(epochs=20, lr=0.0, val_share=0.2, patience=2),
                 cache=BranchCache(tmp_path / "cache"))
    per_epoch = math.ceil(len(result.history) and result.history[0]["step"])
    assert len(result.history) == 3 and result.steps == 3 * per_epoch
    assert result.stopped == "validation had not improved for 2 passes over the photos"
    assert (result.best_epoch, result.best_step) == (1, per_epoch)
    _, meta = read_header(result.best)
    assert meta["step"] == per_epoch and meta["best"]["epoch"] == 1
    assert meta["stopped"] == result.stopped and meta["run_steps"] == result.steps
    words = result.words()
    assert words.startswith(f"The best model came from pass 1 (step {per_epoch}, ")
    assert f"of 3 ({3 * per_epoch} steps" in words and "had not improved for 2 passes" in words


def test_without_patience_it_runs_its_budget_out(folder_with_copies, tmp_path):
    result = fit([folder_with_copies], tmp_path / "run", tiny_config(),
                 options=options(epochs=4, lr=0.0, val_share=0.2),
                 cache=BranchCache(tmp_path / "cache"))
    assert len(result.history) == 4
    assert result.stopped == "it made the 4 passes over the photos it was allowed"


def test_the_progress_total_is_the_step_the_time_budget_ends_at(folder_with_copies, tmp_path):
    """A 25-minute run once ended showing 849/33000: the total was the epochs' steps."""
    import time

    seen = []

    class Paced(Progress):
        def step(self, step, total, loss):
            time.sleep(0.02)  # a steady pace, whatever else the machine does
            seen.append((time.monotonic(), step, total))

    result = fit([folder_with_copies], tmp_path / "run", tiny_config(),
                 options=options(epochs=1000, val_share=0.2, time_limit=1.5, batch_size=4),
                 progress=Paced(), cache=BranchCache(tmp_path / "cache"))
    assert result.stopped.startswith("its time (0:02 of training) was spent")
    t0, t1 = seen[0][0], seen[-1][0]
    later = [total for t, _, total in seen if t > t0 + 0.25 * (t1 - t0)]
    # within a factor of 2 however busy the machine (before: 767-884 times the steps made)
    assert later and all(result.steps / 2 <= total <= 2 * result.steps for total in later), \
        (result.steps, later[:5])


def test_once_validation_stalls_the_progress_counts_to_where_the_patience_ends(
        folder_with_copies, tmp_path):
    """A run that stopped by patience at 2:41 of 10 minutes showed the budget's time left
    to the end; after the first pass without a gain the bar now counts to that stop."""
    seen = []

    class Totals(Progress):
        def step(self, step, total, loss):
            seen.append((step, total))

    result = fit([folder_with_copies], tmp_path / "run", tiny_config(),
                 options=options(epochs=20, lr=0.0, val_share=0.2, patience=2),
                 progress=Totals(), cache=BranchCache(tmp_path / "cache"))
    per_epoch = result.history[0]["step"]
    assert result.steps == 3 * per_epoch
    first_pass = [total for step, total in seen if step <= per_epoch]
    stalled = [total for step, total in seen if step > 2 * per_epoch]
    assert set(first_pass) == {20 * per_epoch}  # no gain missed yet: the budget's end
    assert set(stalled) == {result.steps}       # one pass without a gain: the patience's


def test_a_resumed_run_keeps_its_patience_and_stops_on_time(folder_with_copies, tmp_path):
    """Running the same command again goes on counting the passes without a gain."""
    out, cache = tmp_path / "run", BranchCache(tmp_path / "cache")
    first = fit([folder_with_copies], out, tiny_config(),
                options=options(epochs=2, lr=0.0, val_share=0.2, patience=3), cache=cache)
    assert first.stopped.startswith("it made the 2 passes")
    again = fit([folder_with_copies], out, tiny_config(),
                options=options(epochs=20, lr=0.0, val_share=0.2, patience=3), cache=cache)
    assert len(again.history) == 4 and again.best_epoch == 1  # 1 more pass, not 3
    assert again.stopped == "validation had not improved for 3 passes over the photos"
    _, meta = read_header(again.best)
    assert meta["stopped"] == again.stopped and meta["run_epochs"] == 4


def test_the_interval_of_a_gain_on_a_few_photos_is_students_not_the_normals():
    """On 2 photos 1.96 made the interval 6.5× too narrow ("-0.87 ± 0.01")."""
    from model.training.evaluate import EvalRow

    def row(each):
        return EvalRow("m", len(each), float(np.mean(each)), 0, 0, 0, 0, 1, tuple(each))

    gain, half = row([21.0, 23.0]).psnr_gain(row([20.0, 20.0]))
    assert gain == pytest.approx(2.0)
    assert half == pytest.approx(12.706 * np.std([1.0, 3.0], ddof=1) / np.sqrt(2), rel=1e-3)
    many = 200  # and about the normal's on many
    _, half = row([21.0, 23.0] * (many // 2)).psnr_gain(row([20.0] * many))
    assert half == pytest.approx(1.972 * np.std([1.0, 3.0] * (many // 2), ddof=1)
                                 / np.sqrt(many), rel=1e-3)
