import sys

from colorgui.cli import main

sys.exit(main())
