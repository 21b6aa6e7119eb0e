"""Zoomable, pannable photo viewers that can follow one another, and a split view."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPainter, QPen, QPixmap, QColor
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QWidget

from colorgui.file_dialogs import FileDropTarget

DETAIL_DELAY_MS = 60


class ImageView(FileDropTarget, QGraphicsView):
    """Shows one photo at its full-resolution size in scene units.

    ``viewChanged(scale, centre_x, centre_y, fitted)`` is emitted on every zoom or pan, so
    a second view can follow with ``follow``: a fitted view's follower fits too, so that
    both go on fitting the window as it is resized. A ``hint_layer``
    (``colorgui.hints.layer``), when one is attached, draws over the photo and takes the
    mouse while it is active.

    The photo shown is a preview (``set_image``'s ``full_size``). Zoomed in past the
    preview's own pixels, the part in view is drawn again from ``detail_source``, a
    callable giving a region (x0, y0, x1, y1, in photo pixels) as a QImage of a size
    (w, h): the photo's own pixels at 100% and above, not a blown-up preview.
    """

    viewChanged = Signal(float, float, float, bool)
    filesDropped = Signal(list)

    def __init__(self, placeholder: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._item)
        self._detail = QGraphicsPixmapItem()
        self._detail.setZValue(1)
        self._detail.setVisible(False)
        self.scene().addItem(self._detail)
        self.detail_source = None
        # after a zoom or pan settles: a view's region takes 0.05-0.3 s on one core
        self._detail_timer = QTimer(self, singleShot=True, interval=DETAIL_DELAY_MS)
        self._detail_timer.timeout.connect(self.update_detail)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setAcceptDrops(True)
        self._placeholder = placeholder
        self._fit = True
        self._syncing = False
        self.hint_layer = None
        for bar in (self.horizontalScrollBar(), self.verticalScrollBar()):
            bar.valueChanged.connect(self._emit_view)

    def has_image(self) -> bool:
        return not self._item.pixmap().isNull()

    def set_image(self, image: QImage | None, full_size: tuple[int, int] | None = None,
                  keep_view: bool = False) -> None:
        """Show ``image``, scaled to ``full_size`` (w, h) scene units when it is a preview."""
        if image is None:
            self._item.setPixmap(QPixmap())
            self._detail.setVisible(False)
            self.viewport().update()
            return
        self._item.setPixmap(QPixmap.fromImage(image))
        w, h = full_size or (image.width(), image.height())
        self._item.setScale(w / max(image.width(), 1))
        self.scene().setSceneRect(QRectF(0, 0, w, h))
        if not keep_view or self._fit:
            self.fit()
        self.update_detail()  # now: a stale detail would show the old colours

    def magnified(self) -> bool:
        """Whether the photo is larger than its preview and a preview pixel covers more
        than a pixel of the screen."""
        return (self.has_image() and self._item.scale() > 1.0
                and self.scale_factor() * self._item.scale() > 1.01)

    def update_detail(self) -> None:
        """Draw the part in view at full resolution where the preview is magnified."""
        self._detail_timer.stop()
        if self.detail_source is None or not self.magnified() or not self.isVisible():
            self._detail.setVisible(False)
            return
        seen = self.mapToScene(self.viewport().rect()).boundingRect()
        box = seen.toAlignedRect() & self.sceneRect().toAlignedRect()
        if box.isEmpty():
            self._detail.setVisible(False)
            return
        # zoomed out (under 100%), no more pixels than the screen shows of it are made
        scale = min(1.0, self.scale_factor())
        size = (max(1, round(box.width() * scale)), max(1, round(box.height() * scale)))
        image = self.detail_source((box.left(), box.top(), box.right() + 1, box.bottom() + 1),
                                   size)
        if image is None:
            self._detail.setVisible(False)
            return
        self._detail.setPixmap(QPixmap.fromImage(image))
        self._detail.setScale(box.width() / max(image.width(), 1))
        self._detail.setPos(box.left(), box.top())
        self._detail.setVisible(True)

    @property
    def fitted(self) -> bool:
        """Whether the view follows the window size (Fit) rather than a zoom of its own."""
        return self._fit

    def scale_factor(self) -> float:
        return self.transform().m11()

    def fit(self) -> None:
        self._fit = True
        if self.has_image():
            self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
        self._emit_view()

    def actual_size(self) -> None:
        self.zoom_to(1.0)

    def zoom_to(self, scale: float) -> None:
        self._fit = False
        scale = min(max(scale, 0.02), 32.0)
        self.setTransform(self.transform().fromScale(scale, scale))
        self._emit_view()

    def wheelEvent(self, event):
        if not self.has_image():
            return
        factor = 1.25 if event.angleDelta().y() > 0 else 0.8
        self._fit = False
        self.zoom_to(self.scale_factor() * factor)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if self._fit:
            self.fit()
        self._detail_later()  # a larger view shows more of the photo

    def showEvent(self, event):
        super().showEvent(event)
        self._detail_later()  # back from the split view, or hidden while it changed

    def centre(self) -> QPointF:
        return self.mapToScene(self.viewport().rect().center())

    def _detail_later(self) -> None:
        if self.magnified() or self._detail.isVisible():
            self._detail_timer.start()

    def _emit_view(self, *_):
        self._detail_later()
        if not self._syncing:
            c = self.centre()
            self.viewChanged.emit(self.scale_factor(), c.x(), c.y(), self._fit)

    def follow(self, scale: float, x: float, y: float, fitted: bool = False) -> None:
        """Take another view's zoom and centre, or fit as it does, without echoing it
        back. (A resize moves a fitted view's scroll bars: taken as a zoom, it left its
        follower at the old window's size.)"""
        before = (self.scale_factor(), self.centre())
        self._syncing = True
        try:
            if fitted:
                self.fit()
            else:
                self._fit = False
                self.setTransform(self.transform().fromScale(scale, scale))
                self.centerOn(x, y)
        finally:
            self._syncing = False
        if (self.scale_factor(), self.centre()) != before:  # (a render follows its own view)
            self._detail_later()

    def drawForeground(self, painter, rect):
        if not self.has_image() and self._placeholder:
            painter.resetTransform()
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, self._placeholder)
        if self.hint_layer is not None:
            self.hint_layer.paint(self, painter)

    def mousePressEvent(self, event):
        if self.hint_layer is None or not self.hint_layer.press(self, event):
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event):
        if self.hint_layer is None or not self.hint_layer.move(self, event):
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event):
        if self.hint_layer is None or not self.hint_layer.release(self, event):
            super().mouseReleaseEvent(event)



class SplitView(QWidget):
    """Before/after in one frame: left of the divider the original, right the colour.

    Drag anywhere to move the divider; ``position`` is its place as a fraction of the
    width."""

    positionChanged = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._before: QPixmap | None = None
        self._after: QPixmap | None = None
        self.position = 0.5
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.SplitHCursor)
        self.setMinimumSize(200, 150)

    def set_images(self, before: QImage | None, after: QImage | None) -> None:
        self._before = QPixmap.fromImage(before) if before is not None else None
        self._after = QPixmap.fromImage(after) if after is not None else None
        self.update()

    def set_position(self, fraction: float) -> None:
        self.position = min(max(fraction, 0.0), 1.0)
        self.positionChanged.emit(self.position)
        self.update()

    def _target(self) -> QRectF:
        src = self._before or self._after
        if src is None:
            return QRectF()
        s = min(self.width() / src.width(), self.height() / src.height())
        w, h = src.width() * s, src.height() * s
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        target = self._target()
        if target.isEmpty():
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No photo")
            return
        split_x = target.left() + target.width() * self.position
        if self._before is not None:
            painter.drawPixmap(target, self._before, QRectF(self._before.rect()))
        if self._after is not None:
            painter.save()
            painter.setClipRect(QRectF(split_x, target.top(), target.right() - split_x, target.height()))
            painter.drawPixmap(target, self._after, QRectF(self._after.rect()))
            painter.restore()
        painter.setPen(QPen(QColor(255, 255, 255, 220), 2))
        painter.drawLine(QPointF(split_x, target.top()), QPointF(split_x, target.bottom()))
        painter.setBrush(QColor(255, 255, 255, 220))
        painter.drawEllipse(QPointF(split_x, target.center().y()), 7, 7)

    def _drag(self, event):
        target = self._target()
        if not target.isEmpty():
            self.set_position((event.position().x() - target.left()) / target.width())

    def mousePressEvent(self, event):
        self._drag(event)

    def mouseMoveEvent(self, event):
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._drag(event)
