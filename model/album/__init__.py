"""Album pages: the prints on a scanned page found (``pages``: the page ``background``,
print ``regions``, straightened ``sides``; a print's place is a ``rect``), cut out
straight (``cut``) and written to files (``prints``); and a print restored before it is
colorized, on request only (``restore``: faded ``tone``, ``dust`` and ``scratches``).
``synthetic`` and ``ageing`` make pages, fading and damage with known answers, for the
tests and the benchmarks.

May import: ``model.io``, ``model.color``; numpy and OpenCV. Never torch: splitting and
restoring run on the CPU, and the app analyses pages without loading the network.
"""
