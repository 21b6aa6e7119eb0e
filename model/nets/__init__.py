"""The networks: the paper's hybrid model (``network``), the spatial Lite0 U-Net
(``spatial``), the pretrained branches (``backbones``), ONNX Runtime (``runtime``) and
device choice (``devices``).

May import: ``model.io``, ``model.color``, ``model.hints``, ``model.progress``.
"""
