"""Colour memory: colour taken from reference photos, an album's memory of the colours
its user gave, and where a hint would help most.

- ``cells``: a photo as the matcher sees it, one descriptor per stride-8 cell of the
  spatial model's working size (its backbone maps at strides 8 and 16);
- ``reference``: colour photos as references, matched to a black-and-white photo with
  confident matches only, whose colours become hints (``model.hints.REFERENCE``);
- ``album``: the album's memory file (``colorgui-album.json``, docs/hints.md) and the
  carrying of its hints to the other photos (``model.hints.CARRIED``);
- ``suggest``: the points where a hint would change the most.

Everything here works on the ``Analysis`` a colorizer gives (``Colorizer.analyse``) and
on numpy arrays: numpy, OpenCV and SciPy only, never torch, so the batch (which may not
import torch) and the ONNX-only CPU path can use it. A colorizer comes in as an argument.

May import: ``model.color``, ``model.hints``, ``model.progress``, ``model.io``,
``model.propagate``.
"""
