"""``python -m cnnkit``: the same command line as ``cnnkit``."""

import sys

from cnnkit.cli import main

sys.exit(main())
