"""One progress and cancel type for every long job (a batch, a fine-tune, a scan).

A ``Progress`` says where its job is (``stage``, ``step`` of ``total``, the last
``text``) and carries the job's own cancel and pause, which the work checks between
steps. No Qt here: the CLI shows one through tqdm (``TqdmProgress``), the app through Qt
signals (a subclass in ``colorgui.worker``), each overriding ``changed`` / ``message`` /
``epoch``.

It answers what ``model.training.train.fit`` calls on its ``progress`` argument (``cancelled``,
``message(text)``, ``step(step, total, loss)``, ``epoch(record)``), so one of these can
be passed to ``fit`` as it is.
"""

from __future__ import annotations

import logging
import math
import sys
import threading

log = logging.getLogger(__name__)

# stages of a fine-tune: the pretrained branches' outputs being computed (before any
# training step), then the training steps
FEATURES, TRAINING = "features", "training"


class Progress:
    """Where a job is, and its own cancel and pause; safe to use from any thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        self._running = threading.Event()  # cleared while paused
        self._running.set()
        self.stage = ""
        self.at = 0           # steps done (``step`` is the method fit calls)
        self.total = 0
        self.loss = math.nan  # of the last training step, NaN outside training
        self.text = ""        # the last message

    # ----- control: the GUI thread (or Ctrl-C) asks, the job checks between steps
    def cancel(self) -> None:
        with self._lock:
            self._cancelled.set()
            self._running.set()  # a paused job wakes up to stop

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def pause(self, paused: bool = True) -> None:
        with self._lock:  # never clears after a cancel: the job would wait for ever
            if paused and not self._cancelled.is_set():
                self._running.clear()
            else:
                self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def should_stop(self) -> bool:
        """Between two steps: waits while paused; True once cancelled."""
        self._running.wait()
        return self.cancelled

    # ----- reports from the job
    def advance(self, stage: str, step: int, total: int) -> None:
        self.stage, self.at, self.total = stage, step, total
        self.changed()

    def changed(self) -> None:
        """Called after every ``advance``; faces override it."""

    def message(self, text: str) -> None:
        self.text = text
        log.info(text)

    def step(self, step: int, total: int, loss: float) -> None:
        """A training step (``fit``'s report) and its loss."""
        self.loss = loss
        self.advance(TRAINING, step, total)

    def epoch(self, record: dict) -> None:
        """The history record of an epoch that ended (its validation loss…)."""


class TqdmProgress(Progress):
    """A tqdm bar per stage on stderr, messages written above it; use it in a ``with``,
    inside which log records are written above the bar too (a warning was glued to the
    bar's line)."""

    unit = "step"

    def __init__(self, file=None):
        super().__init__()
        self.file = file or sys.stderr
        self.bar = None
        self._bar_stage = None

    def changed(self) -> None:
        from tqdm import tqdm

        if self.bar is None or self._bar_stage != self.stage or self.at < self.bar.n:
            self.close()
            # smoothing=0: time left from the stage's mean pace, validation pauses included;
            # tqdm's default (the last steps' pace) swings with every pause
            self.bar = tqdm(total=self.total, initial=max(0, self.at - 1), unit=self.unit,
                            file=self.file, smoothing=0)
            self._bar_stage = self.stage
        elif self.bar.total != self.total:
            # a new end (a time budget projected at the pace so far): the same bar, so
            # its pace and elapsed time go on
            self.bar.total = self.total
        self.bar.update(self.at - self.bar.n)
        if not math.isnan(self.loss):
            self.bar.set_postfix(loss=f"{self.loss:.4f}")

    def message(self, text: str) -> None:
        self.text = text
        if self.bar is not None:
            self.bar.write(text, file=self.file)
        else:
            print(text, file=self.file)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self):
        from tqdm.contrib.logging import logging_redirect_tqdm

        self._logs = logging_redirect_tqdm()
        self._logs.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.close()
        self._logs.__exit__(*exc)


def plural(n: int, noun: str) -> str:
    """"1 photo", "3 photos"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def format_seconds(s: float) -> str:
    """A duration as m:ss, or h:mm:ss from an hour on."""
    s = int(round(s))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
