"""The networks: the paper's hybrid model (``network``), the spatial Lite0 U-Net
(``spatial``), the pretrained branches (``backbones``), ONNX Runtime (``runtime``),
device choice (``devices``) and whether torch is here at all (``lean``: the lean build).

May import: ``model.io``, ``model.color``, ``model.hints``, ``model.progress``.
"""
