"""Entry point of the frozen app: the same ``colorgui`` command (no arguments: the window)."""

import multiprocessing
import sys

from colorgui.cli import run

if __name__ == "__main__":
    multiprocessing.freeze_support()  # training's data-loader workers re-enter here
    sys.exit(run())
