"""colorgui's core: everything the app, the CLI, the benchmarks and the tests share.
It never imports Qt or the app (``colorgui``).

Rooms, from the bottom up; a room imports only from rooms below it (the ``layers``
contract in pyproject.toml, checked by ``lint-imports``):

- ``color``, ``hints``, ``progress``: colour maths, colour hints as data, progress and
  cancel. numpy and OpenCV only.
- ``io``: files, image decoding and writing, hint sidecars, provenance, the user cache
  and data folders. No torch.
- ``propagate``: spreading a hint's change over its region (scipy).
- ``memory``, ``album``: colour from reference photos and an album's memory; album pages
  cut into prints, their tone and dust restored. Never torch.
- ``nets``: the networks (paper model, spatial model), the pretrained backbones, ONNX
  Runtime, devices.
- ``store``: checkpoints, the models a user can pick, model cards.
- ``colorizer``: the one inference pipeline.
- ``output``: writing a colorized photo with its provenance and hint edits.
- ``training``: fitting, data sets, evaluation, fine-tuning.
- ``batch``: a folder or a list of photos, colorized to files; ``cluster``: the same on
  Ray.
"""
