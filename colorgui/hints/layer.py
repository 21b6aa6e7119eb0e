"""The hints drawn over the photo viewers, and the mouse gestures that edit them.

While the hint tool is on, each ``ImageView`` it is attached to hands its mouse events
here: a click on the photo asks for a hint there (``addRequested``), a press on a hint
selects it and a drag moves it, a right-click on one deletes it, and a drag that starts
beside the hints pans the view, as the hand does with the tool off. Hints are drawn as
circles of a fixed size on screen, filled with their colour and ringed in white and
black so that they show on any photo; the selected one is larger, with a second ring.
A hint matched from a reference photo is a smaller square, one carried from the album a
smaller diamond, so the user's own stand out among many. The places where a hint would
help most (``show_places``) are dashed rings with their rank, over an optional faint map
of the model's doubt (``show_doubt``).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsView

from colorgui.hints.edits import HintSet
from colorgui.hints.panel import lab_qcolor
from model.hints import CARRIED, REFERENCE, USER

RADIUS = 7         # px on screen, at any zoom
AUTO_RADIUS = 4    # a matched or carried hint: many of them, each smaller
# ... and smaller still where they crowd a small view: at most this share of the spacing
# they would have spread evenly over the photo on screen (hundreds of 8 px marks hid half
# of a photo shown 300 px wide), never under MIN_AUTO_RADIUS
AUTO_SPACING = 0.2
MIN_AUTO_RADIUS = 1.5
PLACE_RADIUS = 12  # a place where a hint would help
# the doubt map's opacity where the model doubts most (of 255); squared, so that the
# places of most doubt stand out and a photo in doubt nearly everywhere (a suit, a
# backdrop) is not washed in one even magenta
DOUBT_ALPHA = 90
HIT = RADIUS + 5   # a press this close to a user's hint's centre takes the hint
# a matched or carried hint is taken only on its own mark (its radius and AUTO_HIT more):
# hundreds of them lie about 20 px apart, and with the user's reach they caught almost
# every click meant to add a hint
AUTO_HIT = 2
SLOP = 4           # px the mouse may move and still click
MARKER_L = (35.0, 85.0)  # a marker's lightness: the photo's there, kept readable


class _Press:
    def __init__(self, view, pos: QPointF, index: int | None, start):
        self.view, self.pos, self.last, self.index, self.start = view, pos, pos, index, start
        self.dragged = False


class HintLayer(QObject):
    addRequested = Signal(float, float)   # x, y relative to the photo

    def __init__(self, hints: HintSet, lightness: Callable[[float, float], float],
                 parent: QObject | None = None):
        """``lightness(x, y)``: the photo's L (0..100) at a relative point."""
        super().__init__(parent)
        self.hints, self.lightness = hints, lightness
        self.active = False
        self.views: list[QGraphicsView] = []
        self._press: _Press | None = None
        self.places: list[tuple[float, float]] = []   # where a hint would help, best first
        self._doubt: QImage | None = None
        hints.changed.connect(self.update)
        hints.selectionChanged.connect(self.update)

    @property
    def dragging(self) -> bool:
        return self._press is not None and self._press.index is not None

    def attach(self, view) -> None:
        view.hint_layer = self
        self.views.append(view)

    def set_active(self, active: bool) -> None:
        self.active = active
        self._press = None
        for view in self.views:
            view.setDragMode(QGraphicsView.DragMode.NoDrag if active
                             else QGraphicsView.DragMode.ScrollHandDrag)
            if active:
                view.viewport().setCursor(Qt.CursorShape.CrossCursor)
            else:
                view.viewport().unsetCursor()
        self.update()

    def update(self) -> None:
        for view in self.views:
            view.viewport().update()

    # ----- geometry: hints in relative coordinates, the scene in full-resolution pixels
    @staticmethod
    def _on_screen(view, hint) -> QPointF:
        rect = view.sceneRect()
        return QPointF(view.mapFromScene(QPointF(hint.x * rect.width(), hint.y * rect.height())))

    @staticmethod
    def relative(view, pos: QPointF) -> tuple[float, float]:
        rect = view.sceneRect()
        p = view.mapToScene(pos.toPoint())
        return p.x() / max(rect.width(), 1.0), p.y() / max(rect.height(), 1.0)

    def auto_radius(self, view) -> float:
        """The radius of a matched or carried mark in ``view``: AUTO_RADIUS, less where
        the photo is shown too small for so many marks."""
        auto = sum(h.origin != USER for h in self.hints.hints)
        if not auto:
            return AUTO_RADIUS
        shown = view.mapFromScene(view.sceneRect()).boundingRect()
        spacing = (shown.width() * shown.height() / auto) ** 0.5
        return min(AUTO_RADIUS, max(MIN_AUTO_RADIUS, AUTO_SPACING * spacing))

    def hint_at(self, view, pos: QPointF) -> int | None:
        """The hint under ``pos`` (viewport pixels), the nearest if several."""
        best, best_d = None, float("inf")
        auto_reach = self.auto_radius(view) + AUTO_HIT
        for i, hint in enumerate(self.hints.hints):
            d = self._on_screen(view, hint) - pos
            d2 = d.x() ** 2 + d.y() ** 2
            reach = HIT if hint.origin == USER else auto_reach
            if d2 <= reach * reach and d2 <= best_d:
                best, best_d = i, d2
        return best

    # ----- where to click
    def show_places(self, places: list[tuple[float, float]]) -> None:
        self.places = list(places)
        self.update()

    def show_doubt(self, doubt: np.ndarray | None) -> None:
        """The model's doubt (h×w, 0..1) as a faint magenta veil; None: none."""
        if doubt is None:
            self._doubt = None
        else:
            h, w = doubt.shape
            rgba = np.zeros((h, w, 4), np.uint8)
            rgba[..., 0], rgba[..., 2] = 255, 200
            rgba[..., 3] = np.clip(np.square(doubt) * DOUBT_ALPHA, 0, 255).astype(np.uint8)
            self._doubt = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
        self.update()

    # ----- drawing (ImageView.drawForeground calls this)
    def paint(self, view, painter) -> None:
        if not self.active or not view.has_image():
            return
        painter.save()
        if self._doubt is not None:  # in scene units: it zooms with the photo
            painter.setRenderHint(painter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(view.sceneRect(), self._doubt, QRectF(self._doubt.rect()))
        painter.resetTransform()
        painter.setRenderHint(painter.RenderHint.Antialiasing)
        for rank, (x, y) in enumerate(self.places, 1):
            rect = view.sceneRect()
            centre = QPointF(view.mapFromScene(QPointF(x * rect.width(), y * rect.height())))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for colour, width in ((QColor(0, 0, 0, 200), 4), (QColor(255, 230, 80), 2)):
                pen = QPen(colour, width)
                pen.setStyle(Qt.PenStyle.DashLine)
                painter.setPen(pen)
                painter.drawEllipse(centre, PLACE_RADIUS, PLACE_RADIUS)
            painter.setPen(QColor(255, 230, 80))
            painter.drawText(QRectF(centre.x() - PLACE_RADIUS, centre.y() - PLACE_RADIUS,
                                    2 * PLACE_RADIUS, 2 * PLACE_RADIUS),
                             Qt.AlignmentFlag.AlignCenter, str(rank))
        auto_r = self.auto_radius(view)
        for i, hint in enumerate(self.hints.hints):
            self._paint_hint(painter, self._on_screen(view, hint), hint,
                             i == self.hints.selected, auto_r)
        painter.restore()

    def _paint_hint(self, painter, centre: QPointF, hint, selected: bool, auto_r: float) -> None:
        auto = hint.origin in (REFERENCE, CARRIED)
        r = (auto_r if auto else RADIUS) + (2 if selected else 0)
        rings = (r, r + 5) if selected else (r,)  # the selected one: a second ring
        # white on black, seen on any photo; a matched or carried mark's rings are thin and
        # faint, so that hundreds of them leave the photo to be seen
        outline = ((QColor(0, 0, 0, 120), 2), (QColor(255, 255, 255, 160), 1)) \
            if auto and not selected else ((QColor(0, 0, 0, 210), 4), (QColor(255, 255, 255), 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for ring in rings:
            for colour, width in outline:
                painter.setPen(QPen(colour, width))
                self._shape(painter, hint.origin, centre, ring)
        L = min(max(self.lightness(hint.x, hint.y), MARKER_L[0]), MARKER_L[1])
        painter.setBrush(lab_qcolor(L, hint.a, hint.b))
        self._shape(painter, hint.origin, centre, r)

    @staticmethod
    def _shape(painter, origin: str, c: QPointF, r: float) -> None:
        """A circle (the user's), a square (from a reference), a diamond (carried)."""
        if origin == REFERENCE:
            painter.drawRect(QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r))
        elif origin == CARRIED:
            painter.drawPolygon(QPolygonF([QPointF(c.x(), c.y() - r * 1.3),
                                           QPointF(c.x() + r * 1.3, c.y()),
                                           QPointF(c.x(), c.y() + r * 1.3),
                                           QPointF(c.x() - r * 1.3, c.y())]))
        else:
            painter.drawEllipse(c, r, r)

    # ----- mouse gestures (ImageView passes its events; True: taken)
    def press(self, view, event) -> bool:
        if not self.active or not view.has_image():
            return False
        pos = event.position()
        index = self.hint_at(view, pos)
        if event.button() == Qt.MouseButton.RightButton:
            if index is not None:
                self.hints.delete(index)
            return True
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        if index is not None:
            self.hints.select(index)
        self._press = _Press(view, pos, index, None if index is None else self.hints.hints[index])
        return True

    def move(self, view, event) -> bool:
        p = self._press
        if p is None or p.view is not view:
            return False
        pos = event.position()
        if not p.dragged and (pos - p.pos).manhattanLength() < SLOP:
            return True
        p.dragged = True
        if p.index is not None:
            self.hints.move_live(p.index, *self.relative(view, pos))
        else:  # pan, as the hand does
            delta = pos - p.last
            h, v = view.horizontalScrollBar(), view.verticalScrollBar()
            h.setValue(h.value() - round(delta.x()))
            v.setValue(v.value() - round(delta.y()))
        p.last = pos
        return True

    def release(self, view, event) -> bool:
        p, self._press = self._press, None
        if p is None or p.view is not view:
            return False
        if p.index is not None:
            if p.dragged:
                self.hints.finish_move(p.index, p.start)
        elif not p.dragged:
            x, y = self.relative(view, event.position())
            if 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0:
                self.addRequested.emit(x, y)
        return True
