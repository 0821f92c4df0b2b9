"""`python -m pymcp ...`: the same as the `pymcp` command."""

import sys

from pymcp.cli import main

__all__: list[str] = []

sys.exit(main())
