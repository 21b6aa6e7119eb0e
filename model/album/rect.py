"""A print's place on its page: ``PrintRect``, its centre, size and turn in the page's
pixels (``angle`` degrees clockwise as seen on screen; image y points down)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class PrintRect:
    """A print on the page: centre, size (pixels) and turn (degrees, clockwise on
    screen; the cut is turned back by as much)."""

    cx: float
    cy: float
    width: float
    height: float
    angle: float = 0.0

    @property
    def axes(self) -> tuple[np.ndarray, np.ndarray]:
        """Unit vectors along the print's width and down its height, in page pixels."""
        t = math.radians(self.angle)
        return np.array([math.cos(t), math.sin(t)]), np.array([-math.sin(t), math.cos(t)])

    def corners(self) -> np.ndarray:
        """4×2: top-left, top-right, bottom-right, bottom-left (as the print stands)."""
        u, v = self.axes
        c = np.array([self.cx, self.cy])
        hw, hh = self.width / 2, self.height / 2
        return np.array([c - hw * u - hh * v, c + hw * u - hh * v,
                         c + hw * u + hh * v, c - hw * u + hh * v])

    @property
    def area(self) -> float:
        return self.width * self.height

    def scaled(self, factor: float) -> "PrintRect":
        """The same rectangle on the page scaled by ``factor`` (pixel centres kept)."""
        return PrintRect((self.cx + 0.5) * factor - 0.5, (self.cy + 0.5) * factor - 0.5,
                         self.width * factor, self.height * factor, self.angle)

    def as_dict(self) -> dict:
        return {k: round(float(v), 3) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> "PrintRect":
        return cls(*(float(data[k]) for k in ("cx", "cy", "width", "height", "angle")))

    @classmethod
    def from_box(cls, box) -> "PrintRect":
        """From ``cv2.minAreaRect``'s answer, its width taken along the side nearest the
        horizontal, so that the angle lies in [-45°, 45°)."""
        (cx, cy), (w, h), a = box
        a = float(a)
        while a >= 45:
            a -= 90
            w, h = h, w
        while a < -45:
            a += 90
            w, h = h, w
        return cls(float(cx), float(cy), float(w), float(h), a)
