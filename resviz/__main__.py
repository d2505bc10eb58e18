"""``python -m resviz``: the same as the ``resviz`` command."""

import sys

from resviz.cli import main

if __name__ == "__main__":
    sys.exit(main())
