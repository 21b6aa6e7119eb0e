"""The colour panel of the hint tool: the selected hint's colour, the model's suggestions
for its place, the colours already used in the photo, and a colour dialog.

A hint holds only a colour's a/b: the photo keeps its own lightness, so every swatch is
drawn at the lightness of the photo under the hint.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QColorDialog, QGridLayout, QHBoxLayout, QLabel, QPushButton,
                               QToolButton, QVBoxLayout, QWidget)

from model import color
from model.hints import CARRIED, REFERENCE, Hint

SWATCH = 22          # px, a swatch button's icon
COLUMNS = 6
PANEL_WIDTH = 216
USED_MAX = 12        # the colours already used that the panel shows


def lab_qcolor(L: float, a: float, b: float) -> QColor:
    """The colour at lightness ``L`` with ``a``/``b``, pulled into the RGB gamut as the
    photo's own colours are (``model.color.compose``)."""
    ab = np.array([[[a, b]]], np.float32) / color.AB_SCALE
    r, g, bl = color.to_uint8(color.compose(np.full((1, 1), L, np.float32), ab))[0, 0]
    return QColor(int(r), int(g), int(bl))


def qcolor_ab(qcolor: QColor) -> tuple[float, float]:
    """A chosen RGB colour's Lab a/b (its lightness is left to the photo)."""
    rgb = np.array([[[qcolor.redF(), qcolor.greenF(), qcolor.blueF()]]], np.float32)
    _, a, b = color.rgb_to_lab(rgb)[0, 0]
    return float(a), float(b)


def used_colours(hints: list[Hint]) -> list[tuple[float, float]]:
    """The distinct colours of the hints (to 1 unit of a/b), first use first."""
    seen: dict[tuple[int, int], tuple[float, float]] = {}
    for h in hints:
        seen.setdefault((round(h.a), round(h.b)), (h.a, h.b))
    return list(seen.values())[:USED_MAX]


def origin_line(hint: Hint) -> str:
    """Where a hint came from, as the panel says it ("" for the user's own)."""
    if hint.origin == REFERENCE:
        return f"\nfrom reference {hint.source}" if hint.source else "\nfrom a reference photo"
    if hint.origin == CARRIED:
        return "\ncarried from the album"
    return ""


def _swatch_icon(qcolor: QColor, size: int) -> QIcon:
    """A swatch of ``qcolor`` that keeps its colour while its row is disabled (no hint
    selected to take it): Qt's greyed icon made every colour used look alike."""
    pixmap = QPixmap(size, size)
    pixmap.fill(qcolor)
    icon = QIcon(pixmap)
    icon.addPixmap(pixmap, QIcon.Mode.Disabled)
    return icon


class SwatchRow(QWidget):
    """Colour swatches in rows of ``COLUMNS``; clicking one picks its a/b."""

    picked = Signal(float, float)

    def __init__(self, empty_text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(3)
        self._grid.setColumnStretch(COLUMNS, 1)  # swatches to the left, not spread out
        self._empty = QLabel(empty_text)
        self._empty.setWordWrap(True)
        self._empty.setEnabled(False)
        self.buttons: list[QToolButton] = []
        self.set_colours(0.0, [])

    def set_colours(self, L: float, colours: list[tuple[float, float, str]],
                    empty_text: str | None = None) -> None:
        """``colours``: (a, b, tooltip) each, drawn at lightness ``L``; ``empty_text``:
        what to say when there are none."""
        if empty_text is not None:
            self._empty.setText(empty_text)
        for button in self.buttons:
            self._grid.removeWidget(button)
            button.deleteLater()
        self.buttons = []
        self._grid.removeWidget(self._empty)
        for i, (a, b, tip) in enumerate(colours):
            button = QToolButton()
            button.setIcon(_swatch_icon(lab_qcolor(L, a, b), SWATCH))
            button.setIconSize(QSize(SWATCH, SWATCH))
            button.setAutoRaise(True)
            button.setToolTip(tip)
            button.clicked.connect(partial(self.picked.emit, a, b))
            self._grid.addWidget(button, i // COLUMNS, i % COLUMNS)
            self.buttons.append(button)
        self._empty.setVisible(not colours)
        if not colours:
            self._grid.addWidget(self._empty, 0, 0, 1, COLUMNS)


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


class HintPanel(QWidget):
    """Shown beside the photo while the hint tool is on. ``colourChosen(a, b)``: the user
    picked a colour for the selected hint."""

    colourChosen = Signal(float, float)

    def __init__(self, delete_action: QAction, clear_action: QAction,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setFixedWidth(PANEL_WIDTH)
        self.setObjectName("hintPanel")
        self._L, self._hint = 50.0, None
        self.help = QLabel("Click the photo to add a colour hint there; drag a hint to move "
                           "it; right-click it or press Delete to remove it.")
        self.help.setWordWrap(True)
        self.swatch = QLabel()
        self.swatch.setFixedSize(44, 28)
        self.swatch.setFrameShape(QLabel.Shape.Box)
        self.values = QLabel("No hint selected")
        self.values.setWordWrap(True)
        self.more_button = QPushButton("More…")
        self.more_button.setToolTip("Pick any colour; the photo keeps its own lightness there.")
        self.more_button.clicked.connect(self.choose_colour)
        self.suggestions = SwatchRow("Select a hint to see the model's suggestions.")
        self.used = SwatchRow("No colours used yet.")
        for row in (self.suggestions, self.used):
            row.picked.connect(self.colourChosen)
        delete_button, clear_button = QToolButton(), QToolButton()
        delete_button.setDefaultAction(delete_action)
        clear_button.setDefaultAction(clear_action)

        current = QHBoxLayout()
        current.addWidget(self.swatch)
        current.addWidget(self.values, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(delete_button)
        buttons.addWidget(clear_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 0, 0, 0)
        layout.addWidget(_heading("Hint colour"))
        layout.addLayout(current)
        layout.addWidget(self.more_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addSpacing(6)
        layout.addWidget(_heading("Suggestions"))
        layout.addWidget(self.suggestions)
        layout.addSpacing(6)
        layout.addWidget(_heading("Used in this photo"))
        layout.addWidget(self.used)
        layout.addSpacing(6)
        layout.addLayout(buttons)
        layout.addSpacing(6)
        layout.addWidget(self.help)
        layout.addStretch(1)
        self.show_hint(None, 50.0, [])

    def show_hint(self, hint: Hint | None, L: float, hints: list[Hint]) -> None:
        """The selected hint (None: none) at a place of lightness ``L``; ``hints``: all of
        the photo's, for the colours used."""
        self._hint, self._L = hint, L
        self.more_button.setEnabled(hint is not None)
        self.suggestions.setEnabled(hint is not None)
        self.used.setEnabled(hint is not None)
        if hint is None:
            self.swatch.setPixmap(QPixmap())
            self.values.setText("No hint selected")
            self.suggestions.set_colours(L, [], "Select a hint to see the model's suggestions.")
        else:
            pixmap = QPixmap(self.swatch.contentsRect().size())  # inside its frame
            pixmap.fill(lab_qcolor(L, hint.a, hint.b))
            self.swatch.setPixmap(pixmap)
            self.values.setText(f"a {hint.a:+.0f}, b {hint.b:+.0f}\nlightness {L:.0f}"
                                + origin_line(hint))
        self.used.set_colours(L, [(a, b, f"a {a:+.0f}, b {b:+.0f}")
                                  for a, b in used_colours(hints)])

    def show_suggestions(self, colours: list[tuple[float, float, float]]) -> None:
        """The model's likeliest colours at the selected hint, (a, b, probability)."""
        self.suggestions.set_colours(self._L, [
            (a, b, f"a {a:+.0f}, b {b:+.0f}: {p:.0%} likely here") for a, b, p in colours],
            "This model has no suggestions.")

    def waiting_for_suggestions(self) -> None:
        self.suggestions.set_colours(self._L, [], "Asking the model…")

    def choose_colour(self) -> None:
        if self._hint is None:
            return
        chosen = QColorDialog.getColor(lab_qcolor(self._L, self._hint.a, self._hint.b), self,
                                       "Hint colour")
        if chosen.isValid():
            self.colourChosen.emit(*qcolor_ab(chosen))
