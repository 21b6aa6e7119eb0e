"""The colour hints of the photo on the Colorize tab, and their undoable edits.

``HintSet`` holds the hints (``model.hints.Hint``: relative position, Lab a/b) and which
one is selected; it lives on the GUI thread. Every user edit (add, move, recolour,
delete, clear) is a ``QUndoCommand`` on its ``undo_stack``, so Ctrl+Z and Ctrl+Shift+Z
walk through them. A drag moves a hint live (``move_live``) and becomes one command when
the mouse is let go (``finish_move``).

Hints matched from a reference photo or carried from the album (``Hint.origin``) come
in one command (``colorgui.hints.memory_session.MatchedReferences``, ``replace_carried``);
once the user moves or recolours one, it is the user's own.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from model.hints import CARRIED, Hint


def clamp_ab(value: float) -> float:
    """An a or b value inside the range the hint files accept (-128..127)."""
    return min(max(float(value), -128.0), 127.0)


class HintSet(QObject):
    """The hints of one photo. ``changed`` after any change of the list (live drags and
    restored hints included); ``selectionChanged`` when another hint (or none) is selected;
    ``edited`` after an undoable edit, or its undo or redo (what the user changed, to be
    stored)."""

    changed = Signal()
    selectionChanged = Signal()
    edited = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.hints: list[Hint] = []
        self.selected: int | None = None
        self.undo_stack = QUndoStack(self)
        self.undo_stack.indexChanged.connect(self._stack_moved)
        self._resetting = False

    def _stack_moved(self, _index: int) -> None:
        if not self._resetting:  # a cleared history is no edit of the user's
            self.edited.emit()

    # ----- what the commands (and restoring) do; no undo step of their own
    def reset(self, hints: list[Hint]) -> None:
        """Replace every hint without an undo step (a photo was opened); forgets the
        undo history. The stack still signals, so that Edit ▸ Undo and Redo follow it and
        never offer the last photo's steps."""
        self._resetting = True
        try:
            self.undo_stack.clear()
        finally:
            self._resetting = False
        self._set(list(hints), None)

    def _set(self, hints: list[Hint], selected: int | None) -> None:
        self.hints = hints
        self.select(selected)
        self.changed.emit()

    def _insert(self, index: int, hint: Hint) -> None:
        self._set(self.hints[:index] + [hint] + self.hints[index:], index)

    def _remove(self, index: int) -> None:
        self._set(self.hints[:index] + self.hints[index + 1:], None)

    def _replace(self, index: int, hint: Hint) -> None:
        if self.hints[index] != hint:
            self.hints = self.hints[:index] + [hint] + self.hints[index + 1:]
            self.changed.emit()
        self.select(index)

    def select(self, index: int | None) -> None:
        if index is not None and not 0 <= index < len(self.hints):
            index = None
        if index != self.selected:
            self.selected = index
            self.selectionChanged.emit()

    @property
    def current(self) -> Hint | None:
        return None if self.selected is None else self.hints[self.selected]

    # ----- the user's edits, each one undo step
    def add(self, hint: Hint) -> "AddHint":
        command = AddHint(self, hint)
        self.undo_stack.push(command)
        return command

    def recolour(self, index: int, a: float, b: float) -> None:
        old = self.hints[index]
        new = replace(old, a=clamp_ab(a), b=clamp_ab(b)).mine()
        if new != old:
            self.undo_stack.push(ChangeHint(self, index, old, new, "Recolour hint"))

    def move_live(self, index: int, x: float, y: float) -> None:
        """Move a hint while it is dragged (no undo step yet)."""
        self._replace(index, replace(self.hints[index], x=min(max(x, 0.0), 1.0),
                                     y=min(max(y, 0.0), 1.0)))

    def finish_move(self, index: int, start: Hint) -> None:
        """The drag of hint ``index`` from ``start`` ended: one undo step."""
        if self.hints[index] != start:
            moved = self.hints[index].mine()
            self.undo_stack.push(ChangeHint(self, index, start, moved, "Move hint"))

    def delete(self, index: int) -> None:
        """Delete a hint; a carried one is dropped for this photo with every mark its
        remembered hint made here (the album's memory keeps drops by remembered hint, so a
        lone mark deleted came back when the photo was opened again)."""
        hint = self.hints[index]
        if hint.origin == CARRIED:
            self.remove_where(lambda h: not (h.origin == CARRIED and h.source == hint.source),
                              "Drop a remembered colour here")
        else:
            self.undo_stack.push(DeleteHint(self, index))

    def clear(self) -> None:
        if self.hints:
            self.undo_stack.push(ClearHints(self))

    def replace_carried(self, hints: list[Hint]) -> bool:
        """Replace the hints carried from the album by ``hints`` (one undo step); the
        others stay. False, and no step, when nothing changes."""
        new = [h for h in self.hints if h.origin != CARRIED] + list(hints)
        if new == self.hints:
            return False
        if not self.undo_stack.count():
            # the album's colours arriving as a photo opens are nothing the user did: one
            # Ctrl+Z took them all away, and dropped them for this photo in the memory
            self._set(new, None)
            self.edited.emit()
            return True
        self.undo_stack.push(SetHints(self, new, "Colours from the album"))
        return True

    def remove_where(self, keep, text: str) -> bool:
        """Remove every hint for which ``keep(hint)`` is false (one undo step)."""
        new = [h for h in self.hints if keep(h)]
        if len(new) == len(self.hints):
            return False
        self.undo_stack.push(SetHints(self, new, text))
        return True

    def settle_added(self, command: "AddHint", a: float, b: float) -> bool:
        """Give a just-added hint the colour that came for it (the model's likeliest)
        within its own undo step, unless the user has changed anything since."""
        index = len(self.hints) - 1
        last = self.undo_stack.command(self.undo_stack.index() - 1)
        if last is not command or index < 0 or self.hints[index] != command.hint:
            return False
        command.hint = replace(command.hint, a=clamp_ab(a), b=clamp_ab(b))
        self._replace(index, command.hint)
        self.edited.emit()
        return True


class AddHint(QUndoCommand):
    def __init__(self, hints: HintSet, hint: Hint):
        super().__init__("Add hint")
        self.set, self.hint = hints, hint

    def redo(self):
        self.set._insert(len(self.set.hints), self.hint)

    def undo(self):
        self.set._remove(len(self.set.hints) - 1)


class ChangeHint(QUndoCommand):
    """A move or a recolour: the hint at ``index`` from ``old`` to ``new``."""

    def __init__(self, hints: HintSet, index: int, old: Hint, new: Hint, text: str):
        super().__init__(text)
        self.set, self.index, self.old, self.new = hints, index, old, new

    def redo(self):
        self.set._replace(self.index, self.new)

    def undo(self):
        self.set._replace(self.index, self.old)


class DeleteHint(QUndoCommand):
    def __init__(self, hints: HintSet, index: int):
        super().__init__("Delete hint")
        self.set, self.index, self.hint = hints, index, hints.hints[index]

    def redo(self):
        self.set._remove(self.index)

    def undo(self):
        self.set._insert(self.index, self.hint)


class SetHints(QUndoCommand):
    """Every hint at once (the matched and carried hints replaced, a remembered hint
    forgotten)."""

    def __init__(self, hints: HintSet, new: list[Hint], text: str):
        super().__init__(text)
        self.set, self.old, self.new = hints, list(hints.hints), list(new)

    def redo(self):
        self.set._set(list(self.new), None)

    def undo(self):
        self.set._set(list(self.old), None)


class ClearHints(QUndoCommand):
    def __init__(self, hints: HintSet):
        super().__init__("Clear hints")
        self.set, self.old = hints, list(hints.hints)

    def redo(self):
        self.set._set([], None)

    def undo(self):
        self.set._set(list(self.old), None)
