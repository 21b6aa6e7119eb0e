"""A scanned page with its prints' rectangles over it, each to be moved, turned, resized,
added or removed by hand, as in a scanner's own software: drag a rectangle to move it,
a corner to resize it, the round handle above it to turn it; Delete removes it; [ and ]
turn the selected one by half a degree, the arrow keys nudge it.

Scene units are the preview's pixels; ``rects()`` gives the rectangles in the page's own
pixels (``model.album.rect.PrintRect``, its angle clockwise on screen as Qt's rotation).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (QGraphicsItem, QGraphicsObject, QGraphicsPixmapItem,
                               QGraphicsScene, QGraphicsView)

from colorgui.qt_images import to_qimage

HANDLE = 9.0       # px on screen: corner and turn handles
COLOUR = QColor("#ff5a36")
SELECTED = QColor("#3fa9f5")


class PrintItem(QGraphicsObject):
    """One print's rectangle: centred on its position, turned by its rotation."""

    changed = Signal()

    def __init__(self, width: float, height: float, number: int):
        super().__init__()
        self.w, self.h = width, height
        self.number = number
        self._drag = None  # "move", "turn" or a corner's (sx, sy)
        self.page: QRectF | None = None  # where its centre may lie: on the page
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsFocusable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        self.setAcceptHoverEvents(True)

    # ----- geometry
    def _scale(self) -> float:
        view = self.scene().views()[0] if self.scene() and self.scene().views() else None
        return view.transform().m11() if view else 1.0

    def _handle(self) -> float:
        return HANDLE / max(self._scale(), 1e-6)

    def rect(self) -> QRectF:
        return QRectF(-self.w / 2, -self.h / 2, self.w, self.h)

    def turn_handle(self) -> QPointF:
        return QPointF(0, -self.h / 2 - 3 * self._handle())

    def boundingRect(self) -> QRectF:
        k = self._handle()
        return self.rect().adjusted(-k, -4 * k, k, k)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        colour = SELECTED if self.isSelected() else COLOUR
        k = self._handle()
        pen = QPen(colour, 2.0 / max(self._scale(), 1e-6))
        painter.setPen(pen)
        painter.setBrush(QBrush(QColor(colour.red(), colour.green(), colour.blue(), 28)))
        painter.drawRect(self.rect())
        painter.setBrush(QBrush(colour))
        for sx in (-1, 1):
            for sy in (-1, 1):
                painter.drawRect(QRectF(sx * self.w / 2 - k / 2, sy * self.h / 2 - k / 2, k, k))
        painter.drawLine(QPointF(0, -self.h / 2), self.turn_handle())
        painter.drawEllipse(self.turn_handle(), k / 1.6, k / 1.6)
        font = QFont()
        font.setPixelSize(max(1, int(28 / max(self._scale(), 1e-6))))
        font.setBold(True)
        painter.setFont(font)
        painter.drawText(self.rect().adjusted(k, k, 0, 0),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, str(self.number))

    def itemChange(self, change, value):
        # a print dragged off the page was no longer drawn, and was cut as a blank photo:
        # its centre stays a quarter of its size inside the page, so most of it is on it
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange and self.page:
            mx = min(self.w / 4, self.page.width() / 2)
            my = min(self.h / 4, self.page.height() / 2)
            return QPointF(min(max(value.x(), self.page.left() + mx), self.page.right() - mx),
                           min(max(value.y(), self.page.top() + my), self.page.bottom() - my))
        return super().itemChange(change, value)

    # ----- the mouse and keys
    def _part_at(self, pos: QPointF):
        k = self._handle()
        if (pos - self.turn_handle()).manhattanLength() < 1.5 * k:
            return "turn"
        for sx in (-1, 1):
            for sy in (-1, 1):
                if abs(pos.x() - sx * self.w / 2) < k and abs(pos.y() - sy * self.h / 2) < k:
                    return (sx, sy)
        return "move" if self.rect().contains(pos) else None

    def mousePressEvent(self, event) -> None:
        self._drag = self._part_at(event.pos())
        if self._drag is None:
            event.ignore()
            return
        if self.scene() is not None and not self.isSelected():
            self.scene().clearSelection()  # one print at a time: its before and after
        self.setSelected(True)
        self._start = (event.scenePos(), self.pos(), self.rotation(), self.w, self.h)
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        if self._drag is None:
            return
        press, pos0, rot0, w0, h0 = self._start
        here = event.scenePos()
        if self._drag == "move":
            self.setPos(pos0 + (here - press))
        elif self._drag == "turn":
            a0 = math.degrees(math.atan2(press.y() - pos0.y(), press.x() - pos0.x()))
            a1 = math.degrees(math.atan2(here.y() - pos0.y(), here.x() - pos0.x()))
            self.setRotation(rot0 + a1 - a0)
        else:  # a corner: the opposite corner stays where it is
            sx, sy = self._drag
            t = math.radians(rot0)
            u, v = QPointF(math.cos(t), math.sin(t)), QPointF(-math.sin(t), math.cos(t))
            fixed = pos0 - u * (sx * w0 / 2) - v * (sy * h0 / 2)
            d = here - fixed
            w = max(8.0, sx * (d.x() * u.x() + d.y() * u.y()))
            h = max(8.0, sy * (d.x() * v.x() + d.y() * v.y()))
            self.prepareGeometryChange()
            self.w, self.h = w, h
            self.setPos(fixed + u * (sx * w / 2) + v * (sy * h / 2))
        self.changed.emit()
        event.accept()

    def mouseReleaseEvent(self, event) -> None:
        self._drag = None
        self.changed.emit()

    def keyPressEvent(self, event) -> None:
        key = event.key()
        nudges = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0),
                  Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}
        if key == Qt.Key.Key_BracketLeft:
            self.setRotation(self.rotation() - 0.5)
        elif key == Qt.Key.Key_BracketRight:
            self.setRotation(self.rotation() + 0.5)
        elif key in nudges:
            dx, dy = nudges[key]
            self.setPos(self.pos() + QPointF(dx, dy))
        else:
            event.ignore()
            return
        self.changed.emit()


class PageView(QGraphicsView):
    """The page and its prints' rectangles. ``rectsChanged`` after every edit."""

    rectsChanged = Signal()
    selectionMoved = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setBackgroundBrush(QColor("#303030"))
        self._pixmap = QGraphicsPixmapItem()
        self._pixmap.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._pixmap)
        self.scale_to_page = 1.0  # preview pixels per page pixel
        self.scene().selectionChanged.connect(self.selectionMoved)
        # each rectangle shows its print's number in the file names (reading order)
        self.rectsChanged.connect(self._renumber)

    def show_page(self, review) -> None:
        """Show a ``pages_worker.PageReview`` and its rectangles."""
        for item in self.items_():
            self.scene().removeItem(item)
        if review is None or review.preview is None:
            self._pixmap.setPixmap(QPixmap())
            return
        self._pixmap.setPixmap(QPixmap.fromImage(to_qimage(review.preview)))
        self.scene().setSceneRect(QRectF(self._pixmap.pixmap().rect()).adjusted(-40, -40, 40, 40))
        self.scale_to_page = review.scale
        for rect in review.rects:
            self.add_rect(rect, select=False)
        self.fit()

    def fit(self) -> None:
        """The page and the margin around it (room for a rectangle's handles at the
        page's edge): fitting the page alone left the margin to scroll bars."""
        if not self._pixmap.pixmap().isNull():
            self.fitInView(self.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit()

    def items_(self) -> list[PrintItem]:
        return sorted((i for i in self.scene().items() if isinstance(i, PrintItem)),
                      key=lambda i: i.number)

    def add_rect(self, rect=None, select: bool = True) -> PrintItem:
        """A rectangle for ``rect`` (page pixels), or a new one in the page's middle."""
        s = self.scale_to_page
        if rect is None:
            box = self._pixmap.boundingRect()
            w, h, cx, cy, angle = box.width() / 3, box.height() / 4, box.center().x(), \
                box.center().y(), 0.0
        else:
            w, h = rect.width * s, rect.height * s
            cx, cy, angle = (rect.cx + 0.5) * s - 0.5, (rect.cy + 0.5) * s - 0.5, rect.angle
        item = PrintItem(w, h, len(self.items_()) + 1)
        item.page = self._pixmap.boundingRect()
        item.setPos(cx, cy)
        item.setRotation(angle)
        item.changed.connect(self.rectsChanged)
        self.scene().addItem(item)
        if select:
            self.scene().clearSelection()
            item.setSelected(True)
            item.setFocus()
        self.rectsChanged.emit()
        return item

    def selected(self) -> PrintItem | None:
        chosen = [i for i in self.items_() if i.isSelected()]
        return chosen[0] if chosen else None

    def remove_selected(self) -> None:
        for item in [i for i in self.items_() if i.isSelected()]:
            self.scene().removeItem(item)
        self.rectsChanged.emit()

    def turn_selected(self, degrees: float) -> None:
        item = self.selected()
        if item is not None:
            item.setRotation(item.rotation() + degrees)
            self.rectsChanged.emit()

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.remove_selected()
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event) -> None:
        """Tabbed into with no print selected: the first is, so that the keys that move,
        turn and remove one work without a mouse (nothing could be selected by keyboard)."""
        super().focusInEvent(event)
        items = self.items_()
        tabbed = event.reason() in (Qt.FocusReason.TabFocusReason,
                                    Qt.FocusReason.BacktabFocusReason)
        if tabbed and items and self.selected() is None:
            items[0].setSelected(True)
            items[0].setFocus()

    def rects(self) -> list:
        """The rectangles in the page's pixels (``PrintRect``), in reading order."""
        return [rect for _, rect in self._in_reading_order()]

    def _in_reading_order(self) -> list[tuple[PrintItem, object]]:
        from model.album.pages import reading_order

        pairs = [(item, self.rect_of(item)) for item in self.items_()]
        item_of = {id(rect): item for item, rect in pairs}
        return [(item_of[id(rect)], rect) for rect in reading_order([r for _, r in pairs])]

    def _renumber(self) -> None:
        for n, (item, _) in enumerate(self._in_reading_order(), 1):
            if item.number != n:
                item.number = n
                item.update()

    def rect_of(self, item: PrintItem):
        """``item``'s rectangle in the page's pixels, its angle within ±180°."""
        from model.album.rect import PrintRect

        s = self.scale_to_page
        p = item.pos()
        return PrintRect((p.x() + 0.5) / s - 0.5, (p.y() + 0.5) / s - 0.5, item.w / s,
                         item.h / s, (item.rotation() + 180.0) % 360.0 - 180.0)
