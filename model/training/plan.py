"""A fine-tune in words: before it runs, how many photos train, how many choose the best
moment and how many judge the result, and what to expect of the time it is given; after
it, where the best came and why it stopped. No torch: the Train tab says it on the GUI
thread.
"""

from __future__ import annotations

from model.progress import format_seconds

# the fewest photos that judge a fine-tune apart from those choosing its best checkpoint;
# below this the same photos do both (the before/after then reads high: on 719 flower
# photos, +3.83 dB on the choosing photos against +2.96 ± 0.50 dB on unseen ones)
MIN_JUDGE = 20

# photos a second a fine-tune of the bundled spatial model (with its hint guide) trains
# on an idle 2-core CPU, 128² crops decoded into memory, batches of 20, each pass's
# validation included: 75 s runs made 26 passes over 36 food photos (12.3/s) and 4 over
# 240 (12.6/s). (The spatial model before its hint-guided retrain made 30/s.)
PHOTOS_PER_SECOND = 12.0
# measured 10-minute fine-tunes of about 700 photos of one kind, on photos they never saw
# (benchmarks/finetune_family.py): the bundled model trained on every folder of train/, so
# 720 food photos as they are gained nothing (no pass beat it; the base came back), and the
# same photos in one film's colour cast (--look, three seeds) +0.48 to +0.99 dB, better on
# 58-76 % of 200 unseen photos, each run stopping by itself within 2:13-3:11
MEASURED_GAIN = ("+0.5 to +1.0 dB in a colour look the model had not seen (better on "
                 "58–76 % of photos they never saw), and nothing in a kind it already knew")


def judging_apart(photos: int, judge_share: float) -> bool:
    """Whether ``photos`` are enough to keep the judging photos apart."""
    return judge_share > 0 and round(photos * judge_share) >= MIN_JUDGE


def holdout_counts(photos: int, val_share: float, judge_share: float) -> tuple[int, int, int]:
    """About how many of ``photos`` will (train, choose the best checkpoint, judge);
    choosing and judging are the same photos when there are too few to keep apart."""
    select = max(1, round(photos * val_share)) if photos > 1 and val_share > 0 else 0
    judge = round(photos * judge_share) if judging_apart(photos, judge_share) else 0
    return photos - select - judge, select, judge or select


def plan_line(photos: int, val_share: float, judge_share: float) -> str:
    """One line before the run: who trains and who judges."""
    train, select, judge = holdout_counts(photos, val_share, judge_share)
    if not select:
        return f"All {train} photos will train; none are left to judge the result."
    if judging_apart(photos, judge_share):
        return (f"About {train} of your photos will train, {select} will choose the best "
                f"moment to stop and {judge} will judge the result.")
    return (f"About {train} of your photos will train and {select} will both choose the best "
            f"moment and judge the result: too few to keep apart, so the result will read "
            f"a little better than it is.")


def what_to_expect(photos: int, budget_s: float | None, val_share: float, judge_share: float,
                   patience: int, epochs: int | None = None) -> str:
    """What a fine-tune of ``photos`` for ``budget_s`` seconds (None: until it stops
    improving), of at most ``epochs`` passes, will do, in plain words."""
    train = holdout_counts(photos, val_share, judge_share)[0]
    if train < 1:
        return "Add some colour photos first."
    early = f"it stops early once {patience} passes in a row bring no gain"
    if budget_s:
        n = budget_s * PHOTOS_PER_SECOND / train
        if epochs is not None and epochs < round(n):
            text = (f"{epochs} pass{'es' if epochs != 1 else ''} over your {train} training "
                    f"photos (the most set under Advanced) take about "
                    f"{format_seconds(epochs * train / PHOTOS_PER_SECOND)} of the "
                    f"{format_seconds(budget_s)} on an idle 2-core computer; {early}.")
        else:
            text = (f"{format_seconds(budget_s)} is about {n:.0f} "
                    f"pass{'es' if round(n) != 1 else ''} over your {train} training photos "
                    f"on an idle 2-core computer; {early}.")
    else:
        n = 60 * PHOTOS_PER_SECOND / train
        text = (f"About {n:.1f} passes a minute over your {train} training photos on an idle "
                f"2-core computer; {early}.")
    if photos >= 300:
        text += f" In 10 minutes, folders of about 700 photos gained {MEASURED_GAIN}."
    elif photos < 100:
        text += " Under 100 photos the gain is small and hard to measure."
    return text


def passes(n: int) -> str:
    """``n`` epochs, in a family's words."""
    return f"{n} pass{'es' if n != 1 else ''} over the photos"


def base_came_back(best: dict) -> bool:
    """Whether a fine-tune's best (``RunState.best``) is its base model: no pass beat it."""
    return best.get("epoch") == 0


def ending_words(ending: dict, best: dict) -> str:
    """Where the best checkpoint came from and why the run stopped (``ending``:
    ``RunState.ending``; ``best``: ``RunState.best``), or "" when not known."""
    if not best:
        return ""
    if base_came_back(best):
        text = ("No pass did better than the base model on the photos that choose the best, "
                "so the result is the base model itself")
        if ending.get("run_epochs"):
            text += (f" ({passes(ending['run_epochs'])} tried, "
                     f"{format_seconds(ending['run_seconds'])})")
    else:
        text = (f"The best model came from pass {best['epoch']} (step {best['step']}, "
                f"{format_seconds(best['seconds'])} of training)")
        if ending.get("run_epochs"):
            text += (f" of {ending['run_epochs']} ({ending['run_steps']} steps, "
                     f"{format_seconds(ending['run_seconds'])})")
    if ending.get("stopped"):
        text += f"; it stopped because {ending['stopped']}"
    return text + "."
