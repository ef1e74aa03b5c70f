"""``python -m server``: see :mod:`server.cli.main` for the commands."""

import sys

from server.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
