"""The changing state of one training run: its steps, history and clock, the optimizer
state kept in a checkpoint, and one epoch's pass."""

from __future__ import annotations

import contextlib
import math
import time
from typing import Callable

import torch

from model.progress import Progress, format_seconds
from model.training.plan import passes

# what a run's checkpoints say of where it is; a resumed run reads them back
_RUN_KEYS = ("step", "history", "best_val", "train_seconds", "best", "stale", "stopped",
             "run_steps", "run_epochs")


def lr_at(options, done: float) -> float:
    """Learning rate when the fraction ``done`` (0..1) of the run is behind us (``options``: a
    ``FitOptions``)."""
    if options.schedule == "cosine":
        t = min(max(done, 0.0), 1.0)
        return options.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * t)))
    return options.lr


def optimizer_tensors(opt: torch.optim.Adam) -> dict[str, torch.Tensor]:
    out = {}
    for i, state in opt.state_dict()["state"].items():
        for k, v in state.items():
            out[f"adam.{i}.{k}"] = torch.as_tensor(v).float()
    return out


def restore_optimizer(opt: torch.optim.Adam, extra: dict[str, torch.Tensor]) -> None:
    sd = opt.state_dict()
    state: dict[int, dict] = {}
    for key, v in extra.items():
        if key.startswith("adam."):
            _, i, k = key.split(".", 2)
            state.setdefault(int(i), {})[k] = v if k != "step" else v.reshape(())
    if state:
        sd["state"] = state
        opt.load_state_dict(sd)


class RunState:
    """The changing state of one ``fit`` run: steps, history, and the training clock,
    which runs only while batches train (not during validation or checkpoints)."""

    def __init__(self, meta: dict, options, total_steps: int, fixed_meta: dict,
                 agree: Callable[[float], float] = lambda f: f, steps_per_epoch: int = 0):
        self.base_meta = {k: v for k, v in meta.items() if k not in _RUN_KEYS}
        self.fixed_meta, self.options, self.total_steps = fixed_meta, options, total_steps
        self.steps_per_epoch = steps_per_epoch
        self.step = self.last_saved = self.first_step = int(meta.get("step", 0))
        self.history: list[dict] = list(meta.get("history", []))
        self.best_val = float(meta.get("best_val", math.inf))
        self.best: dict = dict(meta.get("best", {}))  # epoch, step, seconds of the best
        self.stale = int(meta.get("stale", 0))        # epochs since validation improved
        self.stopped = ""                              # why the run ended, in words
        self.earlier_seconds = float(meta.get("train_seconds", 0.0))  # before this run
        self.run_seconds = 0.0   # this run's training time, clock stopped
        self._since: float | None = None
        self._agree = agree  # processes under torchrun agree on when the time is up

    @contextlib.contextmanager
    def clock(self):
        self._since = time.monotonic()
        try:
            yield
        finally:
            self.run_seconds += time.monotonic() - self._since
            self._since = None

    def this_run_seconds(self) -> float:
        running = time.monotonic() - self._since if self._since is not None else 0.0
        return self.run_seconds + running

    def seconds(self) -> float:
        """Training time over all runs of this model."""
        return self.earlier_seconds + self.this_run_seconds()

    def done_fraction(self) -> float:
        """How much of the budget (steps, and this run's ``time_limit``) is spent."""
        f = self.step / max(self.total_steps, 1)
        if self.options.time_limit:
            f = self._agree(max(f, self.this_run_seconds() / self.options.time_limit))
        return f

    def projected_total(self) -> int:
        """The step the run will end at (what a progress bar counts to): ``total_steps``,
        or sooner where the time budget runs out first at this run's pace so far, or
        where validation has stalled and the patience runs out first if no gain comes."""
        end = self.total_steps
        limit = self.options.time_limit
        done, secs = self.step - self.first_step, self.this_run_seconds()
        if limit and done > 0 and secs > 0:
            end = min(end, self.step + round((limit - secs) * done / secs))
        patience = self.options.patience
        if patience and self.stale and self.history and self.steps_per_epoch:
            end = min(end, self.history[-1]["step"] + (patience - self.stale) * self.steps_per_epoch)
        return max(self.step, end)

    def why_stop(self) -> str:
        """Why the budget (epochs, steps, time) ends the run now, or ""; kept in ``stopped``."""
        o = self.options
        if self.step >= self.total_steps:
            if o.max_steps is not None and self.step >= o.max_steps:
                self.stopped = f"it reached its limit of {o.max_steps} steps"
            else:
                self.stopped = f"it made the {passes(o.epochs)} it was allowed"
        elif self.done_fraction() >= 1.0:
            self.stopped = f"its time ({format_seconds(o.time_limit)} of training) was spent"
        return self.stopped

    def base_scored(self, val_loss: float) -> None:
        """A fine-tune's base model, before any pass, scored ``val_loss``: the first
        candidate for the best (epoch 0), so a pass must beat it to count."""
        self.best_val, self.stale = val_loss, 0
        self.best = {"epoch": 0, "step": self.step, "seconds": round(self.seconds(), 1)}

    def improved(self, val_loss: float) -> bool:
        """Whether the epoch that just ended (``end_epoch``) is the best so far."""
        if val_loss < self.best_val:
            self.best_val, self.stale = val_loss, 0
            self.best = {"epoch": self.history[-1]["epoch"], "step": self.step,
                         "seconds": round(self.seconds(), 1)}
            return True
        self.stale += 1
        return False

    def out_of_patience(self) -> bool:
        """Whether validation has not improved for ``options.patience`` epochs (then
        ``stopped`` says so)."""
        patience = self.options.patience
        if patience and self.stale >= patience:
            self.stopped = f"validation had not improved for {passes(patience)}"
        return bool(self.stopped)

    def ending(self) -> dict:
        """How the run ended, for the best checkpoint's metadata (``plan.ending_words``)."""
        return {"stopped": self.stopped, "run_steps": self.step,
                "run_epochs": self.history[-1]["epoch"] if self.history else 0,
                "run_seconds": round(self.seconds(), 1)}

    def end_epoch(self, epoch: int, train_loss: float, val_loss: float) -> dict:
        record = {"epoch": epoch, "step": self.step, "train_loss": train_loss,
                  "val_loss": val_loss, "seconds": round(self.seconds(), 1)}
        if self.history and self.history[-1]["epoch"] == epoch:
            self.history[-1] = record  # the rest of an epoch that a resumed run finished
        else:
            self.history.append(record)
        return record

    def meta(self) -> dict:
        return {**self.base_meta, **self.fixed_meta, "step": self.step, "history": self.history,
                "best_val": self.best_val, "train_seconds": self.seconds(), "best": self.best,
                "stale": self.stale}


def train_epoch(run: "RunState", loader, net, opt, loss_fn, progress: Progress,
                 save_last) -> tuple[list[float], bool]:
    """One pass over ``loader`` (or what is left of the budget): (losses, cancelled)."""
    losses: list[float] = []
    for batch in loader:
        if progress.cancelled:
            return losses, True
        if batch is None:
            continue
        done = run.done_fraction()
        if done >= 1.0:
            break
        for group in opt.param_groups:
            group["lr"] = lr_at(run.options, done)
        loss = loss_fn(batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        run.step += 1
        losses.append(float(loss.detach()))
        progress.step(run.step, run.projected_total(), losses[-1])
        if run.step - run.last_saved >= run.options.checkpoint_every:
            save_last()
        if run.step >= run.total_steps:
            break
    return losses, False
