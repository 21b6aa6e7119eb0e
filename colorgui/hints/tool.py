"""The hint tool of the Colorize tab: its actions, the layer over the viewers, the panel.

It keeps the photo's hints (``HintSet``) and turns the user's gestures into undoable
edits. A click adds a hint at once, in the colour the photo has there now, and asks the
model for its likeliest colours at that point (``suggestionsWanted``, answered on the
worker thread); when they come, the new hint takes the likeliest, within the same undo
step, unless the user changed it meanwhile. Re-rendering and storing the edits are the
window's (``colorgui.hints.session``).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFrame, QScrollArea, QStyle, QToolButton, QVBoxLayout, QWidget

from colorgui.hints.edits import HintSet
from colorgui.hints.layer import HintLayer
from colorgui.hints.memory_panel import MemoryPanel
from colorgui.hints.panel import HintPanel
from model.color import AB_SCALE
from model.hints import Hint

HINT_TIP = ("Tell the model a colour at a point (H): click the photo to add a hint, drag "
            "it to move it, right-click it or press Delete to remove it.")
NO_HINT_TIP = ("This model takes no colour hints, so the hint tool is off (pick the "
               "scene-aware spatial model).")


def _side_column(*panels: QWidget) -> QScrollArea:
    """The panels one under the other beside the photo, scrolled where the window is too
    short for them (800×600)."""
    column = QWidget()
    layout = QVBoxLayout(column)
    layout.setContentsMargins(0, 0, 0, 0)
    for panel in panels:
        layout.addWidget(panel)
    layout.addStretch(1)
    area = QScrollArea()
    area.setWidget(column)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    bar = area.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
    area.setFixedWidth(max(p.minimumWidth() for p in panels) + bar + 4)
    return area


class HintTool(QObject):
    edited = Signal()                                 # an edit, or its undo or redo
    suggestionsWanted = Signal(float, float, object)  # x, y, the other hints (a tuple)

    def __init__(self, tab, views):
        super().__init__(tab)
        self.tab = tab
        self.hints = h = HintSet(self)
        self.layer = HintLayer(h, self.lightness_at, self)
        for view in views:
            self.layer.attach(view)
        self.layer.addRequested.connect(self.add_at)
        h.selectionChanged.connect(self._selection_changed)
        h.changed.connect(self._show_panel)
        h.edited.connect(self._edited)
        self._settle = None      # (AddHint command, x, y): a new hint awaiting its colour
        self._suggested = None   # the last colorgui.hints.jobs.Suggestions that came
        self._asked = None       # (serial, x, y) of the suggestions asked for, not yet come

        self.action = QAction("Hints", tab, checkable=True)
        self.action.setShortcut(QKeySequence("H"))
        # H only while the keyboard focus is on the Colorize tab: on another tab it turned
        # the hidden tab's hint mode on unseen
        self.action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.action.toggled.connect(self._toggled)
        self.button = QToolButton()
        self.button.setDefaultAction(self.action)
        self.undo_action = h.undo_stack.createUndoAction(tab, "&Undo")
        self.undo_action.setShortcut(QKeySequence("Ctrl+Z"))
        self.redo_action = h.undo_stack.createRedoAction(tab, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.delete_action = QAction("Delete hint", tab)
        self.delete_action.setShortcuts([QKeySequence(Qt.Key.Key_Delete),
                                         QKeySequence(Qt.Key.Key_Backspace)])
        # Delete and Backspace only while the keyboard focus is on the Colorize tab
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.delete_action.triggered.connect(self.delete_selected)
        self.clear_action = QAction("Clear hints", tab)
        self.clear_action.triggered.connect(h.clear)
        tab.addActions([self.action, self.undo_action, self.redo_action, self.delete_action,
                        self.clear_action])
        self.panel = HintPanel(self.delete_action, self.clear_action)
        self.panel.colourChosen.connect(self._recolour_selected)
        self.memory_panel = MemoryPanel()  # reference photos, the album, where to click
        self.side = _side_column(self.panel, self.memory_panel)
        self.side.hide()
        self.set_available(False)

    def fill_edit_menu(self, menu) -> None:
        """The window's Edit menu: undo and redo of the hints, and the hint tool."""
        menu.addActions([self.undo_action, self.redo_action])
        menu.addSeparator()
        menu.addActions([self.action, self.delete_action, self.clear_action])

    # ----- the photo under the hints
    def lightness_at(self, x: float, y: float) -> float:
        result = self.tab.result
        if result is None:
            return 50.0
        h, w = result.L.shape
        return float(result.L[min(h - 1, int(y * h)), min(w - 1, int(x * w))])

    def _colour_at(self, x: float, y: float) -> tuple[float, float]:
        """The a/b the preview shows at a point now."""
        h, w = self.tab.ab.shape[:2]
        a, b = self.tab.ab[min(h - 1, int(y * h)), min(w - 1, int(x * w))] * AB_SCALE
        return float(a), float(b)

    # ----- the tool's state
    def set_available(self, available: bool) -> None:
        """Whether the model in use takes hints; the tool is off where it does not."""
        if not available:
            self.action.setChecked(False)
        self.action.setEnabled(available)
        self.action.setToolTip(HINT_TIP if available else NO_HINT_TIP)
        self.button.setToolTip(self.action.toolTip())

    def update_actions(self) -> None:
        self.delete_action.setEnabled(self.hints.selected is not None)
        self.clear_action.setEnabled(bool(self.hints.hints))

    def restore(self, hints: list[Hint]) -> None:
        """A photo was opened: these are its hints (no undo history)."""
        self._settle = self._suggested = self._asked = None
        self.hints.reset(hints)

    def _toggled(self, on: bool) -> None:
        self.layer.set_active(on)
        self.side.setVisible(on)
        if on:
            self.tab.mode.setCurrentIndex(0)  # the hints are placed on the side-by-side views

    # ----- edits
    def add_at(self, x: float, y: float) -> None:
        if self.tab.result is None:
            return
        command = self.hints.add(Hint(x, y, *self._colour_at(x, y)))
        self._settle = (command, x, y)

    def delete_selected(self) -> None:
        if self.hints.selected is not None:
            self.hints.delete(self.hints.selected)

    def _recolour_selected(self, a: float, b: float) -> None:
        if self.hints.selected is not None:
            self._settle = None
            self.hints.recolour(self.hints.selected, a, b)

    def _edited(self) -> None:
        self.update_actions()
        self._want_suggestions()
        self.edited.emit()

    # ----- the panel and the model's suggestions
    def _selection_changed(self) -> None:
        self._show_panel()
        self._want_suggestions()

    def _suggestions_fit(self, hint: Hint | None) -> bool:
        s = self._suggested
        return (hint is not None and s is not None and s.serial == self.tab.result_serial
                and (s.x, s.y) == (hint.x, hint.y))

    def _show_panel(self) -> None:
        hint = self.hints.current
        L = self.lightness_at(hint.x, hint.y) if hint is not None else 50.0
        self.panel.show_hint(hint, L, self.hints.hints)
        if self._suggestions_fit(hint):
            self.panel.show_suggestions(self._suggested.colours)
        self.update_actions()

    def _want_suggestions(self) -> None:
        hint = self.hints.current
        if hint is None or self.layer.dragging or self._suggestions_fit(hint):
            return
        asking = (self.tab.result_serial, hint.x, hint.y)
        if asking == self._asked:  # on their way
            return
        self._asked = asking
        others = tuple(h for i, h in enumerate(self.hints.hints) if i != self.hints.selected)
        self.panel.waiting_for_suggestions()
        self.suggestionsWanted.emit(hint.x, hint.y, others)

    def show_suggestions(self, suggestions) -> None:
        """The model's likeliest colours at a point (``colorgui.hints.jobs.Suggestions``)."""
        if suggestions.serial != self.tab.result_serial:
            return
        self._suggested, self._asked = suggestions, None
        if self._settle is not None and self._settle[1:] == (suggestions.x, suggestions.y):
            command, self._settle = self._settle[0], None
            if suggestions.colours:
                a, b, _ = suggestions.colours[0]
                self.hints.settle_added(command, a, b)
        if self._suggestions_fit(self.hints.current):
            self.panel.show_suggestions(suggestions.colours)
