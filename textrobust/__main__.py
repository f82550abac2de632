import sys

from textrobust.cli import main

sys.exit(main())
