import sys

from colorgui.cli.main import main

sys.exit(main())
