"""Files: listing and writing them atomically (``files``), decoding and encoding images
(``imageio``), hint sidecars (``sidecar``), what colorized a photo (``provenance``), and
colorgui's user folders (``places``).

May import: ``model.color``, ``model.hints``, ``model.progress``. Never torch, so the app
can list and read photos on its GUI thread without loading it.
"""
