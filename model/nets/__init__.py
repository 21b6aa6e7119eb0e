"""The networks: the paper's hybrid model (``network``), the spatial Lite0 U-Net
(``spatial``), the pretrained branches (``backbones``; what they see, in numpy:
``branch_input``), ONNX Runtime (``graph``: a model's shipped graph, run without torch;
``spatial_onnx``, ``hybrid_onnx``: the graphs; ``runtime``: exports), device choice
(``devices``) and whether torch is here at all (``lean``: the lean build).

May import: ``model.io``, ``model.color``, ``model.hints``, ``model.progress``.
"""
