"""colorgui: bring black-and-white photographs to colour with a hybrid CNN.

The command line (``cli``) and the desktop app on top of ``model``. May import: ``model``
and Qt (PySide6); ``model`` never imports this package (docs/architecture.md lists the
rooms, the ``layers`` contracts in pyproject.toml keep their order)."""

__version__ = "0.1.0"
