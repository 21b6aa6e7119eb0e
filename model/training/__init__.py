"""Training: ``fit`` (``train``), folder data sets and validation splits (``data``),
photos kept in memory (``photostore``), ``torchrun`` (``distributed``), the one
evaluator (``evaluate``), fine-tuning's before/after and install (``finetune``), and the
cache of branch outputs (``branch_cache``).

May import: ``model.colorizer`` and every room below it.
"""
