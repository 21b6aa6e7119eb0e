"""The window's side of the hint tool: re-rendering on the worker, suggestions, and
keeping each photo's edits.

Every change of the hints re-runs the network on the preview on the worker thread
(a ``recolor`` job). At most one runs at a time: a change while one runs waits, and when
it ends only the latest hints are sent, so a drag costs one job per reply, never a queue
of stale ones. The user's edits (hints, saturation, Vivid) are stored, a moment after
they change, in the data folder keyed by the photo's content (``model.io.sidecar.EditStore``),
so that reopening the photo, even renamed or moved, restores them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Slot

from colorgui.hints.jobs import Recolor, Suggest, edit_store
from colorgui.hints.memory_session import MemorySession
from model.io.sidecar import Edits

STORE_DELAY_MS = 400  # edits are written once they rest (a drag is many changes)


class HintSession(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window, self.tab = window, window.colorize_tab
        self.tool = self.tab.hint_tool
        self._job = None  # the recolor job sent and not yet ended
        self.takes_hints = False
        self._store_timer = QTimer(self, singleShot=True, interval=STORE_DELAY_MS)
        self._store_timer.timeout.connect(self._store)
        self.tool.hints.changed.connect(self._pump)
        self.tool.suggestionsWanted.connect(self._suggest)
        self.tab.editsChanged.connect(self._store_timer.start)
        self.memory = MemorySession(window)  # reference photos, the album, where to click

    def attach(self, host) -> None:
        """Listen to the worker's replies; before the window's own, so that the edits
        of the photo shown are stored before another one's result replaces it."""
        host.colorized.connect(self._before_result)
        host.modelHints.connect(self._model_hints)
        host.recolored.connect(self._recolored)
        host.suggested.connect(self._suggested)
        host.jobEnded.connect(self._job_ended)
        self.memory.attach(host)

    @Slot(bool)
    def _model_hints(self, takes: bool) -> None:
        self.takes_hints = takes
        self.tool.set_available(takes)

    # ----- re-rendering: one recolor job at a time, always with the latest hints
    @Slot()
    def _pump(self) -> None:
        tab = self.tab
        if self._job is not None or tab.result is None or not self.takes_hints:
            return
        hints = tuple(self.tool.hints.hints)
        if hints != tab.shown_hints:
            self._job = self.window._submit(Recolor(tab.result_serial, tab.result.original,
                                                    hints, tab.vivid))

    @Slot(int, object)
    def _recolored(self, job_id: int, reply) -> None:
        if self._job is not None and job_id == self._job.id:
            self._job = None
        self.tab.show_recolor(reply)
        self._pump()

    @Slot(int)
    def _job_ended(self, job_id: int) -> None:
        if self._job is not None and job_id == self._job.id:  # failed, or skipped
            self._job = None
            self._pump()

    # ----- the model's likeliest colours at a point
    @Slot(float, float, object)
    def _suggest(self, x: float, y: float, others) -> None:
        tab = self.tab
        if tab.result is not None and self.takes_hints:
            self.window._submit(Suggest(tab.result_serial, tab.result.L, x, y, others))

    @Slot(int, object)
    def _suggested(self, job_id: int, reply) -> None:
        if self.window.is_current(Suggest, job_id):
            self.tool.show_suggestions(reply)

    # ----- the photo's edits
    def edits(self) -> Edits | None:
        """The edits of the photo shown now (None: no photo)."""
        tab, result = self.tab, self.tab.result
        if result is None:
            return None
        vivid = tab.vivid
        if vivid is not None and abs(vivid - tab.default_vivid) < 1e-6:
            vivid = None  # the model's own
        strength = self.memory.strength if self.memory.references else None
        return Edits(list(self.tool.hints.hints), saturation=tab.saturation, vivid=vivid,
                     photo_name=Path(result.path).name, photo_sha256=result.sha256 or None,
                     photo_size=tuple(result.size), references=list(self.memory.references),
                     reference_strength=strength,
                     reference_dropped=sorted(self.memory.dropped_references()),
                     saturation_own=self.memory.own_saturation())

    @Slot(int, object)
    def _before_result(self, job_id: int, result) -> None:
        self.flush()
        # once the tab shows it: were the hints changed after the job was sent?
        QTimer.singleShot(0, self._pump)

    def flush(self) -> None:
        """Store the photo's edits now if they changed and were not stored yet."""
        if self._store_timer.isActive():
            self._store_timer.stop()
            self._store()

    @Slot()
    def _store(self) -> None:
        edits = self.edits()
        if edits is None or not edits.photo_sha256:
            return
        try:
            edit_store().put(edits.photo_sha256, edits)
        except OSError as exc:
            self.window.statusBar().showMessage(f"Could not keep the hints: {exc}", 8000)
        self.memory.store()
