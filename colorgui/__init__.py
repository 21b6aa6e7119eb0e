"""colorgui: bring black-and-white photographs to colour with a hybrid CNN."""

__version__ = "0.1.0"
