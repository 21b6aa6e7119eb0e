import sys

from colorgui.cli import run

sys.exit(run())
