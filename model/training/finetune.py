"""After a fine-tune: compare the base and fine-tuned models, and install the result.

The app's Train tab and ``colorgui train`` both show the same comparison, so it lives
here rather than in either of them.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model.training.evaluate import EvalRow, colorizer_method, gray_baseline, load_ground_truth, score_methods
from model.training.plan import base_came_back, ending_words

log = logging.getLogger(__name__)

BEFORE, AFTER = "before (base model)", "after (fine-tuned)"


@dataclass
class Comparison:
    """Base against fine-tuned on the held-out photos."""

    rows: list[EvalRow] = field(default_factory=list)  # gray baseline, before, after
    # (gray, before, after, truth) float RGB at 256², for showing a few
    examples: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    photos: int = 0
    # what the fine-tuned checkpoint says of its run: "holdout" (``data.Holdout.as_meta``),
    # "best" (``RunState.best``) and how it ended (``RunState.ending``)
    run: dict = field(default_factory=dict)

    def row(self, name: str) -> EvalRow | None:
        return next((r for r in self.rows if r.name == name), None)

    def gain(self) -> tuple[float, float] | None:
        """Mean per-photo PSNR gain of the fine-tuned model over the base and its 95%
        half-width, or None without held-out photos."""
        before, after = self.row(BEFORE), self.row(AFTER)
        if before is None or after is None:
            return None
        return after.psnr_gain(before)

    def better(self) -> tuple[int, int]:
        """On how many of the photos the fine-tuned model came closer than the base."""
        before, after = self.row(BEFORE), self.row(AFTER)
        if before is None or after is None:
            return 0, 0
        return after.better_than(before)

    def summary(self) -> str:
        """What the comparison means, in plain words: the gain and on how many photos,
        whether the photos that judged it were apart from those that chose it, and where
        the best came and why the run stopped."""
        gain = self.gain()
        if gain is None:
            return "No photos were held out, so the fine-tuned model was not compared."
        if base_came_back(self.run.get("best", {})):
            return ("Fine-tuning did not beat the base model on your photos: keep using the "
                    "base model, or fine-tune on photos of a kind it knows less. "
                    + self._ending())
        mean, half = gain
        better, n = self.better()
        before, after = self.row(BEFORE), self.row(AFTER)
        colours = (f"colourfulness {after.cf_ratio:.0%} of the true photos' "
                   f"(base model: {before.cf_ratio:.0%})")
        on = f"better on {better} of {n} of your photos"
        if not np.isfinite(half) or abs(mean) <= half:
            text = (f"About as close to the true colours as the base model ({mean:+.1f} dB, "
                    f"within the noise; {on}); {colours}.")
        elif mean > 0:
            text = (f"Closer to the true colours than the base model: {mean:+.1f} dB "
                    f"(± {half:.1f}), {on}; {colours}.")
        else:
            text = (f"Worse than the base model: {mean:+.1f} dB (± {half:.1f}), {on}; "
                    f"{colours}. Keep using the base model, or fine-tune on more photos.")
        return " ".join(t for t in (text, self._honesty(), self._ending()) if t)

    def _honesty(self) -> str:
        holdout = self.run.get("holdout")
        if not holdout:
            return ""
        if holdout.get("separate"):
            text = "These photos took no part in training or in choosing when to stop."
        else:
            text = ("This reads a little high: too few photos to keep apart, so these also "
                    "chose when to stop.")
        if holdout.get("near_duplicates"):
            text += (f" {holdout['near_duplicates']} near-duplicate photos were kept "
                     f"together on one side.")
        return text

    def _ending(self) -> str:
        return ending_words(self.run, self.run.get("best", {}))


# a 10% judge share of a 700-photo folder is 70 photos; 60 of them gave a before/after of
# ±0.48 dB that missed the score on 200 unseen photos by 0.10 dB, so all are used. The cap
# keeps a big folder's comparison to a minute or two on a CPU
JUDGE_PHOTOS = 200


def compare_before_after(base: os.PathLike | str, tuned: os.PathLike | str,
                         held_out: list[Path], device: str = "auto", limit: int = JUDGE_PHOTOS,
                         examples: int = 3) -> Comparison:
    """Score ``base`` and ``tuned`` (checkpoints) on up to ``limit`` held-out photos."""
    from model.colorizer import Colorizer
    from model.io.weights import read_header_text

    truths = load_ground_truth(list(held_out)[:limit])
    if not truths:
        return Comparison()
    before = colorizer_method(Colorizer(base, device=device))(truths)
    after = colorizer_method(Colorizer(tuned, device=device))(truths)
    rows = score_methods(truths, {BEFORE: before, AFTER: after})
    shown = list(zip(gray_baseline(truths), before, after, truths))[:examples]
    meta = read_header_text(tuned)[1]
    run = {k: meta[k] for k in ("holdout", "best", "stopped", "run_steps", "run_epochs",
                                "run_seconds") if k in meta}
    return Comparison(rows, shown, len(truths), run)


def install_model(checkpoint: os.PathLike | str, name: str, replace: bool = False) -> Path:
    """Copy a fine-tuned checkpoint into the user's models folder under ``name``, where
    the model picker and ``--model NAME`` find it. FileExistsError when a model of that
    name exists and not ``replace``; the copy is atomic."""
    from model.io.files import atomic_write
    from model.store.checkpoint import write_graph_beside
    from model.store.registry import safe_model_filename, user_models_dir

    target = user_models_dir() / safe_model_filename(name)
    if target.exists() and not replace:
        raise FileExistsError(f"a model called {target.stem} exists")
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, Path(checkpoint).read_bytes())
    try:  # its ONNX graph: colorizing on a CPU then needs neither torch nor an export
        write_graph_beside(target)
    except Exception as exc:
        log.warning("%s will run in PyTorch: could not write its ONNX graph (%s)", target.stem, exc)
    return target
