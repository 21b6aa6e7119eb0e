"""The changing state of one training run: its steps, history and clock, the optimizer
state kept in a checkpoint, and one epoch's pass."""

from __future__ import annotations

import contextlib
import math
import time
from typing import Callable

import torch

from model.progress import Progress


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
                 agree: Callable[[float], float] = lambda f: f):
        self.base_meta = {k: v for k, v in meta.items()
                          if k not in ("step", "history", "best_val", "train_seconds")}
        self.fixed_meta, self.options, self.total_steps = fixed_meta, options, total_steps
        self.step = self.last_saved = int(meta.get("step", 0))
        self.history: list[dict] = list(meta.get("history", []))
        self.best_val = float(meta.get("best_val", math.inf))
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
                "best_val": self.best_val, "train_seconds": self.seconds()}


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
        progress.step(run.step, run.total_steps, losses[-1])
        if run.step - run.last_saved >= run.options.checkpoint_every:
            save_last()
        if run.step >= run.total_steps:
            break
    return losses, False
