"""``python -m textrobust``: the command line."""

import sys

from textrobust.cli import main

sys.exit(main())
