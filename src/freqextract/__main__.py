"""``python -m freqextract``: the command line, as the ``freqextract`` script runs it."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
