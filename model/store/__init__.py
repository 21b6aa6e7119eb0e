"""Models at rest: checkpoints (``checkpoint``), the models a user can pick
(``registry``), and model cards (``cards``).

May import: ``model.nets`` and the rooms below it.
"""
